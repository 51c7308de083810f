!> benchmarker_torch -- the published MiMA-style driver: N calls of cg_drag_ML
!> (cg_drag_torch_mod, direct libtorch coupling) on the whole T42 grid.
!>
!> usage: benchmarker_torch <model-dir> <model-name> <N> [options]
!>
!> Each call computes the drag of both wind components; its output is checked
!> against the Python references. Prints the total and per-call time and the
!> usual summary (phase "loop" = one cg_drag_ML call).
program benchmarker_torch
  use, intrinsic :: iso_fortran_env, only: real64, output_unit
  use torch_coupling, only: torch_set_num_threads, torch_get_num_threads, torch_version, &
                            torch_cpu_capability, torch_config
  use cg_drag_torch_mod, only: cg_drag_ML_init, cg_drag_ML, cg_drag_ML_end
  use bench_cli, only: cli_parser, cli_parse, cli_string
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_record_torch, bench_finish, bench_path_join
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set
  use cgdrag_case
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(cli_parser) :: cli
  type(bench_settings) :: settings
  type(cgdrag_options) :: options
  type(cgdrag_data), target :: data
  type(phase_timer) :: timer
  type(check_log) :: check
  type(json_document) :: doc
  real(dp), allocatable, target :: gwfcng_x(:, :, :), gwfcng_y(:, :, :)
  character(len=:), allocatable :: model_dir, model_name
  integer :: it
  real(real64) :: t0

  call cgdrag_cli(cli, "benchmarker_torch", "direct libtorch (MiMA cg_drag_ML)", "model-name", &
                  "TorchScript file, e.g. cgdrag_cpu.pt", phased=.false.)
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  call cgdrag_read_options(cli, options)
  model_dir = cli_string(cli, "model-dir")
  model_name = cli_string(cli, "model-name")

  call bench_results_create(doc, settings, "cgdrag", "direct", bench_path_join(model_dir, model_name))
  call json_set(doc, "/coupling_variant", "MiMA cg_drag_ML")
  call bench_record_torch(doc, torch_version(), torch_cpu_capability(), torch_config())
  call cgdrag_read(data, options%data_path, options%columns)
  call cgdrag_describe(doc, data, options)
  if (settings%threads > 0) call torch_set_num_threads(settings%threads)
  call timer_create(timer, [character(len=4) :: "loop"], settings%ntimes, settings%warmup)
  call cgdrag_check_create(check, settings%ntimes, settings%warmup)
  allocate (gwfcng_x, gwfcng_y, mold=data%uuu)

  t0 = timer_now()
  call cg_drag_ML_init(model_dir, model_name)
  call timer_record_once(timer, "model load", timer_now() - t0)
  do it = 1, settings%warmup + settings%ntimes
    call cgdrag_poison(gwfcng_x, gwfcng_y)
    call timer_start(timer, 1)
    call cg_drag_ML(data%uuu, data%vvv, data%psfc, data%lat, gwfcng_x, gwfcng_y)
    call timer_stop(timer, 1, it)
    call cgdrag_compare(check, it, data, gwfcng_x, gwfcng_y)
    call check_record(check, it, timer%seconds(it, 1), settings%quiet)
  end do
  t0 = timer_now()
  call cg_drag_ML_end()
  call timer_record_once(timer, "model delete", timer_now() - t0)

  write (output_unit, '(a, i0, a, es11.4, a, es11.4, a)') "cg_drag_ML: ", settings%ntimes, &
    " calls after the warm-up, total ", sum(timer%seconds(settings%warmup + 1:, 1)), &
    " s, per call ", sum(timer%seconds(settings%warmup + 1:, 1)) / settings%ntimes, " s"
  call json_set(doc, "/threads", torch_get_num_threads())
  call bench_finish(settings, doc, timer, check)
end program benchmarker_torch
