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
!> Every stop of the project's programs goes through status_stop, so that an
!> MPI program can install a handler (status_set_stop_handler) that ends every
!> rank (MPI_Abort) instead of leaving the others waiting, and a prefix
!> (status_set_message_prefix, e.g. "rank 1 of 4: ") that says which rank failed.
module coupling_status
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none
  private

  public :: status_clear, status_fail, status_stop, status_set_stop_handler
  public :: status_set_message_prefix, status_message_prefix, status_stop_handler

  !> Exit code used when a failure stops the program.
  integer, parameter, public :: status_exit_code = 1

  abstract interface
    !> Called by status_stop before the program stops with exit code `code`
    !> (0: normal end, e.g. after --help); it may end the program itself.
    subroutine status_stop_handler(code)
      integer, intent(in) :: code  !< exit code about to be used
    end subroutine status_stop_handler
  end interface

  procedure(status_stop_handler), pointer, save :: stop_handler => null()
  character(len=:), allocatable, save :: message_prefix

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
    write (error_unit, '(a)') status_message_prefix() // where // ": " // message
    flush (error_unit)
    call status_stop(status_exit_code)
  end subroutine status_fail

  !> Stop the program with exit code `code` (quietly), after the handler of
  !> status_set_stop_handler when one is installed.
  subroutine status_stop(code)
    integer, intent(in) :: code  !< exit code: 0 success, 1 failure, 2 usage error
    flush (error_unit)
    if (associated(stop_handler)) call stop_handler(code)
    stop code, quiet=.true.
  end subroutine status_stop

  !> Install `handler` (null: none), called by status_stop before every stop.
  subroutine status_set_stop_handler(handler)
    procedure(status_stop_handler), pointer, intent(in) :: handler  !< e.g. one calling MPI_Abort
    stop_handler => handler
  end subroutine status_set_stop_handler

  !> Start every message written before a stop with `prefix` (e.g. "rank 1 of 4: ").
  subroutine status_set_message_prefix(prefix)
    character(len=*), intent(in) :: prefix  !< text put before the messages; "" for none
    message_prefix = prefix
  end subroutine status_set_message_prefix

  !> The prefix of status_set_message_prefix ("" when none was set).
  function status_message_prefix() result(prefix)
    character(len=:), allocatable :: prefix  !< current prefix
    if (allocated(message_prefix)) then
      prefix = message_prefix
    else
      prefix = ""
    end if
  end function status_message_prefix

end module coupling_status
