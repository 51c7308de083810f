!> bench_timer -- the one timing module every driver uses.
!>
!> Wall-clock time comes from SYSTEM_CLOCK with 64-bit integers, which in
!> gfortran reads CLOCK_MONOTONIC with nanosecond resolution (never goes
!> backwards, unaffected by changes to the date).
!>
!> A timer holds named phases ("tensor creation", "forward", ...). Each of the
!> warmup + ntimes iterations records one duration per phase, in seconds.
!> Statistics use only the ntimes iterations after the warm-up; the warm-up
!> durations are kept and written separately. Once-only phases (model load,
!> model delete) are recorded with timer_record_once.
module bench_timer
  use, intrinsic :: iso_fortran_env, only: int64, real64, output_unit
  use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_size_t, c_sizeof, c_funptr, c_funloc, &
                                         c_int, c_double
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan, ieee_is_nan
  use coupling_status, only: status_fail
  use bench_json, only: json_document, json_set
  implicit none
  private

  public :: phase_timer, phase_statistics, phase_name_len
  public :: timer_now, timer_create, timer_start, timer_stop, timer_record_once, timer_busy_wait
  public :: timer_statistics, timer_print_summary, timer_to_json

  !> Longest phase name.
  integer, parameter :: phase_name_len = 24

  !> Durations of named phases over warm-up and measured iterations.
  type :: phase_timer
    integer :: ntimes = 0  !< measured iterations
    integer :: warmup = 0  !< warm-up iterations before them (excluded from statistics)
    character(len=phase_name_len), allocatable :: names(:)       !< phase names, in order
    real(real64), allocatable :: seconds(:, :)                   !< (warmup + ntimes, phase)
    real(real64), allocatable :: started(:)                      !< start time of a running phase
    character(len=phase_name_len), allocatable :: once_names(:)  !< once-only phases
    real(real64), allocatable :: once_seconds(:)                 !< their durations
  end type phase_timer

  !> Statistics of one phase over the measured iterations, in seconds.
  type :: phase_statistics
    integer :: count = 0        !< number of samples
    real(real64) :: min = 0     !< smallest
    real(real64) :: median = 0  !< middle value (mean of the two middle ones for an even count)
    real(real64) :: mean = 0    !< arithmetic mean
    real(real64) :: stddev = 0  !< sample standard deviation (n - 1 in the denominator; 0 if n < 2)
    real(real64) :: max = 0     !< largest
  end type phase_statistics

