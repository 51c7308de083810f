!> benchmarker_model_forpy -- any model on inputs of a declared signature
!> through the embedded-Python coupling path (docs/run-model.md).
!>
!> usage: benchmarker_model_forpy <model-file> <ntimes> --inputs SIG --references FILES --rtol X [options]
!>
!> Starts the venv's Python inside this process and imports
!> ftbench.model_emulator, which loads <model-file> (TorchScript, or an
!> AOTInductor package for .pt2). Fills the inputs by the shared rule
!> (model_case), sizes the outputs from one forward (output_signature, timed
!> once as "output sizing") and reads the references. Each iteration then
!> times: wrapping input and output arrays as NumPy arrays without copying
!> ("tensor creation"), compute(model, n_inputs, arrays...) ("forward"),
!> releasing the arrays ("tensor deletion"), and the three together ("loop");
!> the same phases, check, options and results as benchmarker_model_torch.
program benchmarker_model_forpy
  use, intrinsic :: iso_fortran_env, only: real64
  use py_embedding, only: py_object, py_call, py_array_from, py_object_from, py_object_to, &
                          py_object_destroy
  use embedded_driver, only: embedded_start, embedded_load_model, embedded_finish
  use bench_cli, only: cli_parser, cli_parse, cli_string, cli_usage_error
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_finish, bench_fail
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once, timer_busy_wait
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set
  use model_case
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(cli_parser) :: cli
  type(bench_settings) :: settings
  type(phase_timer) :: timer
  type(check_log) :: check
  type(json_document) :: doc
  type(py_object) :: emulator, torch, model, signature_object
  type(py_object), allocatable :: arguments(:)
  type(model_array), allocatable, target :: inputs(:), outputs(:), references(:)
  character(len=:), allocatable :: model_file, signature, directory
  character(len=8192) :: message
  integer :: it, stat, k, n_in
  real(real64) :: t0

  call model_cli(cli, "benchmarker_model_forpy", "embedded-Python")
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  model_file = cli_string(cli, "model-file")
  call model_signature(cli, cli_string(cli, "--inputs"), "--inputs", inputs)
  if (len_trim(cli_string(cli, "--references")) == 0) &
    call cli_usage_error(cli, "--references is required (the expected outputs)")
  call model_check_create(cli, check, settings%ntimes, settings%warmup)
  n_in = size(inputs)
  if (n_in > 7) call cli_usage_error(cli, "the embedded path passes at most 7 inputs")

  call bench_results_create(doc, settings, cli_string(cli, "--benchmark"), "embedded-python", model_file)
  if (is_package(model_file)) then
    call json_set(doc, "/coupling_variant", "aoti")
  else
    call json_set(doc, "/coupling_variant", "torchscript")
  end if
  directory = "."
  if (index(model_file, "/", back=.true.) > 1) directory = model_file(1:index(model_file, "/", back=.true.) - 1)
  call embedded_start(doc, settings, directory, "ftbench.model_emulator", emulator, torch)
  call timer_create(timer, model_phases, settings%ntimes, settings%warmup)

  t0 = timer_now()
  call embedded_load_model(doc, emulator, "initialize", model_file, model)
  call timer_record_once(timer, "model load", timer_now() - t0)

  call model_allocate(inputs, "input")
  call model_fill(inputs)

  ! Size the outputs from one forward on the inputs.
  allocate (arguments(1 + n_in))
  arguments(1) = model
  call wrap(inputs, 2)
  t0 = timer_now()
  call py_call(emulator, "output_signature", arguments, signature_object, stat=stat, errmsg=message)
  if (stat /= 0) call bench_fail(message, "")
  call timer_record_once(timer, "output sizing", timer_now() - t0)
  call py_object_to(signature_object, signature)
  call py_object_destroy(signature_object)
  do k = 2, size(arguments)
    call py_object_destroy(arguments(k))
  end do
  call model_signature(cli, signature, "the model's outputs", outputs)
  if (n_in + size(outputs) > 14) &
    call bench_fail("the model's " // signature // " and the inputs make more than 14 arrays", &
                    "(the embedded path passes at most 14)")
  call model_allocate(outputs, "output")
  call model_read_references(cli, outputs, references)
  call model_describe(doc, inputs, outputs)
  deallocate (arguments)
  allocate (arguments(2 + n_in + size(outputs)))
  arguments(1) = model
  call py_object_from(arguments(2), n_in)

  do it = 1, settings%warmup + settings%ntimes
    call model_poison(outputs)

    call timer_start(timer, p_loop)
    call timer_start(timer, p_create)
    call wrap(inputs, 3)
    call wrap(outputs, 3 + n_in)
    call timer_stop(timer, p_create, it)

    call timer_start(timer, p_forward)
    call py_call(emulator, "compute", arguments, stat=stat, errmsg=message)
    call timer_stop(timer, p_forward, it)
    if (stat /= 0) call bench_fail(message, "")

    call timer_start(timer, p_delete)
    do k = 3, size(arguments)
      call py_object_destroy(arguments(k))
    end do
    call timer_stop(timer, p_delete, it)
    call timer_busy_wait(settings%inject_seconds)  ! self-test only (--inject-ns)
    call timer_stop(timer, p_loop, it)

    call model_compare(check, it, outputs, references)
    call check_record(check, it, timer%seconds(it, p_loop), settings%quiet)
  end do

  call py_object_destroy(arguments(2))
  t0 = timer_now()
  call py_object_destroy(model)
  call timer_record_once(timer, "model delete", timer_now() - t0)

  call embedded_finish(doc, emulator, torch)
  call bench_finish(settings, doc, timer, check)

contains

  !> Wrap each array as a NumPy view in arguments(first), arguments(first + 1), ... (no copy).
  subroutine wrap(arrays, first)
    type(model_array), intent(in), target :: arrays(:)  !< allocated arrays
    integer, intent(in) :: first                        !< index of the first argument
    type(model_view) :: v
    integer :: k
    do k = 1, size(arrays)
      v = model_view_of(arrays(k))
      associate (a => arguments(first + k - 1))
        if (associated(v%s1)) call py_array_from(a, v%s1)
        if (associated(v%s2)) call py_array_from(a, v%s2)
        if (associated(v%s3)) call py_array_from(a, v%s3)
        if (associated(v%s4)) call py_array_from(a, v%s4)
        if (associated(v%d1)) call py_array_from(a, v%d1)
        if (associated(v%d2)) call py_array_from(a, v%d2)
        if (associated(v%d3)) call py_array_from(a, v%d3)
        if (associated(v%d4)) call py_array_from(a, v%d4)
      end associate
    end do
  end subroutine wrap

  !> True when `file` names an AOTInductor package (ends in .pt2).
  logical function is_package(file)
    character(len=*), intent(in) :: file  !< model file
    integer :: n
    n = len_trim(file)
    is_package = .false.
    if (n >= 4) is_package = file(n - 3:n) == ".pt2"
  end function is_package

end program benchmarker_model_forpy
