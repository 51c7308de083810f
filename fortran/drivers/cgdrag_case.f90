!> cgdrag_case -- what the WaveNet-2 (cgdrag) drivers of every coupling path share:
!> the grid, the inputs and references, the command line and the check.
!>
!> Data: a directory written by `ftbench inputs` (docs/cgdrag.md) holding one
!> NumPy .npy file per variable (read with bench_npy): the MiMA-like T42 fields
!> uuu, vvv (lon, lat, lev) in m/s, psfc (lon, lat) in Pa, lat (lat) in degrees,
!> and WaveNet-2's reference drag gwfu_ref, gwfv_ref (lon, lat, lev) in m/s^2, all
!> float64 in Fortran order, and the references' attributes (checkpoint_sha256,
!> reference_threads, ...) as scalars. Columns are numbered in Fortran order
!> (column c = i + nlon*(j-1)), so the model input (ncol, nlev) is the 3-D
!> field viewed or copied column-major.
module cgdrag_case
  use, intrinsic :: iso_fortran_env, only: real64
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan, ieee_is_finite
  use, intrinsic :: iso_fortran_env, only: int64
  use bench_npy, only: npy_read, npy_read_int64, npy_read_text, npy_write
  use coupling_status, only: status_fail
  use coupling_strings, only: string_from_integer
  use bench_cli, only: cli_parser, cli_create, cli_add_positional, cli_add_option, cli_add_flag, &
                       cli_string, cli_integer, cli_given, cli_declared, cli_usage_error
  use bench_check, only: check_log, check_create, check_compare
  use bench_tolerances, only: cgdrag_rtol, cgdrag_atol_fraction
  use bench_json, only: json_document, json_set
  use bench_run, only: bench_path_join, bench_fail
  use bench_teams, only: bench_team
  implicit none
  private

  public :: cgdrag_data, cgdrag_read, cgdrag_cli, cgdrag_read_options, cgdrag_options
  public :: cgdrag_check_create, cgdrag_compare, cgdrag_describe, cgdrag_poison, cgdrag_write_drag
  public :: cgdrag_split

  integer, parameter, public :: nlon = 128  !< longitudes of the T42 grid
  integer, parameter, public :: nlat = 64   !< Gaussian latitudes of the T42 grid
  integer, parameter, public :: nlev = 40   !< vertical levels (1 = top)
  integer, parameter, public :: dp = real64 !< the model's kind (float64)
  character(len=*), parameter, public :: cgdrag_reference = &
    "WaveNet-2 drag of both wind components (gwfu from uuu, gwfv from vvv) computed in " // &
    "Python (eager, float64) by `ftbench inputs`"

  !> Inputs and references on a band of latitude rows of the grid (all of the
  !> rows used in a serial run; this rank's band in an MPI run).
  type :: cgdrag_data
    real(dp), allocatable :: uuu(:, :, :)       !< zonal wind (lon, lat, lev), m/s
    real(dp), allocatable :: vvv(:, :, :)       !< meridional wind (lon, lat, lev), m/s
    real(dp), allocatable :: psfc(:, :)         !< surface pressure (lon, lat), Pa
    real(dp), allocatable :: lat(:, :)          !< latitude (lon, lat), degrees
    real(dp), allocatable :: gwfu_ref(:, :, :)  !< reference drag from uuu, m/s^2
    real(dp), allocatable :: gwfv_ref(:, :, :)  !< reference drag from vvv, m/s^2
    !> max|gwfu_ref|, max|gwfv_ref| over the rows read, m/s^2: the check's atol
    !> scales these (an MPI run sets them to the maxima over all ranks' rows).
    real(dp) :: reference_max(2) = 0
    integer :: first_row = 1                    !< first latitude row read (1-based)
    character(len=:), allocatable :: path       !< file read
    character(len=:), allocatable :: checkpoint_sha256  !< checkpoint of the references
    !> What the references' rounding depended on (global attributes reference_*):
    !> torch threads, CPU model, CPU capability, BLAS and torch version.
    integer :: reference_threads = 0
    character(len=:), allocatable :: reference_cpu_model, reference_cpu_capability
    character(len=:), allocatable :: reference_blas, reference_torch_version
  end type cgdrag_data

  !> Options every cgdrag driver takes besides the standard ones.
  type :: cgdrag_options
    character(len=:), allocatable :: data_path  !< --data, default <model-dir>/data/cgdrag_t42
    character(len=:), allocatable :: output_path  !< --output: last step's drag; "" = none
    integer :: total_columns = nlon * nlat      !< --columns: first columns of the grid used
    !> Columns this process computes: total_columns in a serial run, its band's
    !> in an MPI run (set with first_row by the driver from the team's split).
    integer :: columns = nlon * nlat
    integer :: first_row = 1                    !< first latitude row of this process's band
    logical :: explicit_reshape = .false.       !< --explicit-reshape
    logical :: alloc_in_loop = .false.          !< --alloc-in-loop
  end type cgdrag_options

contains

  !> Start the command line `<model-dir> <model> <ntimes>` of a cgdrag driver,
  !> with --data and --columns; `phased` adds --output, --explicit-reshape and
  !> --alloc-in-loop.
  subroutine cgdrag_cli(cli, program, path, model_name, model_help, phased)
    type(cli_parser), intent(out) :: cli        !< new parser
    character(len=*), intent(in) :: program     !< driver name
    character(len=*), intent(in) :: path        !< coupling path, for the description
    character(len=*), intent(in) :: model_name  !< name of the second positional argument
    character(len=*), intent(in) :: model_help  !< its description
    logical, intent(in) :: phased               !< add --output, --explicit-reshape, --alloc-in-loop
    call cli_create(cli, program, "Time WaveNet-2 gravity-wave drag (MiMA cg_drag, Espinosa et " // &
                    "al. 2022) on a T42 grid through the " // path // " coupling.")
    call cli_add_positional(cli, "model-dir", "directory holding the model (and data/)")
    call cli_add_positional(cli, model_name, model_help)
    call cli_add_positional(cli, "ntimes", "measured steps (after the warm-up)")
    call cli_add_option(cli, "--data", "DIR", "directory of the inputs and references " // &
                        "(default: <model-dir>/data/cgdrag_t42, written by `ftbench inputs`)")
    call cli_add_option(cli, "--columns", "K", "use the first K columns: a multiple of 128, " // &
                        "at most 8192 (default 8192, the whole grid)", "8192")
    if (phased) then
      call cli_add_option(cli, "--output", "DIR", "write the last step's drag (lon, lat, " // &
                          "lev) to DIR/gwfu.npy and DIR/gwfv.npy (DIR must exist)")
      call cli_add_flag(cli, "--explicit-reshape", "copy the 3-D fields into (columns, 40) " // &
                        "arrays instead of viewing them as such (zero-copy)")
      call cli_add_flag(cli, "--alloc-in-loop", "allocate and free the step's arrays in " // &
                        "every step instead of once")
    end if
  end subroutine cgdrag_cli

  !> Read the options declared by cgdrag_cli from a parsed command line.
  subroutine cgdrag_read_options(cli, options)
    type(cli_parser), intent(in) :: cli           !< parsed command line
    type(cgdrag_options), intent(out) :: options  !< values
    options%data_path = cli_string(cli, "--data")
    if (len(options%data_path) == 0) &
      options%data_path = bench_path_join(cli_string(cli, "model-dir"), "data/cgdrag_t42")
    options%total_columns = cli_integer(cli, "--columns", minimum=nlon)
    if (mod(options%total_columns, nlon) /= 0 .or. options%total_columns > nlon * nlat) &
      call cli_usage_error(cli, "--columns must be a multiple of 128 between 128 and 8192")
    options%columns = options%total_columns
    options%first_row = 1
    options%output_path = ""
    if (cli_declared(cli, "--output")) options%output_path = cli_string(cli, "--output")
    options%explicit_reshape = .false.
    options%alloc_in_loop = .false.
    if (cli_declared(cli, "--explicit-reshape")) options%explicit_reshape = cli_given(cli, "--explicit-reshape")
    if (cli_declared(cli, "--alloc-in-loop")) options%alloc_in_loop = cli_given(cli, "--alloc-in-loop")
    if (options%alloc_in_loop .and. len(options%output_path) > 0) &
      call cli_usage_error(cli, "--output needs the step's arrays after the loop: not with --alloc-in-loop")
  end subroutine cgdrag_read_options

  !> Give this process its band of the --columns rows (team%band: latitude
  !> bands, as MiMA decomposes the grid): sets options%first_row and
  !> options%columns, and team%columns. Stops with one line when there are fewer
  !> rows than processes.
  subroutine cgdrag_split(options, team)
    type(cgdrag_options), intent(inout) :: options  !< total_columns in; first_row, columns out
    class(bench_team), intent(inout) :: team        !< the processes of the run
    integer :: rows, total_rows
    total_rows = options%total_columns / nlon
    call team%band(total_rows, options%first_row, rows)
    if (rows == 0) call bench_fail("cgdrag: --columns " // string_from_integer(options%total_columns) // &
      " gives " // string_from_integer(total_rows) // " latitude rows, fewer than the " // &
      string_from_integer(team%size) // " ranks", "(run at most that many ranks, or more columns)")
    options%columns = rows * nlon
    team%columns = options%columns
  end subroutine cgdrag_split

  !> Read inputs and references from the directory `path` written by `ftbench
  !> inputs`: the `columns / 128` latitude rows from `first_row` on (only those are
  !> read, so each MPI rank reads its own band). Stops with one line naming the file
  !> and the fix on any error (missing file, another dtype or shape; a NaN or
  !> infinite value in the rows read, which would otherwise surface only as failed
  !> checks after the model load).
  subroutine cgdrag_read(data, path, columns, first_row)
    type(cgdrag_data), intent(out) :: data  !< fields read
    character(len=*), intent(in) :: path    !< directory of .npy files
    integer, intent(in) :: columns          !< columns to read (multiple of 128)
    integer, intent(in), optional :: first_row  !< first latitude row (default 1)
    real(dp), allocatable :: lat1(:)
    integer(int64) :: threads
    integer :: rows, j, stat
    character(len=1024) :: message
    rows = columns / nlon
    data%first_row = 1
    if (present(first_row)) data%first_row = first_row
    data%path = path
    allocate (data%uuu(nlon, rows, nlev), data%vvv(nlon, rows, nlev), data%gwfu_ref(nlon, rows, nlev), &
              data%gwfv_ref(nlon, rows, nlev), data%psfc(nlon, rows), lat1(rows))
    call read_field("uuu", data%uuu, [nlon, nlat, nlev])
    call read_field("vvv", data%vvv, [nlon, nlat, nlev])
    call read_field("gwfu_ref", data%gwfu_ref, [nlon, nlat, nlev])
    call read_field("gwfv_ref", data%gwfv_ref, [nlon, nlat, nlev])
    call read_field("psfc", data%psfc, [nlon, nlat])
    call read_field("lat", lat1, [nlat])
    allocate (data%lat(nlon, rows))
    do j = 1, rows
      data%lat(:, j) = lat1(j)
    end do
    data%reference_max = [maxval(abs(data%gwfu_ref)), maxval(abs(data%gwfv_ref))]
    data%checkpoint_sha256 = text_attribute("checkpoint_sha256")
    call npy_read_int64(file("reference_threads"), threads, stat, message)
    if (stat /= 0) call fail(message)
    data%reference_threads = int(threads)
    data%reference_cpu_model = text_attribute("reference_cpu_model")
    data%reference_cpu_capability = text_attribute("reference_cpu_capability")
    data%reference_blas = text_attribute("reference_blas")
    data%reference_torch_version = text_attribute("reference_torch_version")

  contains

    !> The file of variable `name`.
    function file(name)
      character(len=*), intent(in) :: name
      character(len=:), allocatable :: file
      file = path // "/" // name // ".npy"
    end function file

    subroutine fail(text)
      character(len=*), intent(in) :: text
      call status_fail("cgdrag_read", trim(text) // " (write the inputs with `ftbench inputs`, " // &
                       "or run scripts/run_benchmarks.sh)")
    end subroutine fail

    function text_attribute(name) result(text)
      character(len=*), intent(in) :: name
      character(len=:), allocatable :: text
      call npy_read_text(file(name), text, stat, message)
      if (stat /= 0) call fail(message)
    end function text_attribute

    !> Read the band of variable `name` (whose whole shape must be `full`) into `values`.
    subroutine read_field(name, values, full)
      character(len=*), intent(in) :: name
      real(dp), intent(out) :: values(..)
      integer, intent(in) :: full(:)
      integer :: bad, start(3)
      ! the latitude dimension: 1 of lat, 2 of the others; the band starts at first_row
      start = 1
      start(min(2, size(full))) = data%first_row
      call npy_read(file(name), values, full, start(1:size(full)), stat, message)
      if (stat /= 0) call fail(message)
      bad = 0
      select rank (values)
      rank (1)
        bad = count(.not. ieee_is_finite(values))
      rank (2)
        bad = count(.not. ieee_is_finite(values))
      rank (3)
        bad = count(.not. ieee_is_finite(values))
      end select
      if (bad > 0) call status_fail("cgdrag_read", "variable " // name // " in '" // path // &
        "' has " // string_from_integer(bad) // " NaN or infinite value(s) (rewrite it with " // &
        "`ftbench inputs`)")
    end subroutine read_field

  end subroutine cgdrag_read

  !> Set outputs to NaN so that a step that writes nothing fails the check.
  subroutine cgdrag_poison(gwfcng_x, gwfcng_y)
    real(dp), intent(out) :: gwfcng_x(:, :, :)  !< drag from uuu
    real(dp), intent(out) :: gwfcng_y(:, :, :)  !< drag from vvv
    gwfcng_x = ieee_value(0.0_dp, ieee_quiet_nan)
    gwfcng_y = gwfcng_x
  end subroutine cgdrag_poison

  !> Start the correctness log of a cgdrag run (tolerances: bench_tolerances).
  subroutine cgdrag_check_create(check, ntimes, warmup)
    type(check_log), intent(out) :: check  !< new log
    integer, intent(in) :: ntimes          !< measured steps
    integer, intent(in) :: warmup          !< warm-up steps
    call check_create(check, ntimes, warmup, cgdrag_reference, cgdrag_rtol, cgdrag_atol_fraction)
  end subroutine cgdrag_check_create

  !> Compare both drag components of step `iteration` with the references.
  !> atol scales data%reference_max (the whole grid's maxima also in an MPI run).
  subroutine cgdrag_compare(check, iteration, data, gwfcng_x, gwfcng_y)
    type(check_log), intent(inout) :: check     !< log (then check_record decides the step)
    integer, intent(in) :: iteration            !< 1 .. warmup + ntimes
    type(cgdrag_data), intent(in) :: data       !< references
    real(dp), intent(in) :: gwfcng_x(:, :, :)   !< drag from uuu, m/s^2
    real(dp), intent(in) :: gwfcng_y(:, :, :)   !< drag from vvv, m/s^2
    call check_compare(check, iteration, "gwfu", gwfcng_x, data%gwfu_ref, data%reference_max(1))
    call check_compare(check, iteration, "gwfv", gwfcng_y, data%gwfv_ref, data%reference_max(2))
  end subroutine cgdrag_compare

  !> Sizes, dtype, device and data file of the run, into the results document.
  subroutine cgdrag_describe(doc, data, options)
    type(json_document), intent(in) :: doc       !< results document
    type(cgdrag_data), intent(in) :: data        !< data read
    type(cgdrag_options), intent(in) :: options  !< cgdrag options
    call json_set(doc, "/sizes/columns", options%total_columns)
    call json_set(doc, "/sizes/levels", nlev)
    call json_set(doc, "/dtype", "float64")
    call json_set(doc, "/device", "cpu")
    call json_set(doc, "/data_file", data%path)
    call json_set(doc, "/data_checkpoint_sha256", data%checkpoint_sha256)
    call json_set(doc, "/correctness/reference_conditions/threads", data%reference_threads)
    call json_set(doc, "/correctness/reference_conditions/cpu_model", data%reference_cpu_model)
    call json_set(doc, "/correctness/reference_conditions/cpu_capability", data%reference_cpu_capability)
    call json_set(doc, "/correctness/reference_conditions/blas", data%reference_blas)
    call json_set(doc, "/correctness/reference_conditions/torch_version", data%reference_torch_version)
  end subroutine cgdrag_describe

  !> Write the drag of one step, (lon, lat, lev) float64 in m/s^2, to `dir`/gwfu.npy
  !> and `dir`/gwfv.npy (Fortran order; replaced if they exist; numpy.load reads them).
  !> Stops with one line naming the file on any error.
  subroutine cgdrag_write_drag(dir, gwfu, gwfv)
    character(len=*), intent(in) :: dir         !< existing directory
    real(dp), intent(in) :: gwfu(:, :, :)       !< drag from uuu
    real(dp), intent(in) :: gwfv(:, :, :)       !< drag from vvv
    call npy_write(dir // "/gwfu.npy", gwfu)
    call npy_write(dir // "/gwfv.npy", gwfv)
  end subroutine cgdrag_write_drag

end module cgdrag_case
