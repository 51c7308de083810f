!> couple_both -- uses both installed coupling layers, as a model code would.
!>
!> Usage: couple_both MODEL
!>   MODEL  a TorchScript file (.pt) or AOTInductor package (.pt2) whose
!>          forward(x) returns 2 * x for a float64 tensor of shape [2, 3].
!> The direct layer runs MODEL on a 2 x 3 Fortran array; the embedded layer
!> starts Python and sums the same array through a NumPy view (no copy).
!> Prints one line per layer; on any error, one line naming it and exit code 1.
program couple_both
  use, intrinsic :: iso_fortran_env, only: error_unit, real64
  use torch_coupling, only: torch_model, torch_tensor, torch_model_load, torch_model_forward, &
                            torch_tensor_from_array, torch_tensor_delete, torch_model_delete
  use py_embedding, only: py_object, py_initialize, py_import, py_array_from, py_call, &
                          py_object_to, py_object_destroy, py_finalize
  implicit none
  real(real64), target :: x(2, 3), y(2, 3)
  character(len=4096) :: model_path
  character(len=4096) :: errmsg
  type(torch_model) :: model
  type(torch_tensor) :: inputs(1), outputs(1)
  type(py_object) :: numpy, view, total
  real(real64) :: sum_from_python
  integer :: stat

  if (command_argument_count() /= 1) call fail("usage: couple_both MODEL (a model whose forward(x) is 2 * x)")
  call get_command_argument(1, model_path)
  x = reshape([1, 2, 3, 4, 5, 6], shape(x))

  ! Direct: libtorch on tensors over x and y.
  call torch_model_load(model, model_path, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call torch_tensor_from_array(inputs(1), x, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call torch_tensor_from_array(outputs(1), y, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call torch_model_forward(model, inputs, outputs, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  if (any(y /= 2 * x)) call fail("direct: forward(x) is not 2 * x")
  call torch_tensor_delete(inputs(1))
  call torch_tensor_delete(outputs(1))
  call torch_model_delete(model)
  print '(a, 6f5.1)', "direct: forward(x) =", y

  ! Embedded: numpy.sum over a view of x.
  call py_initialize(stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call py_import(numpy, "numpy", stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call py_array_from(view, x, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call py_call(numpy, "sum", [view], total, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  call py_object_to(total, sum_from_python, stat=stat, errmsg=errmsg)
  if (stat /= 0) call fail(errmsg)
  if (sum_from_python /= sum(x)) call fail("embedded: numpy.sum(x) differs from sum(x)")
  call py_object_destroy(total)
  call py_object_destroy(view)
  call py_object_destroy(numpy)
  call py_finalize()
  print '(a, f5.1)', "embedded: numpy.sum(x) =", sum_from_python

contains

  !> Print `message` on standard error and stop with exit code 1.
  subroutine fail(message)
    character(len=*), intent(in) :: message  !< what went wrong
    write (error_unit, '(a)') "couple_both: " // trim(message)
    stop 1, quiet=.true.
  end subroutine fail

end program couple_both
