!> ftb_f2py -- the project's Fortran called from Python through NumPy's f2py
!> (the Python-hosted cgdrag and large-stride steps of `ftbench f2py`;
!> docs/f2py.md). f2py wraps these external subroutines into the extension
!> module `ftb_f2py` (fortran/f2py/CMakeLists.txt); each forwards to the module
!> procedure the Fortran drivers use, so both directions run the same code.
!>
!> Argument conversion is f2py's: an intent(in) array that is not Fortran-ordered
!> (column-major) and of the declared dtype is copied before the call, silently;
!> an intent(inout) array must already be Fortran-ordered, of the declared dtype
!> and shape, or f2py raises ValueError (nothing is copied then). The trailing
!> size arguments are optional in Python (taken from the arrays' shapes) and
!> f2py checks every array's shape against them.
!>
!> `use iso_c_binding` without `, intrinsic ::`: f2py's parser cannot read that
!> form (it prints "Could not crack the use statement" for each one); with no
!> user module of that name the two forms are the same module.

!> Copy MiMA's (lon, lat, lev) fields into WaveNet-2's columns (ncol = lon*lat,
!> column c = i + nlon*(j-1)): the explicit reshape of the cgdrag drivers
!> (cgdrag_columns). Winds in m/s, latitude in degrees, pressure in Pa, float64.
subroutine cgdrag_pack_columns(uuu, vvv, lat, psfc, u_col, v_col, lat_col, psfc_col, nlon, nlat, nlev)
  use iso_c_binding, only: c_double
  use cgdrag_columns, only: cgdrag_pack
  implicit none
  integer, intent(in) :: nlon, nlat, nlev                          !< grid sizes
  real(c_double), intent(in) :: uuu(nlon, nlat, nlev)              !< zonal wind
  real(c_double), intent(in) :: vvv(nlon, nlat, nlev)              !< meridional wind
  real(c_double), intent(in) :: lat(nlon, nlat)                    !< latitude
  real(c_double), intent(in) :: psfc(nlon, nlat)                   !< surface pressure
  real(c_double), intent(inout) :: u_col(nlon * nlat, nlev)        !< zonal wind columns
  real(c_double), intent(inout) :: v_col(nlon * nlat, nlev)        !< meridional wind columns
  real(c_double), intent(inout) :: lat_col(nlon * nlat, 1)         !< latitude columns
  real(c_double), intent(inout) :: psfc_col(nlon * nlat, 1)        !< pressure columns
  call cgdrag_pack(uuu, u_col)
  call cgdrag_pack(vvv, v_col)
  call cgdrag_pack(lat, lat_col)
  call cgdrag_pack(psfc, psfc_col)
end subroutine cgdrag_pack_columns

!> Write the drag the model computed on columns back into MiMA's (lon, lat, lev)
!> drag fields gwfcng_x, gwfcng_y (m/s^2, float64), as MiMA's cg_drag_ML does
!> after its forwards (cgdrag_columns).
subroutine cgdrag_apply_drag(x_col, y_col, gwfcng_x, gwfcng_y, nlon, nlat, nlev)
  use iso_c_binding, only: c_double
  use cgdrag_columns, only: cgdrag_unpack
  implicit none
  integer, intent(in) :: nlon, nlat, nlev                          !< grid sizes
  real(c_double), intent(in) :: x_col(nlon * nlat, nlev)           !< drag from uuu, columns
  real(c_double), intent(in) :: y_col(nlon * nlat, nlev)           !< drag from vvv, columns
  real(c_double), intent(inout) :: gwfcng_x(nlon, nlat, nlev)      !< drag from uuu
  real(c_double), intent(inout) :: gwfcng_y(nlon, nlat, nlev)      !< drag from vvv
  !f2py integer optional, intent(in), depend(gwfcng_x) :: nlon = shape(gwfcng_x, 0)
  !f2py integer optional, intent(in), depend(gwfcng_x) :: nlat = shape(gwfcng_x, 1)
  !f2py integer optional, intent(in), depend(gwfcng_x) :: nlev = shape(gwfcng_x, 2)
  call cgdrag_unpack(x_col, gwfcng_x)
  call cgdrag_unpack(y_col, gwfcng_y)
end subroutine cgdrag_apply_drag

!> The large-stride step's Fortran side before the forward: copy the N x N
!> float32 state into the model's input array (an f2py call that does almost
!> nothing, so its time is f2py's fixed cost per call).
subroutine large_stride_pack(x, x_in, n)
  use iso_c_binding, only: c_float
  implicit none
  integer, intent(in) :: n                       !< N
  real(c_float), intent(in) :: x(n, n)           !< state
  real(c_float), intent(inout) :: x_in(n, n)     !< model input
  x_in = x
end subroutine large_stride_pack

!> The large-stride step's Fortran side after the forward: copy the model's
!> N x N float32 output into the state.
subroutine large_stride_unpack(y_out, y, n)
  use iso_c_binding, only: c_float
  implicit none
  integer, intent(in) :: n                       !< N
  real(c_float), intent(in) :: y_out(n, n)       !< model output
  real(c_float), intent(inout) :: y(n, n)        !< state
  y = y_out
end subroutine large_stride_unpack

!> The drivers' per-iteration check (bench_check's check_errors, the rule of
!> bench_check_c.h and docs/checks.md) on n float64 values: the largest error
!> ratio |a - e| / (rtol |e| + atol) with atol = atol_fraction * max|e| (passes
!> when <= 1; +Inf for a NaN or an unexpected infinity), the largest
!> |a - e| and the atol used.
subroutine check_real64(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol, n)
  use iso_c_binding, only: c_double
  use bench_check, only: check_errors
  implicit none
  integer, intent(in) :: n                             !< values
  real(c_double), intent(in), target :: actual(n)      !< computed values
  real(c_double), intent(in), target :: expected(n)    !< references
  real(c_double), intent(in) :: rtol                   !< relative tolerance
  real(c_double), intent(in) :: atol_fraction          !< atol / max|expected|
  real(c_double), intent(out) :: max_ratio             !< largest error / tolerance
  real(c_double), intent(out) :: max_abs_error         !< largest |actual - expected|
  real(c_double), intent(out) :: atol                  !< absolute tolerance used
  call check_errors(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol)
