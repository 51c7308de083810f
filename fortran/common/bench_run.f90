!> bench_run -- what every benchmark driver shares: the standard options,
!> the start of the results document, and the end of a run (summary,
!> results file, exit status).
!>
!> Standard command line: <ntimes> positional, plus --threads K, --warmup K
!> (default 1), --json PATH, --quiet and --inject-ns N (self-test only).
module bench_run
  use, intrinsic :: iso_fortran_env, only: output_unit, error_unit, compiler_version, &
                                           compiler_options, real64
  use bench_cli, only: cli_parser, cli_add_option, cli_add_flag, cli_integer, cli_string, cli_given, &
                       cli_usage_error
  use bench_json, only: json_document, json_create, json_destroy, json_set, json_add_environment, &
                        json_write
  use bench_timer, only: phase_timer, timer_print_summary, timer_to_json
  use bench_check, only: check_log, check_passed, check_to_json
  use coupling_status, only: status_stop, status_message_prefix
  implicit none
  private

  public :: bench_settings, bench_add_standard_options, bench_read_standard_options
  public :: bench_results_create, bench_record_torch, bench_finish, bench_path_join, bench_fail

  !> Version of the results file layout (docs/results-schema.md).
  integer, parameter, public :: bench_schema_version = 2

  !> Settings every driver takes from its command line.
  type :: bench_settings
    integer :: ntimes = 1   !< measured iterations
    integer :: warmup = 1   !< warm-up iterations (checked, excluded from statistics)
    integer :: threads = 0  !< intra-op threads requested; 0 = the library's default
    character(len=:), allocatable :: json_path  !< results file; "" = none
    logical :: quiet = .false.  !< print only failed checks and the summary
    !> Known cost added to every step's loop phase, s (--inject-ns; 0 = none):
    !> a busy wait that `ftbench selftest` uses to check what a run can resolve.
    real(real64) :: inject_seconds = 0
  end type bench_settings

