!> test_py_embedding -- the embedded-Python layer: zero-copy both ways, index
!> order, conversions, every error path, the venv, and memory over many calls.
!>
!> usage: test_py_embedding <case> <probe-dir> [stat|stop] [iterations]
!> <probe-dir> holds embed_probe.py (written by python/tests/test_python_layer.py).
!> Cases:
!>   zero-copy     every dtype, ranks 1-4 and a section: prints the Fortran
!>                 address, NumPy's data address and torch.from_numpy's data_ptr;
!>   write-back    an in-place write in Python is seen in Fortran, every dtype;
!>   index-order   Python writes a[i, j] = 10 i + j into a 3 x 5 Fortran array;
!>   scalars       int, real, string and logical arguments, and conversions back;
!>   venv          prints sys.prefix and torch's location;
!>   memory        `iterations` calls with arrays and scalars (the soak): prints
!>                 resident memory, open descriptors, threads, Python's allocated
!>                 blocks and gc-tracked objects after every tenth of the calls;
!>   memory-forward  the same, calling a TorchScript model's forward each time;
!>   stat-paths    every failure the Fortran modules report through stat/errmsg
!>                 that the other cases do not reach (before py_initialize, null
!>                 objects, conversions, too many arguments, a message that is not
!>                 valid UTF-8), and py_version: prints "ok <label>: <errmsg>" per
!>                 check, "python=<version>", then ALL PASSED;
!>   exception, missing-module, missing-function, wrong-arg-count, bad-convert,
!>   not-initialized, double-initialize
!>                 one failing call: with "stat", prints "stat=<n>" then the errmsg;
!>                 with "stop", omits stat so the layer must print and exit 1.
program test_py_embedding
  use, intrinsic :: iso_c_binding, only: c_loc, c_intptr_t, c_float, c_double, c_int32_t, &
                                         c_int64_t
  use, intrinsic :: iso_fortran_env, only: int64, real64
  use py_embedding
  use test_support, only: process_sample
  use coupling_strings, only: string_from_integer
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  character(len=256) :: case_name, probe_dir, mode, text
  character(len=8192) :: message
  integer :: stat, iterations
  logical :: use_stat
  type(py_object) :: probe

  call get_command_argument(1, case_name)
  call get_command_argument(2, probe_dir)
  call get_command_argument(3, mode)
  call get_command_argument(4, text)
  use_stat = mode == "stat"
  iterations = 10000
  if (len_trim(text) > 0) read (text, *) iterations
  stat = -1
  message = ""

  if (case_name == "not-initialized") then
    call failing_import("embed_probe")
    call finish_error_case()
  end if

  if (case_name == "stat-paths") then
    call stat_paths()
    print '(a)', "ALL PASSED"
    stop
  end if

  call py_initialize()
  call py_path_append(probe_dir)
  select case (trim(case_name))
  case ("zero-copy")
    call zero_copy()
  case ("write-back")
    call write_back()
  case ("index-order")
    call index_order()
  case ("scalars")
    call scalars()
  case ("venv")
    call venv()
  case ("memory")
    call memory(iterations, "touch")
  case ("memory-forward")
    call memory(iterations, "forward")
  case ("missing-module")
    call failing_import("no_such_module_here")
  case default
    call py_import(probe, "embed_probe")
    call error_case(trim(case_name))
  end select
  if (case_name == "zero-copy" .or. case_name == "write-back" .or. case_name == "index-order" &
      .or. case_name == "scalars" .or. case_name == "venv" .or. case_name == "memory" &
      .or. case_name == "memory-forward") then
    call py_object_destroy(probe)
    call py_finalize()
    if (py_is_initialized()) call fail("still initialised after py_finalize")
    print '(a)', "ALL PASSED"
  else
    call finish_error_case()
  end if

