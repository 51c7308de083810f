!> bench_npy -- NumPy .npy files from Fortran (through bench_npy_c.h): the cgdrag
!> inputs that `ftbench inputs` writes and the drivers' --output fields, with no
!> extra C library.
!>
!> Arrays are float64 in Fortran order (numpy.save of a Fortran-ordered array);
!> shapes are Fortran's, first dimension first. Every procedure stops the program
!> with a one-line message naming the file on failure unless `stat` is present
!> (see coupling_status).
module bench_npy
  use, intrinsic :: iso_c_binding, only: c_char, c_int, c_int64_t, c_double, c_ptr
  use, intrinsic :: iso_fortran_env, only: int64, real64
  use coupling_status, only: status_clear, status_fail
  use coupling_strings, only: string_to_c, string_from_c
  implicit none
  private

  public :: npy_shape, npy_read, npy_read_int64, npy_read_text, npy_write

  interface
    function c_shape(path, max_rank, shape, rank) result(rc) bind(C, name="bench_npy_shape")
      import :: c_char, c_int, c_int64_t
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value, intent(in) :: max_rank
      integer(c_int64_t), intent(out) :: shape(*)
      integer(c_int), intent(out) :: rank
      integer(c_int) :: rc
    end function c_shape
    function c_read_real64(path, rank, full, start, count, values) result(rc) &
        bind(C, name="bench_npy_read_real64")
      import :: c_char, c_int, c_int64_t, c_double
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value, intent(in) :: rank
      integer(c_int64_t), intent(in) :: full(*), start(*), count(*)
      real(c_double), intent(out) :: values(*)
      integer(c_int) :: rc
    end function c_read_real64
    function c_read_int64(path, value) result(rc) bind(C, name="bench_npy_read_int64")
      import :: c_char, c_int, c_int64_t
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int64_t), intent(out) :: value
      integer(c_int) :: rc
    end function c_read_int64
    function c_text_length(path, length) result(rc) bind(C, name="bench_npy_text_length")
      import :: c_char, c_int, c_int64_t
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int64_t), intent(out) :: length
      integer(c_int) :: rc
    end function c_text_length
    function c_read_text(path, text, length) result(rc) bind(C, name="bench_npy_read_text")
      import :: c_char, c_int, c_int64_t
      character(kind=c_char), intent(in) :: path(*)
      character(kind=c_char), intent(out) :: text(*)
      integer(c_int64_t), value, intent(in) :: length
      integer(c_int) :: rc
    end function c_read_text
    function c_write_real64(path, rank, shape, values) result(rc) &
        bind(C, name="bench_npy_write_real64")
      import :: c_char, c_int, c_int64_t, c_double
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value, intent(in) :: rank
      integer(c_int64_t), intent(in) :: shape(*)
      real(c_double), intent(in) :: values(*)
      integer(c_int) :: rc
    end function c_write_real64
    function c_last_error() result(message) bind(C, name="bench_npy_last_error")
      import :: c_ptr
      type(c_ptr) :: message
    end function c_last_error
  end interface

