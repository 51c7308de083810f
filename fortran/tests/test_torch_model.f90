!> test_torch_model -- forward through real TorchScript models, and every error path.
!>
!> usage: test_torch_model <case> <model-dir> [stat|stop] [iterations]
!> The models are written by python/tests/conftest.py. Cases:
!>   index-order   3 x 5 arrays keep Fortran index order both ways;
!>   pt2-index-order  the same through an AOTInductor package, inputs zero-copy;
!>   multi-io      two inputs, a tuple of two outputs;
!>   memory        create/forward/delete `iterations` times (the soak), printing
!>                 resident memory, open descriptors and threads 10 times;
!>   memory-load   load/forward/delete the model `iterations` times, the same;
!>                 both on large_stride_vectorized_cpu.pt, or on the model file
!>                 named by a 5th argument (e.g. the .pt2 package);
!>   missing-file, corrupt-file, cuda, wrong-dtype, wrong-rank, wrong-shape,
!>   output-shape, output-dtype, output-count, model-exception, not-loaded,
!>   signature-not-loaded, signature-exception (torch_model_output_signature),
!>   threads, pt2-other-torch, pt2-no-signature, pt2-input-count, pt2-wrong-rank,
!>   pt2-wrong-dtype, pt2-wrong-shape, pt2-out-of-range, pt2-strided
!>                 each makes one call fail: with "stat" the program prints
!>                 "stat=<n> errmsg=<message>" and exits 0; with "stop" it omits
!>                 stat, so the coupling layer itself must print and exit 1.
!> Checks that fail print "FAILED ..." and exit 1.
program test_torch_model
  use, intrinsic :: iso_fortran_env, only: real32, real64, int64
  use, intrinsic :: iso_c_binding, only: c_associated, c_loc
  use torch_coupling
  use test_support, only: process_sample
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(torch_model) :: err_model
  type(torch_tensor) :: err_inputs(1), err_outputs(1), extra_inputs(3)
  character(len=256) :: case_name, model_dir, mode, text
  character(len=:), allocatable :: signature_text
  character(len=512) :: message
  integer :: stat, iterations
  logical :: use_stat

  call get_command_argument(1, case_name)
  call get_command_argument(2, model_dir)
  call get_command_argument(3, mode)
  call get_command_argument(4, text)
  use_stat = mode == "stat"
  iterations = 10000
  if (len_trim(text) > 0) read (text, *) iterations
  message = ""
  stat = -1

  select case (trim(case_name))
  case ("index-order")
    call index_order()
  case ("pt2-index-order")
    call package_index_order()
  case ("multi-io")
    call multi_io()
  case ("memory", "memory-load")
    call get_command_argument(5, text)
    if (len_trim(text) == 0) text = "large_stride_vectorized_cpu.pt"
    if (case_name == "memory") then
      call memory(iterations, trim(text))
    else
      call memory_load(iterations, trim(text))
    end if
  case default
    call error_case(trim(case_name))
    if (.not. use_stat) call fail("the call should have stopped the program")
    print '(a, i0, a)', "stat=", stat, " errmsg=" // trim(message)
    if (stat == 0) call fail("stat is 0 after a failing call")
  end select

