!> test_torch_tensor -- zero-copy and layout of tensors over Fortran arrays.
!>
!> For real32, real64, int32 and int64 arrays of ranks 1 to 4 (and a strided
!> section), wraps the array with torch_tensor_from_array and prints one line
!>   <case> data_ptr=<hex> c_loc=<hex> sizes=... strides=...
!> then checks that the tensor's data pointer is the array's address, its sizes
!> are the Fortran extents and its strides are column-major. Prints
!> "ALL PASSED" and exits 0, or exits 1 at the first mismatch.
program test_torch_tensor
  use, intrinsic :: iso_c_binding, only: c_ptr, c_loc, c_intptr_t, c_int64_t, c_float, c_double, &
                                         c_int32_t
  use torch_coupling, only: torch_tensor, torch_tensor_from_array, torch_tensor_delete, &
                            torch_tensor_data_ptr, torch_tensor_layout
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  real(c_float), target :: r4_1(3), r4_2(3, 5), r4_3(3, 5, 2), r4_4(3, 5, 2, 4)
  real(c_double), target :: r8_1(3), r8_2(3, 5), r8_3(3, 5, 2), r8_4(3, 5, 2, 4)
  integer(c_int32_t), target :: i4_1(3), i4_2(3, 5), i4_3(3, 5, 2), i4_4(3, 5, 2, 4)
  integer(c_int64_t), target :: i8_1(3), i8_2(3, 5), i8_3(3, 5, 2), i8_4(3, 5, 2, 4)
  real(c_double), target :: big(6, 8)
  type(torch_tensor) :: t

  call torch_tensor_from_array(t, r4_1); call verify("real32 rank 1", t, c_loc(r4_1), shape(r4_1))
  call torch_tensor_from_array(t, r4_2); call verify("real32 rank 2", t, c_loc(r4_2), shape(r4_2))
  call torch_tensor_from_array(t, r4_3); call verify("real32 rank 3", t, c_loc(r4_3), shape(r4_3))
  call torch_tensor_from_array(t, r4_4); call verify("real32 rank 4", t, c_loc(r4_4), shape(r4_4))
  call torch_tensor_from_array(t, r8_1); call verify("real64 rank 1", t, c_loc(r8_1), shape(r8_1))
  call torch_tensor_from_array(t, r8_2); call verify("real64 rank 2", t, c_loc(r8_2), shape(r8_2))
  call torch_tensor_from_array(t, r8_3); call verify("real64 rank 3", t, c_loc(r8_3), shape(r8_3))
  call torch_tensor_from_array(t, r8_4); call verify("real64 rank 4", t, c_loc(r8_4), shape(r8_4))
  call torch_tensor_from_array(t, i4_1); call verify("int32 rank 1", t, c_loc(i4_1), shape(i4_1))
  call torch_tensor_from_array(t, i4_2); call verify("int32 rank 2", t, c_loc(i4_2), shape(i4_2))
  call torch_tensor_from_array(t, i4_3); call verify("int32 rank 3", t, c_loc(i4_3), shape(i4_3))
  call torch_tensor_from_array(t, i4_4); call verify("int32 rank 4", t, c_loc(i4_4), shape(i4_4))
  call torch_tensor_from_array(t, i8_1); call verify("int64 rank 1", t, c_loc(i8_1), shape(i8_1))
  call torch_tensor_from_array(t, i8_2); call verify("int64 rank 2", t, c_loc(i8_2), shape(i8_2))
  call torch_tensor_from_array(t, i8_3); call verify("int64 rank 3", t, c_loc(i8_3), shape(i8_3))
  call torch_tensor_from_array(t, i8_4); call verify("int64 rank 4", t, c_loc(i8_4), shape(i8_4))

  ! A strided section: every other row of columns 3..8, still no copy.
  call torch_tensor_from_array(t, big(2:6:2, 3:8))
  call verify_section(t)
  call not_created()
  print '(a)', "ALL PASSED"

