!> model_case -- what the generic drivers (any model, `ftbench run-model`) of
!> every coupling path share: the command line, the declared signature, the
!> arrays, the input rule, the references and the check (docs/run-model.md).
!>
!> A signature is "SIZExSIZE...:DTYPE" per tensor, comma separated, sizes in
!> PyTorch's order: input [d1, ..., dn] is the Fortran array a(d1, ..., dn), the
!> same index order, column-major, so the coupling layers wrap it without
!> copying and tensor element [i1-1, ..., in-1] is a(i1, ..., in). Ranks 1 to 4,
!> dtypes float32 and float64. Each array is kept as a contiguous rank-1 buffer
!> and seen with its declared rank through a pointer (model_view_of).
module model_case
  use, intrinsic :: iso_fortran_env, only: real32, real64, int64
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  use bench_cli, only: cli_parser, cli_create, cli_add_positional, cli_add_option, cli_string, &
                       cli_usage_error
  use bench_inputs, only: model_element_step, model_input_step, model_modulus
  use bench_check, only: check_log, check_create, check_compare
  use bench_json, only: json_document, json_set
  use bench_run, only: bench_fail
  use coupling_strings, only: string_from_integer
  use large_stride_case, only: large_stride_phases, p_create, p_forward, p_delete, p_loop
  implicit none
  private

  public :: model_array, model_cli, model_signature, model_allocate, model_fill, model_poison
  public :: model_view_of, model_read_references, model_check_create, model_compare, model_describe
  public :: p_create, p_forward, p_delete, p_loop

  !> Phases timed every iteration: those of large_stride (wrap the arrays, forward,
  !> release the wrappers, and the three together; docs/benchmarks.md).
  character(len=16), parameter, public :: model_phases(4) = large_stride_phases
  integer, parameter, public :: model_max_rank = 4     !< largest rank of an input or output
  integer, parameter, public :: model_max_outputs = 8  !< bench_check's components

  !> One input, output or reference array.
  type :: model_array
    character(len=:), allocatable :: dtype       !< "float32" or "float64"
    integer(int64), allocatable :: shape(:)      !< extents, PyTorch's order = Fortran's
    real(real32), allocatable :: r32(:)          !< the values when dtype is float32
    real(real64), allocatable :: r64(:)          !< the values when dtype is float64
  end type model_array

  !> An array seen with its declared rank: exactly one pointer is associated,
  !> over the array's buffer (no copy). Hand it to a coupling layer's generic
  !> wrapper (torch_tensor_from_array, py_array_from) by testing which.
  type, public :: model_view
    real(real32), pointer :: s1(:) => null(), s2(:, :) => null(), s3(:, :, :) => null(), &
                             s4(:, :, :, :) => null()
    real(real64), pointer :: d1(:) => null(), d2(:, :) => null(), d3(:, :, :) => null(), &
                             d4(:, :, :, :) => null()
  end type model_view

