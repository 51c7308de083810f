!> coupling_status -- how the coupling layers report failure.
!>
!> Every public procedure of the coupling layers (torch_*, py_*) takes the
!> optional arguments `stat` and `errmsg`, as Fortran's own ALLOCATE does:
!>   * `stat` present: it is set to 0 on success or to a non-zero code on
!>     failure, `errmsg` (if present) receives the one-line message, and the
!>     caller decides what to do;
!>   * `stat` absent: a failure prints the one-line message on standard error
!>     and stops the program with exit code 1.
!> On success `errmsg` is left unchanged (as for ALLOCATE).
!> In an MPI program, pass `stat` and call MPI_Abort yourself: a plain STOP on
!> one rank can leave the others waiting.
module coupling_status
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none
  private

  public :: status_clear, status_fail

  !> Exit code used when a failure stops the program.
  integer, parameter, public :: status_exit_code = 1

contains

  !> Mark success: set `stat` to 0 when present.
  subroutine status_clear(stat)
    integer, intent(out), optional :: stat  !< status to reset
    if (present(stat)) stat = 0
  end subroutine status_clear

  !> Report a failure of procedure `where` with text `message`.
  !> Returns when `stat` is present (stat = code, default 1); otherwise writes
  !> "where: message" to standard error and stops with exit code 1.
  subroutine status_fail(where, message, stat, errmsg, code)
    character(len=*), intent(in) :: where            !< failing procedure, e.g. "torch_model_load"
    character(len=*), intent(in) :: message          !< what failed and how to fix it, one line
    integer, intent(out), optional :: stat           !< caller's status argument
    character(len=*), intent(inout), optional :: errmsg  !< caller's message argument
    integer, intent(in), optional :: code            !< non-zero status to return (default 1)
    if (present(stat)) then
      stat = 1
      if (present(code)) then
        if (code /= 0) stat = code
      end if
      if (present(errmsg)) errmsg = where // ": " // message
      return
    end if
    write (error_unit, '(a)') where // ": " // message
    flush (error_unit)
    stop status_exit_code, quiet=.true.
  end subroutine status_fail

end module coupling_status