contains

  function path(file)
    character(len=*), intent(in) :: file
    character(len=:), allocatable :: path
    path = trim(model_dir) // "/" // file
  end function path

  subroutine index_order()
    type(torch_model) :: model
    type(torch_tensor) :: inputs(1), outputs(1)
    real(real32), target :: x(3, 5), y(3, 5), expected(3, 5)
    integer :: i, j
    ! index_probe.pt returns y[i, j] = 10 * i + j (0-based tensor indices).
    call random_number(x)
    call torch_model_load(model, path("index_probe.pt"))
    call torch_tensor_from_array(inputs(1), x)
    call torch_tensor_from_array(outputs(1), y)
    call torch_model_forward(model, inputs, outputs)
    do j = 1, 5
      do i = 1, 3
        expected(i, j) = 10 * (i - 1) + (j - 1)
      end do
    end do
    print '(a, 15f6.1)', "index_probe y =", y
    if (any(abs(y - expected) > 0)) call fail("index_probe: y(i, j) /= 10*(i-1) + (j-1)")
    call torch_tensor_delete(inputs(1))
    call torch_tensor_delete(outputs(1))
    call torch_model_delete(model)
    ! large_stride: 2 * x with element (1, 2) negated, on a non-square array.
    call torch_model_load(model, path("large_stride_vectorized_cpu.pt"))
    call torch_tensor_from_array(inputs(1), x)
    call torch_tensor_from_array(outputs(1), y)
    call torch_model_forward(model, inputs, outputs)
    expected = 2 * x
    expected(1, 2) = -expected(1, 2)
    if (any(abs(y - expected) > 0)) call fail("large_stride on 3 x 5: output /= 2x with (1, 2) negated")
    print '(a)', "large_stride 3x5: (1,2) negated, everything else doubled"
    call torch_tensor_delete(inputs(1))
    call torch_tensor_delete(outputs(1))
    call torch_model_delete(model)
    print '(a)', "ALL PASSED"
  end subroutine index_order

  subroutine package_index_order()
    type(torch_model) :: model
    type(torch_tensor) :: inputs(1), outputs(1)
    real(real32), target :: x(3, 5), y(3, 5), expected(3, 5)
    ! large_stride_vectorized_cpu.pt2: 2 * x with element (1, 2) negated, compiled
    ! for column-major inputs of any size 2..65536 x 2..65536.
    call random_number(x)
    call torch_model_load(model, path("large_stride_vectorized_cpu.pt2"))
    print '(a)', "metadata " // torch_model_metadata(model)
    call torch_tensor_from_array(inputs(1), x)
    call torch_tensor_from_array(outputs(1), y)
    if (.not. c_associated(torch_tensor_data_ptr(inputs(1)), c_loc(x))) &
      call fail("the package's input tensor does not wrap x")
    print '(a, z0, a, z0)', "input data_ptr=", transfer(torch_tensor_data_ptr(inputs(1)), 0_int64), &
      " c_loc=", transfer(c_loc(x), 0_int64)
    call torch_model_forward(model, inputs, outputs)
    expected = 2 * x
    expected(1, 2) = -expected(1, 2)
    if (any(abs(y - expected) > 0)) call fail("package on 3 x 5: output /= 2x with (1, 2) negated")
    call torch_tensor_delete(inputs(1))
    call torch_tensor_delete(outputs(1))
    call torch_model_delete(model)
    print '(a)', "ALL PASSED"
  end subroutine package_index_order

  subroutine multi_io()
    type(torch_model) :: model
    type(torch_tensor) :: inputs(2), outputs(2)
    real(real64), target :: a(4, 3), b(4, 3), total(4, 3), product(4, 3)
    character(len=:), allocatable :: signature
    call random_number(a)
    call random_number(b)
    call torch_model_load(model, path("two_in_two_out.pt"))
    call torch_tensor_from_array(inputs(1), a)
    call torch_tensor_from_array(inputs(2), b)
    call torch_tensor_from_array(outputs(1), total)
    call torch_tensor_from_array(outputs(2), product)
    call torch_model_output_signature(model, inputs, signature)
    if (signature /= "4x3:float64,4x3:float64") call fail("output signature " // signature)
    call torch_model_forward(model, inputs, outputs)
    if (any(abs(total - (a + b)) > 1e-15_real64)) call fail("first output /= a + b")
    if (any(abs(product - a * b) > 1e-15_real64)) call fail("second output /= a * b")
    call torch_tensor_delete(inputs(1))
    call torch_tensor_delete(inputs(2))
    call torch_tensor_delete(outputs(1))
    call torch_tensor_delete(outputs(2))
    call torch_model_delete(model)
    print '(a)', "ALL PASSED"
  end subroutine multi_io

  subroutine memory(n, file)
    integer, intent(in) :: n
    character(len=*), intent(in) :: file
    type(torch_model) :: model
    type(torch_tensor) :: inputs(1), outputs(1)
    real(real32), target :: x(32, 32), y(32, 32)
    integer :: it
    call random_number(x)
    call torch_model_load(model, path(file))
    do it = 1, n
      call torch_tensor_from_array(inputs(1), x)
      call torch_tensor_from_array(outputs(1), y)
      call torch_model_forward(model, inputs, outputs)
      call torch_tensor_delete(inputs(1))
      call torch_tensor_delete(outputs(1))
      if (mod(it, max(n / 10, 1)) == 0) call process_sample(it)
    end do
    if (abs(y(1, 2) + 2 * x(1, 2)) > 0) call fail("wrong result")
    call torch_model_delete(model)
  end subroutine memory

  subroutine memory_load(n, file)
    integer, intent(in) :: n
    character(len=*), intent(in) :: file
    type(torch_model) :: model
    type(torch_tensor) :: inputs(1), outputs(1)
    real(real32), target :: x(8, 8), y(8, 8)
    integer :: it
    call random_number(x)
    do it = 1, n
      call torch_model_load(model, path(file))
      call torch_tensor_from_array(inputs(1), x)
      call torch_tensor_from_array(outputs(1), y)
      call torch_model_forward(model, inputs, outputs)
      call torch_tensor_delete(inputs(1))
      call torch_tensor_delete(outputs(1))
      call torch_model_delete(model)
      if (mod(it, max(n / 10, 1)) == 0) call process_sample(it)
    end do
    if (abs(y(1, 2) + 2 * x(1, 2)) > 0) call fail("wrong result")
  end subroutine memory_load

  !> Make one call fail, passing stat/errmsg only when use_stat.
  subroutine error_case(name)
    character(len=*), intent(in) :: name
    type(torch_tensor) :: extra(1)
    real(real32), target :: x(3, 4), y(3, 2), wrong_y(2, 3), x3(3, 4, 2)
    real(real64), target :: x64(3, 5), y64(3, 2)
    x = 1
    x3 = 1
    x64 = 1
    select case (name)
    case ("missing-file")
      call load(path("no_such_model.pt"))
    case ("corrupt-file")
      call load(path("corrupt.pt"))
    case ("cuda")
      if (use_stat) then
        call torch_model_load(err_model, path("mm_float32.pt"), torch_kCUDA, stat=stat, errmsg=message)
      else
        call torch_model_load(err_model, path("mm_float32.pt"), torch_kCUDA)
      end if
    case ("not-loaded")
      call torch_tensor_from_array(err_inputs(1), x)
      call torch_tensor_from_array(err_outputs(1), y)
      call forward()
    case ("signature-not-loaded", "signature-exception")
      if (name == "signature-exception") call torch_model_load(err_model, path("raises.pt"))
      call torch_tensor_from_array(err_inputs(1), x)
      if (use_stat) then
        call torch_model_output_signature(err_model, err_inputs, signature_text, stat=stat, &
                                          errmsg=message)
        if (len(signature_text) /= 0) call fail("signature is not empty after a failure")
      else
        call torch_model_output_signature(err_model, err_inputs, signature_text)
      end if
    case ("threads")
      if (use_stat) then
        call torch_set_num_threads(0, stat=stat, errmsg=message)
      else
        call torch_set_num_threads(0)
      end if
    case ("pt2-other-torch")
      call load(path("other_torch.pt2"))
    case ("pt2-no-signature")
      call load(path("no_signature.pt2"))
    case ("pt2-input-count", "pt2-wrong-rank", "pt2-wrong-dtype", "pt2-wrong-shape", &
          "pt2-out-of-range", "pt2-strided")
      call package_error(name)
    case default
      ! mm_float32.pt computes torch.mm(x, w) with w a float32 (4, 2) parameter.
      call torch_model_load(err_model, path("mm_float32.pt"))
      select case (name)
      case ("wrong-dtype")
        call torch_tensor_from_array(err_inputs(1), x64(:, 1:4))
        call torch_tensor_from_array(err_outputs(1), y64)
      case ("wrong-rank")
        call torch_tensor_from_array(err_inputs(1), x3)
        call torch_tensor_from_array(err_outputs(1), y)
      case ("wrong-shape")
        call torch_tensor_from_array(err_inputs(1), x64)
        call torch_tensor_delete(err_inputs(1))
        call torch_tensor_from_array(err_inputs(1), x(:, 1:3))
        call torch_tensor_from_array(err_outputs(1), y)
      case ("output-shape")
        call torch_tensor_from_array(err_inputs(1), x)
        call torch_tensor_from_array(err_outputs(1), wrong_y)
      case ("output-dtype")
        call torch_tensor_from_array(err_inputs(1), x)
        call torch_tensor_from_array(err_outputs(1), y64)
      case ("output-count")
        call torch_tensor_from_array(err_inputs(1), x)
        call torch_tensor_from_array(err_outputs(1), y)
        call torch_tensor_from_array(extra(1), wrong_y)
        if (use_stat) then
          call torch_model_forward(err_model, err_inputs, [err_outputs, extra], stat=stat, errmsg=message)
        else
          call torch_model_forward(err_model, err_inputs, [err_outputs, extra])
        end if
        call torch_tensor_delete(extra(1))  ! a local handle: freed here (LeakSanitizer)
        return
      case ("model-exception")
        call torch_model_delete(err_model)
        call torch_model_load(err_model, path("raises.pt"))
        call torch_tensor_from_array(err_inputs(1), x)
        call torch_tensor_from_array(err_outputs(1), y)
      case default
        call fail("unknown case " // name)
      end select
      call forward()
    end select
  end subroutine error_case

  !> A call into an AOTInductor package with inputs that do not match its signature.
  subroutine package_error(name)
    character(len=*), intent(in) :: name
    real(real32), target :: x(4, 6), y(4, 6), x3(4, 6, 2), one_row(1, 6), y1(1, 6)
    real(real64), target :: x64(4, 6), wind(8, 39), lat(8, 1), drag(8, 39)
    x = 1
    x3 = 1
    x64 = 1
    one_row = 1
    wind = 1
    lat = 1
    select case (name)
    case ("pt2-input-count", "pt2-wrong-shape")
      ! cgdrag_cpu.pt2: forward(wind (n, 40), lat (n, 1), pressure (n, 1)), float64.
      call torch_model_load(err_model, path("cgdrag_cpu.pt2"))
      call torch_tensor_from_array(err_inputs(1), wind)
      call torch_tensor_from_array(err_outputs(1), drag)
      if (name == "pt2-wrong-shape") then
        call torch_tensor_from_array(extra_inputs(1), wind)
        call torch_tensor_from_array(extra_inputs(2), lat)
        call torch_tensor_from_array(extra_inputs(3), lat)
        if (use_stat) then
          call torch_model_forward(err_model, extra_inputs, err_outputs, stat=stat, errmsg=message)
        else
          call torch_model_forward(err_model, extra_inputs, err_outputs)
        end if
        return
      end if
    case default
      call torch_model_load(err_model, path("large_stride_vectorized_cpu.pt2"))
      call torch_tensor_from_array(err_outputs(1), y)
      select case (name)
      case ("pt2-wrong-rank")
        call torch_tensor_from_array(err_inputs(1), x3)
      case ("pt2-wrong-dtype")
        call torch_tensor_from_array(err_inputs(1), x64)
      case ("pt2-out-of-range")
        call torch_tensor_delete(err_outputs(1))
        call torch_tensor_from_array(err_inputs(1), one_row)
        call torch_tensor_from_array(err_outputs(1), y1)
      case ("pt2-strided")
        call torch_tensor_from_array(err_inputs(1), x(1:4:2, :))
      end select
    end select
    call forward()
  end subroutine package_error

  subroutine load(file)
    character(len=*), intent(in) :: file
    if (use_stat) then
      call torch_model_load(err_model, file, stat=stat, errmsg=message)
    else
      call torch_model_load(err_model, file)
    end if
  end subroutine load

  subroutine forward()
    if (use_stat) then
      call torch_model_forward(err_model, err_inputs, err_outputs, stat=stat, errmsg=message)
    else
      call torch_model_forward(err_model, err_inputs, err_outputs)
    end if
  end subroutine forward


  subroutine fail(why)
    character(len=*), intent(in) :: why
    print '(a)', "FAILED " // trim(case_name) // ": " // why
    stop 1
  end subroutine fail

end program test_torch_model
