!> test_support -- what the Fortran test programs share: the process state the
!> soak tests sample (docs/reliability.md, "Soak").
module test_support
  use, intrinsic :: iso_fortran_env, only: int64
  use, intrinsic :: iso_c_binding, only: c_ptr, c_int, c_char, c_null_char, c_associated
  implicit none
  private

  public :: resident_kb, thread_count, open_descriptors, process_sample

  interface
    type(c_ptr) function c_opendir(name) bind(c, name="opendir")
      import :: c_ptr, c_char
      character(kind=c_char), intent(in) :: name(*)
    end function c_opendir
    type(c_ptr) function c_readdir(directory) bind(c, name="readdir")
      import :: c_ptr
      type(c_ptr), value :: directory
    end function c_readdir
    integer(c_int) function c_closedir(directory) bind(c, name="closedir")
      import :: c_ptr, c_int
      type(c_ptr), value :: directory
    end function c_closedir
  end interface

contains

  !> Resident memory (VmRSS) of this process in kB, from /proc/self/status; -1 if unknown.
  integer(int64) function resident_kb()
    resident_kb = status_field("VmRSS:")
  end function resident_kb

  !> Threads of this process (the "Threads:" line of /proc/self/status); -1 if unknown.
  integer(int64) function thread_count()
    thread_count = status_field("Threads:")
  end function thread_count

  !> File descriptors this process has open: the entries of /proc/self/fd, less
  !> ".", ".." and the one the listing itself holds; -1 if it cannot be listed.
  integer(int64) function open_descriptors()
    type(c_ptr) :: directory
    integer(c_int) :: closed
    open_descriptors = -1
    directory = c_opendir("/proc/self/fd" // c_null_char)
    if (.not. c_associated(directory)) return
    open_descriptors = -3
    do while (c_associated(c_readdir(directory)))
      open_descriptors = open_descriptors + 1
    end do
    closed = c_closedir(directory)
  end function open_descriptors

  !> One soak sample as the tests parse it:
  !> "after <calls>: rss_kb=<kB> fds=<n> threads=<n>", then `extra` (e.g. " blocks=<n>").
  subroutine process_sample(calls, extra)
    integer, intent(in) :: calls                     !< calls made so far
    character(len=*), intent(in), optional :: extra  !< more fields, with a leading blank
    character(len=:), allocatable :: more
    more = ""
    if (present(extra)) more = extra
    print '(a, i0, a, i0, a, i0, a, i0, a)', "after ", calls, ": rss_kb=", resident_kb(), &
      " fds=", open_descriptors(), " threads=", thread_count(), more
  end subroutine process_sample

  !> The integer after `key` on its line of /proc/self/status; -1 if absent.
  integer(int64) function status_field(key)
    character(len=*), intent(in) :: key  !< e.g. "VmRSS:"
    character(len=256) :: line
    integer :: unit, ios
    status_field = -1
    open (newunit=unit, file="/proc/self/status", action="read", iostat=ios)
    if (ios /= 0) return
    do
      read (unit, '(a)', iostat=ios) line
      if (ios /= 0) exit
      if (line(1:len(key)) == key) read (line(len(key) + 1:), *) status_field
    end do
    close (unit)
  end function status_field

end module test_support
