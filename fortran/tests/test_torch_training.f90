!> test_torch_training -- training through the direct layer (torch_training_mod),
!> driven by python/tests/test_training.py, which checks every number it prints
!> against PyTorch in Python.
!>
!> usage: test_torch_training <model-dir> <out-dir>
!>   <model-dir>/train_mlp.pt: float64, forward(x (5, 3)) -> (5, 2);
!>   <model-dir>/frozen_mlp.pt: the same with every parameter frozen.
!> Inputs: x(i, j) = sin(i + 3 j), target y(i, k) = cos(i k) / 2 (Fortran
!> indices; tensors [5, 3] and [5, 2] in that order).
!>
!> Prints (every number as es25.17):
!>   loss <value>                      MSE of the untrained model
!>   dx <15 values, column-major>      d loss / d x, read through the attached array
!>   dx_zero_copy <T|F>                the attached array holds it with no copy call
!>   sgd_losses <3 values>             losses of 3 SGD steps (lr 0.1)
!>   adam_losses <3 values>            losses of 3 Adam steps (lr 0.01), from the SGD weights
!>   error <case>: <message>           each refused operation, with its message
!> and saves <out-dir>/trained.pt (after both optimisers). Exits 1 on any
!> unexpected failure or a refused operation that was accepted.
program test_torch_training
  use, intrinsic :: iso_fortran_env, only: real64, output_unit
  use torch_coupling
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(torch_model) :: model, frozen, package
  type(torch_tensor) :: x_t, y_t, wrong_t, prediction, loss
  type(torch_optimizer) :: optimizer
  real(real64), target :: x(5, 3), y(5, 2), dx(5, 3), wrong(5, 3), loss_value, losses(3)
  character(len=1024) :: model_dir, out_dir
  character(len=512) :: message
  integer :: i, j, stat

  call get_command_argument(1, model_dir)
  call get_command_argument(2, out_dir)
  do j = 1, 3
    do i = 1, 5
      x(i, j) = sin(real(i + 3 * j, real64))
    end do
  end do
  do j = 1, 2
    do i = 1, 5
      y(i, j) = cos(real(i * j, real64)) / 2
    end do
  end do
  wrong = 0

  call torch_model_load(model, trim(model_dir) // "/train_mlp.pt")
  call torch_tensor_from_array(x_t, x)
  call torch_tensor_from_array(y_t, y)

  ! gradient with respect to the input, accumulated straight into dx
  call torch_tensor_requires_grad(x_t, .true.)
  dx = 1  ! attach zeroes it
  call torch_tensor_attach_grad(x_t, dx)
  call torch_model_forward_graph(model, [x_t], prediction)
  call torch_loss_mse(prediction, y_t, loss)
  call torch_tensor_backward(loss)
  call torch_tensor_to_array(loss, loss_value)
  write (output_unit, '(a, es25.17)') 'loss ', loss_value
  write (output_unit, '(a, 15es25.17)') 'dx ', dx
  write (output_unit, '(a, l1)') 'dx_zero_copy ', any(abs(dx) > 0)
  call torch_tensor_delete(loss)
  call torch_tensor_delete(prediction)
  call torch_tensor_requires_grad(x_t, .false.)

  call train(torch_optimizer_sgd, 0.1_real64)
  write (output_unit, '(a, 3es25.17)') 'sgd_losses ', losses
  call train(torch_optimizer_adam, 0.01_real64)
  write (output_unit, '(a, 3es25.17)') 'adam_losses ', losses
  call torch_model_save(model, trim(out_dir) // "/trained.pt")

  ! refused operations: each must fail with a message, never stop the program
  call torch_tensor_from_array(wrong_t, wrong)
  call torch_tensor_backward(x_t, stat=stat, errmsg=message)
  call expect_failure("backward of a tensor that does not require grad")
  call torch_model_forward_graph(model, [x_t], prediction)
  call torch_loss_mse(prediction, wrong_t, loss, stat=stat, errmsg=message)
  call expect_failure("loss of the wrong shape")
  call torch_tensor_backward(prediction, stat=stat, errmsg=message)
  call expect_failure("backward of a non-scalar")
  call torch_tensor_delete(prediction)
  call torch_model_load(frozen, trim(model_dir) // "/frozen_mlp.pt")
  call torch_optimizer_create(optimizer, frozen, torch_optimizer_adam, 0.01_real64, stat=stat, &
                              errmsg=message)
  call expect_failure("optimiser on a model with frozen parameters")
  call torch_optimizer_create(optimizer, model, torch_optimizer_sgd, -1.0_real64, stat=stat, &
                              errmsg=message)
  call expect_failure("negative learning rate")
  call torch_tensor_attach_grad(y_t, dx, stat=stat, errmsg=message)
  call expect_failure("gradient array on a tensor that does not require grad")
  call torch_tensor_to_array(x_t, losses, stat=stat, errmsg=message)
  call expect_failure("copy into an array of another shape")
  call torch_model_load(package, trim(model_dir) // "/large_stride_vectorized_cpu.pt2")
  call torch_optimizer_create(optimizer, package, torch_optimizer_sgd, 0.1_real64, stat=stat, &
                              errmsg=message)
  call expect_failure("optimiser on an AOTInductor package")
  call torch_model_save(model, "/nonexistent-directory/trained.pt", stat=stat, errmsg=message)
  call expect_failure("save to a directory that does not exist")

  call torch_tensor_delete(wrong_t)
  call torch_tensor_delete(x_t)
  call torch_tensor_delete(y_t)
  call torch_model_delete(package)
  call torch_model_delete(frozen)
  call torch_model_delete(model)
  write (output_unit, '(a)') 'ALL PASSED'

contains

  !> Three optimiser steps on (x, y); losses(k) is the loss before step k.
  subroutine train(kind, learning_rate)
    integer, intent(in) :: kind
    real(real64), intent(in) :: learning_rate
    integer :: step
    call torch_optimizer_create(optimizer, model, kind, learning_rate)
    do step = 1, 3
      call torch_optimizer_zero_grad(optimizer)
      call torch_model_forward_graph(model, [x_t], prediction)
      call torch_loss_mse(prediction, y_t, loss)
      call torch_tensor_backward(loss)
      call torch_optimizer_step(optimizer)
      call torch_tensor_to_array(loss, losses(step))
      call torch_tensor_delete(loss)
      call torch_tensor_delete(prediction)
    end do
    call torch_optimizer_delete(optimizer)
  end subroutine train

  subroutine expect_failure(what)
    character(len=*), intent(in) :: what
    if (stat == 0) then
      write (output_unit, '(a)') 'FAILED: accepted: ' // what
      stop 1
    end if
    write (output_unit, '(a)') 'error ' // what // ': ' // trim(message)
    message = ''
  end subroutine expect_failure

end program test_torch_training