contains

  !> Seconds on the monotonic clock since an arbitrary origin.
  function timer_now() result(seconds)
    real(real64) :: seconds  !< current time, s
    integer(int64) :: count, rate
    call system_clock(count, rate)
    seconds = real(count, real64) / real(rate, real64)
  end function timer_now

  !> Spin (no sleep: the core stays busy, as work would keep it) until `seconds`
  !> have passed on the monotonic clock. A known cost to inject into a step
  !> (`--inject-ns`, for `ftbench selftest`); returns at once for seconds <= 0.
  subroutine timer_busy_wait(seconds)
    real(real64), intent(in) :: seconds  !< how long, s
    real(real64) :: start
    if (seconds <= 0) return
    start = timer_now()
    do while (timer_now() - start < seconds)
    end do
  end subroutine timer_busy_wait

  !> Prepare a timer for `phases` over warmup + ntimes iterations.
  subroutine timer_create(timer, phases, ntimes, warmup)
    type(phase_timer), intent(out) :: timer  !< new timer; phase k is phases(k)
    character(len=*), intent(in) :: phases(:)  !< phase names (at most phase_name_len characters)
    integer, intent(in) :: ntimes  !< measured iterations, >= 1
    integer, intent(in) :: warmup  !< warm-up iterations, >= 0
    if (ntimes < 1 .or. warmup < 0) call status_fail("timer_create", "need ntimes >= 1 and warmup >= 0")
    timer%ntimes = ntimes
    timer%warmup = warmup
    allocate (timer%names(size(phases)))
    timer%names = phases
    allocate (timer%seconds(warmup + ntimes, size(phases)))
    timer%seconds = ieee_value(0.0_real64, ieee_quiet_nan)
    allocate (timer%started(size(phases)))
    timer%started = 0
    allocate (timer%once_names(0), timer%once_seconds(0))
  end subroutine timer_create

  !> Start phase number `phase`.
  subroutine timer_start(timer, phase)
    type(phase_timer), intent(inout) :: timer  !< timer
    integer, intent(in) :: phase  !< index into the phase names
    timer%started(phase) = timer_now()
  end subroutine timer_start

  !> Stop phase `phase` and record its duration for iteration `iteration`
  !> (1 .. warmup + ntimes; the first `warmup` are warm-up). With `add`, the
  !> duration is added to what the phase already recorded in this iteration
  !> (for a phase that runs in several pieces).
  subroutine timer_stop(timer, phase, iteration, add)
    type(phase_timer), intent(inout) :: timer  !< timer
    integer, intent(in) :: phase      !< index into the phase names
    integer, intent(in) :: iteration  !< iteration number, warm-up included
    logical, intent(in), optional :: add  !< add to this iteration's earlier pieces
    real(real64) :: elapsed
    elapsed = timer_now() - timer%started(phase)
    if (present(add)) then
      if (add .and. .not. ieee_is_nan(timer%seconds(iteration, phase))) &
        elapsed = elapsed + timer%seconds(iteration, phase)
    end if
    timer%seconds(iteration, phase) = elapsed
  end subroutine timer_stop

  !> Record the duration of a phase that happens once (e.g. "model load").
  subroutine timer_record_once(timer, name, seconds)
    type(phase_timer), intent(inout) :: timer  !< timer
    character(len=*), intent(in) :: name  !< phase name
    real(real64), intent(in) :: seconds   !< duration, s
    character(len=phase_name_len) :: padded
    padded = name
    timer%once_names = [timer%once_names, padded]
    timer%once_seconds = [timer%once_seconds, seconds]
  end subroutine timer_record_once

  !> Statistics of phase `phase` over the measured iterations.
  function timer_statistics(timer, phase) result(stats)
    type(phase_timer), intent(in) :: timer  !< timer
    integer, intent(in) :: phase            !< index into the phase names
    type(phase_statistics) :: stats         !< min, median, mean, stddev, max, count
    real(real64), allocatable, target :: x(:)
    integer :: n
    allocate (x, source=timer%seconds(timer%warmup + 1:, phase))
    n = size(x)
    stats%count = n
    call sort(x)
    stats%min = x(1)
    stats%max = x(n)
    stats%median = 0.5_real64 * (x((n + 1) / 2) + x(n / 2 + 1))
    stats%mean = sum(x) / n
    if (n > 1) stats%stddev = sqrt(sum((x - stats%mean)**2) / (n - 1))
  end function timer_statistics

  !> Print the statistics of every phase, and the once-only phases, as a table.
  subroutine timer_print_summary(timer, unit)
    type(phase_timer), intent(in) :: timer  !< timer
    integer, intent(in), optional :: unit   !< output unit (default: standard output)
    type(phase_statistics) :: s
    character(len=phase_name_len + 7) :: label
    integer :: out, k
    out = output_unit
    if (present(unit)) out = unit
    write (out, '(a, i0, a, i0, a)') 'Timing summary (wall clock): ', timer%ntimes, &
      ' measured iterations; ', timer%warmup, ' warm-up iteration(s) excluded.'
    label = 'phase'
    write (out, '(a, 5a13)') label, 'min (s)', 'median (s)', 'mean (s)', 'stddev (s)', 'max (s)'
    do k = 1, size(timer%names)
      s = timer_statistics(timer, k)
      label = timer%names(k)
      write (out, '(a, 5es13.4)') label, s%min, s%median, s%mean, s%stddev, s%max
    end do
    do k = 1, size(timer%once_names)
      label = trim(timer%once_names(k)) // ' (once)'
      write (out, '(a, es13.4)') label, timer%once_seconds(k)
    end do
  end subroutine timer_print_summary

  !> Write phases, per-iteration durations and statistics under /phases,
  !> /phase_order and /once (see docs/results-schema.md).
  subroutine timer_to_json(timer, doc)
    type(phase_timer), intent(in) :: timer  !< timer
    type(json_document), intent(in) :: doc  !< results document
    type(phase_statistics) :: s
    character(len=:), allocatable :: base
    integer :: k
    call json_set(doc, "/phase_order", timer%names)
    do k = 1, size(timer%names)
      base = "/phases/" // trim(timer%names(k))
      s = timer_statistics(timer, k)
      call json_set(doc, base // "/seconds", timer%seconds(timer%warmup + 1:, k))
      call json_set(doc, base // "/warmup_seconds", timer%seconds(1:timer%warmup, k))
      call json_set(doc, base // "/statistics/count", s%count)
      call json_set(doc, base // "/statistics/min", s%min)
      call json_set(doc, base // "/statistics/median", s%median)
      call json_set(doc, base // "/statistics/mean", s%mean)
      call json_set(doc, base // "/statistics/stddev", s%stddev)
      call json_set(doc, base // "/statistics/max", s%max)
    end do
    do k = 1, size(timer%once_names)
      call json_set(doc, "/once/" // trim(timer%once_names(k)), timer%once_seconds(k))
    end do
  end subroutine timer_to_json

  !> Sort in ascending order with the C library's qsort.
  subroutine sort(x)
    real(real64), intent(inout), target :: x(:)
    interface
      subroutine qsort(base, count, size, compare) bind(C, name="qsort")
        import :: c_ptr, c_size_t, c_funptr
        type(c_ptr), value :: base
        integer(c_size_t), value :: count, size
        type(c_funptr), value :: compare
      end subroutine qsort
    end interface
    if (size(x) < 2) return
    call qsort(c_loc(x), size(x, kind=c_size_t), c_sizeof(x(1)), c_funloc(compare_reals))
  end subroutine sort

  !> qsort's comparison of two real64 values: -1, 0 or 1.
  integer(c_int) function compare_reals(a, b) bind(C)
    real(c_double), intent(in) :: a, b
    compare_reals = merge(-1_c_int, merge(1_c_int, 0_c_int, a > b), a < b)
  end function compare_reals

end module bench_timer
