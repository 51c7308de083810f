!> test_support -- what the Fortran test programs share.
module test_support
  use, intrinsic :: iso_fortran_env, only: int64
  implicit none
  private

  public :: resident_kb

contains

  !> Resident memory (VmRSS) of this process in kB, from /proc/self/status; -1 if unknown.
  integer(int64) function resident_kb()
    character(len=256) :: line
    integer :: unit, ios
    resident_kb = -1
    open (newunit=unit, file="/proc/self/status", action="read", iostat=ios)
    if (ios /= 0) return
    do
      read (unit, '(a)', iostat=ios) line
      if (ios /= 0) exit
      if (line(1:6) == "VmRSS:") read (line(7:), *) resident_kb
    end do
    close (unit)
  end function resident_kb

end module test_support
