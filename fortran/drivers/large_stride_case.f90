!> large_stride_case -- what the large-stride drivers of every coupling path share:
!> the command line, the phases, the input, the reference and the results fields.
!>
!> The model: forward(x) = 2 * x with element (1, 2) negated, on an N x N real32
!> array (the asymmetry exposes any row-/column-major mix-up).
module large_stride_case
  use, intrinsic :: iso_fortran_env, only: real32, real64
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  use bench_cli, only: cli_parser, cli_create, cli_add_positional, cli_add_option, cli_string
  use bench_inputs, only: large_stride_row_step, large_stride_column_step, &
                          large_stride_iteration_step, large_stride_modulus
  use bench_check, only: check_log, check_create, check_compare
  use bench_tolerances, only: large_stride_rtol, large_stride_atol_fraction
  use bench_json, only: json_document, json_set
  use bench_run, only: bench_fail
  implicit none
  private

  public :: large_stride_cli, large_stride_fill, large_stride_save_input, large_stride_check_create, large_stride_compare
  public :: large_stride_describe

  !> Phases timed every iteration, in order (see docs/benchmarks.md).
  character(len=16), parameter, public :: large_stride_phases(4) = &
    [character(len=16) :: "tensor creation", "forward", "tensor deletion", "loop"]
  integer, parameter, public :: p_create = 1  !< wrap input and output arrays
  integer, parameter, public :: p_forward = 2 !< run the model, result into the output array
  integer, parameter, public :: p_delete = 3  !< release the wrappers
  integer, parameter, public :: p_loop = 4    !< the three together
  !> Reference, as recorded in the results file.
  character(len=*), parameter, public :: large_stride_reference = &
    "analytic: 2 * input with element (1, 2) negated"

contains

  !> Start the command line `<model-dir> <model> <ntimes> <N>` of a large-stride driver.
  subroutine large_stride_cli(cli, program, path, model_name, model_help)
    type(cli_parser), intent(out) :: cli         !< new parser (add options, then cli_parse)
    character(len=*), intent(in) :: program      !< driver name
    character(len=*), intent(in) :: path         !< coupling path, for the description
    character(len=*), intent(in) :: model_name   !< name of the second positional argument
    character(len=*), intent(in) :: model_help   !< its description
    call cli_create(cli, program, "Time the large-stride N x N model (2 * input, element (1,2) " // &
                    "negated) through the " // path // " coupling.")
    call cli_add_positional(cli, "model-dir", "directory holding the model")
    call cli_add_positional(cli, model_name, model_help)
    call cli_add_positional(cli, "ntimes", "measured iterations (after the warm-up)")
    call cli_add_positional(cli, "N", "array size: the input is N x N real32")
    call cli_add_option(cli, "--write-input", "FILE", "write the first iteration's input to " // &
                        "FILE (raw real32, column-major) to compare paths", "")
  end subroutine large_stride_cli

  !> New input for one iteration, by the rule every path shares (checks.json,
  !> generated into bench_inputs): element (i, j) of iteration k, all counted from 0,
  !> is mod(row_step i + column_step j + iteration_step k, modulus) / modulus, in
  !> [0, 1) and exact in real32. y is set to NaN so that a forward that writes
  !> nothing fails the check.
  subroutine large_stride_fill(x, y, iteration)
    real(real32), intent(out) :: x(:, :)  !< input
    real(real32), intent(out) :: y(:, :)  !< output, poisoned
    integer, intent(in) :: iteration      !< 1 .. warmup + ntimes
    integer :: i, j, offset
    offset = large_stride_iteration_step * (iteration - 1)
    do j = 1, size(x, 2)
      do i = 1, size(x, 1)
        x(i, j) = real(modulo(large_stride_row_step * (i - 1) + large_stride_column_step * (j - 1) &
                              + offset, large_stride_modulus), real32) / large_stride_modulus
      end do
    end do
    y = ieee_value(y, ieee_quiet_nan)
  end subroutine large_stride_fill

  !> With --write-input FILE, write x to FILE as raw real32 bytes in column-major
  !> order (what the identical-inputs test compares between paths); else nothing.
  !> A file that cannot be written stops the run with one line (bench_fail).
  subroutine large_stride_save_input(cli, x)
    type(cli_parser), intent(in) :: cli  !< parsed command line
    real(real32), intent(in) :: x(:, :)  !< the input to write
    character(len=:), allocatable :: path
    character(len=256) :: message
    integer :: unit, stat
    path = cli_string(cli, "--write-input")
    if (len(path) == 0) return
    open (newunit=unit, file=path, access="stream", form="unformatted", status="replace", &
          action="write", iostat=stat, iomsg=message)
    if (stat == 0) write (unit, iostat=stat, iomsg=message) x
    if (stat == 0) close (unit, iostat=stat, iomsg=message)
    if (stat /= 0) call bench_fail("--write-input " // path // ": " // trim(message), "")
  end subroutine large_stride_save_input

  !> Start the correctness log of a large-stride run (tolerances: bench_tolerances).
  subroutine large_stride_check_create(check, ntimes, warmup)
    type(check_log), intent(out) :: check  !< new log
    integer, intent(in) :: ntimes          !< measured iterations
    integer, intent(in) :: warmup          !< warm-up iterations
    call check_create(check, ntimes, warmup, large_stride_reference, large_stride_rtol, &
                      large_stride_atol_fraction)
  end subroutine large_stride_check_create

  !> Compare y with 2 * x with element (1, 2) negated.
  subroutine large_stride_compare(check, iteration, x, y)
    type(check_log), intent(inout) :: check  !< log (then check_record decides the iteration)
    integer, intent(in) :: iteration         !< 1 .. warmup + ntimes
    real(real32), intent(in), contiguous :: x(:, :)  !< input
    real(real32), intent(in), contiguous :: y(:, :)  !< model output (checked in place, no copy)
    real(real32), allocatable :: expected(:, :)
    allocate (expected, source=2 * x)
    expected(1, 2) = -expected(1, 2)
    call check_compare(check, iteration, "y", y, expected)
  end subroutine large_stride_compare

  !> Sizes, dtype and device of the run, into the results document.
  subroutine large_stride_describe(doc, n)
    type(json_document), intent(in) :: doc  !< results document
    integer, intent(in) :: n                !< array size N
    call json_set(doc, "/sizes/N", n)
    call json_set(doc, "/dtype", "float32")
    call json_set(doc, "/device", "cpu")
  end subroutine large_stride_describe

end module large_stride_case
