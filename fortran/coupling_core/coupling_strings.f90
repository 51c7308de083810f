!> coupling_strings -- conversions between Fortran and C strings.
module coupling_strings
  use, intrinsic :: iso_c_binding, only: c_char, c_null_char, c_ptr, c_associated, c_f_pointer, &
                                         c_size_t
  use, intrinsic :: iso_fortran_env, only: int32, int64
  implicit none
  private

  public :: string_to_c, string_from_c, string_from_integer

  !> string_from_integer(i): the decimal digits of an int32 or int64 ("-12").
  interface string_from_integer
    module procedure from_int32, from_int64
  end interface string_from_integer

  interface
    pure function c_strlen(s) bind(C, name="strlen") result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value, intent(in) :: s
      integer(c_size_t) :: n
    end function c_strlen
  end interface

contains

  !> NUL-terminated copy of a Fortran string, for passing to C.
  !> Trailing blanks are kept: trim at the call site if they are padding.
  pure function string_to_c(text) result(c_text)
    character(len=*), intent(in) :: text                !< Fortran string
    character(kind=c_char, len=len(text) + 1) :: c_text  !< text followed by NUL
    c_text = text // c_null_char
  end function string_to_c

  !> Fortran copy of a NUL-terminated C string; "" for a null pointer.
  function string_from_c(c_text) result(text)
    type(c_ptr), intent(in) :: c_text            !< address of a NUL-terminated string
    character(len=:), allocatable :: text         !< copy, without the NUL
    character(kind=c_char, len=1), pointer :: chars(:)
    integer :: n, i
    if (.not. c_associated(c_text)) then
      text = ""
      return
    end if
    n = int(c_strlen(c_text))
    call c_f_pointer(c_text, chars, [n])
    allocate (character(len=n) :: text)
    do i = 1, n
      text(i:i) = chars(i)
    end do
  end function string_from_c

  pure function from_int32(i) result(text)
    integer(int32), intent(in) :: i               !< value
    character(len=:), allocatable :: text         !< its decimal digits
    text = from_int64(int(i, int64))
  end function from_int32

  pure function from_int64(i) result(text)
    integer(int64), intent(in) :: i               !< value
    character(len=:), allocatable :: text         !< its decimal digits
    character(len=24) :: buffer
    write (buffer, '(i0)') i
    text = trim(buffer)
  end function from_int64

end module coupling_strings
