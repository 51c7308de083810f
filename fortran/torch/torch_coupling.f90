!> torch_coupling -- the direct (libtorch) coupling layer in one USE.
!>
!> `use torch_coupling` gives torch_tensor (torch_tensor_mod), torch_model
!> (torch_model_mod) and the runtime settings (torch_runtime_mod).
module torch_coupling
  use torch_tensor_mod
  use torch_model_mod
  use torch_runtime_mod
  implicit none
  public
end module torch_coupling