contains

  subroutine finish_error_case()
    if (.not. use_stat) call fail("the call should have stopped the program")
    print '(a, i0)', "stat=", stat
    print '(a)', trim(message)
    if (stat == 0) call fail("stat is 0 after a failing call")
    stop
  end subroutine finish_error_case

  !> Ask Python for the array's data address and torch.from_numpy's data_ptr.
  subroutine report_addresses(label, array, address)
    character(len=*), intent(in) :: label
    type(py_object), intent(in) :: array
    integer(c_intptr_t), intent(in) :: address
    type(py_object) :: value
    integer(int64) :: numpy_address, torch_address
    character(len=:), allocatable :: layout
    call py_call(probe, "address", [array], value)
    call py_object_to(value, numpy_address)
    call py_object_destroy(value)
    call py_call(probe, "torch_address", [array], value)
    call py_object_to(value, torch_address)
    call py_object_destroy(value)
    call py_call(probe, "layout", [array], value)
    call py_object_to(value, layout)
    call py_object_destroy(value)
    print '(a, " fortran=", z0, " numpy=", z0, " torch=", z0, " layout=", a)', label, address, &
      numpy_address, torch_address, layout
    if (numpy_address /= address .or. torch_address /= address) call fail(label // ": copied")
  end subroutine report_addresses

  subroutine zero_copy()
    real(c_float), target :: r4_1(3), r4_2(3, 5), r4_3(3, 5, 2), r4_4(3, 5, 2, 4)
    real(c_double), target :: r8_1(3), r8_2(3, 5), r8_3(3, 5, 2), r8_4(3, 5, 2, 4)
    integer(c_int32_t), target :: i4_1(3), i4_2(3, 5), i4_3(3, 5, 2), i4_4(3, 5, 2, 4)
    integer(c_int64_t), target :: i8_1(3), i8_2(3, 5), i8_3(3, 5, 2), i8_4(3, 5, 2, 4)
    real(c_double), target :: big(6, 8)
    type(py_object) :: a
    call py_import(probe, "embed_probe")
    call py_array_from(a, r4_1); call report_addresses("real32 rank 1", a, addr(c_loc(r4_1)))
    call py_object_destroy(a)
    call py_array_from(a, r4_2); call report_addresses("real32 rank 2", a, addr(c_loc(r4_2)))
    call py_object_destroy(a)
    call py_array_from(a, r4_3); call report_addresses("real32 rank 3", a, addr(c_loc(r4_3)))
    call py_object_destroy(a)
    call py_array_from(a, r4_4); call report_addresses("real32 rank 4", a, addr(c_loc(r4_4)))
    call py_object_destroy(a)
    call py_array_from(a, r8_1); call report_addresses("real64 rank 1", a, addr(c_loc(r8_1)))
    call py_object_destroy(a)
    call py_array_from(a, r8_2); call report_addresses("real64 rank 2", a, addr(c_loc(r8_2)))
    call py_object_destroy(a)
    call py_array_from(a, r8_3); call report_addresses("real64 rank 3", a, addr(c_loc(r8_3)))
    call py_object_destroy(a)
    call py_array_from(a, r8_4); call report_addresses("real64 rank 4", a, addr(c_loc(r8_4)))
    call py_object_destroy(a)
    call py_array_from(a, i4_1); call report_addresses("int32 rank 1", a, addr(c_loc(i4_1)))
    call py_object_destroy(a)
    call py_array_from(a, i4_2); call report_addresses("int32 rank 2", a, addr(c_loc(i4_2)))
    call py_object_destroy(a)
    call py_array_from(a, i4_3); call report_addresses("int32 rank 3", a, addr(c_loc(i4_3)))
    call py_object_destroy(a)
    call py_array_from(a, i4_4); call report_addresses("int32 rank 4", a, addr(c_loc(i4_4)))
    call py_object_destroy(a)
    call py_array_from(a, i8_1); call report_addresses("int64 rank 1", a, addr(c_loc(i8_1)))
    call py_object_destroy(a)
    call py_array_from(a, i8_2); call report_addresses("int64 rank 2", a, addr(c_loc(i8_2)))
    call py_object_destroy(a)
    call py_array_from(a, i8_3); call report_addresses("int64 rank 3", a, addr(c_loc(i8_3)))
    call py_object_destroy(a)
    call py_array_from(a, i8_4); call report_addresses("int64 rank 4", a, addr(c_loc(i8_4)))
    call py_object_destroy(a)
    call py_array_from(a, big(2:6:2, 3:8))
    call report_addresses("real64 section big(2:6:2, 3:8)", a, addr(c_loc(big(2, 3))))
    call py_object_destroy(a)
  end subroutine zero_copy

  subroutine write_back()
    real(c_float), target :: r4(3, 5)
    real(c_double), target :: r8(2, 3, 4)
    integer(c_int32_t), target :: i4(7)
    integer(c_int64_t), target :: i8(2, 2, 2, 2)
    type(py_object) :: a
    call py_import(probe, "embed_probe")
    call random_number(r4)
    call random_number(r8)
    i4 = 5
    i8 = -3
    call py_array_from(a, r4)
    call py_call(probe, "double_in_place", [a])
    call py_object_destroy(a)
    call py_array_from(a, r8)
    call py_call(probe, "double_in_place", [a])
    call py_object_destroy(a)
    call py_array_from(a, i4)
    call py_call(probe, "double_in_place", [a])
    call py_object_destroy(a)
    call py_array_from(a, i8)
    call py_call(probe, "double_in_place", [a])
    call py_object_destroy(a)
    if (any(i4 /= 10) .or. any(i8 /= -6)) call fail("integer arrays not doubled in Fortran")
    print '(a)', "integers doubled in Fortran: int32 5 -> 10, int64 -3 -> -6"
    call check_doubled_reals()
  end subroutine write_back

  subroutine check_doubled_reals()
    real(c_float), target :: r4(3, 5), before4(3, 5)
    real(c_double), target :: r8(2, 3, 4), before8(2, 3, 4)
    type(py_object) :: a
    call random_number(r4)
    call random_number(r8)
    before4 = r4
    before8 = r8
    call py_array_from(a, r4)
    call py_call(probe, "double_in_place", [a])
    call py_object_destroy(a)
    call py_array_from(a, r8)
    call py_call(probe, "double_in_place", [a])
    call py_object_destroy(a)
    if (any(abs(r4 - 2 * before4) > 0) .or. any(abs(r8 - 2 * before8) > 0)) &
      call fail("real arrays not doubled in Fortran")
    print '(a)', "reals doubled in Fortran: real32 and real64"
  end subroutine check_doubled_reals

  subroutine index_order()
    real(c_double), target :: a(3, 5)
    type(py_object) :: view
    integer :: i, j
    call py_import(probe, "embed_probe")
    a = -1
    call py_array_from(view, a)
    call py_call(probe, "write_indices", [view])
    call py_object_destroy(view)
    do j = 1, 5
      do i = 1, 3
        if (abs(a(i, j) - (10 * (i - 1) + (j - 1))) > 0) call fail("a(i, j) /= 10 (i-1) + (j-1)")
      end do
    end do
    print '(a, 15f5.0)', "a =", a
  end subroutine index_order

  subroutine scalars()
    type(py_object) :: args(5), value
    character(len=:), allocatable :: echoed
    integer(int64) :: i
    real(real64) :: r
    call py_import(probe, "embed_probe")
    call py_object_from(args(1), 42)
    call py_object_from(args(2), 7_int64)
    call py_object_from(args(3), 2.5_real64)
    call py_object_from(args(4), "héllo")
    call py_object_from(args(5), .true.)
    call py_call(probe, "echo_types", args, value)
    call py_object_to(value, echoed)
    call py_object_destroy(value)
    print '(a)', echoed
    if (echoed /= "int:42 int:7 float:2.5 str:héllo bool:True") call fail("echo_types differs")
    call py_call(probe, "add", [args(1), args(2)], value)
    call py_object_to(value, i)
    call py_object_destroy(value)
    if (i /= 49) call fail("42 + 7 /= 49")
    call py_call(probe, "add", [args(3), args(3)], value)
    call py_object_to(value, r)
    call py_object_destroy(value)
    if (abs(r - 5) > 0) call fail("2.5 + 2.5 /= 5")
    do i = 1, 5
      call py_object_destroy(args(i))
    end do
  end subroutine scalars

  subroutine venv()
    type(py_object) :: sys, value, torch
    character(len=:), allocatable :: prefix, location
    call py_import(probe, "embed_probe")
    call py_import(sys, "sys")
    call py_getattr(sys, "prefix", value)
    call py_object_to(value, prefix)
    call py_object_destroy(value)
    call py_import(torch, "torch")
    call py_getattr(torch, "__file__", value)
    call py_object_to(value, location)
    call py_object_destroy(value)
    print '(a)', "sys.prefix=" // prefix
    print '(a)', "torch=" // location
    call py_object_destroy(torch)
    call py_object_destroy(sys)
  end subroutine venv

  !> `n` calls of embed_probe.<function>(x, y, k) (touch: a tensor operation;
  !> forward: a model's forward), printing resident memory and Python's blocks.
  subroutine memory(n, function)
    integer, intent(in) :: n
    character(len=*), intent(in) :: function
    real(c_float), target :: x(32, 32), y(32, 32)
    type(py_object) :: xs, ys, k, value
    integer(int64) :: blocks, objects
    integer :: it
    call py_import(probe, "embed_probe")
    call random_number(x)
    do it = 1, n
      call py_array_from(xs, x)
      call py_array_from(ys, y)
      call py_object_from(k, it)
      call py_call(probe, function, [xs, ys, k], value)
      call py_object_destroy(value)
      call py_object_destroy(k)
      call py_object_destroy(xs)
      call py_object_destroy(ys)
      if (mod(it, max(n / 10, 1)) == 0) then
        call py_call(probe, "allocated_blocks", result=value)
        call py_object_to(value, blocks)
        call py_object_destroy(value)
        call py_call(probe, "tracked_objects", result=value)
        call py_object_to(value, objects)
        call py_object_destroy(value)
        call process_sample(it, " blocks=" // string_from_integer(blocks) // " objects=" // &
                            string_from_integer(objects))
      end if
    end do
    if (abs(y(1, 1) - 2 * x(1, 1)) > 0) call fail(function // " did not write y")
  end subroutine memory

  !> Check that the last call failed with a message containing `expected`; print it.
  subroutine expect_failure(label, expected)
    character(len=*), intent(in) :: label, expected
    if (stat == 0) call fail(label // ": stat is 0")
    if (index(message, expected) == 0) call fail(label // ": '" // trim(message) // "' lacks '" // &
                                                 expected // "'")
    print '(a)', "ok " // label // ": " // trim(message)
    stat = 0
    message = ""
  end subroutine expect_failure

  subroutine stat_paths()
    type(py_object) :: object, empty, value, args(17)
    integer(c_int32_t) :: i4
    integer(int64) :: i8
    real(real64) :: r8
    character(len=:), allocatable :: text
    real(c_float), target :: r4(2)
    integer :: i
    ! Before py_initialize: every entry point refuses, naming py_initialize.
    call py_finalize(stat, message)
    call expect_failure("finalize-before-initialize", "not initialised")
    call py_object_from(object, 1_c_int32_t, stat, message)
    call expect_failure("from-int32", "call py_initialize first")
    call py_object_from(object, 1_int64, stat, message)
    call expect_failure("from-int64", "call py_initialize first")
    call py_object_from(object, 1.5_c_float, stat, message)
    call expect_failure("from-real32", "call py_initialize first")
    call py_object_from(object, 1.5_real64, stat, message)
    call expect_failure("from-real64", "call py_initialize first")
    call py_object_from(object, "text", stat, message)
    call expect_failure("from-string", "call py_initialize first")
    call py_object_from(object, .true., stat, message)
    call expect_failure("from-logical", "call py_initialize first")
    call py_array_from(object, r4, stat, message)
    call expect_failure("array-from", "call py_initialize first")
    call py_path_append(probe_dir, stat, message)
    call expect_failure("path-append", "call py_initialize first")
    ! An interpreter given by argument overrides the environment and the build default.
    call py_initialize("/nowhere/bin/python", stat, message)
    call expect_failure("initialize-given-interpreter", "'/nowhere/bin/python' not found")

    call py_initialize()
    call py_path_append(probe_dir)
    call py_import(probe, "embed_probe")
    print '(a)', "python=" // py_version()
    ! Null (never created, or destroyed) objects.
    call py_call(empty, "anything", stat=stat, errmsg=message)
    call expect_failure("call-null-object", "of a null object (not created, or destroyed)")
    call py_getattr(empty, "anything", value, stat, message)
    call expect_failure("getattr-null-object", "of a null object (not created, or destroyed)")
    call py_getattr(probe, "no_such_attribute", value, stat, message)
    call expect_failure("getattr-missing", "cannot get attribute 'no_such_attribute' of module")
    call py_call(probe, "add", [empty, empty], stat=stat, errmsg=message)
    call expect_failure("call-null-argument", "argument 1 is a null object")
    call py_object_to(empty, i8, stat, message)
    call expect_failure("to-int-null", "cannot convert a null object to an integer")
    call py_object_to(empty, r8, stat, message)
    call expect_failure("to-real-null", "cannot convert a null object to a real")
    call py_object_to(empty, text, stat, message)
    call expect_failure("to-string-null", "cannot convert a null object to a string")
    ! More arguments than py_call passes.
    do i = 1, size(args)
      call py_object_from(args(i), i)
    end do
    call py_call(probe, "count", args, stat=stat, errmsg=message)
    call expect_failure("call-17-arguments", "more than 16 arguments")
    call py_call(probe, "count", args(1:16), value)
    call py_object_to(value, i8)
    call py_object_destroy(value)
    if (i8 /= 16) call fail("count of 16 arguments")
    ! A call whose result is not wanted: released inside py_call.
    call py_call(probe, "count", args(1:2))
    do i = 1, size(args)
      call py_object_destroy(args(i))
    end do
    ! Conversions that Python refuses.
    call py_object_from(object, "not a number")
    call py_object_to(object, r8, stat, message)
    call expect_failure("to-real-of-str", "cannot convert object of type 'str' to a real")
    call py_object_destroy(object)
    call py_call(probe, "unprintable", result=object)
    call py_object_to(object, text, stat, message)
    call expect_failure("to-string-raises", "RuntimeError: no text")
    call py_object_destroy(object)
    ! int32: in range, and out of range.
    call py_object_from(object, -7_c_int32_t)
    call py_object_to(object, i4)
    if (i4 /= -7) call fail("int32 round trip")
    call py_object_destroy(object)
    call py_object_from(object, 2_int64**40)
    call py_object_to(object, i4, stat, message)
    call expect_failure("to-int32-out-of-range", "Python int out of the int32 range")
    call py_object_destroy(object)
    call py_object_from(object, "seven")
    call py_object_to(object, i4, stat, message)
    call expect_failure("to-int32-of-str", "cannot convert object of type 'str' to an integer")
    call py_object_destroy(object)
    ! real32 scalars are passed as Python floats.
    call py_object_from(object, 1.5_c_float)
    call py_object_to(object, r8)
    if (abs(r8 - 1.5_real64) > 0) call fail("real32 round trip")
    call py_object_destroy(object)
    ! An exception whose message is not valid UTF-8 (a lone surrogate) keeps its text.
    call py_call(probe, "fail_surrogate", stat=stat, errmsg=message)
    call expect_failure("exception-not-utf8", "ValueError: byte \udcff")
    ! Destroying twice, and finalising twice.
    call py_object_destroy(probe)
    call py_object_destroy(probe)
    call py_finalize()
    call py_finalize(stat, message)
    call expect_failure("finalize-twice", "not initialised")
  end subroutine stat_paths

  subroutine failing_import(name)
    character(len=*), intent(in) :: name
    if (use_stat) then
      call py_import(probe, name, stat=stat, errmsg=message)
    else
      call py_import(probe, name)
    end if
  end subroutine failing_import

  subroutine error_case(name)
    character(len=*), intent(in) :: name
    type(py_object) :: one, value
    integer(int64) :: number
    select case (name)
    case ("exception")
      call py_object_from(one, 1)
      if (use_stat) then
        call py_call(probe, "fail_deep", [one], stat=stat, errmsg=message)
      else
        call py_call(probe, "fail_deep", [one])
      end if
    case ("missing-function")
      if (use_stat) then
        call py_call(probe, "no_such_function", stat=stat, errmsg=message)
      else
        call py_call(probe, "no_such_function")
      end if
    case ("wrong-arg-count")
      call py_object_from(one, 1)
      if (use_stat) then
        call py_call(probe, "add", [one], stat=stat, errmsg=message)
      else
        call py_call(probe, "add", [one])
      end if
    case ("bad-convert")
      call py_object_from(value, "not a number")
      if (use_stat) then
        call py_object_to(value, number, stat=stat, errmsg=message)
      else
        call py_object_to(value, number)
      end if
    case ("double-initialize")
      if (use_stat) then
        call py_initialize(stat=stat, errmsg=message)
      else
        call py_initialize()
      end if
    case default
      call fail("unknown case " // name)
    end select
  end subroutine error_case

  integer(c_intptr_t) function addr(p)
    use, intrinsic :: iso_c_binding, only: c_ptr
    type(c_ptr), intent(in) :: p
    addr = transfer(p, 0_c_intptr_t)
  end function addr

  subroutine fail(why)
    character(len=*), intent(in) :: why
    print '(a)', "FAILED " // trim(case_name) // ": " // why
    stop 1
  end subroutine fail

end program test_py_embedding
