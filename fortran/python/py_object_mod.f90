!> py_object_mod -- Python objects from Fortran: import, attributes, calls,
!> conversions, and NumPy arrays that wrap Fortran arrays without copying.
!>
!> A py_object holds one strong reference; release it with py_object_destroy
!> (nothing is released automatically). Every procedure takes optional `stat`
!> and `errmsg` (see coupling_status). For a Python exception, `errmsg` gets a
!> first line "py_call: calling 'compute' of module 'm' failed: ValueError: ..."
!> followed by the traceback, so a short `errmsg` still keeps the cause.
module py_object_mod
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_int, c_int64_t, &
                                         c_double, c_float, c_int32_t
  use coupling_status, only: status_clear, status_fail
  use coupling_strings, only: string_to_c, string_from_c
  use py_c_bindings, only: py_c_import, py_c_getattr, py_c_call, py_c_object_from_int, &
                           py_c_object_from_real, py_c_object_from_string, py_c_object_from_bool, &
                           py_c_array_from, py_c_object_to_int, py_c_object_to_real, &
                           py_c_object_to_string, py_c_object_destroy, py_fail_from_c
  implicit none
  private

  public :: py_object, py_import, py_getattr, py_call, py_object_from, py_array_from, py_object_to
  public :: py_object_destroy

  !> Handle to a Python object (one strong reference).
  type :: py_object
    type(c_ptr) :: handle = c_null_ptr  !< PyObject*, null when empty
  end type py_object

  !> py_object_from(object, value): a new Python int (from int32/int64), float
  !> (from real32/real64), str (from a character string, trailing blanks kept)
  !> or bool (from logical).
  interface py_object_from
    module procedure from_int32, from_int64, from_real32, from_real64, from_string, from_logical
  end interface py_object_from

  !> py_array_from(object, array): a NumPy array over a real32, real64, int32
  !> or int64 Fortran array of any rank (tested 1 to 4), WITHOUT copying: same
  !> address, shape in Fortran order, Fortran (column-major) strides, writeable,
  !> so element [i-1, j-1] in Python is a(i, j) and writes in Python are seen in
  !> Fortran. torch.from_numpy on it is zero-copy too. The array needs the
  !> TARGET attribute and must outlive every Python reference to the view.
  interface py_array_from
    module procedure array_from_real32, array_from_real64, array_from_int32, array_from_int64
  end interface py_array_from

  !> py_object_to(object, value): convert a Python int to int32/int64, a number
  !> to real64, or any object to its str() as a character(:), allocatable.
  interface py_object_to
    module procedure to_int32, to_int64, to_real64, to_string
  end interface py_object_to

