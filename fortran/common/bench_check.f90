!> bench_check -- correctness checks of benchmarked results.
!>
!> Every iteration of every driver compares its output with a reference and
!> records the maximum relative error. The relative error of one element is
!>   |actual - expected| / max(|expected|, floor)  where that denominator > 0,
!>   |actual|                          where expected == 0 and floor == 0,
!>   +Inf                              where actual is NaN or infinite and
!>                                     expected is not the same infinity,
!> so a NaN can never pass unnoticed (Fortran's MAXVAL skips NaNs).
!> Each check prints one line in the published format
!>   PASSED :: [check iteration 1 (1.234E-03 s)] maximum relative error = 0.0000E+00
!> (warm-up iterations say "check warm-up 1" instead).
module bench_check
  use, intrinsic :: iso_fortran_env, only: real32, real64, output_unit, error_unit
  use, intrinsic :: ieee_arithmetic, only: ieee_is_finite, ieee_is_nan, ieee_value, &
                                           ieee_positive_inf, ieee_class, operator(==)
  use bench_json, only: json_document, json_set
  implicit none
  private

  public :: check_log, check_create, check_record, check_passed, check_to_json
  public :: check_relative_error

  !> Per-iteration maximum relative errors against a tolerance.
  type :: check_log
    character(len=:), allocatable :: reference  !< what the output is compared with
    real(real64) :: tolerance = 0               !< largest relative error that passes
    integer :: warmup = 0                       !< leading warm-up iterations
    real(real64), allocatable :: errors(:)      !< maximum relative error of each iteration
    integer :: failed = 0                       !< iterations over the tolerance
  end type check_log

  !> check_relative_error(actual, expected [, floor]): relative error of each
  !> element (elemental; real32 or real64, any rank). `floor` (default 0) is the
  !> smallest denominator: references smaller than it are compared relative to
  !> it, so values that cancel to nearly zero do not inflate the error.
  interface check_relative_error
    module procedure relative_error_real32, relative_error_real64
  end interface check_relative_error

contains

  !> Prepare a log for warmup + ntimes iterations.
  subroutine check_create(log, ntimes, warmup, tolerance, reference)
    type(check_log), intent(out) :: log       !< new log
    integer, intent(in) :: ntimes             !< measured iterations
    integer, intent(in) :: warmup             !< warm-up iterations (checked too)
    real(real64), intent(in) :: tolerance     !< largest relative error that passes
    character(len=*), intent(in) :: reference !< description of the reference, for the results file
    log%tolerance = tolerance
    log%warmup = warmup
    log%reference = reference
    allocate (log%errors(warmup + ntimes))
    log%errors = 0
  end subroutine check_create

  !> Record the maximum relative error of one iteration and print its
  !> PASSED/FAILED line (with `quiet`, only FAILED lines are printed, on
  !> standard error).
  subroutine check_record(log, iteration, max_error, seconds, quiet)
    type(check_log), intent(inout) :: log  !< log
    integer, intent(in) :: iteration       !< 1 .. warmup + ntimes
    real(real64), intent(in) :: max_error  !< maximum relative error of this iteration
    real(real64), intent(in) :: seconds    !< duration of the iteration's loop, s
    logical, intent(in) :: quiet           !< print only failures
    character(len=6) :: verdict
    character(len=16) :: label
    integer :: number
    logical :: ok
    log%errors(iteration) = max_error
    ok = max_error <= log%tolerance  ! false for NaN
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
      write (error_unit, 1) verdict, trim(label), number, seconds, max_error, log%tolerance
    else if (.not. quiet) then
      write (output_unit, 1) verdict, trim(label), number, seconds, max_error
    end if
1   format(a, ' :: [', a, ' ', i0, ' (', es9.3, ' s)] maximum relative error = ', es10.4, :, &
           ' > tolerance ', es9.2)
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
    real(real64) :: worst
    worst = maxval(log%errors(log%warmup + 1:))
    if (any(ieee_is_nan(log%errors))) worst = ieee_value(worst, ieee_positive_inf)
    call json_set(doc, "/correctness/reference", log%reference)
    call json_set(doc, "/correctness/tolerance", log%tolerance)
    call json_set(doc, "/correctness/max_relative_error", worst)
    call json_set(doc, "/correctness/relative_errors", log%errors(log%warmup + 1:))
    call json_set(doc, "/correctness/failed_iterations", log%failed)
    call json_set(doc, "/correctness/passed", check_passed(log))
  end subroutine check_to_json

  elemental real(real64) function relative_error_real32(actual, expected, floor) result(err)
    real(real32), intent(in) :: actual           !< computed value
    real(real32), intent(in) :: expected         !< reference value
    real(real64), intent(in), optional :: floor  !< smallest denominator (default 0)
    err = relative_error_real64(real(actual, real64), real(expected, real64), floor)
  end function relative_error_real32

  elemental real(real64) function relative_error_real64(actual, expected, floor) result(err)
    real(real64), intent(in) :: actual           !< computed value
    real(real64), intent(in) :: expected         !< reference value
    real(real64), intent(in), optional :: floor  !< smallest denominator (default 0)
    real(real64) :: denominator
    denominator = abs(expected)
    if (present(floor)) denominator = max(denominator, floor)
    if (ieee_is_finite(actual) .and. ieee_is_finite(expected)) then
      if (denominator > 0) then
        err = abs(actual - expected) / denominator
      else
        err = abs(actual)
      end if
    else if (ieee_class(actual) == ieee_class(expected) .and. .not. ieee_is_nan(actual)) then
      err = 0  ! the same infinity
    else
      err = ieee_value(err, ieee_positive_inf)
    end if
  end function relative_error_real64

end module bench_check
