!> test_concurrency -- OpenMP threads calling both coupling layers at once.
!>
!> usage: test_concurrency <case> <model-dir> <threads> <iterations> [model-file]
!> Every thread owns its arrays (N x N float32, N = 16, values unique to the
!> thread and the iteration), wraps them afresh each iteration and checks the
!> large-stride model's output exactly (y = 2 x, y(1, 2) negated; doubling is
!> exact in float32), so a call that read or wrote another thread's memory, or
!> lost a write, shows as a mismatch. Cases:
!>   direct-shared      one model (model-file, default large_stride_vectorized_cpu.pt;
!>                      a .pt2 package works too) loaded before the parallel
!>                      region, forward called by every thread;
!>   direct-per-thread  every thread loads, uses and deletes its own model;
!>   embedded           one interpreter; every thread calls the emulator module's
!>                      compute on one model built by initialize_ts(model-file),
!>                      taking the GIL in each call (py_c_api.c).
!> Prints "threads=<n> calls=<n> mismatches=<n> failures=<n> seconds=<s>" (the
!> parallel region's wall time) and, for the first failed call, its message;
!> exits 1 when a count is not as expected.
program test_concurrency
  use, intrinsic :: iso_fortran_env, only: real32, real64
  use omp_lib, only: omp_get_thread_num, omp_get_num_threads, omp_get_wtime
  use torch_coupling
  use py_embedding
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  integer, parameter :: n = 16
  character(len=256) :: case_name, model_dir, text, model_file
  character(len=1024) :: first_failure
  integer :: threads, iterations, mismatches, failures, calls, team
  real(real64) :: start, seconds
  type(torch_model) :: shared_model
  type(py_object) :: emulator, py_model, argument

  call get_command_argument(1, case_name)
  call get_command_argument(2, model_dir)
  call get_command_argument(3, text)
  read (text, *) threads
  call get_command_argument(4, text)
  read (text, *) iterations
  call get_command_argument(5, model_file)
  if (len_trim(model_file) == 0) model_file = "large_stride_vectorized_cpu.pt"
  mismatches = 0
  failures = 0
  calls = 0
  team = 0
  first_failure = ""

  select case (trim(case_name))
  case ("direct-shared")
    call torch_model_load(shared_model, path(model_file))
  case ("direct-per-thread")
  case ("embedded")
    call py_initialize()
    call py_path_append(trim(model_dir))
    call py_import(emulator, "large_stride_emulator")
    call py_object_from(argument, path(model_file))
    call py_call(emulator, "initialize_ts", [argument], py_model)
    call py_object_destroy(argument)
  case default
    print '(a)', "FAILED unknown case " // trim(case_name)
    stop 1
  end select

  start = omp_get_wtime()
  !$omp parallel num_threads(threads) reduction(+:mismatches, failures, calls)
  !$omp single
  team = omp_get_num_threads()
  !$omp end single
  call worker(omp_get_thread_num(), mismatches, failures, calls)
  !$omp end parallel
  seconds = omp_get_wtime() - start

  select case (trim(case_name))
  case ("direct-shared")
    call torch_model_delete(shared_model)
  case ("embedded")
    call py_object_destroy(py_model)
    call py_object_destroy(emulator)
    call py_finalize()
  end select
  print '(4(a, i0), a, es9.3)', "threads=", team, " calls=", calls, " mismatches=", mismatches, &
    " failures=", failures, " seconds=", seconds
  if (failures > 0) print '(a)', "first failure: " // trim(first_failure)
  if (team /= threads .or. calls /= threads * iterations .or. mismatches > 0 .or. failures > 0) &
    stop 1

contains

  function path(file)
    character(len=*), intent(in) :: file
    character(len=:), allocatable :: path
    path = trim(model_dir) // "/" // trim(file)
  end function path

  !> One thread's share: `iterations` calls on its own arrays, each checked.
  subroutine worker(thread, mismatches, failures, calls)
    integer, intent(in) :: thread        !< OpenMP thread number
    integer, intent(inout) :: mismatches !< outputs that differ from the expected ones
    integer, intent(inout) :: failures   !< calls that returned a non-zero stat
    integer, intent(inout) :: calls      !< calls made
    real(real32), allocatable, target :: x(:, :), y(:, :)
    real(real32), allocatable :: expected(:, :)
    type(torch_model) :: own_model
    character(len=1024) :: message
    integer :: it, i, j, stat
    allocate (x(n, n), y(n, n), expected(n, n))
    message = ""
    stat = 0
    if (case_name == "direct-per-thread") then
      call torch_model_load(own_model, path(model_file), stat=stat, errmsg=message)
      if (stat /= 0) then
        call record_failure(message, failures)
        return
      end if
    end if
    do it = 1, iterations
      do j = 1, n
        do i = 1, n
          x(i, j) = real(thread * 100000 + mod(it, 1000) * 100 + i + n * (j - 1), real32)
        end do
      end do
      expected = 2 * x
      expected(1, 2) = -expected(1, 2)
      y = -1
      select case (trim(case_name))
      case ("direct-shared")
        call direct_call(shared_model, x, y, stat, message)
      case ("direct-per-thread")
        call direct_call(own_model, x, y, stat, message)
      case ("embedded")
        call embedded_call(x, y, stat, message)
      end select
      calls = calls + 1
      if (stat /= 0) then
        call record_failure(message, failures)
      else if (maxval(abs(y - expected)) > 0) then
        mismatches = mismatches + 1
      end if
    end do
    if (case_name == "direct-per-thread") then
      call torch_model_delete(own_model, stat, message)
      if (stat /= 0) call record_failure(message, failures)
    end if
  end subroutine worker

  !> Wrap x and y, run the model, release the tensors.
  subroutine direct_call(model, x, y, stat, message)
    type(torch_model), intent(in) :: model
    real(real32), intent(in), target :: x(:, :)
    real(real32), intent(inout), target :: y(:, :)
    integer, intent(out) :: stat
    character(len=*), intent(inout) :: message
    type(torch_tensor) :: inputs(1), outputs(1)
    call torch_tensor_from_array(inputs(1), x, stat, message)
    if (stat == 0) call torch_tensor_from_array(outputs(1), y, stat, message)
    if (stat == 0) call torch_model_forward(model, inputs, outputs, stat, message)
    call torch_tensor_delete(inputs(1))
    call torch_tensor_delete(outputs(1))
  end subroutine direct_call

  !> View x and y as NumPy arrays and call the emulator's compute on them.
  subroutine embedded_call(x, y, stat, message)
    real(real32), intent(in), target :: x(:, :)
    real(real32), intent(inout), target :: y(:, :)
    integer, intent(out) :: stat
    character(len=*), intent(inout) :: message
    type(py_object) :: xs, ys
    call py_array_from(xs, x, stat, message)
    if (stat == 0) call py_array_from(ys, y, stat, message)
    if (stat == 0) call py_call(emulator, "compute", [py_model, xs, ys], stat=stat, errmsg=message)
    call py_object_destroy(xs)
    call py_object_destroy(ys)
  end subroutine embedded_call

  subroutine record_failure(message, failures)
    character(len=*), intent(in) :: message
    integer, intent(inout) :: failures
    failures = failures + 1
    !$omp critical (first_failure_text)
    if (len_trim(first_failure) == 0) first_failure = message
    !$omp end critical (first_failure_text)
  end subroutine record_failure

end program test_concurrency