contains

  !> The shape of the array in `path` (first dimension first; size 0 for a scalar).
  !> Errors: missing or unreadable file, more than 7 dimensions, C order.
  subroutine npy_shape(path, extents, stat, errmsg)
    character(len=*), intent(in) :: path                 !< .npy file
    integer, allocatable, intent(out) :: extents(:)      !< its shape
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int64_t) :: found(7)
    integer(c_int) :: rank
    call status_clear(stat)
    allocate (extents(0))
    if (c_shape(string_to_c(path), 7_c_int, found, rank) /= 0) then
      call status_fail("npy_shape", string_from_c(c_last_error()), stat, errmsg)
      return
    end if
    extents = int(found(1:rank))
  end subroutine npy_shape

  !> Read into `values` (rank 1 to 3) the block of the float64 array in `path`
  !> that starts at `start` (1-based, default the first element) and has the
  !> shape of `values`; the whole array must have the shape `full`.
  !> Errors: missing or unreadable file, another dtype or shape, C order, a block
  !> outside the array, a truncated file.
  subroutine npy_read(path, values, full, start, stat, errmsg)
    character(len=*), intent(in) :: path                 !< .npy file
    real(real64), intent(out) :: values(..)              !< block read, Fortran order
    integer, intent(in) :: full(:)                       !< the file's whole shape
    integer, intent(in), optional :: start(:)            !< first index per dimension
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int64_t) :: first(3)
    integer(c_int) :: rc
    call status_clear(stat)
    if (size(full) /= rank(values) .or. rank(values) > 3) then
      call status_fail("npy_read", "'" // path // "': `full` must give one extent per " // &
                       "dimension of `values` (rank 1 to 3)", stat, errmsg)
      return
    end if
    first = 0
    if (present(start)) first(1:size(start)) = start - 1
    rc = -1
    select rank (values)
    rank (1)
      rc = c_read_real64(string_to_c(path), 1_c_int, int(full, c_int64_t), first, &
                         int(shape(values), c_int64_t), values)
    rank (2)
      rc = c_read_real64(string_to_c(path), 2_c_int, int(full, c_int64_t), first, &
                         int(shape(values), c_int64_t), values)
    rank (3)
      rc = c_read_real64(string_to_c(path), 3_c_int, int(full, c_int64_t), first, &
                         int(shape(values), c_int64_t), values)
    rank default
      call status_fail("npy_read", "'" // path // "': arrays of rank 1 to 3 only", stat, errmsg)
      return
    end select
    if (rc /= 0) call status_fail("npy_read", string_from_c(c_last_error()), stat, errmsg)
  end subroutine npy_read

  !> Read the int64 scalar in `path`.
  !> Errors: missing file, another dtype, not a scalar.
  subroutine npy_read_int64(path, value, stat, errmsg)
    character(len=*), intent(in) :: path                 !< .npy file
    integer(int64), intent(out) :: value                 !< the scalar
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int64_t) :: read
    call status_clear(stat)
    value = 0
    if (c_read_int64(string_to_c(path), read) /= 0) then
      call status_fail("npy_read_int64", string_from_c(c_last_error()), stat, errmsg)
      return
    end if
    value = read
  end subroutine npy_read_int64

  !> Read the byte-string scalar in `path` (numpy.save of a bytes object), without
  !> numpy's trailing NUL padding.
  !> Errors: missing file, another dtype, not a scalar.
  subroutine npy_read_text(path, text, stat, errmsg)
    character(len=*), intent(in) :: path                 !< .npy file
    character(len=:), allocatable, intent(out) :: text   !< the string
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int64_t) :: length
    call status_clear(stat)
    text = ""
    if (c_text_length(string_to_c(path), length) /= 0) then
      call status_fail("npy_read_text", string_from_c(c_last_error()), stat, errmsg)
      return
    end if
    deallocate (text)
    allocate (character(len=length) :: text)
    if (length > 0) then
      if (c_read_text(string_to_c(path), text, length) /= 0) &
        call status_fail("npy_read_text", string_from_c(c_last_error()), stat, errmsg)
    end if
  end subroutine npy_read_text

  !> Write `values` (rank 1 to 3) to `path` as a float64 .npy in Fortran order,
  !> atomically (temporary file, then rename).
  !> Errors: the directory does not exist or is not writable.
  subroutine npy_write(path, values, stat, errmsg)
    character(len=*), intent(in) :: path                 !< .npy file to write (replaced)
    real(real64), intent(in) :: values(..)               !< array to write
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int) :: rc
    call status_clear(stat)
    rc = -1
    select rank (values)
    rank (1)
      rc = c_write_real64(string_to_c(path), 1_c_int, int(shape(values), c_int64_t), values)
    rank (2)
      rc = c_write_real64(string_to_c(path), 2_c_int, int(shape(values), c_int64_t), values)
    rank (3)
      rc = c_write_real64(string_to_c(path), 3_c_int, int(shape(values), c_int64_t), values)
    rank default
      call status_fail("npy_write", "'" // path // "': arrays of rank 1 to 3 only", stat, errmsg)
      return
    end select
    if (rc /= 0) call status_fail("npy_write", string_from_c(c_last_error()), stat, errmsg)
  end subroutine npy_write

end module bench_npy
