!> cg_drag_forpy_mod -- MiMA's machine-learned gravity-wave drag through the embedded
!> Python coupling (the forpy path): the interface MiMA's cg_drag calls.
!>
!>   call cg_drag_ML_init(model_dir, model_name [, torchscript, checkpoint, aoti, compiled])
!>   call cg_drag_ML(uuu, vvv, psfc, lat, gwfcng_x, gwfcng_y)   ! every step
!>   call cg_drag_ML_end()
!>
!> cg_drag_ML_init starts the venv's Python (unless already running), puts
!> model_dir on sys.path, imports the module `model_name` (e.g. cgdrag_emulator)
!> and gets the model from its initialize(checkpoint), initialize_ts(torchscript)
!> or initialize_aoti(aoti) (an AOTInductor package), or with compiled=.true.
!> initialize_compiled(checkpoint) (torch.compile, compiled on the first call).
!> cg_drag_ML passes the (lon, lat, lev) arrays as NumPy views (no copy) to
!> compute_reshape_drag(model, wind, lat, p_surf, Y_out, num_col), once per wind
!> component; the Python side views them as (ncol, 40) columns.
module cg_drag_forpy_mod
  use, intrinsic :: iso_fortran_env, only: real64
  use coupling_status, only: status_clear, status_fail
  use py_embedding, only: py_object, py_initialize, py_is_initialized, py_finalize, py_path_append, &
                          py_import, py_call, py_object_from, py_array_from, py_object_destroy
  implicit none
  private

  public :: cg_drag_ML_init, cg_drag_ML, cg_drag_ML_end

  type(py_object), save :: emulator  !< the imported module
  type(py_object), save :: model     !< the model it returned
  logical, save :: started_python = .false.  !< this module started the interpreter

contains

  !> Import `model_name` from `model_dir` and build or load the model.
  !> Errors: Python cannot start; the module is missing; initialize fails (with traceback).
  subroutine cg_drag_ML_init(model_dir, model_name, torchscript, checkpoint, aoti, compiled, stat, errmsg)
    character(len=*), intent(in) :: model_dir             !< directory of the module
    character(len=*), intent(in) :: model_name            !< Python module, e.g. cgdrag_emulator
    character(len=*), intent(in), optional :: torchscript !< TorchScript file: use initialize_ts
    character(len=*), intent(in), optional :: checkpoint  !< checkpoint for initialize (default: synthetic)
    character(len=*), intent(in), optional :: aoti        !< AOTInductor package: use initialize_aoti
    logical, intent(in), optional :: compiled             !< .true.: initialize_compiled(checkpoint)
    integer, intent(out), optional :: stat                !< 0 on success
    character(len=*), intent(inout), optional :: errmsg   !< message on failure
    type(py_object) :: arg
    character(len=8192) :: message
    character(len=:), allocatable :: initializer
    integer :: status
    call status_clear(stat)
    status = 0
    if (.not. py_is_initialized()) then
      call py_initialize(stat=status, errmsg=message)
      if (status /= 0) then
        call report(status, message, stat, errmsg)
        return
      end if
      started_python = .true.
    end if
    call py_path_append(model_dir, stat=status, errmsg=message)
    if (status == 0) call py_import(emulator, model_name, stat=status, errmsg=message)
    if (status == 0) then
      if (present(torchscript)) then
        call py_object_from(arg, torchscript)
        call py_call(emulator, "initialize_ts", [arg], model, stat=status, errmsg=message)
      else if (present(aoti)) then
        call py_object_from(arg, aoti)
        call py_call(emulator, "initialize_aoti", [arg], model, stat=status, errmsg=message)
      else
        initializer = "initialize"
        if (present(compiled)) then
          if (compiled) initializer = "initialize_compiled"
        end if
        if (present(checkpoint)) then
          call py_object_from(arg, checkpoint)
          call py_call(emulator, initializer, [arg], model, stat=status, errmsg=message)
        else
          call py_call(emulator, initializer, result=model, stat=status, errmsg=message)
        end if
      end if
      call py_object_destroy(arg)
    end if
    call report(status, message, stat, errmsg)
  end subroutine cg_drag_ML_init

  !> Gravity-wave drag for both wind components on (lon, lat, lev) fields.
  !> All arrays float64; lat in degrees, psfc in Pa, winds in m/s, drag in m/s^2.
  !> Errors: not initialised; an exception in compute_reshape_drag (with traceback).
  subroutine cg_drag_ML(uuu, vvv, psfc, lat, gwfcng_x, gwfcng_y, stat, errmsg)
    real(real64), intent(in), target :: uuu(:, :, :)       !< zonal wind (lon, lat, lev)
    real(real64), intent(in), target :: vvv(:, :, :)       !< meridional wind
    real(real64), intent(in), target :: psfc(:, :)         !< surface pressure (lon, lat)
    real(real64), intent(in), target :: lat(:, :)          !< latitude (lon, lat)
    real(real64), intent(inout), target :: gwfcng_x(:, :, :) !< drag from uuu
    real(real64), intent(inout), target :: gwfcng_y(:, :, :) !< drag from vvv
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    type(py_object) :: lat_a, psfc_a, ncol_a, wind_a, drag_a
    character(len=8192) :: message
    integer :: status
    call status_clear(stat)
    call py_array_from(lat_a, lat)
    call py_array_from(psfc_a, psfc)
    call py_object_from(ncol_a, size(uuu, 1) * size(uuu, 2))
    call py_array_from(wind_a, uuu)
    call py_array_from(drag_a, gwfcng_x)
    call py_call(emulator, "compute_reshape_drag", [model, wind_a, lat_a, psfc_a, drag_a, ncol_a], &
                 stat=status, errmsg=message)
    call py_object_destroy(wind_a)
    call py_object_destroy(drag_a)
    if (status == 0) then
      call py_array_from(wind_a, vvv)
      call py_array_from(drag_a, gwfcng_y)
      call py_call(emulator, "compute_reshape_drag", [model, wind_a, lat_a, psfc_a, drag_a, ncol_a], &
                   stat=status, errmsg=message)
      call py_object_destroy(wind_a)
      call py_object_destroy(drag_a)
    end if
    call py_object_destroy(lat_a)
    call py_object_destroy(psfc_a)
    call py_object_destroy(ncol_a)
    call report(status, message, stat, errmsg)
  end subroutine cg_drag_ML

  !> Release the model and the module; finalise Python if cg_drag_ML_init started it.
  subroutine cg_drag_ML_end(stat, errmsg)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    call py_object_destroy(model)
    call py_object_destroy(emulator)
    if (started_python) then
      call py_finalize(stat=stat, errmsg=errmsg)
      started_python = .false.
    end if
  end subroutine cg_drag_ML_end

  !> Hand a failure of an inner call to the caller (stat/errmsg), or stop with its message.
  subroutine report(status, message, stat, errmsg)
    integer, intent(in) :: status                        !< inner status
    character(len=*), intent(in) :: message              !< inner message (with traceback)
    integer, intent(out), optional :: stat               !< caller's status argument
    character(len=*), intent(inout), optional :: errmsg  !< caller's message argument
    if (present(stat)) stat = status
    if (status == 0) return
    if (present(stat)) then
      if (present(errmsg)) errmsg = message
      return
    end if
    call status_fail("cg_drag_ML", trim(message))
  end subroutine report

end module cg_drag_forpy_mod
