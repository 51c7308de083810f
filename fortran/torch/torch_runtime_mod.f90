!> torch_runtime_mod -- process-wide libtorch settings and facts.
module torch_runtime_mod
  use, intrinsic :: iso_c_binding, only: c_int
  use coupling_status, only: status_clear
  use coupling_strings, only: string_from_c
  use torch_c_bindings, only: torch_c_set_num_threads, torch_c_get_num_threads, torch_c_version, &
                              torch_c_cpu_capability, torch_c_config, &
                              torch_fail_from_c
  implicit none
  private

  public :: torch_set_num_threads, torch_get_num_threads, torch_version, torch_cpu_capability
  public :: torch_config

contains

  !> Set the number of intra-op threads libtorch uses (at::set_num_threads).
  !> Errors: n < 1.
  subroutine torch_set_num_threads(n, stat, errmsg)
    integer, intent(in) :: n                             !< threads, >= 1
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (torch_c_set_num_threads(int(n, c_int)) /= 0) &
      call torch_fail_from_c("torch_set_num_threads", stat, errmsg)
  end subroutine torch_set_num_threads

  !> Number of intra-op threads libtorch uses now (at::get_num_threads).
  integer function torch_get_num_threads()
    torch_get_num_threads = int(torch_c_get_num_threads())
  end function torch_get_num_threads

  !> Version of the libtorch the shim was built against, e.g. "2.13.0".
  function torch_version() result(version)
    character(len=:), allocatable :: version  !< version string
    version = string_from_c(torch_c_version())
  end function torch_version

  !> CPU capability libtorch dispatches its kernels to (at::get_cpu_capability()),
  !> e.g. "AVX512" or "AVX2": rounding of float results can depend on it.
  function torch_cpu_capability() result(capability)
    character(len=:), allocatable :: capability  !< capability name
    capability = string_from_c(torch_c_cpu_capability())
  end function torch_cpu_capability

  !> How libtorch was built (at::show_config(), as torch.__config__.show()):
  !> compiler, BLAS ("BLAS_INFO=mkl"), oneDNN, OpenMP, build settings.
  function torch_config() result(config)
    character(len=:), allocatable :: config  !< multi-line text
    config = string_from_c(torch_c_config())
  end function torch_config

end module torch_runtime_mod
