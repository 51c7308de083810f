!> benchmarker_forpy -- the published MiMA-style driver: N calls of cg_drag_ML
!> (cg_drag_forpy_mod, embedded-Python coupling) on the whole T42 grid.
!>
!> usage: benchmarker_forpy <model-dir> <python-module> <N> [options]
!>        [--torchscript FILE|none | --aoti FILE | --compile] [--checkpoint FILE]
!>
!> Each call computes the drag of both wind components; its output is checked
!> against the Python references. Prints the total and per-call time and the
!> usual summary (phase "loop" = one cg_drag_ML call).
program benchmarker_forpy
  use, intrinsic :: iso_fortran_env, only: real64, output_unit
  use py_embedding, only: py_object, py_object_destroy
  use cg_drag_forpy_mod, only: cg_drag_ML_init, cg_drag_ML, cg_drag_ML_end
  use embedded_driver, only: embedded_add_model_options, embedded_model_source, embedded_model_source_t, &
                             embedded_add_checkpoint_option, embedded_checkpoint, &
                             embedded_torch_setup, embedded_record_threads
  use bench_cli, only: cli_parser, cli_parse, cli_string
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_finish, bench_fail
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
  type(py_object) :: torch
  real(dp), allocatable, target :: gwfcng_x(:, :, :), gwfcng_y(:, :, :)
  character(len=:), allocatable :: model_dir, module_name, checkpoint
  type(embedded_model_source_t) :: source
  character(len=8192) :: message
  integer :: it, stat
  real(real64) :: t0

  call cgdrag_cli(cli, "benchmarker_forpy", "embedded-Python (MiMA cg_drag_ML)", "python-module", &
                  "module in <model-dir>, e.g. cgdrag_emulator", phased=.false.)
  call embedded_add_model_options(cli)
  call embedded_add_checkpoint_option(cli)
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  call cgdrag_read_options(cli, options)
  model_dir = cli_string(cli, "model-dir")
  module_name = cli_string(cli, "python-module")
  checkpoint = embedded_checkpoint(cli, model_dir)
  source = embedded_model_source(cli, model_dir, "cgdrag_cpu.pt")

  call bench_results_create(doc, settings, "cgdrag", "embedded-python", module_name)
  call json_set(doc, "/coupling_variant", source%label // ", MiMA cg_drag_ML")
  if (len(source%file) > 0) call json_set(doc, "/model_file", source%file)
  call cgdrag_read(data, options%data_path, options%columns)
  call cgdrag_describe(doc, data, options)
  call timer_create(timer, [character(len=4) :: "loop"], settings%ntimes, settings%warmup)
  call cgdrag_check_create(check, settings%ntimes, settings%warmup)
  allocate (gwfcng_x, gwfcng_y, mold=data%uuu)

  t0 = timer_now()
  select case (source%initializer)
  case ("initialize_ts")
    call cg_drag_ML_init(model_dir, module_name, torchscript=source%file, stat=stat, errmsg=message)
  case ("initialize_aoti")
    call cg_drag_ML_init(model_dir, module_name, aoti=source%file, stat=stat, errmsg=message)
  case default
    call cg_drag_ML_init(model_dir, module_name, checkpoint=checkpoint, &
                         compiled=source%initializer == "initialize_compiled", stat=stat, errmsg=message)
  end select
  if (stat /= 0) call bench_fail(message, "")
  call timer_record_once(timer, "model load", timer_now() - t0)
  call embedded_torch_setup(doc, settings, torch)

  do it = 1, settings%warmup + settings%ntimes
    call cgdrag_poison(gwfcng_x, gwfcng_y)
    call timer_start(timer, 1)
    call cg_drag_ML(data%uuu, data%vvv, data%psfc, data%lat, gwfcng_x, gwfcng_y)
    call timer_stop(timer, 1, it)
    call cgdrag_compare(check, it, data, gwfcng_x, gwfcng_y)
    call check_record(check, it, timer%seconds(it, 1), settings%quiet)
  end do

  call embedded_record_threads(doc, torch)
  call py_object_destroy(torch)
  t0 = timer_now()
  call cg_drag_ML_end()
  call timer_record_once(timer, "model delete", timer_now() - t0)

  write (output_unit, '(a, i0, a, es11.4, a, es11.4, a)') "cg_drag_ML: ", settings%ntimes, &
    " calls after the warm-up, total ", sum(timer%seconds(settings%warmup + 1:, 1)), &
    " s, per call ", sum(timer%seconds(settings%warmup + 1:, 1)) / settings%ntimes, " s"
  call bench_finish(settings, doc, timer, check)
end program benchmarker_forpy
