!> large_stride_case -- what the large-stride drivers of every coupling path share:
!> the command line, the phases, the input, the reference and the results fields.
!>
!> The model: forward(x) = 2 * x with element (1, 2) negated, on an N x N real32
!> array (the asymmetry exposes any row-/column-major mix-up).
module large_stride_case
  use, intrinsic :: iso_fortran_env, only: real32, real64
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  use bench_cli, only: cli_parser, cli_create, cli_add_positional
  use bench_check, only: check_log, check_create, check_compare
  use bench_tolerances, only: large_stride_rtol, large_stride_atol_fraction
  use bench_json, only: json_document, json_set
  implicit none
  private

  public :: large_stride_cli, large_stride_fill, large_stride_check_create, large_stride_compare
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
  end subroutine large_stride_cli

  !> New input for one iteration: x uniform in [0, 1); y set to NaN so that a
  !> forward that writes nothing fails the check.
  subroutine large_stride_fill(x, y)
    real(real32), intent(out) :: x(:, :)  !< input
    real(real32), intent(out) :: y(:, :)  !< output, poisoned
    call random_number(x)
    y = ieee_value(y, ieee_quiet_nan)
  end subroutine large_stride_fill

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
    real(real32), intent(in) :: x(:, :)      !< input
    real(real32), intent(in) :: y(:, :)      !< model output
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
