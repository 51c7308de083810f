!> benchmarker_model_torch -- any model on inputs of a declared signature
!> through the direct (libtorch) coupling path (docs/run-model.md).
!>
!> usage: benchmarker_model_torch <model-file> <ntimes> --inputs SIG --references FILES --rtol X [options]
!>
!> Fills the inputs by the shared rule (model_case), sizes the outputs from one
!> forward (torch_model_output_signature, timed once as "output sizing") and
!> reads the references. Each iteration then times: wrapping input and output
!> arrays as tensors ("tensor creation"), forward ("forward"), deleting the
!> tensors ("tensor deletion"), and the three together ("loop"), and checks
!> every output against its reference. Model load and delete are timed once.
!> `ftbench run-model` writes the references and runs this driver. Exit
!> status: 0 if every check passed, 1 otherwise or on error, 2 on a usage error.
program benchmarker_model_torch
  use, intrinsic :: iso_fortran_env, only: real32, real64
  use torch_coupling, only: torch_model, torch_tensor, torch_model_load, torch_model_forward, &
                            torch_model_delete, torch_model_metadata, torch_model_output_signature, &
                            torch_tensor_from_array, torch_tensor_delete, torch_set_num_threads, &
                            torch_get_num_threads, torch_version, torch_cpu_capability, torch_config, &
                            torch_kCPU
  use bench_cli, only: cli_parser, cli_parse, cli_string, cli_usage_error
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_record_torch, bench_finish, bench_fail
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once, timer_busy_wait
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set, json_set_parsed
  use model_case
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(cli_parser) :: cli
  type(bench_settings) :: settings
  type(phase_timer) :: timer
  type(check_log) :: check
  type(json_document) :: doc
  type(torch_model) :: model
  type(model_array), allocatable, target :: inputs(:), outputs(:), references(:)
  type(torch_tensor), allocatable :: tensors(:)
  character(len=:), allocatable :: model_file, metadata, signature
  character(len=4096) :: message
  integer :: it, stat, k, n_in
  real(real64) :: t0

  call model_cli(cli, "benchmarker_model_torch", "direct libtorch")
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  model_file = cli_string(cli, "model-file")
  call model_signature(cli, cli_string(cli, "--inputs"), "--inputs", inputs)
  if (len_trim(cli_string(cli, "--references")) == 0) &
    call cli_usage_error(cli, "--references is required (the expected outputs)")
  call model_check_create(cli, check, settings%ntimes, settings%warmup)

  call bench_results_create(doc, settings, cli_string(cli, "--benchmark"), "direct", model_file)
  call bench_record_torch(doc, torch_version(), torch_cpu_capability(), torch_config())
  if (settings%threads > 0) call torch_set_num_threads(settings%threads)
  call timer_create(timer, model_phases, settings%ntimes, settings%warmup)

  t0 = timer_now()
  call torch_model_load(model, model_file, torch_kCPU, stat=stat, errmsg=message)
  if (stat /= 0) call bench_fail(message, "(pass a TorchScript file or an AOTInductor package " // &
                                 "that `ftbench export` wrote)")
  call timer_record_once(timer, "model load", timer_now() - t0)
  metadata = torch_model_metadata(model)

  call model_allocate(inputs, "input")
  call model_fill(inputs)
  n_in = size(inputs)

  ! Size the outputs from one forward on the inputs.
  allocate (tensors(n_in))
  call wrap(inputs, 1)
  t0 = timer_now()
  call torch_model_output_signature(model, tensors, signature, stat=stat, errmsg=message)
  if (stat /= 0) call bench_fail(message, "(declare the inputs the model's forward takes with --inputs)")
  call timer_record_once(timer, "output sizing", timer_now() - t0)
  do k = 1, n_in
    call torch_tensor_delete(tensors(k))
  end do
  call model_signature(cli, signature, "the model's outputs", outputs)
  if (size(outputs) > model_max_outputs) &
    call bench_fail("the model returns more than 8 outputs", "(the check compares at most 8)")
  call model_allocate(outputs, "output")
  call model_read_references(cli, outputs, references)
  call model_describe(doc, inputs, outputs)
  deallocate (tensors)
  allocate (tensors(n_in + size(outputs)))

  do it = 1, settings%warmup + settings%ntimes
    call model_poison(outputs)

    call timer_start(timer, p_loop)
    call timer_start(timer, p_create)
    call wrap(inputs, 1)
    call wrap(outputs, n_in + 1)
    call timer_stop(timer, p_create, it)

    call timer_start(timer, p_forward)
    call torch_model_forward(model, tensors(1:n_in), tensors(n_in + 1:), stat=stat, errmsg=message)
    call timer_stop(timer, p_forward, it)
    if (stat /= 0) call bench_fail(message, "")

    call timer_start(timer, p_delete)
    do k = 1, size(tensors)
      call torch_tensor_delete(tensors(k))
    end do
    call timer_stop(timer, p_delete, it)
    call timer_busy_wait(settings%inject_seconds)  ! self-test only (--inject-ns)
    call timer_stop(timer, p_loop, it)

    call model_compare(check, it, outputs, references)
    call check_record(check, it, timer%seconds(it, p_loop), settings%quiet)
  end do

  t0 = timer_now()
  call torch_model_delete(model)
  call timer_record_once(timer, "model delete", timer_now() - t0)

  if (len(metadata) > 0) then
    call json_set_parsed(doc, "/model_metadata", metadata)
  else  ! a file ftbench did not export: described by its stem and format
    call json_set(doc, "/model_metadata/model", file_stem(model_file))
    call json_set(doc, "/model_metadata/format", "torchscript")
  end if
  call json_set(doc, "/threads", torch_get_num_threads())
  call bench_finish(settings, doc, timer, check)

contains

  !> Wrap each array as tensors(first), tensors(first + 1), ... (no copy).
  subroutine wrap(arrays, first)
    type(model_array), intent(in), target :: arrays(:)  !< allocated arrays
    integer, intent(in) :: first                        !< index of the first tensor
    type(model_view) :: v
    integer :: k
    do k = 1, size(arrays)
      v = model_view_of(arrays(k))
      associate (t => tensors(first + k - 1))
        if (associated(v%s1)) call torch_tensor_from_array(t, v%s1)
        if (associated(v%s2)) call torch_tensor_from_array(t, v%s2)
        if (associated(v%s3)) call torch_tensor_from_array(t, v%s3)
        if (associated(v%s4)) call torch_tensor_from_array(t, v%s4)
        if (associated(v%d1)) call torch_tensor_from_array(t, v%d1)
        if (associated(v%d2)) call torch_tensor_from_array(t, v%d2)
        if (associated(v%d3)) call torch_tensor_from_array(t, v%d3)
        if (associated(v%d4)) call torch_tensor_from_array(t, v%d4)
      end associate
    end do
  end subroutine wrap

  !> File name without directory and extension: "a/b/resnet18.pt" -> "resnet18".
  function file_stem(path) result(stem)
    character(len=*), intent(in) :: path     !< file path
    character(len=:), allocatable :: stem    !< its stem
    integer :: dot
    stem = path(index(path, "/", back=.true.) + 1:)
    dot = index(stem, ".", back=.true.)
    if (dot > 1) stem = stem(1:dot - 1)
  end function file_stem

end program benchmarker_model_torch
