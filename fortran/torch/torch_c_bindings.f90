!> torch_c_bindings -- Fortran interfaces to the C ABI in torch_c_api.h.
!> Internal to the direct coupling layer: call sites use torch_coupling.
module torch_c_bindings
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_ptr, c_char, c_double
  use coupling_status, only: status_fail
  use coupling_strings, only: string_from_c
  implicit none
  private

  public :: torch_c_model_load, torch_c_model_delete, torch_c_model_forward, torch_c_model_metadata
  public :: torch_c_model_output_signature
  public :: torch_c_tensor_from_array, torch_c_tensor_delete, torch_c_tensor_data_ptr
  public :: torch_c_tensor_layout
  public :: torch_c_set_num_threads, torch_c_get_num_threads, torch_c_version
  public :: torch_c_cpu_capability, torch_c_config
  public :: torch_c_tensor_set_requires_grad, torch_c_tensor_attach_grad, torch_c_tensor_to_array
  public :: torch_c_model_train, torch_c_model_forward_graph, torch_c_loss_mse, torch_c_tensor_backward
  public :: torch_c_optimizer_create, torch_c_optimizer_zero_grad, torch_c_optimizer_step
  public :: torch_c_optimizer_delete, torch_c_model_save
  public :: torch_fail_from_c

  interface
    function torch_c_model_load(path, device_type, device_index, model) result(rc) &
        bind(C, name="torch_c_model_load")
      import :: c_int, c_ptr, c_char
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value, intent(in) :: device_type, device_index
      type(c_ptr), intent(out) :: model
      integer(c_int) :: rc
    end function torch_c_model_load

    function torch_c_model_delete(model) result(rc) bind(C, name="torch_c_model_delete")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: model
      integer(c_int) :: rc
    end function torch_c_model_delete

    function torch_c_model_metadata(model) result(text) bind(C, name="torch_c_model_metadata")
      import :: c_ptr
      type(c_ptr), value, intent(in) :: model
      type(c_ptr) :: text
    end function torch_c_model_metadata

    function torch_c_model_forward(model, n_inputs, inputs, n_outputs, outputs) result(rc) &
        bind(C, name="torch_c_model_forward")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: model
      integer(c_int), value, intent(in) :: n_inputs, n_outputs
      type(c_ptr), intent(in) :: inputs(*), outputs(*)
      integer(c_int) :: rc
    end function torch_c_model_forward

    function torch_c_model_output_signature(model, n_inputs, inputs, signature) result(rc) &
        bind(C, name="torch_c_model_output_signature")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: model
      integer(c_int), value, intent(in) :: n_inputs
      type(c_ptr), intent(in) :: inputs(*)
      type(c_ptr), intent(out) :: signature
      integer(c_int) :: rc
    end function torch_c_model_output_signature

    function torch_c_tensor_from_array(array, tensor) result(rc) &
        bind(C, name="torch_c_tensor_from_array")
      import :: c_int, c_ptr
      type(*), dimension(..), intent(in) :: array
      type(c_ptr), intent(out) :: tensor
      integer(c_int) :: rc
    end function torch_c_tensor_from_array

    function torch_c_tensor_delete(tensor) result(rc) bind(C, name="torch_c_tensor_delete")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      integer(c_int) :: rc
    end function torch_c_tensor_delete

    function torch_c_tensor_data_ptr(tensor, data) result(rc) bind(C, name="torch_c_tensor_data_ptr")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      type(c_ptr), intent(out) :: data
      integer(c_int) :: rc
    end function torch_c_tensor_data_ptr

    function torch_c_tensor_layout(tensor, max_rank, rank, sizes, strides) result(rc) &
        bind(C, name="torch_c_tensor_layout")
      import :: c_int, c_int64_t, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      integer(c_int), value, intent(in) :: max_rank
      integer(c_int), intent(out) :: rank
      integer(c_int64_t), intent(out) :: sizes(*), strides(*)
      integer(c_int) :: rc
    end function torch_c_tensor_layout

    function torch_c_tensor_set_requires_grad(tensor, requires_grad) result(rc) &
        bind(C, name="torch_c_tensor_set_requires_grad")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      integer(c_int), value, intent(in) :: requires_grad
      integer(c_int) :: rc
    end function torch_c_tensor_set_requires_grad

    function torch_c_tensor_attach_grad(tensor, grad) result(rc) &
        bind(C, name="torch_c_tensor_attach_grad")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      type(*), dimension(..), intent(in) :: grad
      integer(c_int) :: rc
    end function torch_c_tensor_attach_grad

    function torch_c_tensor_to_array(tensor, array) result(rc) bind(C, name="torch_c_tensor_to_array")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      type(*), dimension(..), intent(in) :: array
      integer(c_int) :: rc
    end function torch_c_tensor_to_array

    function torch_c_model_train(model, train) result(rc) bind(C, name="torch_c_model_train")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: model
      integer(c_int), value, intent(in) :: train
      integer(c_int) :: rc
    end function torch_c_model_train

    function torch_c_model_forward_graph(model, n_inputs, inputs, output) result(rc) &
        bind(C, name="torch_c_model_forward_graph")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: model
      integer(c_int), value, intent(in) :: n_inputs
      type(c_ptr), intent(in) :: inputs(*)
      type(c_ptr), intent(out) :: output
      integer(c_int) :: rc
    end function torch_c_model_forward_graph

    function torch_c_loss_mse(prediction, target, loss) result(rc) bind(C, name="torch_c_loss_mse")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: prediction, target
      type(c_ptr), intent(out) :: loss
      integer(c_int) :: rc
    end function torch_c_loss_mse

    function torch_c_tensor_backward(tensor) result(rc) bind(C, name="torch_c_tensor_backward")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: tensor
      integer(c_int) :: rc
    end function torch_c_tensor_backward

    function torch_c_optimizer_create(model, kind, learning_rate, optimizer) result(rc) &
        bind(C, name="torch_c_optimizer_create")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value, intent(in) :: model
      integer(c_int), value, intent(in) :: kind
      real(c_double), value, intent(in) :: learning_rate
      type(c_ptr), intent(out) :: optimizer
      integer(c_int) :: rc
    end function torch_c_optimizer_create

    function torch_c_optimizer_zero_grad(optimizer) result(rc) bind(C, name="torch_c_optimizer_zero_grad")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: optimizer
      integer(c_int) :: rc
    end function torch_c_optimizer_zero_grad

    function torch_c_optimizer_step(optimizer) result(rc) bind(C, name="torch_c_optimizer_step")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: optimizer
      integer(c_int) :: rc
    end function torch_c_optimizer_step

    function torch_c_optimizer_delete(optimizer) result(rc) bind(C, name="torch_c_optimizer_delete")
      import :: c_int, c_ptr
      type(c_ptr), value, intent(in) :: optimizer
      integer(c_int) :: rc
    end function torch_c_optimizer_delete

    function torch_c_model_save(model, path) result(rc) bind(C, name="torch_c_model_save")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value, intent(in) :: model
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int) :: rc
    end function torch_c_model_save

    function torch_c_set_num_threads(n) result(rc) bind(C, name="torch_c_set_num_threads")
      import :: c_int
      integer(c_int), value, intent(in) :: n
      integer(c_int) :: rc
    end function torch_c_set_num_threads

    function torch_c_get_num_threads() result(n) bind(C, name="torch_c_get_num_threads")
      import :: c_int
      integer(c_int) :: n
    end function torch_c_get_num_threads

    function torch_c_version() result(version) bind(C, name="torch_c_version")
      import :: c_ptr
      type(c_ptr) :: version
    end function torch_c_version

    function torch_c_cpu_capability() result(capability) bind(C, name="torch_c_cpu_capability")
      import :: c_ptr
      type(c_ptr) :: capability
    end function torch_c_cpu_capability

    function torch_c_config() result(config) bind(C, name="torch_c_config")
      import :: c_ptr
      type(c_ptr) :: config
    end function torch_c_config

    function torch_c_last_error() result(message) bind(C, name="torch_c_last_error")
      import :: c_ptr
      type(c_ptr) :: message
    end function torch_c_last_error
  end interface

contains

  !> Report the shim's last error as a failure of procedure `where`.
  subroutine torch_fail_from_c(where, stat, errmsg)
    character(len=*), intent(in) :: where                !< public procedure that failed
    integer, intent(out), optional :: stat               !< caller's status argument
    character(len=*), intent(inout), optional :: errmsg  !< caller's message argument
    call status_fail(where, string_from_c(torch_c_last_error()), stat, errmsg)
  end subroutine torch_fail_from_c

end module torch_c_bindings
