!> test_npy -- bench_npy driven from the tests (python/tests/test_npy.py), which
!> write .npy files with NumPy and compare what this program reads or writes.
!>
!> usage: test_npy block <in.npy> <out.npy> <rank> <full(1..rank)> <start(1..rank)> <count(1..rank)>
!>          read the block (start 1-based) with npy_read, write it with npy_write
!>        test_npy shape|int64|text <file>
!>          print "shape <extents>", "int64 <value>" or "text [<text>]"
!> Errors: the module's message on standard error, exit 1.
program test_npy
  use, intrinsic :: iso_fortran_env, only: real64, int64, error_unit, output_unit
  use bench_npy, only: npy_shape, npy_read, npy_read_int64, npy_read_text, npy_write
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit
  character(len=4096) :: what, path, out
  character(len=1024) :: message
  real(real64), allocatable :: block1(:), block2(:, :), block3(:, :, :)
  integer, allocatable :: extents(:), full(:), start(:), counts(:)
  character(len=:), allocatable :: text
  integer(int64) :: value
  integer :: stat, rank, d

  call get_command_argument(1, what)
  call get_command_argument(2, path)
  select case (trim(what))
  case ("shape")
    call npy_shape(trim(path), extents, stat, message)
    call check()
    write (output_unit, '(a, *(1x, i0))') "shape", extents
  case ("int64")
    call npy_read_int64(trim(path), value, stat, message)
    call check()
    write (output_unit, '(a, 1x, i0)') "int64", value
  case ("text")
    call npy_read_text(trim(path), text, stat, message)
    call check()
    write (output_unit, '(a)') "text [" // text // "]"
  case ("block")
    call get_command_argument(3, out)
    rank = integer_argument(4)
    allocate (full(rank), start(rank), counts(rank))
    do d = 1, rank
      full(d) = integer_argument(4 + d)
      start(d) = integer_argument(4 + rank + d)
      counts(d) = integer_argument(4 + 2 * rank + d)
    end do
    select case (rank)
    case (1)
      allocate (block1(counts(1)))
      call npy_read(trim(path), block1, full, start, stat, message)
      call check()
      call npy_write(trim(out), block1, stat, message)
    case (2)
      allocate (block2(counts(1), counts(2)))
      call npy_read(trim(path), block2, full, start, stat, message)
      call check()
      call npy_write(trim(out), block2, stat, message)
    case default
      allocate (block3(counts(1), counts(2), counts(3)))
      call npy_read(trim(path), block3, full, start, stat, message)
      call check()
      call npy_write(trim(out), block3, stat, message)
    end select
    call check()
  case default
    write (error_unit, '(a)') "usage: test_npy block|shape|int64|text ..."
    error stop 2
  end select

contains

  subroutine check()
    if (stat /= 0) then
      write (error_unit, '(a)') trim(message)
      stop 1, quiet=.true.
    end if
  end subroutine check

  integer function integer_argument(position)
    integer, intent(in) :: position
    character(len=32) :: word
    call get_command_argument(position, word)
    read (word, *) integer_argument
  end function integer_argument

end program test_npy
