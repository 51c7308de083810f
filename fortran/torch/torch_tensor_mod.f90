!> torch_tensor_mod -- tensors that wrap Fortran arrays without copying.
!>
!> torch_tensor_from_array(tensor, array) makes a libtorch tensor whose data
!> pointer is the array's address (torch::from_blob, no copy). The tensor keeps
!> the Fortran shape and index order: for a(n1, n2) the tensor has sizes
!> [n1, n2] and strides [1, n1] (column-major), so tensor element [i-1, j-1]
!> is a(i, j). Array sections with strides are wrapped with their strides.
!>
!> The array must have the TARGET attribute at the call site and must outlive
!> the tensor; delete the tensor with torch_tensor_delete before the array
!> goes out of scope or is deallocated. Tensors over arrays live on the CPU.
module torch_tensor_mod
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_int, c_int64_t, &
                                         c_float, c_double, c_int32_t
  use coupling_status, only: status_clear, status_fail
  use torch_c_bindings, only: torch_c_tensor_from_array, torch_c_tensor_delete, &
                              torch_c_tensor_data_ptr, torch_c_tensor_layout, torch_fail_from_c
  implicit none
  private

  public :: torch_tensor, torch_tensor_from_array, torch_tensor_delete
  public :: torch_tensor_data_ptr, torch_tensor_layout

  !> Handle to a libtorch tensor owned by the C++ shim.
  type :: torch_tensor
    type(c_ptr) :: handle = c_null_ptr  !< opaque torch::Tensor*, null when not created
  end type torch_tensor

  !> Wrap a real32, real64, int32 or int64 array of any rank (tested for
  !> ranks 1 to 4) as a tensor, without copying.
  !> Errors: an unallocated array, or a stride that is not a whole number of elements.
  interface torch_tensor_from_array
    module procedure tensor_from_real32, tensor_from_real64, tensor_from_int32, tensor_from_int64
  end interface torch_tensor_from_array

  !> Largest rank torch_tensor_layout reports (the Fortran 2018 maximum).
  integer, parameter :: max_rank = 15

contains

  !> Wrap a real32 array (dtype float32). See torch_tensor_from_array.
  subroutine tensor_from_real32(tensor, array, stat, errmsg)
    type(torch_tensor), intent(out) :: tensor            !< new tensor over `array`
    real(c_float), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_from_array(array, tensor%handle) /= 0) &
      call torch_fail_from_c("torch_tensor_from_array", stat, errmsg)
  end subroutine tensor_from_real32

  !> Wrap a real64 array (dtype float64). See torch_tensor_from_array.
  subroutine tensor_from_real64(tensor, array, stat, errmsg)
    type(torch_tensor), intent(out) :: tensor            !< new tensor over `array`
    real(c_double), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_from_array(array, tensor%handle) /= 0) &
      call torch_fail_from_c("torch_tensor_from_array", stat, errmsg)
  end subroutine tensor_from_real64

  !> Wrap an int32 array (dtype int32). See torch_tensor_from_array.
  subroutine tensor_from_int32(tensor, array, stat, errmsg)
    type(torch_tensor), intent(out) :: tensor            !< new tensor over `array`
    integer(c_int32_t), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_from_array(array, tensor%handle) /= 0) &
      call torch_fail_from_c("torch_tensor_from_array", stat, errmsg)
  end subroutine tensor_from_int32

  !> Wrap an int64 array (dtype int64). See torch_tensor_from_array.
  subroutine tensor_from_int64(tensor, array, stat, errmsg)
    type(torch_tensor), intent(out) :: tensor            !< new tensor over `array`
    integer(c_int64_t), dimension(..), intent(in), target :: array  !< array to wrap (not copied)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_tensor_from_array(array, tensor%handle) /= 0) &
      call torch_fail_from_c("torch_tensor_from_array", stat, errmsg)
  end subroutine tensor_from_int64

  !> Release a tensor (the wrapped array is untouched). Deleting a tensor that
  !> was never created, or twice, does nothing.
  subroutine torch_tensor_delete(tensor, stat, errmsg)
    type(torch_tensor), intent(inout) :: tensor          !< tensor to release; null afterwards
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (.not. c_associated(tensor%handle)) return
    if (torch_c_tensor_delete(tensor%handle) /= 0) then
      call torch_fail_from_c("torch_tensor_delete", stat, errmsg)
      return
    end if
    tensor%handle = c_null_ptr
  end subroutine torch_tensor_delete

  !> Address of the tensor's first element; equals c_loc of the wrapped array.
  !> Errors: a tensor that was not created.
  function torch_tensor_data_ptr(tensor, stat, errmsg) result(data)
    type(torch_tensor), intent(in) :: tensor             !< tensor to inspect
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    type(c_ptr) :: data                                  !< data pointer (c_null_ptr on failure)
    call status_clear(stat)
    data = c_null_ptr
    if (torch_c_tensor_data_ptr(tensor%handle, data) /= 0) &
      call torch_fail_from_c("torch_tensor_data_ptr", stat, errmsg)
  end function torch_tensor_data_ptr

  !> Sizes and strides (in elements) of a tensor, in tensor dimension order.
  !> For a tensor over a contiguous a(n1, n2): sizes = [n1, n2], strides = [1, n1].
  subroutine torch_tensor_layout(tensor, sizes, strides, stat, errmsg)
    type(torch_tensor), intent(in) :: tensor                       !< tensor to inspect
    integer(c_int64_t), allocatable, intent(out) :: sizes(:)       !< size of each dimension
    integer(c_int64_t), allocatable, intent(out) :: strides(:)     !< stride of each dimension, elements
    integer, intent(out), optional :: stat                         !< 0 on success
    character(len=*), intent(inout), optional :: errmsg            !< message on failure
    integer(c_int) :: rank
    integer(c_int64_t) :: all_sizes(max_rank), all_strides(max_rank)
    call status_clear(stat)
    allocate (sizes(0), strides(0))
    if (torch_c_tensor_layout(tensor%handle, int(max_rank, c_int), rank, all_sizes, all_strides) /= 0) then
      call torch_fail_from_c("torch_tensor_layout", stat, errmsg)
      return
    end if
    sizes = all_sizes(1:rank)
    strides = all_strides(1:rank)
  end subroutine torch_tensor_layout

end module torch_tensor_mod
