!> benchmarker_large_stride_torch -- the large-stride N x N benchmark through the
!> direct (libtorch) coupling path.
!>
!> usage: benchmarker_large_stride_torch <model-dir> <model-file> <ntimes> <N> [options]
!>
!> Each iteration fills an N x N real32 array by the shared input rule, then
!> times separately: wrapping input and output arrays as tensors ("tensor
!> creation"), forward ("forward"), deleting the tensors ("tensor deletion"),
!> and the three together ("loop"). The output must equal 2 * input with
!> element (1, 2) negated, checked every iteration. Model load and delete are
!> timed once. Exit status: 0 if every check passed, 1 otherwise or on error,
!> 2 on a usage error.
program benchmarker_large_stride_torch
  use, intrinsic :: iso_fortran_env, only: real32, real64
  use torch_coupling, only: torch_model, torch_tensor, torch_model_load, torch_model_forward, &
                            torch_model_delete, torch_model_metadata, torch_tensor_from_array, &
                            torch_tensor_delete, torch_set_num_threads, torch_get_num_threads, &
                            torch_version, torch_cpu_capability, torch_config, torch_kCPU
  use bench_cli, only: cli_parser, cli_parse, cli_string, cli_integer
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_record_torch, bench_finish, bench_path_join, bench_fail
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once, timer_busy_wait
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set, json_set_parsed
  use large_stride_case
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(cli_parser) :: cli
  type(bench_settings) :: settings
  type(phase_timer) :: timer
  type(check_log) :: check
  type(json_document) :: doc
  type(torch_model) :: model
  type(torch_tensor) :: inputs(1), outputs(1)
  real(real32), allocatable, target :: x(:, :), y(:, :)
  character(len=:), allocatable :: model_file, metadata
  character(len=512) :: message
  integer :: n, it, stat
  real(real64) :: t0

  call large_stride_cli(cli, "benchmarker_large_stride_torch", "direct libtorch", "model-file", &
                        "TorchScript file, e.g. large_stride_loop_cpu.pt")
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  n = cli_integer(cli, "N", minimum=2)
  model_file = bench_path_join(cli_string(cli, "model-dir"), cli_string(cli, "model-file"))

  call bench_results_create(doc, settings, "large_stride", "direct", model_file)
  call large_stride_describe(doc, n)
  call bench_record_torch(doc, torch_version(), torch_cpu_capability(), torch_config())
  if (settings%threads > 0) call torch_set_num_threads(settings%threads)
  call timer_create(timer, large_stride_phases, settings%ntimes, settings%warmup)
  call large_stride_check_create(check, settings%ntimes, settings%warmup)

  t0 = timer_now()
  call torch_model_load(model, model_file, torch_kCPU, stat=stat, errmsg=message)
  if (stat /= 0) call bench_fail(message, "(create the models with `ftbench export`, or run " // &
                                 "scripts/run_benchmarks.sh)")
  call timer_record_once(timer, "model load", timer_now() - t0)
  metadata = torch_model_metadata(model)

  allocate (x(n, n), y(n, n))
  do it = 1, settings%warmup + settings%ntimes
    call large_stride_fill(x, y, it)
    if (it == 1) call large_stride_save_input(cli, x)

    call timer_start(timer, p_loop)
    call timer_start(timer, p_create)
    call torch_tensor_from_array(inputs(1), x)
    call torch_tensor_from_array(outputs(1), y)
    call timer_stop(timer, p_create, it)

    call timer_start(timer, p_forward)
    call torch_model_forward(model, inputs, outputs)
    call timer_stop(timer, p_forward, it)

    call timer_start(timer, p_delete)
    call torch_tensor_delete(inputs(1))
    call torch_tensor_delete(outputs(1))
    call timer_stop(timer, p_delete, it)
    call timer_busy_wait(settings%inject_seconds)  ! self-test only (--inject-ns)
    call timer_stop(timer, p_loop, it)

    call large_stride_compare(check, it, x, y)
    call check_record(check, it, timer%seconds(it, p_loop), settings%quiet)
  end do

  t0 = timer_now()
  call torch_model_delete(model)
  call timer_record_once(timer, "model delete", timer_now() - t0)

  if (len(metadata) > 0) call json_set_parsed(doc, "/model_metadata", metadata)
  call json_set(doc, "/threads", torch_get_num_threads())
  call bench_finish(settings, doc, timer, check)
end program benchmarker_large_stride_torch
