!> test_cgdrag_check -- the cgdrag drivers' correctness check applied to outputs
!> written by a test, so that tests can plant faults and see what the check says.
!>
!> usage: test_cgdrag_check <data dir> <outputs dir>
!> <data dir> holds inputs and references (`ftbench inputs`); <outputs dir> holds
!> gwfu.npy and gwfv.npy, float64 (lon, lat, lev) in Fortran order on the whole
!> T42 grid (as a driver's --output writes them). Prints "max_error_ratio <r>" and
!> "max_abs_error <d>" (the values the drivers record) and "passed T|F"; exits 0
!> unless a file cannot be read.
program test_cgdrag_check
  use, intrinsic :: iso_fortran_env, only: real64, output_unit
  use bench_npy, only: npy_read
  use cgdrag_case, only: cgdrag_data, cgdrag_read, cgdrag_check_create, cgdrag_compare, nlon, nlat, nlev
  use bench_check, only: check_log, check_record, check_passed
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit
  type(cgdrag_data) :: data
  type(check_log) :: check
  character(len=4096) :: data_path, outputs_path
  real(real64), allocatable :: gwfu(:, :, :), gwfv(:, :, :)

  call get_command_argument(1, data_path)
  call get_command_argument(2, outputs_path)
  call cgdrag_read(data, trim(data_path), nlon * nlat)
  allocate (gwfu(nlon, nlat, nlev), gwfv(nlon, nlat, nlev))
  call npy_read(trim(outputs_path) // "/gwfu.npy", gwfu, [nlon, nlat, nlev])
  call npy_read(trim(outputs_path) // "/gwfv.npy", gwfv, [nlon, nlat, nlev])

  call cgdrag_check_create(check, 1, 0)
  call cgdrag_compare(check, 1, data, gwfu, gwfv)
  call check_record(check, 1, 0.0_real64, quiet=.true.)
  write (output_unit, '(a, es24.16)') 'max_error_ratio ', check%ratios(1)
  write (output_unit, '(a, es24.16)') 'max_abs_error ', check%abs_errors(1)
  write (output_unit, '(a, l1)') 'passed ', check_passed(check)

end program test_cgdrag_check