end subroutine check_real64

!> check_real64 on n float32 values (differences computed in float64).
subroutine check_real32(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol, n)
  use iso_c_binding, only: c_float, c_double
  use bench_check, only: check_errors
  implicit none
  integer, intent(in) :: n                             !< values
  real(c_float), intent(in), target :: actual(n)       !< computed values
  real(c_float), intent(in), target :: expected(n)     !< references
  real(c_double), intent(in) :: rtol                   !< relative tolerance
  real(c_double), intent(in) :: atol_fraction          !< atol / max|expected|
  real(c_double), intent(out) :: max_ratio             !< largest error / tolerance
  real(c_double), intent(out) :: max_abs_error         !< largest |actual - expected|
  real(c_double), intent(out) :: atol                  !< absolute tolerance used
  call check_errors(actual, expected, rtol, atol_fraction, max_ratio, max_abs_error, atol)
end subroutine check_real32

!> The address of the first element the Fortran side receives for a float64
!> argument of n values (intent(in)), to prove whether f2py passed the caller's
!> memory (same address as `array.ctypes.data`) or a copy. f2py accepts an
!> array of any rank and n elements here, and copies it exactly when it would
!> copy it for the intent(in) arrays above (not Fortran-ordered, or another dtype). integer(8), not
!> integer(c_int64_t): with the latter f2py 2.4 writes C that names an undefined
!> type `long_long`.
subroutine address_real64(values, address, n)
  use iso_c_binding, only: c_double, c_loc
  implicit none
  integer, intent(in) :: n                             !< values
  real(c_double), intent(in), target :: values(n)      !< any float64 array of n values
  integer(8), intent(out) :: address                   !< address of values(1) (8 bytes)
  address = transfer(c_loc(values), address)
end subroutine address_real64

!> address_real64 for an intent(inout) float64 argument (f2py never copies those).
subroutine address_inout_real64(values, address, n)
  use iso_c_binding, only: c_double, c_loc
  implicit none
  integer, intent(in) :: n                             !< values
  real(c_double), intent(inout), target :: values(n)   !< any float64 array of n values
  integer(8), intent(out) :: address                   !< address of values(1) (8 bytes)
  address = transfer(c_loc(values), address)
end subroutine address_inout_real64

!> address_real64 for a float32 argument.
subroutine address_real32(values, address, n)
  use iso_c_binding, only: c_float, c_loc
  implicit none
  integer, intent(in) :: n                             !< values
  real(c_float), intent(in), target :: values(n)       !< any float32 array of n values
  integer(8), intent(out) :: address                   !< address of values(1) (8 bytes)
  address = transfer(c_loc(values), address)
end subroutine address_real32
