!> torch_training_mod -- training a TorchScript model from Fortran (online
!> learning): forward with autograd, MSE loss, backward, SGD or Adam steps, and
!> gradients read into Fortran arrays without a copy.
!>
!> One training step, the arrays wrapped as in torch_tensor_mod:
!>
!>   call torch_optimizer_create(optimizer, model, torch_optimizer_adam, 1.0e-3_real64)
!>   call torch_optimizer_zero_grad(optimizer)
!>   call torch_model_forward_graph(model, [x_t], prediction)   ! prediction: a new tensor
!>   call torch_loss_mse(prediction, y_t, loss)                 ! loss: a new scalar tensor
!>   call torch_tensor_backward(loss)
!>   call torch_optimizer_step(optimizer)
!>   call torch_tensor_to_array(loss, loss_value)               ! real(real64) scalar
!>   call torch_tensor_delete(loss); call torch_tensor_delete(prediction)
!>
!> The gradient of an input: torch_tensor_requires_grad(x_t, .true.) and
!> torch_tensor_attach_grad(x_t, dx) with a Fortran array dx of x's shape and
!> kind; backward then accumulates d loss / d x into dx in place (dx is the
!> tensor's .grad: no copy; set dx = 0 before the next backward).
!>
!> A forward with autograd keeps references to its inputs (the Fortran arrays)
!> until backward: leave them unchanged until then. AOTInductor packages run
!> forward only and are refused with a message saying so. Errors come back
!> through stat/errmsg as everywhere in the layer (coupling_status).
!> Upstream behaviour: torch::optim::SGD and Adam with their defaults but the
!> learning rate; torch::mse_loss with mean reduction (Python:
!> torch.nn.functional.mse_loss), here without broadcasting.
module torch_training_mod
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_int, c_float, c_double
  use coupling_status, only: status_clear
  use coupling_strings, only: string_to_c
  use torch_c_bindings, only: torch_c_tensor_set_requires_grad, torch_c_tensor_attach_grad, &
                              torch_c_tensor_to_array, torch_c_model_train, &
                              torch_c_model_forward_graph, torch_c_loss_mse, torch_c_tensor_backward, &
                              torch_c_optimizer_create, torch_c_optimizer_zero_grad, &
                              torch_c_optimizer_step, torch_c_optimizer_delete, torch_c_model_save, &
                              torch_fail_from_c
  use torch_tensor_mod, only: torch_tensor
  use torch_model_mod, only: torch_model
  implicit none
  private

  public :: torch_optimizer, torch_optimizer_create, torch_optimizer_zero_grad, torch_optimizer_step
  public :: torch_optimizer_delete, torch_optimizer_sgd, torch_optimizer_adam
  public :: torch_tensor_requires_grad, torch_tensor_attach_grad, torch_tensor_to_array
  public :: torch_tensor_backward, torch_model_train, torch_model_forward_graph, torch_loss_mse
  public :: torch_model_save

  integer, parameter :: torch_optimizer_sgd = 0   !< torch::optim::SGD (plain gradient descent)
  integer, parameter :: torch_optimizer_adam = 1  !< torch::optim::Adam (betas 0.9, 0.999; eps 1e-8)

  !> Handle to an optimiser owned by the C++ shim.
  type :: torch_optimizer
    type(c_ptr) :: handle = c_null_ptr  !< opaque pointer, null when not created
  end type torch_optimizer

  !> torch_tensor_attach_grad(tensor, grad): make the real32 or real64 array
  !> `grad` (any rank, the tensor's shape and kind) the tensor's gradient, zeroed.
  interface torch_tensor_attach_grad
    module procedure attach_grad_real32, attach_grad_real64
  end interface torch_tensor_attach_grad

  !> torch_tensor_to_array(tensor, array): copy a tensor's values into a real32
  !> or real64 array (or scalar, for a 0-dimensional tensor such as a loss) of
  !> the same shape and kind.
  interface torch_tensor_to_array
    module procedure to_array_real32, to_array_real64
  end interface torch_tensor_to_array

contains

  !> Make a tensor over a float32/float64 array require grad (or stop it).
  !> Errors: a tensor computed by the model (not a leaf), an integer dtype.
  subroutine torch_tensor_requires_grad(tensor, requires_grad, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor             !< tensor over an array
    logical, intent(in) :: requires_grad                 !< .true.: autograd tracks it
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_set_requires_grad(tensor%handle, merge(1_c_int, 0_c_int, requires_grad)) /= 0) &
      call torch_fail_from_c("torch_tensor_requires_grad", stat, errmsg)
  end subroutine torch_tensor_requires_grad

  !> See torch_tensor_attach_grad. Errors: the tensor does not require grad; a
  !> shape or kind that differs from the tensor's.
  subroutine attach_grad_real32(tensor, grad, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor                  !< tensor that requires grad
    real(c_float), dimension(..), intent(inout), target :: grad  !< its gradient, zeroed here
    integer, intent(out), optional :: stat                    !< 0 on success
    character(len=*), intent(inout), optional :: errmsg       !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_attach_grad(tensor%handle, grad) /= 0) &
      call torch_fail_from_c("torch_tensor_attach_grad", stat, errmsg)
  end subroutine attach_grad_real32

  !> See torch_tensor_attach_grad.
  subroutine attach_grad_real64(tensor, grad, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor                   !< tensor that requires grad
    real(c_double), dimension(..), intent(inout), target :: grad  !< its gradient, zeroed here
    integer, intent(out), optional :: stat                     !< 0 on success
    character(len=*), intent(inout), optional :: errmsg        !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_attach_grad(tensor%handle, grad) /= 0) &
      call torch_fail_from_c("torch_tensor_attach_grad", stat, errmsg)
  end subroutine attach_grad_real64

  !> See torch_tensor_to_array. Errors: a shape or kind that differs from the tensor's.
  subroutine to_array_real32(tensor, array, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor                   !< tensor to read
    real(c_float), dimension(..), intent(inout), target :: array  !< receives its values
    integer, intent(out), optional :: stat                     !< 0 on success
    character(len=*), intent(inout), optional :: errmsg        !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_to_array(tensor%handle, array) /= 0) &
      call torch_fail_from_c("torch_tensor_to_array", stat, errmsg)
  end subroutine to_array_real32

  !> See torch_tensor_to_array.
  subroutine to_array_real64(tensor, array, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor                    !< tensor to read
    real(c_double), dimension(..), intent(inout), target :: array  !< receives its values
    integer, intent(out), optional :: stat                      !< 0 on success
    character(len=*), intent(inout), optional :: errmsg         !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_to_array(tensor%handle, array) /= 0) &
      call torch_fail_from_c("torch_tensor_to_array", stat, errmsg)
  end subroutine to_array_real64

  !> Switch the model's training mode (module.train(train): dropout on,
  !> batch norm using batch statistics); models load in eval mode.
  !> Errors: a model that is not loaded, an AOTInductor package.
  subroutine torch_model_train(model, train, stat, errmsg)
    type(torch_model), intent(in) :: model               !< loaded TorchScript model
    logical, intent(in) :: train                         !< .true.: training mode
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_model_train(model%handle, merge(1_c_int, 0_c_int, train)) /= 0) &
      call torch_fail_from_c("torch_model_train", stat, errmsg)
  end subroutine torch_model_train

  !> Forward with autograd: `output` becomes a new tensor (delete it with
  !> torch_tensor_delete) holding the model's single result and the graph that
  !> backward follows. Errors: as torch_model_forward; an AOTInductor package;
  !> a model that returns more than one value.
  subroutine torch_model_forward_graph(model, inputs, output, stat, errmsg)
    type(torch_model), intent(in) :: model               !< loaded TorchScript model
    type(torch_tensor), intent(in) :: inputs(:)          !< input tensors, in forward's order
    type(torch_tensor), intent(out) :: output            !< new tensor: the result
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    type(c_ptr) :: handles(size(inputs))
    integer :: k
    call status_clear(stat)
    do k = 1, size(inputs)
      handles(k) = inputs(k)%handle
    end do
    if (torch_c_model_forward_graph(model%handle, int(size(inputs), c_int), handles, output%handle) /= 0) &
      call torch_fail_from_c("torch_model_forward_graph", stat, errmsg)
  end subroutine torch_model_forward_graph

  !> loss = mean((prediction - target)**2), a new 0-dimensional tensor with its
  !> graph. Errors: shapes or dtypes that differ (no broadcasting).
  subroutine torch_loss_mse(prediction, target, loss, stat, errmsg)
    type(torch_tensor), intent(in) :: prediction         !< e.g. from torch_model_forward_graph
    type(torch_tensor), intent(in) :: target             !< e.g. over a Fortran array
    type(torch_tensor), intent(out) :: loss              !< new scalar tensor
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_loss_mse(prediction%handle, target%handle, loss%handle) /= 0) &
      call torch_fail_from_c("torch_loss_mse", stat, errmsg)
  end subroutine torch_loss_mse

  !> Backward from a scalar (a loss): gradients accumulate into the model's
  !> parameters and into every attached gradient array.
  !> Errors: a tensor that does not require grad; a tensor of more than one element.
  subroutine torch_tensor_backward(tensor, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor             !< scalar tensor with a graph
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_backward(tensor%handle) /= 0) &
      call torch_fail_from_c("torch_tensor_backward", stat, errmsg)
  end subroutine torch_tensor_backward

  !> An optimiser over the model's parameters that require grad (delete it
  !> before the model). Errors: an AOTInductor package; a model whose
  !> parameters are all frozen; a learning rate <= 0; an unknown kind.
  subroutine torch_optimizer_create(optimizer, model, kind, learning_rate, stat, errmsg)
    type(torch_optimizer), intent(out) :: optimizer      !< new optimiser
    type(torch_model), intent(in) :: model               !< loaded TorchScript model
    integer, intent(in) :: kind                          !< torch_optimizer_sgd or torch_optimizer_adam
    real(c_double), intent(in) :: learning_rate          !< step size, > 0
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_optimizer_create(model%handle, int(kind, c_int), learning_rate, optimizer%handle) /= 0) &
      call torch_fail_from_c("torch_optimizer_create", stat, errmsg)
  end subroutine torch_optimizer_create

  !> Clear the parameters' gradients (torch's zero_grad: set to none).
  subroutine torch_optimizer_zero_grad(optimizer, stat, errmsg)
    type(torch_optimizer), intent(in) :: optimizer       !< optimiser
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_optimizer_zero_grad(optimizer%handle) /= 0) &
      call torch_fail_from_c("torch_optimizer_zero_grad", stat, errmsg)
  end subroutine torch_optimizer_zero_grad

  !> Update the parameters in place from their gradients (one optimiser step).
  subroutine torch_optimizer_step(optimizer, stat, errmsg)
    type(torch_optimizer), intent(in) :: optimizer       !< optimiser
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_optimizer_step(optimizer%handle) /= 0) &
      call torch_fail_from_c("torch_optimizer_step", stat, errmsg)
  end subroutine torch_optimizer_step

  !> Release an optimiser (nothing happens for one never created).
  subroutine torch_optimizer_delete(optimizer, stat, errmsg)
    type(torch_optimizer), intent(inout) :: optimizer    !< optimiser; null afterwards
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (.not. c_associated(optimizer%handle)) return
    if (torch_c_optimizer_delete(optimizer%handle) /= 0) then
      call torch_fail_from_c("torch_optimizer_delete", stat, errmsg)
      return
    end if
    optimizer%handle = c_null_ptr
  end subroutine torch_optimizer_delete

  !> Save a TorchScript model with its current (trained) weights; Python loads
  !> it with torch.jit.load. Errors: an unwritable path, an AOTInductor package.
  subroutine torch_model_save(model, path, stat, errmsg)
    type(torch_model), intent(in) :: model               !< loaded TorchScript model
    character(len=*), intent(in) :: path                 !< file to write (trailing blanks ignored)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_model_save(model%handle, string_to_c(trim(path))) /= 0) &
      call torch_fail_from_c("torch_model_save", stat, errmsg)
  end subroutine torch_model_save

end module torch_training_mod
