!> torch_coupling -- the direct (libtorch) coupling layer in one USE.
!>
!> `use torch_coupling` gives torch_tensor (torch_tensor_mod), torch_model
!> (torch_model_mod), the runtime settings (torch_runtime_mod) and training:
!> autograd, loss and optimisers (torch_training_mod).
module torch_coupling
  use torch_tensor_mod
  use torch_model_mod
  use torch_runtime_mod
  use torch_training_mod
  implicit none
  public
end module torch_coupling