contains

  !> import `name` (a module on sys.path, see py_path_append).
  !> Errors: ModuleNotFoundError, or any exception raised while importing (with traceback).
  subroutine py_import(module, name, stat, errmsg)
    type(py_object), intent(out) :: module               !< the module
    character(len=*), intent(in) :: name                 !< dotted module name (trailing blanks ignored)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_import(string_to_c(trim(name)), module%handle) /= 0) &
      call py_fail_from_c("py_import", stat, errmsg)
  end subroutine py_import

  !> value = getattr(object, name). Errors: AttributeError.
  subroutine py_getattr(object, name, value, stat, errmsg)
    type(py_object), intent(in) :: object                !< object or module
    character(len=*), intent(in) :: name                 !< attribute name
    type(py_object), intent(out) :: value                !< the attribute
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_getattr(object%handle, string_to_c(trim(name)), value%handle) /= 0) &
      call py_fail_from_c("py_getattr", stat, errmsg)
  end subroutine py_getattr

  !> result = object.name(*args): a module's function or an object's method,
  !> with positional arguments. Without `result` the return value is released.
  !> Errors: a missing attribute, a wrong argument count (TypeError), any
  !> exception raised by the call (with traceback), a null argument, more than
  !> 16 arguments.
  subroutine py_call(object, name, args, result, stat, errmsg)
    type(py_object), intent(in) :: object                !< module or object
    character(len=*), intent(in) :: name                 !< function or method name
    type(py_object), intent(in), optional :: args(:)     !< positional arguments, in order
    type(py_object), intent(out), optional :: result     !< return value (new reference)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer, parameter :: max_args = 16
    type(c_ptr) :: handles(max_args), value
    integer :: i, n
    call status_clear(stat)
    n = 0
    if (present(args)) n = size(args)
    if (n > max_args) then
      call status_fail("py_call", "more than 16 arguments: pass a tuple or list object instead", &
                       stat, errmsg)
      return
    end if
    do i = 1, n
      handles(i) = args(i)%handle
    end do
    if (py_c_call(object%handle, string_to_c(trim(name)), int(n, c_int), handles, value) /= 0) then
      call py_fail_from_c("py_call", stat, errmsg)
      return
    end if
    if (present(result)) then
      result%handle = value
    else if (py_c_object_destroy(value) /= 0) then
      call py_fail_from_c("py_call", stat, errmsg)
    end if
  end subroutine py_call

  !> Release the object's reference; the handle becomes empty. Destroying an
  !> empty object does nothing.
  subroutine py_object_destroy(object, stat, errmsg)
    type(py_object), intent(inout) :: object             !< object to release
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (.not. c_associated(object%handle)) return
    if (py_c_object_destroy(object%handle) /= 0) then
      call py_fail_from_c("py_object_destroy", stat, errmsg)
      return
    end if
    object%handle = c_null_ptr
  end subroutine py_object_destroy

  subroutine from_int32(object, value, stat, errmsg)
    type(py_object), intent(out) :: object               !< new Python int
    integer(c_int32_t), intent(in) :: value              !< value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_object_from_int(int(value, c_int64_t), object%handle) /= 0) &
      call py_fail_from_c("py_object_from", stat, errmsg)
  end subroutine from_int32

  subroutine from_int64(object, value, stat, errmsg)
    type(py_object), intent(out) :: object               !< new Python int
    integer(c_int64_t), intent(in) :: value              !< value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_object_from_int(value, object%handle) /= 0) call py_fail_from_c("py_object_from", stat, errmsg)
  end subroutine from_int64

  subroutine from_real32(object, value, stat, errmsg)
    type(py_object), intent(out) :: object               !< new Python float
    real(c_float), intent(in) :: value                   !< value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_object_from_real(real(value, c_double), object%handle) /= 0) &
      call py_fail_from_c("py_object_from", stat, errmsg)
  end subroutine from_real32

  subroutine from_real64(object, value, stat, errmsg)
    type(py_object), intent(out) :: object               !< new Python float
    real(c_double), intent(in) :: value                  !< value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_object_from_real(value, object%handle) /= 0) call py_fail_from_c("py_object_from", stat, errmsg)
  end subroutine from_real64

  subroutine from_string(object, value, stat, errmsg)
    type(py_object), intent(out) :: object               !< new Python str
    character(len=*), intent(in) :: value                !< UTF-8 text (trailing blanks kept)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_object_from_string(string_to_c(value), object%handle) /= 0) &
      call py_fail_from_c("py_object_from", stat, errmsg)
  end subroutine from_string

  subroutine from_logical(object, value, stat, errmsg)
    type(py_object), intent(out) :: object               !< new Python bool
    logical, intent(in) :: value                         !< value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_object_from_bool(merge(1_c_int, 0_c_int, value), object%handle) /= 0) &
      call py_fail_from_c("py_object_from", stat, errmsg)
  end subroutine from_logical

  subroutine array_from_real32(object, array, stat, errmsg)
    type(py_object), intent(out) :: object                       !< new NumPy float32 view
    real(c_float), dimension(..), intent(in), target :: array   !< array to wrap (not copied)
    integer, intent(out), optional :: stat                       !< 0 on success
    character(len=*), intent(inout), optional :: errmsg          !< message on failure
    call status_clear(stat)
    if (py_c_array_from(array, object%handle) /= 0) call py_fail_from_c("py_array_from", stat, errmsg)
  end subroutine array_from_real32

  subroutine array_from_real64(object, array, stat, errmsg)
    type(py_object), intent(out) :: object                       !< new NumPy float64 view
    real(c_double), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat                       !< 0 on success
    character(len=*), intent(inout), optional :: errmsg          !< message on failure
    call status_clear(stat)
    if (py_c_array_from(array, object%handle) /= 0) call py_fail_from_c("py_array_from", stat, errmsg)
  end subroutine array_from_real64

  subroutine array_from_int32(object, array, stat, errmsg)
    type(py_object), intent(out) :: object                           !< new NumPy int32 view
    integer(c_int32_t), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat                           !< 0 on success
    character(len=*), intent(inout), optional :: errmsg              !< message on failure
    call status_clear(stat)
    if (py_c_array_from(array, object%handle) /= 0) call py_fail_from_c("py_array_from", stat, errmsg)
  end subroutine array_from_int32

  subroutine array_from_int64(object, array, stat, errmsg)
    type(py_object), intent(out) :: object                           !< new NumPy int64 view
    integer(c_int64_t), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat                           !< 0 on success
    character(len=*), intent(inout), optional :: errmsg              !< message on failure
    call status_clear(stat)
    if (py_c_array_from(array, object%handle) /= 0) call py_fail_from_c("py_array_from", stat, errmsg)
  end subroutine array_from_int64

  subroutine to_int32(object, value, stat, errmsg)
    type(py_object), intent(in) :: object                !< a Python int
    integer(c_int32_t), intent(out) :: value             !< its value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int64_t) :: wide
    call to_int64(object, wide, stat, errmsg)
    value = 0
    if (present(stat)) then
      if (stat /= 0) return
    end if
    if (wide < -huge(value) - 1_c_int64_t .or. wide > huge(value)) then
      call status_fail("py_object_to", "Python int out of the int32 range", stat, errmsg)
      return
    end if
    value = int(wide, c_int32_t)
  end subroutine to_int32

  subroutine to_int64(object, value, stat, errmsg)
    type(py_object), intent(in) :: object                !< a Python int
    integer(c_int64_t), intent(out) :: value             !< its value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    value = 0
    if (py_c_object_to_int(object%handle, value) /= 0) call py_fail_from_c("py_object_to", stat, errmsg)
  end subroutine to_int64

  subroutine to_real64(object, value, stat, errmsg)
    type(py_object), intent(in) :: object                !< a Python number
    real(c_double), intent(out) :: value                 !< its value
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    value = 0
    if (py_c_object_to_real(object%handle, value) /= 0) call py_fail_from_c("py_object_to", stat, errmsg)
  end subroutine to_real64

  subroutine to_string(object, value, stat, errmsg)
    type(py_object), intent(in) :: object                !< any object
    character(len=:), allocatable, intent(out) :: value  !< str(object)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    type(c_ptr) :: text
    call status_clear(stat)
    value = ""
    if (py_c_object_to_string(object%handle, text) /= 0) then
      call py_fail_from_c("py_object_to", stat, errmsg)
      return
    end if
    value = string_from_c(text)
  end subroutine to_string

end module py_object_mod
