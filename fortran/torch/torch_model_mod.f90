!> torch_model_mod -- TorchScript models: load, forward, delete.
!>
!> A model is loaded from a TorchScript file (torch.jit.save) onto a device,
!> in eval mode. torch_model_forward runs model.forward(inputs...) under
!> c10::InferenceMode (no autograd bookkeeping) and writes each result into
!> the caller-owned array wrapped by the matching output tensor (in place; a
!> tuple result fills several output tensors in order).
module torch_model_mod
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_int
  use coupling_status, only: status_clear, status_fail
  use coupling_strings, only: string_to_c, string_from_c
  use torch_c_bindings, only: torch_c_model_load, torch_c_model_delete, torch_c_model_forward, &
                              torch_c_model_metadata, torch_c_model_output_signature, &
                              torch_fail_from_c
  use torch_tensor_mod, only: torch_tensor
  implicit none
  private

  public :: torch_model, torch_model_load, torch_model_forward, torch_model_delete
  public :: torch_model_metadata, torch_model_output_signature
  public :: torch_kCPU, torch_kCUDA

  !> Device types (numbered as c10::DeviceType).
  integer, parameter :: torch_kCPU = 0   !< the CPU
  integer, parameter :: torch_kCUDA = 1  !< an NVIDIA GPU (needs a CUDA build of libtorch)

  !> Handle to a model (TorchScript module or AOTInductor package) owned by the C++ shim.
  type :: torch_model
    type(c_ptr) :: handle = c_null_ptr  !< opaque model pointer, null when not loaded
  end type torch_model

contains

  !> Load a model onto a device: a TorchScript file (eval mode), or an
  !> AOTInductor package when `path` ends in ".pt2" (docs/direct-coupling.md).
  !> Errors: no such file, not a TorchScript archive or package, a package
  !> without ftbench's input signature or compiled by another torch version, a
  !> CUDA device requested from a CPU-only libtorch.
  subroutine torch_model_load(model, path, device_type, device_index, stat, errmsg)
    type(torch_model), intent(out) :: model              !< loaded model
    character(len=*), intent(in) :: path                 !< .pt (TorchScript) or .pt2 file (trailing blanks ignored)
    integer, intent(in), optional :: device_type         !< torch_kCPU (default) or torch_kCUDA
    integer, intent(in), optional :: device_index        !< device number, default -1 (current device)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    integer(c_int) :: dev_type, dev_index
    call status_clear(stat)
    dev_type = torch_kCPU
    dev_index = -1
    if (present(device_type)) dev_type = int(device_type, c_int)
    if (present(device_index)) dev_index = int(device_index, c_int)
    if (torch_c_model_load(string_to_c(trim(path)), dev_type, dev_index, model%handle) /= 0) &
      call torch_fail_from_c("torch_model_load", stat, errmsg)
  end subroutine torch_model_load

  !> Run forward on the input tensors and write the result(s) into the arrays
  !> wrapped by the output tensors. Shapes and dtypes must match the model's
  !> results exactly (no broadcasting or conversion).
  !> Errors: a model that is not loaded, an exception raised by the model (wrong
  !> dtype, rank or shape of an input), a result count, shape or dtype that does
  !> not match the output tensors; for a package, any input that does not match
  !> its signature (count, dtype, rank, size out of the exported range, a
  !> non-contiguous or non-column-major array), checked before it runs.
  subroutine torch_model_forward(model, inputs, outputs, stat, errmsg)
    type(torch_model), intent(in) :: model               !< loaded model
    type(torch_tensor), intent(in) :: inputs(:)          !< forward's positional arguments, in order
    type(torch_tensor), intent(in) :: outputs(:)         !< tensors over the arrays to fill, in order
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    type(c_ptr) :: input_handles(size(inputs)), output_handles(size(outputs))
    integer :: i
    call status_clear(stat)
    if (.not. c_associated(model%handle)) then
      call status_fail("torch_model_forward", "model is not loaded (call torch_model_load first)", &
                       stat, errmsg)
      return
    end if
    do i = 1, size(inputs)
      input_handles(i) = inputs(i)%handle
    end do
    do i = 1, size(outputs)
      output_handles(i) = outputs(i)%handle
    end do
    if (torch_c_model_forward(model%handle, int(size(inputs), c_int), input_handles, &
                              int(size(outputs), c_int), output_handles) /= 0) &
      call torch_fail_from_c("torch_model_forward", stat, errmsg)
  end subroutine torch_model_forward

  !> Run forward once on the input tensors and describe its results instead of
  !> copying them: `signature` is "SIZExSIZE...:DTYPE" per output, comma
  !> separated, sizes in PyTorch's order (which is the Fortran order of an array
  !> that torch_tensor_from_array wraps), e.g. "2x1000:float32"; a 0-dimensional
  !> result is "scalar:DTYPE". Allocate output arrays of those extents, wrap
  !> them, and torch_model_forward fills them. The call costs one forward.
  !> Errors: as torch_model_forward's for the inputs; a result that is not a tensor.
  subroutine torch_model_output_signature(model, inputs, signature, stat, errmsg)
    type(torch_model), intent(in) :: model                   !< loaded model
    type(torch_tensor), intent(in) :: inputs(:)              !< forward's positional arguments, in order
    character(len=:), allocatable, intent(out) :: signature  !< the outputs' shapes and dtypes ("" on failure)
    integer, intent(out), optional :: stat                   !< 0 on success
    character(len=*), intent(inout), optional :: errmsg      !< message on failure
    type(c_ptr) :: input_handles(size(inputs)), text
    integer :: i
    call status_clear(stat)
    signature = ""
    do i = 1, size(inputs)
      input_handles(i) = inputs(i)%handle
    end do
    if (torch_c_model_output_signature(model%handle, int(size(inputs), c_int), input_handles, text) /= 0) then
      call torch_fail_from_c("torch_model_output_signature", stat, errmsg)
      return
    end if
    signature = string_from_c(text)
  end subroutine torch_model_output_signature

  !> Metadata saved with the model: the text of the extra file "metadata.json"
  !> in the TorchScript archive (torch.jit.save(..., _extra_files=...)), or ""
  !> when there is none (or the model is not loaded).
  function torch_model_metadata(model) result(text)
    type(torch_model), intent(in) :: model   !< loaded model
    character(len=:), allocatable :: text    !< metadata text, usually JSON
    text = ""
    if (c_associated(model%handle)) text = string_from_c(torch_c_model_metadata(model%handle))
  end function torch_model_metadata

  !> Release a model. Deleting a model that is not loaded does nothing.
  subroutine torch_model_delete(model, stat, errmsg)
    type(torch_model), intent(inout) :: model            !< model to release; null afterwards
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (.not. c_associated(model%handle)) return
    if (torch_c_model_delete(model%handle) /= 0) then
      call torch_fail_from_c("torch_model_delete", stat, errmsg)
      return
    end if
    model%handle = c_null_ptr
  end subroutine torch_model_delete

end module torch_model_mod
