!> py_embedding -- the embedded-Python coupling layer in one USE.
!>
!> `use py_embedding` gives the interpreter (py_interpreter_mod) and Python
!> objects, calls and zero-copy NumPy arrays (py_object_mod).
module py_embedding
  use py_interpreter_mod
  use py_object_mod
  implicit none
  public
end module py_embedding
