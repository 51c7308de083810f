!> cgdrag_direct -- the WaveNet-2 (MiMA cg_drag) benchmark on the T42 grid
!> through the direct (libtorch) coupling, phase by phase, for one process
!> (benchmarker_cgdrag_torch) or every rank of an MPI job
!> (benchmarker_cgdrag_torch_mpi): the same code, on the team it is given.
!>
!> Command line: <model-dir> <model-file> <ntimes> [options]
!>        [--explicit-reshape] [--alloc-in-loop] [--columns K] [--data DIR] [--output DIR]
!>
!> One step = the drag of both wind components on the process's latitude band
!> (two forwards). Phases: see cgdrag_phases. Default (implicit reshape): the
!> (lon, lat, lev) arrays are viewed as (ncol, 40) through rank-remapping
!> pointers, no copy. Every step's drag is checked against the Python
!> references (tolerance of docs/checks.md). Once-only phases: model load,
!> model delete and "start-up to first step" (from team%start, i.e. MPI_Init
!> under MPI, to the first step). Exit status: 0 if every check passed, 1
!> otherwise or on error, 2 on a usage error.
module cgdrag_direct
  use, intrinsic :: iso_fortran_env, only: real64
  use torch_coupling, only: torch_model, torch_tensor, torch_model_load, torch_model_forward, &
                            torch_model_delete, torch_model_metadata, torch_tensor_from_array, &
                            torch_tensor_delete, torch_set_num_threads, torch_get_num_threads, &
                            torch_version, torch_cpu_capability, torch_config, torch_kCPU
  use bench_cli, only: cli_parser, cli_parse, cli_string
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_record_torch, bench_path_join, bench_fail
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once
  use bench_check, only: check_log
  use bench_json, only: json_document, json_set, json_set_parsed
  use bench_teams, only: bench_team
  use cgdrag_case
  use cgdrag_phases
  implicit none
  private

  public :: cgdrag_direct_run
  public :: cgdrag_tensors, cgdrag_tensors_create, cgdrag_tensors_forward, cgdrag_tensors_delete

  !> The tensors of one step, each over a Fortran array of the step (no copy):
  !> winds u, v and drag x, y (ncol, nlev), latitude and surface pressure (ncol, 1).
  type :: cgdrag_tensors
    type(torch_tensor) :: u, v, lat, psfc, x, y
  end type cgdrag_tensors