contains

  subroutine verify(label, tensor, address, extents)
    character(len=*), intent(in) :: label
    type(torch_tensor), intent(inout) :: tensor
    type(c_ptr), intent(in) :: address
    integer, intent(in) :: extents(:)
    integer(c_int64_t), allocatable :: sizes(:), strides(:), expected_strides(:)
    integer :: d
    call torch_tensor_layout(tensor, sizes, strides)
    allocate (expected_strides(size(extents)))
    expected_strides(1) = 1
    do d = 2, size(extents)
      expected_strides(d) = expected_strides(d - 1) * extents(d - 1)
    end do
    call report(label, tensor, address, sizes, strides)
    if (.not. same_address(torch_tensor_data_ptr(tensor), address)) call fail(label, "data pointer differs")
    if (size(sizes) /= size(extents)) call fail(label, "rank differs")
    if (any(sizes /= extents)) call fail(label, "sizes differ from the Fortran shape")
    if (any(strides /= expected_strides)) call fail(label, "strides are not column-major")
    call torch_tensor_delete(tensor)
  end subroutine verify

  subroutine verify_section(tensor)
    type(torch_tensor), intent(inout) :: tensor
    integer(c_int64_t), allocatable :: sizes(:), strides(:)
    call torch_tensor_layout(tensor, sizes, strides)
    call report("real64 section big(2:6:2, 3:8)", tensor, c_loc(big(2, 3)), sizes, strides)
    if (.not. same_address(torch_tensor_data_ptr(tensor), c_loc(big(2, 3)))) &
      call fail("section", "data pointer differs")
    if (any(sizes /= [3, 6])) call fail("section", "sizes differ")
    if (any(strides /= [2, 6])) call fail("section", "strides differ from [2, 6]")
    call torch_tensor_delete(tensor)
  end subroutine verify_section

  !> A tensor that was never created (or was deleted): inspecting it fails through
  !> stat/errmsg; deleting it again does nothing. Prints "error <label>: <errmsg>".
  subroutine not_created()
    type(torch_tensor) :: never
    type(c_ptr) :: data
    integer(c_int64_t), allocatable :: sizes(:), strides(:)
    integer :: stat
    character(len=256) :: message
    data = torch_tensor_data_ptr(never, stat, message)
    if (stat == 0) call fail("data_ptr of a tensor never created", "stat is 0")
    print '(a)', "error data_ptr: " // trim(message)
    call torch_tensor_layout(never, sizes, strides, stat, message)
    if (stat == 0 .or. size(sizes) /= 0) call fail("layout of a tensor never created", "stat is 0")
    print '(a)', "error layout: " // trim(message)
    call torch_tensor_delete(never, stat)
    if (stat /= 0) call fail("deleting a tensor never created", "stat is not 0")
  end subroutine not_created

  subroutine report(label, tensor, address, sizes, strides)
    character(len=*), intent(in) :: label
    type(torch_tensor), intent(in) :: tensor
    type(c_ptr), intent(in) :: address
    integer(c_int64_t), intent(in) :: sizes(:), strides(:)
    print '(a, " data_ptr=", z0, " c_loc=", z0, " sizes=", *(i0, :, ","))', label, &
      transfer(torch_tensor_data_ptr(tensor), 0_c_intptr_t), transfer(address, 0_c_intptr_t), sizes
    print '(a, " strides=", *(i0, :, ","))', label, strides
  end subroutine report

  logical function same_address(a, b)
    type(c_ptr), intent(in) :: a, b
    same_address = transfer(a, 0_c_intptr_t) == transfer(b, 0_c_intptr_t)
  end function same_address

  subroutine fail(label, message)
    character(len=*), intent(in) :: label, message
    print '(a)', "FAILED " // label // ": " // message
    stop 1
  end subroutine fail

end program test_torch_tensor