contains

  !> Start the command line `<model-file> <ntimes> --inputs SIG --references FILES --rtol X`.
  subroutine model_cli(cli, program, path)
    type(cli_parser), intent(out) :: cli      !< new parser (add options, then cli_parse)
    character(len=*), intent(in) :: program   !< driver name
    character(len=*), intent(in) :: path      !< coupling path, for the description
    call cli_create(cli, program, "Time any model on inputs of a declared signature through the " // &
                    path // " coupling, checked against references every iteration.")
    call cli_add_positional(cli, "model-file", "TorchScript file (.pt) or AOTInductor package (.pt2)")
    call cli_add_positional(cli, "ntimes", "measured iterations (after the warm-up)")
    call cli_add_option(cli, "--inputs", "SIG", "the inputs, SIZExSIZE...:DTYPE comma separated " // &
                        "(PyTorch order; float32 or float64; rank 1 to 4), e.g. 1x3x224x224:float32")
    call cli_add_option(cli, "--references", "FILES", "the expected outputs, one raw file per " // &
                        "output (column-major), comma separated, as `ftbench run-model` writes them")
    call cli_add_option(cli, "--rtol", "X", "tolerance of the check: rtol = atol_fraction = X " // &
                        "(docs/checks.md; `ftbench run-model` sets it from the model)")
    call cli_add_option(cli, "--reference-note", "TEXT", "what the references are, for the " // &
                        "results file", "outputs of native Python on the same inputs")
    call cli_add_option(cli, "--benchmark", "NAME", "benchmark name in the results (default model)", &
                        "model")
  end subroutine model_cli

  !> Parse a signature "SIZExSIZE...:DTYPE,..." into arrays (not allocated).
  !> `what` names it in messages ("--inputs", "the model's outputs"); a bad
  !> signature is a usage error (exit 2) naming the entry and the fix.
  subroutine model_signature(cli, text, what, arrays)
    type(cli_parser), intent(in) :: cli                        !< parser, for usage errors
    character(len=*), intent(in) :: text                       !< the signature
    character(len=*), intent(in) :: what                       !< where it comes from
    type(model_array), allocatable, intent(out) :: arrays(:)   !< one per entry
    integer :: count, start, comma, k
    count = 0
    if (len_trim(text) > 0) count = 1 + count_char(trim(text), ",")
    if (count == 0) call cli_usage_error(cli, what // ": no tensor declared (e.g. 8192x40:float64)")
    allocate (arrays(count))
    start = 1
    do k = 1, count
      comma = index(text(start:), ",")
      if (comma == 0) then
        comma = len_trim(text) + 1
      else
        comma = start + comma - 1
      end if
      call parse_entry(cli, trim(adjustl(text(start:comma - 1))), what, arrays(k))
      start = comma + 1
    end do
  end subroutine model_signature

  subroutine parse_entry(cli, entry, what, array)
    type(cli_parser), intent(in) :: cli
    character(len=*), intent(in) :: entry, what
    type(model_array), intent(out) :: array
    integer :: colon, rank, start, cross, d, ios
    character(len=:), allocatable :: sizes
    colon = index(entry, ":")
    if (colon < 2) call cli_usage_error(cli, what // ": '" // entry // "' is not SIZExSIZE...:DTYPE")
    array%dtype = entry(colon + 1:)
    if (array%dtype /= "float32" .and. array%dtype /= "float64") &
      call cli_usage_error(cli, what // ": '" // entry // "': dtype '" // array%dtype // &
                           "' is not supported; use float32 or float64")
    sizes = entry(1:colon - 1)
    rank = 1 + count_char(sizes, "x")
    if (rank > model_max_rank) &
      call cli_usage_error(cli, what // ": '" // entry // "' has rank " // string_from_integer(rank) // "; ranks 1 to 4 run")
    allocate (array%shape(rank))
    start = 1
    do d = 1, rank
      cross = index(sizes(start:), "x")
      if (cross == 0) then
        cross = len(sizes) + 1
      else
        cross = start + cross - 1
      end if
      ios = 1
      if (cross > start .and. verify(sizes(start:cross - 1), "0123456789") == 0) &
        read (sizes(start:cross - 1), *, iostat=ios) array%shape(d)
      if (ios /= 0) call cli_usage_error(cli, what // ": '" // entry // &
                                         "': sizes must be whole numbers joined by 'x'")
      if (array%shape(d) < 1) call cli_usage_error(cli, what // ": '" // entry // &
                                                   "': every size must be at least 1")
      start = cross + 1
    end do
  end subroutine parse_entry

  !> Allocate each array's buffer (NaN-filled by model_poison, or filled by
  !> model_fill). An allocation that fails stops the run with one line.
  subroutine model_allocate(arrays, what)
    type(model_array), intent(inout) :: arrays(:)  !< arrays with dtype and shape set
    character(len=*), intent(in) :: what           !< "input", "output", "reference"
    integer :: k, stat
    integer(int64) :: n
    do k = 1, size(arrays)
      n = element_count(arrays(k)%shape)
      if (n < 0) call bench_fail(what // " " // string_from_integer(k) // ": too many elements", "(declare a smaller shape)")
      if (arrays(k)%dtype == "float32") then
        allocate (arrays(k)%r32(n), stat=stat)
      else
        allocate (arrays(k)%r64(n), stat=stat)
      end if
      if (stat /= 0) call bench_fail(what // " " // string_from_integer(k) // ": cannot allocate " // &
                                     string_from_integer(n) // " elements", "(declare a smaller shape)")
    end do
  end subroutine model_allocate

  !> The inputs by the rule every path shares (checks.json model.input, generated
  !> into bench_inputs): element at column-major linear index L of input m, both
  !> from 0, is mod(element_step L + input_step m, modulus) / modulus.
  subroutine model_fill(inputs)
    type(model_array), intent(inout) :: inputs(:)  !< allocated inputs
    integer :: m
    integer(int64) :: l, step
    do m = 1, size(inputs)
      step = int(model_input_step, int64) * (m - 1)
      if (inputs(m)%dtype == "float32") then
        do l = 1, size(inputs(m)%r32, kind=int64)
          inputs(m)%r32(l) = real(modulo(model_element_step * (l - 1) + step, int(model_modulus, int64)), &
                                  real32) / model_modulus
        end do
      else
        do l = 1, size(inputs(m)%r64, kind=int64)
          inputs(m)%r64(l) = real(modulo(model_element_step * (l - 1) + step, int(model_modulus, int64)), &
                                  real64) / model_modulus
        end do
      end if
    end do
  end subroutine model_fill

  !> Set every output to NaN, so that a forward that writes nothing fails the check.
  subroutine model_poison(outputs)
    type(model_array), intent(inout) :: outputs(:)  !< allocated outputs
    integer :: k
    do k = 1, size(outputs)
      if (outputs(k)%dtype == "float32") then
        outputs(k)%r32 = ieee_value(0.0_real32, ieee_quiet_nan)
      else
        outputs(k)%r64 = ieee_value(0.0_real64, ieee_quiet_nan)
      end if
    end do
  end subroutine model_poison

  !> The array seen with its declared rank (see model_view).
  function model_view_of(array) result(view)
    type(model_array), intent(in), target :: array  !< an allocated array
    type(model_view) :: view                        !< one pointer associated
    integer(int64) :: e(model_max_rank)
    e = 1
    e(1:size(array%shape)) = array%shape
    if (array%dtype == "float32") then
      select case (size(array%shape))
      case (1)
        view%s1(1:e(1)) => array%r32
      case (2)
        view%s2(1:e(1), 1:e(2)) => array%r32
      case (3)
        view%s3(1:e(1), 1:e(2), 1:e(3)) => array%r32
      case default
        view%s4(1:e(1), 1:e(2), 1:e(3), 1:e(4)) => array%r32
      end select
    else
      select case (size(array%shape))
      case (1)
        view%d1(1:e(1)) => array%r64
      case (2)
        view%d2(1:e(1), 1:e(2)) => array%r64
      case (3)
        view%d3(1:e(1), 1:e(2), 1:e(3)) => array%r64
      case default
        view%d4(1:e(1), 1:e(2), 1:e(3), 1:e(4)) => array%r64
      end select
    end if
  end function model_view_of

  !> References: arrays shaped like `outputs`, read from the comma-separated raw
  !> files of --references (column-major bytes of each output). A missing file,
  !> a count or a size that does not match the outputs stops the run with one line.
  subroutine model_read_references(cli, outputs, references)
    type(cli_parser), intent(in) :: cli                          !< parsed command line
    type(model_array), intent(in) :: outputs(:)                  !< the model's outputs
    type(model_array), allocatable, intent(out) :: references(:) !< their references
    character(len=:), allocatable :: files, file
    character(len=256) :: message
    integer :: k, start, comma, unit, stat
    integer(int64) :: expected, found
    files = cli_string(cli, "--references")
    if (len_trim(files) == 0) call cli_usage_error(cli, "--references is required (the expected outputs)")
    if (1 + count_char(files, ",") /= size(outputs)) &
      call bench_fail("--references names " // string_from_integer(1 + count_char(files, ",")) // " file(s) but the " // &
                      "model returns " // string_from_integer(size(outputs)) // " output(s)", "(one file per output)")
    allocate (references(size(outputs)))
    do k = 1, size(outputs)
      references(k)%dtype = outputs(k)%dtype
      references(k)%shape = outputs(k)%shape
    end do
    call model_allocate(references, "reference")
    start = 1
    do k = 1, size(outputs)
      comma = index(files(start:), ",")
      if (comma == 0) then
        comma = len(files) + 1
      else
        comma = start + comma - 1
      end if
      file = files(start:comma - 1)
      start = comma + 1
      if (references(k)%dtype == "float32") then
        expected = 4 * size(references(k)%r32, kind=int64)
      else
        expected = 8 * size(references(k)%r64, kind=int64)
      end if
      inquire (file=file, size=found)
      if (found /= expected) &
        call bench_fail("reference " // file // ": " // string_from_integer(found) // " bytes, but output " // &
                        string_from_integer(k) // " (" // describe(references(k)) // ") needs " // string_from_integer(expected), &
                        "(write the references with `ftbench run-model` for this signature)")
      open (newunit=unit, file=file, access="stream", form="unformatted", status="old", &
            action="read", iostat=stat, iomsg=message)
      if (stat == 0) then
        if (references(k)%dtype == "float32") then
          read (unit, iostat=stat, iomsg=message) references(k)%r32
        else
          read (unit, iostat=stat, iomsg=message) references(k)%r64
        end if
      end if
      if (stat == 0) close (unit, iostat=stat, iomsg=message)
      if (stat /= 0) call bench_fail("reference " // file // ": " // trim(message), "")
    end do
  end subroutine model_read_references

  !> Start the correctness log: tolerance rtol = atol_fraction = --rtol.
  subroutine model_check_create(cli, check, ntimes, warmup)
    type(cli_parser), intent(in) :: cli    !< parsed command line
    type(check_log), intent(out) :: check  !< new log
    integer, intent(in) :: ntimes          !< measured iterations
    integer, intent(in) :: warmup          !< warm-up iterations
    character(len=:), allocatable :: text
    real(real64) :: rtol
    integer :: ios
    text = cli_string(cli, "--rtol")
    ios = 1
    if (len_trim(text) > 0 .and. verify(trim(text), "0123456789.eE+-") == 0) read (text, *, iostat=ios) rtol
    if (ios /= 0) call cli_usage_error(cli, "--rtol must be a number >= 0 (e.g. 1.9e-3), got '" // text // "'")
    if (.not. (rtol >= 0)) call cli_usage_error(cli, "--rtol must be a number >= 0, got '" // text // "'")
    call check_create(check, ntimes, warmup, cli_string(cli, "--reference-note"), rtol, rtol)
  end subroutine model_check_create

  !> Compare every output with its reference (components "output 1", ...).
  subroutine model_compare(check, iteration, outputs, references)
    type(check_log), intent(inout) :: check          !< log
    integer, intent(in) :: iteration                 !< 1 .. warmup + ntimes
    type(model_array), intent(in) :: outputs(:)      !< this iteration's outputs
    type(model_array), intent(in) :: references(:)   !< their references
    integer :: k
    do k = 1, size(outputs)
      if (outputs(k)%dtype == "float32") then
        call check_compare(check, iteration, "output " // string_from_integer(k), outputs(k)%r32, references(k)%r32)
      else
        call check_compare(check, iteration, "output " // string_from_integer(k), outputs(k)%r64, references(k)%r64)
      end if
    end do
  end subroutine model_compare

  !> The signature into the results document: /sizes/input_<k> and
  !> /sizes/output_<k> ("SIZExSIZE...:DTYPE"), /dtype (of input 1; "mixed" when
  !> the inputs differ) and /device.
  subroutine model_describe(doc, inputs, outputs)
    type(json_document), intent(in) :: doc         !< results document
    type(model_array), intent(in) :: inputs(:)     !< declared inputs
    type(model_array), intent(in) :: outputs(:)    !< the model's outputs
    integer :: k
    character(len=:), allocatable :: dtype
    dtype = inputs(1)%dtype
    do k = 1, size(inputs)
      call json_set(doc, "/sizes/input_" // string_from_integer(k), describe(inputs(k)))
      if (inputs(k)%dtype /= dtype) dtype = "mixed"
    end do
    do k = 1, size(outputs)
      call json_set(doc, "/sizes/output_" // string_from_integer(k), describe(outputs(k)))
    end do
    call json_set(doc, "/dtype", dtype)
    call json_set(doc, "/device", "cpu")
  end subroutine model_describe

  !> "SIZExSIZE...:DTYPE" of an array.
  function describe(array) result(text)
    type(model_array), intent(in) :: array
    character(len=:), allocatable :: text
    integer :: d
    text = ""
    do d = 1, size(array%shape)
      if (d > 1) text = text // "x"
      text = text // string_from_integer(array%shape(d))
    end do
    text = text // ":" // array%dtype
  end function describe

  !> Product of the extents, or -1 when it overflows int64.
  pure integer(int64) function element_count(shape) result(n)
    integer(int64), intent(in) :: shape(:)
    integer :: d
    n = 1
    do d = 1, size(shape)
      if (n > huge(n) / shape(d)) then
        n = -1
        return
      end if
      n = n * shape(d)
    end do
  end function element_count

  pure integer function count_char(text, c) result(n)
    character(len=*), intent(in) :: text
    character(len=1), intent(in) :: c
    integer :: i
    n = 0
    do i = 1, len(text)
      if (text(i:i) == c) n = n + 1
    end do
  end function count_char


end module model_case
