!> py_c_bindings -- Fortran interfaces to the C ABI in py_c_api.h.
!> Internal to the embedded-Python coupling layer: call sites use py_embedding.
module py_c_bindings
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_double, c_ptr, c_char
  use coupling_status, only: status_fail
  use coupling_strings, only: string_from_c
  implicit none
  private

  public :: py_c_initialize, py_c_finalize, py_c_is_initialized, py_c_path_append, py_c_import
  public :: py_c_getattr, py_c_call, py_c_object_from_int, py_c_object_from_real
  public :: py_c_object_from_string, py_c_object_from_bool, py_c_array_from
  public :: py_c_object_to_int, py_c_object_to_real, py_c_object_to_string, py_c_object_destroy
  public :: py_c_version, py_fail_from_c

  interface
    function py_c_initialize(python_executable) result(rc) bind(C, name="py_c_initialize")
      import :: c_int, c_char
      character(kind=c_char), intent(in) :: python_executable(*)
      integer(c_int) :: rc
    end function py_c_initialize
    function py_c_finalize() result(rc) bind(C, name="py_c_finalize")
      import :: c_int
      integer(c_int) :: rc
    end function py_c_finalize
    function py_c_is_initialized() result(flag) bind(C, name="py_c_is_initialized")
      import :: c_int
      integer(c_int) :: flag
    end function py_c_is_initialized
    function py_c_path_append(directory) result(rc) bind(C, name="py_c_path_append")
      import :: c_int, c_char
      character(kind=c_char), intent(in) :: directory(*)
      integer(c_int) :: rc
    end function py_c_path_append
    function py_c_import(name, module) result(rc) bind(C, name="py_c_import")
      import :: c_int, c_char, c_ptr
      character(kind=c_char), intent(in) :: name(*)
      type(c_ptr), intent(out) :: module
      integer(c_int) :: rc
    end function py_c_import
    function py_c_getattr(object, name, value) result(rc) bind(C, name="py_c_getattr")
      import :: c_int, c_char, c_ptr
      type(c_ptr), value, intent(in) :: object
      character(kind=c_char), intent(in) :: name(*)
      type(c_ptr), intent(out) :: value
      integer(c_int) :: rc
    end function py_c_getattr
    function py_c_call(object, name, nargs, args, result) result(rc) bind(C, name="py_c_call")
      import :: c_int, c_char, c_ptr
      type(c_ptr), value, intent(in) :: object
      character(kind=c_char), intent(in) :: name(*)
      integer(c_int), value, intent(in) :: nargs
      type(c_ptr), intent(in) :: args(*)
      type(c_ptr), intent(out) :: result
      integer(c_int) :: rc
    end function py_c_call
    function py_c_object_from_int(value, object) result(rc) bind(C, name="py_c_object_from_int")
      import :: c_int, c_int64_t, c_ptr
      integer(c_int64_t), value, intent(in) :: value
      type(c_ptr), intent(out) :: object
      integer(c_int) :: rc
    end function py_c_object_from_int
    function py_c_object_from_real(value, object) result(rc) bind(C, name="py_c_object_from_real")
      import :: c_int, c_double, c_ptr
      real(c_double), value, intent(in) :: value
      type(c_ptr), intent(out) :: object
      integer(c_int) :: rc
    end function py_c_object_from_real
    function py_c_object_from_string(value, object) result(rc) bind(C, name="py_c_object_from_string")
      import :: c_int, c_char, c_ptr
      character(kind=c_char), intent(in) :: value(*)
      type(c_ptr), intent(out) :: object
      integer(c_int) :: rc
    end function py_c_object_from_string
    function py_c_object_from_bool(value, object) result(rc) bind(C, name="py_c_object_from_bool")
      import :: c_int, c_ptr
      integer(c_int), value, intent(in) :: value
      type(c_ptr), intent(out) :: object
      integer(c_int) :: rc
    end function py_c_object_from_bool
    function py_c_array_from(array, object) result(rc) bind(C, name="py_c_array_from")
      import :: c_int, c_ptr
      type(*), dimension(..), intent(in) :: array
      type(c_ptr), intent(out) :: object
      integer(c_int) :: rc
    end function py_c_array_from
    function py_c_object_to_int(object, value) result(rc) bind(C, name="py_c_object_to_int")
      import :: c_int, c_int64_t, c_ptr
      type(c_ptr), value, intent(in) :: object
      integer(c_int64_t), intent(out) :: value
      integer(c_int) :: rc
    end function py_c_object_to_int
    function py_c_object_to_real(object, value) result(rc) bind(C, name="py_c_object_to_real")
      import :: c_int, c_double, c_ptr
      type(c_ptr), value, intent(in) :: object
      real(c_double), intent(out) :: value
      integer(c_int) :: rc
    end function py_c_object_to_real
    function py_c_object_to_string(object, text) result(rc) bind(C, name="py_c_object_to_string")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: object
      type(c_ptr), intent(out) :: text
      integer(c_int) :: rc
    end function py_c_object_to_string
    function py_c_object_destroy(object) result(rc) bind(C, name="py_c_object_destroy")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: object
      integer(c_int) :: rc
    end function py_c_object_destroy
    function py_c_version() result(version) bind(C, name="py_c_version")
      import :: c_ptr
      type(c_ptr) :: version
    end function py_c_version
    function py_c_last_error() result(message) bind(C, name="py_c_last_error")
      import :: c_ptr
      type(c_ptr) :: message
    end function py_c_last_error
  end interface

contains

  !> Report the shim's last error (first line: what failed; then any Python
  !> traceback) as a failure of procedure `where`.
  subroutine py_fail_from_c(where, stat, errmsg)
    character(len=*), intent(in) :: where                !< public procedure that failed
    integer, intent(out), optional :: stat               !< caller's status argument
    character(len=*), intent(inout), optional :: errmsg  !< caller's message argument
    call status_fail(where, string_from_c(py_c_last_error()), stat, errmsg)
  end subroutine py_fail_from_c

end module py_c_bindings
