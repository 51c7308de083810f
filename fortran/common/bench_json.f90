!> bench_json -- build and write a JSON results document (nlohmann::json
!> underneath, through bench_json_c.h).
!>
!> Values are placed with JSON pointers (RFC 6901): "/phases/forward/seconds".
!> Every procedure stops the program with a one-line message on failure unless
!> `stat` is present (see coupling_status).
module bench_json
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_int, c_int64_t, &
                                         c_double, c_char
  use, intrinsic :: iso_fortran_env, only: int32, int64, real64
  use coupling_status, only: status_clear, status_fail
  use coupling_strings, only: string_to_c, string_from_c
  implicit none
  private

  public :: json_document, json_create, json_destroy, json_set, json_set_parsed, json_add_environment
  public :: json_write

  !> A JSON object being built; create with json_create, release with json_destroy.
  type :: json_document
    type(c_ptr) :: handle = c_null_ptr  !< opaque nlohmann::ordered_json*
  end type json_document

  !> json_set(doc, pointer, value): set a string, integer (int32/int64), real64
  !> (NaN and infinities become null), logical, or a rank-1 array of real64,
  !> int64 or strings (trailing blanks removed).
  interface json_set
    module procedure set_string, set_int32, set_int64, set_real64, set_logical, &
                     set_real64_array, set_int64_array, set_string_array
  end interface json_set

  interface
    function c_create() result(doc) bind(C, name="bench_json_create")
      import :: c_ptr
      type(c_ptr) :: doc
    end function c_create
    subroutine c_destroy(doc) bind(C, name="bench_json_destroy")
      import :: c_ptr
      type(c_ptr), value, intent(in) :: doc
    end subroutine c_destroy
    function c_set_string(doc, pointer, value) result(rc) bind(C, name="bench_json_set_string")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*), value(*)
      integer(c_int) :: rc
    end function c_set_string
    function c_set_int(doc, pointer, value) result(rc) bind(C, name="bench_json_set_int")
      import :: c_ptr, c_char, c_int, c_int64_t
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*)
      integer(c_int64_t), value, intent(in) :: value
      integer(c_int) :: rc
    end function c_set_int
    function c_set_real(doc, pointer, value) result(rc) bind(C, name="bench_json_set_real")
      import :: c_ptr, c_char, c_int, c_double
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*)
      real(c_double), value, intent(in) :: value
      integer(c_int) :: rc
    end function c_set_real
    function c_set_bool(doc, pointer, value) result(rc) bind(C, name="bench_json_set_bool")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*)
      integer(c_int), value, intent(in) :: value
      integer(c_int) :: rc
    end function c_set_bool
    function c_set_real_array(doc, pointer, values, n) result(rc) bind(C, name="bench_json_set_real_array")
      import :: c_ptr, c_char, c_int, c_double, c_int64_t
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*)
      real(c_double), intent(in) :: values(*)
      integer(c_int64_t), value, intent(in) :: n
      integer(c_int) :: rc
    end function c_set_real_array
    function c_set_int_array(doc, pointer, values, n) result(rc) bind(C, name="bench_json_set_int_array")
      import :: c_ptr, c_char, c_int, c_int64_t
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*)
      integer(c_int64_t), intent(in) :: values(*)
      integer(c_int64_t), value, intent(in) :: n
      integer(c_int) :: rc
    end function c_set_int_array
    function c_set_string_array(doc, pointer, values, n, length) result(rc) &
        bind(C, name="bench_json_set_string_array")
      import :: c_ptr, c_char, c_int, c_int64_t
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*), values(*)
      integer(c_int64_t), value, intent(in) :: n, length
      integer(c_int) :: rc
    end function c_set_string_array
    function c_set_parsed(doc, pointer, text) result(rc) bind(C, name="bench_json_set_parsed")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*), text(*)
      integer(c_int) :: rc
    end function c_set_parsed
    function c_add_environment(doc, pointer) result(rc) bind(C, name="bench_json_add_environment")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: pointer(*)
      integer(c_int) :: rc
    end function c_add_environment
    function c_write(doc, path) result(rc) bind(C, name="bench_json_write")
      import :: c_ptr, c_char, c_int
      type(c_ptr), value, intent(in) :: doc
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int) :: rc
    end function c_write
    function c_last_error() result(message) bind(C, name="bench_json_last_error")
      import :: c_ptr
      type(c_ptr) :: message
    end function c_last_error
  end interface

