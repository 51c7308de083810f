!> cg_drag_torch_mod -- MiMA's machine-learned gravity-wave drag through the direct
!> (libtorch) coupling: the interface MiMA's cg_drag calls.
!>
!>   call cg_drag_ML_init(model_dir, model_name)   ! once: load the TorchScript model
!>   call cg_drag_ML(uuu, vvv, psfc, lat, gwfcng_x, gwfcng_y)   ! every step
!>   call cg_drag_ML_end()                         ! once
!>
!> cg_drag_ML views the (lon, lat, lev) fields as (ncol, lev) columns without
!> copying (rank-remapping pointers; column c = i + nlon*(j-1)), runs the model
!> once per wind component, and writes the drag into gwfcng_x and gwfcng_y.
!> Model: WaveNet-2, forward(wind (ncol, 40), lat (ncol, 1) in degrees,
!> psfc (ncol, 1) in Pa) -> drag (ncol, 40) in m/s^2, float64.
module cg_drag_torch_mod
  use, intrinsic :: iso_fortran_env, only: real64
  use coupling_status, only: status_clear
  use torch_coupling, only: torch_model, torch_tensor, torch_model_load, torch_model_forward, &
                            torch_model_delete, torch_tensor_from_array, torch_tensor_delete, &
                            torch_kCPU
  implicit none
  private

  public :: cg_drag_ML_init, cg_drag_ML, cg_drag_ML_end

  type(torch_model), save :: model  !< the loaded WaveNet-2

contains

  !> Load `model_dir`/`model_name` (TorchScript) on the CPU.
  !> Errors: as torch_model_load (missing or corrupt file).
  subroutine cg_drag_ML_init(model_dir, model_name, stat, errmsg)
    character(len=*), intent(in) :: model_dir            !< directory of the model
    character(len=*), intent(in) :: model_name           !< TorchScript file, e.g. cgdrag_cpu.pt
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call torch_model_load(model, trim(model_dir) // "/" // trim(model_name), torch_kCPU, &
                          stat=stat, errmsg=errmsg)
  end subroutine cg_drag_ML_init

  !> Gravity-wave drag for both wind components on (lon, lat, lev) fields.
  !> All arrays float64 and contiguous; lat in degrees, psfc in Pa, winds in m/s,
  !> drag in m/s^2. Errors: not initialised; the model rejects the inputs.
  subroutine cg_drag_ML(uuu, vvv, psfc, lat, gwfcng_x, gwfcng_y, stat, errmsg)
    real(real64), intent(in), target, contiguous :: uuu(:, :, :)       !< zonal wind (lon, lat, lev)
    real(real64), intent(in), target, contiguous :: vvv(:, :, :)       !< meridional wind
    real(real64), intent(in), target, contiguous :: psfc(:, :)         !< surface pressure (lon, lat)
    real(real64), intent(in), target, contiguous :: lat(:, :)          !< latitude (lon, lat)
    real(real64), intent(inout), target, contiguous :: gwfcng_x(:, :, :) !< drag from uuu
    real(real64), intent(inout), target, contiguous :: gwfcng_y(:, :, :) !< drag from vvv
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    real(real64), pointer :: lat_col(:, :), psfc_col(:, :)
    integer :: ncol, nlev
    call status_clear(stat)
    ncol = size(uuu, 1) * size(uuu, 2)
    nlev = size(uuu, 3)
    lat_col(1:ncol, 1:1) => lat
    psfc_col(1:ncol, 1:1) => psfc
    call one_component(uuu, gwfcng_x)
    if (present(stat)) then
      if (stat /= 0) return
    end if
    call one_component(vvv, gwfcng_y)

  contains

    subroutine one_component(wind, drag)
      real(real64), intent(in), target, contiguous :: wind(:, :, :)
      real(real64), intent(inout), target, contiguous :: drag(:, :, :)
      real(real64), pointer :: wind_col(:, :), drag_col(:, :)
      type(torch_tensor) :: inputs(3), outputs(1)
      wind_col(1:ncol, 1:nlev) => wind
      drag_col(1:ncol, 1:nlev) => drag
      call torch_tensor_from_array(inputs(1), wind_col)
      call torch_tensor_from_array(inputs(2), lat_col)
      call torch_tensor_from_array(inputs(3), psfc_col)
      call torch_tensor_from_array(outputs(1), drag_col)
      call torch_model_forward(model, inputs, outputs, stat=stat, errmsg=errmsg)
      call torch_tensor_delete(inputs(1))
      call torch_tensor_delete(inputs(2))
      call torch_tensor_delete(inputs(3))
      call torch_tensor_delete(outputs(1))
    end subroutine one_component

  end subroutine cg_drag_ML

  !> Release the model.
  subroutine cg_drag_ML_end(stat, errmsg)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call torch_model_delete(model, stat=stat, errmsg=errmsg)
  end subroutine cg_drag_ML_end

end module cg_drag_torch_mod