contains

  !> Run the benchmark as `program` (its name in messages) on `team`, which
  !> the caller has started; returns after team%finish (or stops on an error).
  subroutine cgdrag_direct_run(team, program)
    class(bench_team), intent(inout) :: team    !< the processes of the run, started
    character(len=*), intent(in) :: program     !< program name, for the usage text
    save  ! static locals, as the programs' were: LeakSanitizer sees them at exit

    type(cli_parser) :: cli
    type(bench_settings) :: settings
    type(cgdrag_options) :: options
    type(cgdrag_data), target :: data
    type(cgdrag_work), target :: work
    type(phase_timer) :: timer
    type(check_log) :: check
    type(json_document) :: doc
    type(torch_model) :: model
    type(cgdrag_tensors) :: tensors
    character(len=:), allocatable :: model_file, metadata
    character(len=512) :: message
    integer :: it, stat
    real(real64) :: t0

    call cgdrag_cli(cli, program, "direct libtorch", "model-file", &
                    "TorchScript file, e.g. cgdrag_cpu.pt", phased=.true.)
    call bench_add_standard_options(cli)
    call cli_parse(cli)
    call bench_read_standard_options(cli, settings, writer=team%writes())
    call cgdrag_read_options(cli, options)
    call cgdrag_split(options, team)
    model_file = bench_path_join(cli_string(cli, "model-dir"), cli_string(cli, "model-file"))

    call bench_results_create(doc, settings, "cgdrag", "direct", model_file)
    call json_set(doc, "/coupling_variant", variant_label())
    call bench_record_torch(doc, torch_version(), torch_cpu_capability(), torch_config())
    call cgdrag_read(data, options%data_path, options%columns, options%first_row)
    data%reference_max = team%max_all(data%reference_max)
    call cgdrag_describe(doc, data, options)
    if (settings%threads > 0) call torch_set_num_threads(settings%threads)
    call timer_create(timer, cgdrag_phase_names, settings%ntimes, settings%warmup)
    call cgdrag_check_create(check, settings%ntimes, settings%warmup)

    t0 = timer_now()
    call torch_model_load(model, model_file, torch_kCPU, stat=stat, errmsg=message)
    if (stat /= 0) call bench_fail(message, "(create the models with `ftbench export`, or run " // &
                                   "scripts/run_benchmarks.sh)")
    call timer_record_once(timer, "model load", timer_now() - t0)
    metadata = torch_model_metadata(model)
    call team%placement(torch_get_num_threads())

    if (.not. options%alloc_in_loop) call cgdrag_allocate(work, options, nlon, options%columns / nlon)
    call timer_record_once(timer, "start-up to first step", timer_now() - team%started)
    do it = 1, settings%warmup + settings%ntimes
      call team%barrier()  ! steps start together, as a coupled model's do (not timed)
      call cgdrag_step_start(timer, it, work, options, data)

      call timer_start(timer, p_create)
      call cgdrag_tensors_create(tensors, data, work, options)
      call timer_stop(timer, p_create, it)

      call timer_start(timer, p_forward)
      call cgdrag_tensors_forward(tensors, model)
      call timer_stop(timer, p_forward, it)

      call timer_start(timer, p_delete)
      call cgdrag_tensors_delete(tensors)
      call timer_stop(timer, p_delete, it)

      call cgdrag_step_finish(timer, it, work, options, data, check, settings%quiet, &
                              settings%inject_seconds)
    end do

    t0 = timer_now()
    call torch_model_delete(model)
    call timer_record_once(timer, "model delete", timer_now() - t0)

    call cgdrag_output(team, options, work)
    if (len(metadata) > 0) call json_set_parsed(doc, "/model_metadata", metadata)
    call json_set(doc, "/threads", torch_get_num_threads())
    call team%finish(settings, doc, timer, check)

  contains

    function variant_label() result(label)
      character(len=:), allocatable :: label
      label = merge("explicit reshape", "implicit reshape", options%explicit_reshape)
      if (options%alloc_in_loop) label = label // ", alloc in loop"
    end function variant_label

  end subroutine cgdrag_direct_run

  !> Wrap the step's arrays as tensors, without copying: with --explicit-reshape
  !> the column arrays of `work`, else the (lon, lat, lev) fields of `data` and
  !> the drag arrays of `work` viewed as columns (rank-remapping pointers, column
  !> c = i + nlon (j - 1)).
  subroutine cgdrag_tensors_create(tensors, data, work, options)
    type(cgdrag_tensors), intent(inout) :: tensors       !< tensors of the step (new)
    type(cgdrag_data), target, intent(in) :: data         !< inputs of the process's band
    type(cgdrag_work), target, intent(inout) :: work      !< the step's arrays (outputs)
    type(cgdrag_options), intent(in) :: options           !< --columns, --explicit-reshape
    real(dp), pointer :: u_col(:, :), v_col(:, :), lat_col(:, :), psfc_col(:, :), x_col(:, :), &
                         y_col(:, :)
    integer :: ncol
    ncol = options%columns
    if (options%explicit_reshape) then
      u_col => work%u_col
      v_col => work%v_col
      lat_col => work%lat_col
      psfc_col => work%psfc_col
      x_col => work%x_col
      y_col => work%y_col
    else
      u_col(1:ncol, 1:nlev) => data%uuu
      v_col(1:ncol, 1:nlev) => data%vvv
      lat_col(1:ncol, 1:1) => data%lat
      psfc_col(1:ncol, 1:1) => data%psfc
      x_col(1:ncol, 1:nlev) => work%gwfcng_x
      y_col(1:ncol, 1:nlev) => work%gwfcng_y
    end if
    call torch_tensor_from_array(tensors%u, u_col)
    call torch_tensor_from_array(tensors%v, v_col)
    call torch_tensor_from_array(tensors%lat, lat_col)
    call torch_tensor_from_array(tensors%psfc, psfc_col)
    call torch_tensor_from_array(tensors%x, x_col)
    call torch_tensor_from_array(tensors%y, y_col)
  end subroutine cgdrag_tensors_create

  !> The step's two forwards: drag x from wind u, drag y from wind v, written into
  !> the Fortran arrays under tensors%x and tensors%y.
  subroutine cgdrag_tensors_forward(tensors, model)
    type(cgdrag_tensors), intent(in) :: tensors     !< tensors of the step
    type(torch_model), intent(in) :: model          !< WaveNet-2, forward(wind, lat, psfc)
    call torch_model_forward(model, [tensors%u, tensors%lat, tensors%psfc], [tensors%x])
    call torch_model_forward(model, [tensors%v, tensors%lat, tensors%psfc], [tensors%y])
  end subroutine cgdrag_tensors_forward

  !> Release the step's tensors (the Fortran arrays stay).
  subroutine cgdrag_tensors_delete(tensors)
    type(cgdrag_tensors), intent(inout) :: tensors  !< tensors of the step
    call torch_tensor_delete(tensors%u)
    call torch_tensor_delete(tensors%v)
    call torch_tensor_delete(tensors%lat)
    call torch_tensor_delete(tensors%psfc)
    call torch_tensor_delete(tensors%x)
    call torch_tensor_delete(tensors%y)
  end subroutine cgdrag_tensors_delete

end module cgdrag_direct
