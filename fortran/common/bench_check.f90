!> bench_check -- correctness checks of benchmarked results.
!>
!> Every iteration of every driver compares its outputs with references. An
!> element passes when
!>   |actual - expected| <= rtol * |expected| + atol,
!>   atol = atol_fraction * max|expected| over that output component,
!> (the rule of bench_check_c.h, shared with the native C++ baseline; the
!> tolerances and their basis are in python/src/ftbench/checks.json and
!> docs/checks.md). Each iteration records its largest error ratio
!> |actual - expected| / (rtol * |expected| + atol) (passes when <= 1) and its
!> largest absolute difference. A NaN or an unexpected infinity gives an
!> infinite ratio, so a NaN can never pass unnoticed. Each check prints one line
!>   PASSED :: [check iteration 1 (1.234E-03 s)] maximum error / tolerance = 5.2051E-03
!> (warm-up iterations say "check warm-up 1" instead).
module bench_check
  use, intrinsic :: iso_fortran_env, only: real32, real64, int64, output_unit, error_unit
  use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_double, c_int64_t
  use, intrinsic :: ieee_arithmetic, only: ieee_is_finite, ieee_value, ieee_positive_inf
  use bench_json, only: json_document, json_set
  implicit none
  private

  public :: check_log, check_create, check_compare, check_record, check_passed, check_to_json
  public :: check_errors

  integer, parameter :: max_components = 8

  !> Per-iteration errors against the tolerance rtol * |expected| + atol.
  type :: check_log
    character(len=:), allocatable :: reference  !< what the outputs are compared with
    real(real64) :: rtol = 0                    !< relative part of the tolerance
    real(real64) :: atol_fraction = 0           !< absolute part, as a fraction of max|expected|
    integer :: warmup = 0                       !< leading warm-up iterations
    real(real64), allocatable :: ratios(:)      !< largest error / tolerance of each iteration
    real(real64), allocatable :: abs_errors(:)  !< largest |actual - expected| of each iteration
    integer :: failed = 0                       !< iterations with a ratio above 1 (or NaN)
    integer :: components = 0                   !< output components compared so far
    character(len=32) :: component_names(max_components) = ''  !< their names
    real(real64) :: component_atol(max_components) = 0         !< largest atol used for each
  end type check_log

  !> check_compare(log, iteration, component, actual, expected [, expected_max]):
  !> compare one output component (real32 or real64, any rank, same shape) with
  !> its reference and fold the result into the iteration's record.
  interface check_compare
    module procedure compare_real32, compare_real64
  end interface check_compare

  !> check_errors(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol):
  !> the rule above on one output component (real32 or real64, any rank, same
  !> size), without a log: the largest error ratio (<= 1: passes; +Inf for a NaN
  !> or an unexpected infinity), the largest |actual - expected| and the atol
  !> used. check_compare folds its results into a log; the f2py module returns them.
  interface check_errors
    module procedure errors_real32, errors_real64
  end interface check_errors

  interface
    subroutine c_compare_f64(actual, expected, n, rtol, atol, max_ratio, max_abs_error) &
      bind(C, name="bench_check_compare_f64")
      import :: c_ptr, c_int64_t, c_double
      type(c_ptr), value :: actual, expected
      integer(c_int64_t), value :: n
      real(c_double), value :: rtol, atol
      real(c_double), intent(out) :: max_ratio, max_abs_error
    end subroutine c_compare_f64
    subroutine c_compare_f32(actual, expected, n, rtol, atol, max_ratio, max_abs_error) &
      bind(C, name="bench_check_compare_f32")
      import :: c_ptr, c_int64_t, c_double
      type(c_ptr), value :: actual, expected
      integer(c_int64_t), value :: n
      real(c_double), value :: rtol, atol
      real(c_double), intent(out) :: max_ratio, max_abs_error
    end subroutine c_compare_f32
    real(c_double) function c_max_abs_f64(expected, n) bind(C, name="bench_check_max_abs_f64")
      import :: c_ptr, c_int64_t, c_double
      type(c_ptr), value :: expected
      integer(c_int64_t), value :: n
    end function c_max_abs_f64
    real(c_double) function c_max_abs_f32(expected, n) bind(C, name="bench_check_max_abs_f32")
      import :: c_ptr, c_int64_t, c_double
      type(c_ptr), value :: expected
      integer(c_int64_t), value :: n
    end function c_max_abs_f32
  end interface