contains

  !> Start an empty JSON object.
  subroutine json_create(doc)
    type(json_document), intent(out) :: doc  !< new, empty document
    doc%handle = c_create()
    if (.not. c_associated(doc%handle)) call status_fail("json_create", string_from_c(c_last_error()))
  end subroutine json_create

  !> Release a document (nothing happens for one never created).
  subroutine json_destroy(doc)
    type(json_document), intent(inout) :: doc  !< document to release
    if (c_associated(doc%handle)) call c_destroy(doc%handle)
    doc%handle = c_null_ptr
  end subroutine json_destroy

  subroutine check(rc, stat, errmsg)
    integer(c_int), intent(in) :: rc
    integer, intent(out), optional :: stat
    character(len=*), intent(inout), optional :: errmsg
    call status_clear(stat)
    if (rc /= 0) call status_fail("json_set", string_from_c(c_last_error()), stat, errmsg)
  end subroutine check

  subroutine set_string(doc, pointer, value, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer, e.g. "/benchmark"
    character(len=*), intent(in) :: value                !< string (kept as given, blanks included)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call check(c_set_string(doc%handle, string_to_c(pointer), string_to_c(value)), stat, errmsg)
  end subroutine set_string

  subroutine set_int32(doc, pointer, value, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    integer(int32), intent(in) :: value                  !< integer
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call check(c_set_int(doc%handle, string_to_c(pointer), int(value, c_int64_t)), stat, errmsg)
  end subroutine set_int32

  subroutine set_int64(doc, pointer, value, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    integer(int64), intent(in) :: value                  !< integer
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call check(c_set_int(doc%handle, string_to_c(pointer), int(value, c_int64_t)), stat, errmsg)
  end subroutine set_int64

  subroutine set_real64(doc, pointer, value, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    real(real64), intent(in) :: value                    !< number (NaN, Inf -> null)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call check(c_set_real(doc%handle, string_to_c(pointer), real(value, c_double)), stat, errmsg)
  end subroutine set_real64

  subroutine set_logical(doc, pointer, value, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    logical, intent(in) :: value                         !< true or false
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call check(c_set_bool(doc%handle, string_to_c(pointer), merge(1_c_int, 0_c_int, value)), &
               stat, errmsg)
  end subroutine set_logical

  subroutine set_real64_array(doc, pointer, values, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    real(real64), intent(in) :: values(:)                !< numbers (NaN, Inf -> null)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    real(c_double) :: copy(size(values))
    copy = values
    call check(c_set_real_array(doc%handle, string_to_c(pointer), copy, size(values, kind=c_int64_t)), &
               stat, errmsg)
  end subroutine set_real64_array

  subroutine set_int64_array(doc, pointer, values, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    integer(int64), intent(in) :: values(:)              !< integers
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int64_t) :: copy(size(values))
    copy = values
    call check(c_set_int_array(doc%handle, string_to_c(pointer), copy, size(values, kind=c_int64_t)), &
               stat, errmsg)
  end subroutine set_int64_array

  subroutine set_string_array(doc, pointer, values, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    character(len=*), intent(in) :: values(:)            !< strings (trailing blanks removed)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    character(kind=c_char, len=len(values)) :: copy(max(size(values), 1))
    if (size(values) > 0) copy(1:size(values)) = values
    call check(c_set_string_array(doc%handle, string_to_c(pointer), copy, &
                                  size(values, kind=c_int64_t), int(len(values), c_int64_t)), &
               stat, errmsg)
  end subroutine set_string_array

  !> Parse `text` as JSON and set the result at `pointer`.
  !> Errors: malformed JSON text.
  subroutine json_set_parsed(doc, pointer, text, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: pointer              !< JSON pointer
    character(len=*), intent(in) :: text                 !< JSON text, e.g. '{"a": 1}'
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call check(c_set_parsed(doc%handle, string_to_c(pointer), string_to_c(text)), stat, errmsg)
  end subroutine json_set_parsed

  !> Describe this machine and run at `pointer` (see bench_json_c.h).
  subroutine json_add_environment(doc, pointer)
    type(json_document), intent(in) :: doc  !< document
    character(len=*), intent(in) :: pointer  !< where to put the description, e.g. "/environment"
    if (c_add_environment(doc%handle, string_to_c(pointer)) /= 0) &
      call status_fail("json_add_environment", string_from_c(c_last_error()))
  end subroutine json_add_environment

  !> Write the document to `path` atomically (temporary file, then rename).
  !> Errors: the directory does not exist or is not writable.
  subroutine json_write(doc, path, stat, errmsg)
    type(json_document), intent(in) :: doc               !< document
    character(len=*), intent(in) :: path                 !< output file
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (c_write(doc%handle, string_to_c(trim(path))) /= 0) &
      call status_fail("json_write", string_from_c(c_last_error()), stat, errmsg)
  end subroutine json_write

end module bench_json
