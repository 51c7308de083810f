!> benchmarker_large_stride_forpy -- the large-stride N x N benchmark through the
!> embedded-Python coupling path (the "forpy" path).
!>
!> usage: benchmarker_large_stride_forpy <model-dir> <python-module> <ntimes> <N> [options]
!>
!> Starts the venv's Python inside this process, puts <model-dir> on sys.path,
!> imports <python-module> (e.g. large_stride_emulator) and gets the model from
!> its initialize(variant) (built in Python), initialize_ts(path) (TorchScript,
!> with --torchscript FILE, the default in a -DUSETS=ON build),
!> initialize_aoti(path) (--aoti FILE, an AOTInductor package) or
!> initialize_compiled(variant) (--compile: torch.compile). Each iteration
!> then times: wrapping input and output arrays as NumPy arrays without copying
!> ("tensor creation"), compute(model, x, y) ("forward"), releasing the arrays
!> ("tensor deletion"), and the three together ("loop"); the same phases,
!> check, options and results as benchmarker_large_stride_torch.
program benchmarker_large_stride_forpy
  use, intrinsic :: iso_fortran_env, only: real32, real64
  use py_embedding, only: py_object, py_call, py_array_from, py_object_destroy
  use embedded_driver, only: embedded_start, embedded_load_source, embedded_finish, &
                             embedded_add_model_options, embedded_model_source, &
                             embedded_model_source_t
  use bench_cli, only: cli_parser, cli_parse, cli_string, cli_integer, cli_add_option
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_finish
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once, timer_busy_wait
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set
  use large_stride_case
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(cli_parser) :: cli
  type(bench_settings) :: settings
  type(phase_timer) :: timer
  type(check_log) :: check
  type(json_document) :: doc
  type(py_object) :: emulator, torch, model, x_array, y_array
  real(real32), allocatable, target :: x(:, :), y(:, :)
  character(len=:), allocatable :: model_dir, module_name, variant
  type(embedded_model_source_t) :: source
  integer :: n, it
  real(real64) :: t0

  call large_stride_cli(cli, "benchmarker_large_stride_forpy", "embedded-Python", "python-module", &
                        "module in <model-dir>, e.g. large_stride_emulator")
  call embedded_add_model_options(cli)
  call cli_add_option(cli, "--variant", "V", "model built in Python: loop (default) or vectorized", &
                      "loop")
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  n = cli_integer(cli, "N", minimum=2)
  model_dir = cli_string(cli, "model-dir")
  module_name = cli_string(cli, "python-module")
  variant = cli_string(cli, "--variant")
  source = embedded_model_source(cli, model_dir, "large_stride_" // variant // "_cpu.pt")

  call bench_results_create(doc, settings, "large_stride", "embedded-python", module_name)
  call large_stride_describe(doc, n)
  call json_set(doc, "/coupling_variant", source%label)
  if (len(source%file) > 0) call json_set(doc, "/model_file", source%file)

  call embedded_start(doc, settings, model_dir, module_name, emulator, torch)
  call timer_create(timer, large_stride_phases, settings%ntimes, settings%warmup)
  call large_stride_check_create(check, settings%ntimes, settings%warmup)

  t0 = timer_now()
  call embedded_load_source(doc, emulator, source, variant, model)
  call timer_record_once(timer, "model load", timer_now() - t0)

  allocate (x(n, n), y(n, n))
  do it = 1, settings%warmup + settings%ntimes
    call large_stride_fill(x, y, it)
    if (it == 1) call large_stride_save_input(cli, x)

    call timer_start(timer, p_loop)
    call timer_start(timer, p_create)
    call py_array_from(x_array, x)
    call py_array_from(y_array, y)
    call timer_stop(timer, p_create, it)

    call timer_start(timer, p_forward)
    call py_call(emulator, "compute", [model, x_array, y_array])
    call timer_stop(timer, p_forward, it)

    call timer_start(timer, p_delete)
    call py_object_destroy(x_array)
    call py_object_destroy(y_array)
    call timer_stop(timer, p_delete, it)
    call timer_busy_wait(settings%inject_seconds)  ! self-test only (--inject-ns)
    call timer_stop(timer, p_loop, it)

    call large_stride_compare(check, it, x, y)
    call check_record(check, it, timer%seconds(it, p_loop), settings%quiet)
  end do

  t0 = timer_now()
  call py_object_destroy(model)
  call timer_record_once(timer, "model delete", timer_now() - t0)

  call embedded_finish(doc, emulator, torch)
  call bench_finish(settings, doc, timer, check)

end program benchmarker_large_stride_forpy
