!> cgdrag_phases -- the phases and work arrays of the phased cgdrag drivers
!> (benchmarker_cgdrag_torch, benchmarker_cgdrag_forpy), so both time exactly
!> the same array work around their coupling calls.
!>
!> Phases of one step (docs/cgdrag.md):
!>   array allocation    allocate the outputs (and, with --explicit-reshape, the
!>                       (ncol, 40) work arrays): only with --alloc-in-loop,
!>                       otherwise done once before the loop;
!>   reshape             --explicit-reshape: copy winds, latitude and pressure
!>                       into (ncol, ...) arrays before the forward and the drag
!>                       back into (lon, lat, lev) after it; empty otherwise;
!>   tensor creation     wrap the arrays for the model (no copy);
!>   forward             two forwards, one per wind component;
!>   tensor deletion     release the wrappers;
!>   array deallocation  free what "array allocation" allocated (--alloc-in-loop);
!>   loop                the whole step.
module cgdrag_phases
  use, intrinsic :: iso_fortran_env, only: real64
  use cgdrag_case, only: dp, nlev, nlon, cgdrag_options, cgdrag_data, cgdrag_poison, cgdrag_compare, &
                         cgdrag_write_drag
  use bench_teams, only: bench_team
  use bench_timer, only: phase_timer, timer_start, timer_stop, timer_busy_wait
  use bench_check, only: check_log, check_record
  use cgdrag_columns, only: cgdrag_pack, cgdrag_unpack
  implicit none
  private

  public :: cgdrag_work, cgdrag_allocate, cgdrag_deallocate, cgdrag_reshape_in, cgdrag_reshape_out
  public :: cgdrag_step_start, cgdrag_step_finish, cgdrag_output

  character(len=18), parameter, public :: cgdrag_phase_names(7) = [character(len=18) :: &
    "array allocation", "reshape", "tensor creation", "forward", "tensor deletion", &
    "array deallocation", "loop"]
  integer, parameter, public :: p_alloc = 1, p_reshape = 2, p_create = 3, p_forward = 4, &
                                p_delete = 5, p_dealloc = 6, p_loop = 7

  !> Arrays of one step: the 3-D outputs and, for --explicit-reshape, (ncol, ...) copies.
  type :: cgdrag_work
    real(dp), allocatable :: gwfcng_x(:, :, :), gwfcng_y(:, :, :)  !< drag (lon, lat, lev)
    real(dp), allocatable :: u_col(:, :), v_col(:, :)              !< winds (ncol, nlev)
    real(dp), allocatable :: lat_col(:, :), psfc_col(:, :)         !< (ncol, 1)
    real(dp), allocatable :: x_col(:, :), y_col(:, :)              !< drag (ncol, nlev)
  end type cgdrag_work