contains

  !> Declare --threads, --warmup, --json, --quiet and --inject-ns.
  subroutine bench_add_standard_options(cli)
    type(cli_parser), intent(inout) :: cli  !< parser of the driver
    call cli_add_option(cli, "--threads", "K", "intra-op threads (default: the library's default)")
    call cli_add_option(cli, "--warmup", "K", "warm-up iterations, checked but excluded from " // &
                        "statistics (default 1)", "1")
    call cli_add_option(cli, "--json", "PATH", "write the results to PATH as JSON")
    call cli_add_flag(cli, "--quiet", "print only failed checks and the summary")
    call cli_add_option(cli, "--inject-ns", "N", "self-test only: busy-wait N nanoseconds " // &
                        "in every step's loop phase (default 0)", "0")
  end subroutine bench_add_standard_options

  !> Read <ntimes> and the standard options of a parsed command line.
  !> The --json directory is checked (exists, writable) only where `writer`
  !> (default true): in an MPI program only the rank that writes checks it.
  subroutine bench_read_standard_options(cli, settings, writer)
    type(cli_parser), intent(in) :: cli           !< parsed command line
    type(bench_settings), intent(out) :: settings !< values read
    logical, intent(in), optional :: writer       !< this process writes the results
    logical :: writes
    settings%ntimes = cli_integer(cli, "ntimes", minimum=1)
    settings%warmup = cli_integer(cli, "--warmup", minimum=0)
    settings%threads = 0
    if (cli_given(cli, "--threads")) settings%threads = cli_integer(cli, "--threads", minimum=1)
    settings%json_path = cli_string(cli, "--json")
    settings%quiet = cli_given(cli, "--quiet")
    settings%inject_seconds = 1.0e-9_real64 * cli_integer(cli, "--inject-ns", minimum=0)
    writes = .true.
    if (present(writer)) writes = writer
    if (len(settings%json_path) > 0 .and. writes) then  ! fail now rather than after a long run
      if (.not. directory_exists(parent_directory(settings%json_path))) &
        call cli_usage_error(cli, "--json: directory '" // parent_directory(settings%json_path) // &
                             "' does not exist")
      if (.not. can_create_beside(settings%json_path)) &
        call cli_usage_error(cli, "--json: cannot create files in directory '" // &
                             parent_directory(settings%json_path) // "' (choose a writable one)")
    end if
  end subroutine bench_read_standard_options

  !> Start a results document with the fields every driver writes, including
  !> the environment and the start time (call it before the timed work).
  subroutine bench_results_create(doc, settings, benchmark, coupling_path, model)
    type(json_document), intent(out) :: doc         !< new results document
    type(bench_settings), intent(in) :: settings    !< run settings
    character(len=*), intent(in) :: benchmark       !< "large_stride", "cgdrag", ...
    character(len=*), intent(in) :: coupling_path   !< "direct", "embedded-python", ...
    character(len=*), intent(in) :: model           !< model file or Python module
    character(len=:), allocatable :: command
    integer :: n
    call json_create(doc)
    call json_set(doc, "/schema_version", bench_schema_version)
    call json_set(doc, "/benchmark", benchmark)
    call json_set(doc, "/coupling_path", coupling_path)
    call json_set(doc, "/model", model)
    call json_set(doc, "/ntimes", settings%ntimes)
    call json_set(doc, "/warmup", settings%warmup)
    call json_set(doc, "/threads_requested", settings%threads)
    if (settings%inject_seconds > 0) &
      call json_set(doc, "/injected_seconds_per_step", settings%inject_seconds)
    call get_command(length=n)
    allocate (character(len=n) :: command)
    call get_command(command)
    call json_set(doc, "/command_line", command)
    call json_add_environment(doc, "/environment")
    call json_set(doc, "/environment/fortran_compiler", compiler_version())
    call json_set(doc, "/environment/fortran_options", compiler_options())
  end subroutine bench_results_create

  !> Record the torch a run used: /environment/torch_version, cpu_capability
  !> (the kernels torch dispatches to) and blas (the "BLAS_INFO=" entry of the
  !> build configuration), on which the rounding of float results depends.
  subroutine bench_record_torch(doc, version, cpu_capability, config)
    type(json_document), intent(in) :: doc       !< results document
    character(len=*), intent(in) :: version      !< torch version
    character(len=*), intent(in) :: cpu_capability  !< e.g. "AVX512"
    character(len=*), intent(in) :: config       !< at::show_config() / torch.__config__.show()
    integer :: start, length
    call json_set(doc, "/environment/torch_version", version)
    call json_set(doc, "/environment/cpu_capability", cpu_capability)
    start = index(config, "BLAS_INFO=")
    if (start > 0) then
      start = start + len("BLAS_INFO=")
      length = scan(config(start:), ", " // achar(10)) - 1
      if (length < 0) length = len(config) - start + 1
      call json_set(doc, "/environment/blas", config(start:start + length - 1))
    else
      call json_set(doc, "/environment/blas", "unknown")
    end if
  end subroutine bench_record_torch

  !> End a run: print the timing summary and the verdict, write the results
  !> file (when --json was given) and exit 1 if any check failed.
  !> The caller sets /threads and the library versions in `doc` first.
  subroutine bench_finish(settings, doc, timer, check)
    type(bench_settings), intent(in) :: settings  !< run settings
    type(json_document), intent(inout) :: doc     !< results document (destroyed here)
    type(phase_timer), intent(in) :: timer        !< timings
    type(check_log), intent(in) :: check          !< correctness checks
    logical :: passed
    call timer_print_summary(timer)
    passed = check_passed(check)
    if (passed) then
      write (output_unit, '(a, i0, a, es8.2, a, es8.2, a, es8.2, a)') 'All ', size(check%ratios), &
        ' checks PASSED (largest error ', maxval(check%ratios), ' of the tolerance; rtol ', &
        check%rtol, ', atol ', check%atol_fraction, ' x max|reference|).'
    end if
    call timer_to_json(timer, doc)
    call check_to_json(check, doc)
    if (len(settings%json_path) > 0) then
      call json_write(doc, settings%json_path)
      write (output_unit, '(a)') 'Results written to ' // settings%json_path
    end if
    call json_destroy(doc)
    flush (output_unit)
    if (.not. passed) then
      write (error_unit, '(a, i0, a, i0, a)') 'FAILED: ', check%failed, ' of ', size(check%ratios), &
        ' iterations exceeded the tolerance; the results file (if any) records passed = false.'
      call status_stop(1)
    end if
  end subroutine bench_finish

  !> `directory`/`file`, or `file` alone when it is absolute or `directory` is empty.
  function bench_path_join(directory, file) result(path)
    character(len=*), intent(in) :: directory  !< e.g. "models"
    character(len=*), intent(in) :: file       !< e.g. "large_stride_loop_cpu.pt"
    character(len=:), allocatable :: path      !< joined path
    if (len_trim(directory) == 0 .or. file(1:min(1, len(file))) == "/") then
      path = trim(file)
    else if (directory(len_trim(directory):len_trim(directory)) == "/") then
      path = trim(directory) // trim(file)
    else
      path = trim(directory) // "/" // trim(file)
    end if
  end function bench_path_join

  !> Stop the driver on an error: the failure's first line followed by `hint`
  !> (how to fix it) on standard error, then any further lines of the failure
  !> (a Python traceback), and exit code 1. No results file is written.
  subroutine bench_fail(failure, hint)
    character(len=*), intent(in) :: failure  !< message from a coupling layer (stat/errmsg)
    character(len=*), intent(in) :: hint     !< the fix, e.g. "(run `ftbench export`)"; may be ""
    integer :: newline
    newline = index(failure, new_line("a"))
    if (newline == 0) newline = len_trim(failure) + 1
    write (error_unit, '(a)') status_message_prefix() // trim(failure(1:newline - 1) // " " // hint)
    if (newline < len_trim(failure)) write (error_unit, '(a)') trim(failure(newline + 1:))
    call status_stop(1)
  end subroutine bench_fail

  !> Directory part of a path ("." when there is none).
  function parent_directory(path) result(directory)
    character(len=*), intent(in) :: path       !< file path
    character(len=:), allocatable :: directory !< everything before the last "/"
    integer :: slash
    slash = index(path, "/", back=.true.)
    if (slash == 0) then
      directory = "."
    else if (slash == 1) then
      directory = "/"
    else
      directory = path(1:slash - 1)
    end if
  end function parent_directory

  logical function directory_exists(directory)
    character(len=*), intent(in) :: directory  !< directory path
    inquire (file=directory // "/.", exist=directory_exists)
  end function directory_exists

  !> Whether a file can be created beside `path` (as json_write's temporary file
  !> will be): creates and deletes "<path>.probe". Catches a read-only or
  !> forbidden directory before the run; a disk that fills up during the run is
  !> still reported by json_write at the end.
  logical function can_create_beside(path)
    character(len=*), intent(in) :: path  !< results file
    integer :: unit, ios
    open (newunit=unit, file=path // ".probe", status="replace", action="write", iostat=ios)
    can_create_beside = ios == 0
    if (can_create_beside) close (unit, status="delete")
  end function can_create_beside

end module bench_run