contains

  !> Prepare a log for warmup + ntimes iterations.
  subroutine check_create(log, ntimes, warmup, reference, rtol, atol_fraction)
    type(check_log), intent(out) :: log          !< new log
    integer, intent(in) :: ntimes                !< measured iterations
    integer, intent(in) :: warmup                !< warm-up iterations (checked too)
    character(len=*), intent(in) :: reference    !< description of the reference, for the results file
    real(real64), intent(in) :: rtol             !< relative tolerance (bench_tolerances)
    real(real64), intent(in) :: atol_fraction    !< absolute tolerance / max|expected| (bench_tolerances)
    log%reference = reference
    log%rtol = rtol
    log%atol_fraction = atol_fraction
    log%warmup = warmup
    allocate (log%ratios(warmup + ntimes), log%abs_errors(warmup + ntimes))
    log%ratios = 0
    log%abs_errors = 0
  end subroutine check_create

  !> Fold one component's comparison into iteration `iteration`'s record.
  subroutine fold(log, iteration, component, ratio, abs_error, atol)
    type(check_log), intent(inout) :: log
    integer, intent(in) :: iteration
    character(len=*), intent(in) :: component
    real(real64), intent(in) :: ratio, abs_error, atol
    integer :: k
    log%ratios(iteration) = max(log%ratios(iteration), ratio)
    log%abs_errors(iteration) = max(log%abs_errors(iteration), abs_error)
    k = findloc(log%component_names(1:log%components), component, dim=1)
    if (k == 0) then
      if (log%components == max_components) error stop 'bench_check: too many output components'
      log%components = log%components + 1
      k = log%components
      log%component_names(k) = component
    end if
    log%component_atol(k) = max(log%component_atol(k), atol)
  end subroutine fold

  subroutine compare_real64(log, iteration, component, actual, expected, expected_max)
    type(check_log), intent(inout) :: log                         !< log
    integer, intent(in) :: iteration                              !< 1 .. warmup + ntimes
    character(len=*), intent(in) :: component                     !< output name, e.g. "gwfu"
    real(real64), intent(in), target, contiguous :: actual(..)    !< computed values
    real(real64), intent(in), target, contiguous :: expected(..)  !< references (same shape)
    !> Largest finite |reference| to scale atol with (default: that of `expected`;
    !> an MPI rank holding part of the grid passes the whole grid's).
    real(real64), intent(in), optional :: expected_max
    real(real64) :: atol, ratio, abs_error
    call errors_real64(actual, expected, log%rtol, log%atol_fraction, ratio, abs_error, atol, &
                         expected_max)
    call fold(log, iteration, component, ratio, abs_error, atol)
  end subroutine compare_real64

  subroutine compare_real32(log, iteration, component, actual, expected, expected_max)
    type(check_log), intent(inout) :: log                         !< log
    integer, intent(in) :: iteration                              !< 1 .. warmup + ntimes
    character(len=*), intent(in) :: component                     !< output name, e.g. "y"
    real(real32), intent(in), target, contiguous :: actual(..)    !< computed values
    real(real32), intent(in), target, contiguous :: expected(..)  !< references (same shape)
    !> Largest finite |reference| to scale atol with (default: that of `expected`;
    !> an MPI rank holding part of the grid passes the whole grid's).
    real(real64), intent(in), optional :: expected_max
    real(real64) :: atol, ratio, abs_error
    call errors_real32(actual, expected, log%rtol, log%atol_fraction, ratio, abs_error, atol, &
                         expected_max)
    call fold(log, iteration, component, ratio, abs_error, atol)
  end subroutine compare_real32

  subroutine errors_real64(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol, &
                           expected_max)
    real(real64), intent(in), target, contiguous :: actual(..)    !< computed values
    real(real64), intent(in), target, contiguous :: expected(..)  !< references (same size)
    real(real64), intent(in) :: rtol                              !< relative tolerance
    real(real64), intent(in) :: atol_fraction                     !< atol / max|expected|
    real(real64), intent(out) :: max_ratio                        !< largest error / tolerance
    real(real64), intent(out) :: max_abs_error                    !< largest |actual - expected|
    real(real64), intent(out) :: atol                             !< absolute tolerance used
    real(real64), intent(in), optional :: expected_max            !< max|reference| for atol
    integer(c_int64_t) :: n
    if (size(actual) /= size(expected)) error stop 'bench_check: actual and expected differ in size'
    n = size(expected, kind=int64)
    if (present(expected_max)) then
      atol = atol_fraction * expected_max
    else
      atol = atol_fraction * c_max_abs_f64(c_loc(expected), n)
    end if
    call c_compare_f64(c_loc(actual), c_loc(expected), n, rtol, atol, max_ratio, max_abs_error)
  end subroutine errors_real64

  subroutine errors_real32(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol, &
                           expected_max)
    real(real32), intent(in), target, contiguous :: actual(..)    !< computed values
    real(real32), intent(in), target, contiguous :: expected(..)  !< references (same size)
    real(real64), intent(in) :: rtol                              !< relative tolerance
    real(real64), intent(in) :: atol_fraction                     !< atol / max|expected|
    real(real64), intent(out) :: max_ratio                        !< largest error / tolerance
    real(real64), intent(out) :: max_abs_error                    !< largest |actual - expected|
    real(real64), intent(out) :: atol                             !< absolute tolerance used
    real(real64), intent(in), optional :: expected_max            !< max|reference| for atol
    integer(c_int64_t) :: n
    if (size(actual) /= size(expected)) error stop 'bench_check: actual and expected differ in size'
    n = size(expected, kind=int64)
    if (present(expected_max)) then
      atol = atol_fraction * expected_max
    else
      atol = atol_fraction * c_max_abs_f32(c_loc(expected), n)
    end if
    call c_compare_f32(c_loc(actual), c_loc(expected), n, rtol, atol, max_ratio, max_abs_error)
  end subroutine errors_real32

  !> Decide iteration `iteration` (compared with check_compare) and print its
  !> PASSED/FAILED line (with `quiet`, only FAILED lines are printed, on
  !> standard error).
  subroutine check_record(log, iteration, seconds, quiet)
    type(check_log), intent(inout) :: log  !< log
    integer, intent(in) :: iteration       !< 1 .. warmup + ntimes
    real(real64), intent(in) :: seconds    !< duration of the iteration's loop, s
    logical, intent(in) :: quiet           !< print only failures
    character(len=6) :: verdict
    character(len=16) :: label
    integer :: number
    logical :: ok
    ok = log%ratios(iteration) <= 1  ! false for NaN
    if (.not. ok) log%failed = log%failed + 1
    verdict = merge('PASSED', 'FAILED', ok)
    if (iteration <= log%warmup) then
      label = 'check warm-up'
      number = iteration
    else
      label = 'check iteration'
      number = iteration - log%warmup
    end if
    if (.not. ok) then
      write (error_unit, 1) verdict, trim(label), number, seconds, log%ratios(iteration), &
        log%abs_errors(iteration)
    else if (.not. quiet) then
      write (output_unit, 1) verdict, trim(label), number, seconds, log%ratios(iteration)
    end if
1   format(a, ' :: [', a, ' ', i0, ' (', es9.3, ' s)] maximum error / tolerance = ', es10.4, :, &
           ' (largest |difference| ', es9.2, ')')
  end subroutine check_record

  !> True when no iteration failed.
  logical function check_passed(log)
    type(check_log), intent(in) :: log  !< log
    check_passed = log%failed == 0
  end function check_passed

  !> Write /correctness (see docs/results-schema.md).
  subroutine check_to_json(log, doc)
    type(check_log), intent(in) :: log      !< log
    type(json_document), intent(in) :: doc  !< results document
    integer :: k
    call json_set(doc, "/correctness/reference", log%reference)
    call json_set(doc, "/correctness/rtol", log%rtol)
    call json_set(doc, "/correctness/atol_fraction", log%atol_fraction)
    do k = 1, log%components
      call json_set(doc, "/correctness/atol/" // trim(log%component_names(k)), log%component_atol(k))
    end do
    call json_set(doc, "/correctness/max_error_ratio", worst(log%ratios(log%warmup + 1:)))
    call json_set(doc, "/correctness/max_abs_error", worst(log%abs_errors(log%warmup + 1:)))
    call json_set(doc, "/correctness/error_ratios", log%ratios(log%warmup + 1:))
    call json_set(doc, "/correctness/failed_iterations", log%failed)
    call json_set(doc, "/correctness/passed", check_passed(log))
  end subroutine check_to_json

  !> Largest value; +Inf when any is infinite or NaN (written as null in JSON).
  real(real64) function worst(values)
    real(real64), intent(in) :: values(:)
    worst = maxval(values)
    if (.not. all(ieee_is_finite(values))) worst = ieee_value(worst, ieee_positive_inf)
  end function worst

end module bench_check