contains

  !> Allocate the step's arrays for a (nlon_used, nlat_used) grid.
  subroutine cgdrag_allocate(work, options, nlon_used, nlat_used)
    type(cgdrag_work), intent(inout) :: work
    type(cgdrag_options), intent(in) :: options
    integer, intent(in) :: nlon_used, nlat_used
    integer :: ncol
    ncol = nlon_used * nlat_used
    allocate (work%gwfcng_x(nlon_used, nlat_used, nlev), work%gwfcng_y(nlon_used, nlat_used, nlev))
    if (options%explicit_reshape) then
      allocate (work%u_col(ncol, nlev), work%v_col(ncol, nlev), work%x_col(ncol, nlev), &
                work%y_col(ncol, nlev), work%lat_col(ncol, 1), work%psfc_col(ncol, 1))
    end if
  end subroutine cgdrag_allocate

  !> Free what cgdrag_allocate allocated.
  subroutine cgdrag_deallocate(work)
    type(cgdrag_work), intent(inout) :: work
    if (allocated(work%gwfcng_x)) deallocate (work%gwfcng_x, work%gwfcng_y)
    if (allocated(work%u_col)) deallocate (work%u_col, work%v_col, work%x_col, work%y_col, &
                                           work%lat_col, work%psfc_col)
  end subroutine cgdrag_deallocate

  !> --explicit-reshape, before the forward: copy the inputs into column arrays.
  subroutine cgdrag_reshape_in(work, uuu, vvv, lat, psfc)
    type(cgdrag_work), intent(inout) :: work
    real(dp), intent(in) :: uuu(:, :, :), vvv(:, :, :), lat(:, :), psfc(:, :)
    call cgdrag_pack(uuu, work%u_col)
    call cgdrag_pack(vvv, work%v_col)
    call cgdrag_pack(lat, work%lat_col)
    call cgdrag_pack(psfc, work%psfc_col)
  end subroutine cgdrag_reshape_in

  !> --explicit-reshape, after the forward: copy the drag back into (lon, lat, lev).
  subroutine cgdrag_reshape_out(work)
    type(cgdrag_work), intent(inout) :: work
    call cgdrag_unpack(work%x_col, work%gwfcng_x)
    call cgdrag_unpack(work%y_col, work%gwfcng_y)
  end subroutine cgdrag_reshape_out

  !> Start step `it`: start the loop timer; array allocation (with
  !> --alloc-in-loop); poison the outputs (not timed); the reshape in (with
  !> --explicit-reshape). Tensor creation comes next, in the driver.
  subroutine cgdrag_step_start(timer, it, work, options, data)
    type(phase_timer), intent(inout) :: timer     !< the driver's timer (cgdrag_phase_names)
    integer, intent(in) :: it                     !< iteration, warm-up included
    type(cgdrag_work), intent(inout) :: work      !< the step's arrays
    type(cgdrag_options), intent(in) :: options   !< cgdrag options
    type(cgdrag_data), intent(in) :: data         !< inputs and references
    call timer_start(timer, p_loop)
    call timer_start(timer, p_alloc)
    if (options%alloc_in_loop) call cgdrag_allocate(work, options, nlon, options%columns / nlon)
    call timer_stop(timer, p_alloc, it)
    call cgdrag_poison(work%gwfcng_x, work%gwfcng_y)  ! not timed: the check's safety net
    call timer_start(timer, p_reshape)
    if (options%explicit_reshape) call cgdrag_reshape_in(work, data%uuu, data%vvv, data%lat, data%psfc)
    call timer_stop(timer, p_reshape, it)
  end subroutine cgdrag_step_start

  !> Finish step `it` after tensor deletion: the reshape out (with
  !> --explicit-reshape, added to the reshape phase); the injected cost
  !> (--inject-ns, self-test only, in the loop phase alone); stop the loop timer;
  !> check both drag components (not timed); array deallocation (with
  !> --alloc-in-loop, added to the loop time).
  subroutine cgdrag_step_finish(timer, it, work, options, data, check, quiet, inject_seconds)
    type(phase_timer), intent(inout) :: timer     !< the driver's timer (cgdrag_phase_names)
    integer, intent(in) :: it                     !< iteration, warm-up included
    type(cgdrag_work), intent(inout) :: work      !< the step's arrays
    type(cgdrag_options), intent(in) :: options   !< cgdrag options
    type(cgdrag_data), intent(in) :: data         !< inputs and references
    type(check_log), intent(inout) :: check       !< correctness log
    logical, intent(in) :: quiet                  !< print only failed checks
    real(real64), intent(in) :: inject_seconds   !< known cost added to the step (self-test), s
    call timer_start(timer, p_reshape)
    if (options%explicit_reshape) call cgdrag_reshape_out(work)
    call timer_stop(timer, p_reshape, it, add=.true.)
    call timer_busy_wait(inject_seconds)
    call timer_stop(timer, p_loop, it)  ! the check below is not part of the step
    call cgdrag_compare(check, it, data, work%gwfcng_x, work%gwfcng_y)
    call check_record(check, it, timer%seconds(it, p_loop), quiet)
    call timer_start(timer, p_loop)
    call timer_start(timer, p_dealloc)
    if (options%alloc_in_loop) call cgdrag_deallocate(work)
    call timer_stop(timer, p_dealloc, it)
    call timer_stop(timer, p_loop, it, add=.true.)
  end subroutine cgdrag_step_finish

  !> --output (after the loop): assemble the last step's drag of every process
  !> on the writing one (team%gather_rows) and write it there (cgdrag_write_drag).
  subroutine cgdrag_output(team, options, work)
    class(bench_team), intent(in) :: team        !< the processes of the run
    type(cgdrag_options), intent(in) :: options  !< cgdrag options (output_path)
    type(cgdrag_work), intent(in) :: work        !< the step's arrays, last step's drag
    real(dp), allocatable :: gwfu(:, :, :), gwfv(:, :, :)
    if (len(options%output_path) == 0) return
    call team%gather_rows(work%gwfcng_x, gwfu)
    call team%gather_rows(work%gwfcng_y, gwfv)
    if (team%writes()) call cgdrag_write_drag(options%output_path, gwfu, gwfv)
  end subroutine cgdrag_output

end module cgdrag_phases
