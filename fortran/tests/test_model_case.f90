!> test_model_case -- the generic drivers' arrays (model_case): views of the
!> declared rank over each rank-1 buffer are the buffer itself (no copy), with
!> the declared extents and column-major strides once wrapped as a tensor, and
!> the inputs follow the shared rule.
!>
!> For float32 and float64 and ranks 1 to 4 (extents 3, 5, 2, 4: no two equal),
!> prints one line per case and "ALL PASSED", or "FAILED <case>: <why>" and exits 1.
program test_model_case
  use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_associated, c_int64_t
  use, intrinsic :: iso_fortran_env, only: int64
  use torch_coupling, only: torch_tensor, torch_tensor_from_array, torch_tensor_delete, &
                            torch_tensor_data_ptr, torch_tensor_layout
  use model_case, only: model_array, model_view, model_view_of, model_allocate, model_fill
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  integer(int64), parameter :: extents(4) = [3_int64, 5_int64, 2_int64, 4_int64]
  type(model_array), allocatable, target :: arrays(:)
  character(len=7), parameter :: dtypes(2) = [character(len=7) :: "float32", "float64"]
  integer :: k, rank, d

  do k = 1, 2
    do rank = 1, 4
      allocate (arrays(2))
      do d = 1, 2
        arrays(d)%dtype = dtypes(k)
        arrays(d)%shape = extents(1:rank)
      end do
      call model_allocate(arrays, "input")
      call model_fill(arrays)
      call verify(arrays(2), trim(dtypes(k)) // " rank " // achar(iachar("0") + rank))
      deallocate (arrays)
    end do
  end do
  print '(a)', "ALL PASSED"

contains

  !> Wrap the view of `array` (input 2 of its signature) and check address, layout and values.
  subroutine verify(array, label)
    type(model_array), intent(in), target :: array
    character(len=*), intent(in) :: label
    type(model_view) :: v
    type(torch_tensor) :: t
    type(c_ptr) :: address
    integer(c_int64_t), allocatable :: sizes(:), strides(:)
    integer(int64) :: expected_strides(4)
    integer :: n
    v = model_view_of(array)
    if (array%dtype == "float32") then
      address = c_loc(array%r32)
      ! Element L = 1 (from 0) of input m = 1 (from 0) is mod(L + 61, 4096) / 4096, exactly.
      if (nint(array%r32(2) * 4096) /= 1 + 61) call fail(label, "input rule")
      if (associated(v%s1)) call torch_tensor_from_array(t, v%s1)
      if (associated(v%s2)) call torch_tensor_from_array(t, v%s2)
      if (associated(v%s3)) call torch_tensor_from_array(t, v%s3)
      if (associated(v%s4)) call torch_tensor_from_array(t, v%s4)
    else
      address = c_loc(array%r64)
      if (nint(array%r64(2) * 4096) /= 1 + 61) call fail(label, "input rule")
      if (associated(v%d1)) call torch_tensor_from_array(t, v%d1)
      if (associated(v%d2)) call torch_tensor_from_array(t, v%d2)
      if (associated(v%d3)) call torch_tensor_from_array(t, v%d3)
      if (associated(v%d4)) call torch_tensor_from_array(t, v%d4)
    end if
    call torch_tensor_layout(t, sizes, strides)
    n = size(array%shape)
    expected_strides = [1_int64, extents(1), extents(1) * extents(2), extents(1) * extents(2) * extents(3)]
    print '(a, " rank=", i0, " sizes=", 4(i0, 1x))', label, size(sizes), sizes
    if (.not. same_address(torch_tensor_data_ptr(t), address)) call fail(label, "data pointer differs")
    if (size(sizes) /= n) call fail(label, "rank differs")
    if (any(sizes /= extents(1:n))) call fail(label, "sizes differ from the declared shape")
    if (any(strides /= expected_strides(1:n))) call fail(label, "strides are not column-major")
    call torch_tensor_delete(t)
  end subroutine verify

  logical function same_address(a, b)
    type(c_ptr), intent(in) :: a, b
    same_address = c_associated(a, b)
  end function same_address

  subroutine fail(label, why)
    character(len=*), intent(in) :: label, why
    print '(a)', "FAILED " // label // ": " // why
    stop 1, quiet=.true.
  end subroutine fail

end program test_model_case
