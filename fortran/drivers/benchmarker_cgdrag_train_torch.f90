!> benchmarker_cgdrag_train_torch -- WaveNet-2 trained online on the T42 grid
!> through the direct (libtorch) coupling: every step inference on the whole
!> grid and one training step (Adam) on a sample of columns, phase by phase.
!>
!> usage: benchmarker_cgdrag_train_torch <model-dir> <model-file> <ntimes> [options]
!>        [--data DIR] [--save FILE]
!>
!> The model is a TorchScript file (cgdrag_cpu.pt); AOTInductor packages run
!> forward only and are refused. Phases, sample and check: cgdrag_train_case.
!> The sample's tensors wrap Fortran arrays; d loss / d wind is accumulated by
!> backward straight into the Fortran array sample%gradient (attached as the
!> tensor's .grad, no copy). --save writes the trained model (TorchScript).
!> Exit status: 0 if every check passed, 1 otherwise or on error, 2 on a usage error.
program benchmarker_cgdrag_train_torch
  use, intrinsic :: iso_fortran_env, only: real64
  use torch_coupling
  use bench_cli, only: cli_parser, cli_parse, cli_string, cli_add_option, cli_usage_error
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_record_torch, bench_finish, bench_path_join, bench_fail
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set, json_set_parsed
  use bench_tolerances, only: cgdrag_train_learning_rate
  use cgdrag_case, only: cgdrag_cli, cgdrag_options, cgdrag_read_options, cgdrag_data, cgdrag_read, &
                         cgdrag_describe, cgdrag_poison, dp, nlon, nlat
  use cgdrag_phases, only: cgdrag_work, cgdrag_allocate
  use cgdrag_direct, only: cgdrag_tensors, cgdrag_tensors_create, cgdrag_tensors_forward, &
                           cgdrag_tensors_delete
  use cgdrag_train_case
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(cli_parser) :: cli
  type(bench_settings) :: settings
  type(cgdrag_options) :: options
  type(cgdrag_data), target :: data
  type(train_sample), target :: sample
  type(phase_timer) :: timer
  type(check_log) :: check
  type(json_document) :: doc
  type(torch_model) :: model
  type(torch_optimizer) :: optimizer
  type(cgdrag_work), target :: work
  type(cgdrag_tensors) :: tensors
  type(torch_tensor) :: sw_t, sl_t, sp_t, st_t, prediction, loss
  real(dp), allocatable :: references(:), losses(:)
  character(len=:), allocatable :: model_file, metadata, save_path
  character(len=512) :: message
  integer :: it, stat
  real(real64) :: t0

  call cgdrag_cli(cli, "benchmarker_cgdrag_train_torch", "direct libtorch", "model-file", &
                  "TorchScript file, e.g. cgdrag_cpu.pt", phased=.false.)
  call cli_add_option(cli, "--save", "FILE", "write the trained model (TorchScript) to FILE")
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  call cgdrag_read_options(cli, options)
  if (options%total_columns /= nlon * nlat) &
    call cli_usage_error(cli, "--columns: online training runs on the whole grid (8192)")
  save_path = cli_string(cli, "--save")
  model_file = bench_path_join(cli_string(cli, "model-dir"), cli_string(cli, "model-file"))

  call bench_results_create(doc, settings, "cgdrag_train", "direct", model_file)
  call bench_record_torch(doc, torch_version(), torch_cpu_capability(), torch_config())
  call cgdrag_read(data, options%data_path, options%columns)
  references = train_references(options%data_path, settings%warmup + settings%ntimes)
  call cgdrag_describe(doc, data, options)
  call train_sample_create(sample, options%columns)
  call train_describe(doc, sample)
  if (settings%threads > 0) call torch_set_num_threads(settings%threads)
  call timer_create(timer, train_phase_names, settings%ntimes, settings%warmup)
  call train_check_create(check, settings%ntimes, settings%warmup)

  t0 = timer_now()
  call torch_model_load(model, model_file, torch_kCPU, stat=stat, errmsg=message)
  if (stat /= 0) call bench_fail(message, "(create the models with `ftbench export`, or run " // &
                                 "scripts/run_benchmarks.sh)")
  call timer_record_once(timer, "model load", timer_now() - t0)
  t0 = timer_now()
  call torch_optimizer_create(optimizer, model, torch_optimizer_adam, cgdrag_train_learning_rate, &
                              stat=stat, errmsg=message)
  if (stat /= 0) call bench_fail(message, "(train a TorchScript file, e.g. cgdrag_cpu.pt)")
  call timer_record_once(timer, "optimiser creation", timer_now() - t0)
  metadata = torch_model_metadata(model)

  call cgdrag_allocate(work, options, nlon, nlat)
  allocate (losses(settings%warmup + settings%ntimes))
  do it = 1, settings%warmup + settings%ntimes
    call cgdrag_poison(work%gwfcng_x, work%gwfcng_y)  ! not timed: the check's safety net
    call timer_start(timer, t_loop)

    call timer_start(timer, t_inference)  ! as cgdrag_direct's create, forward, delete
    call cgdrag_tensors_create(tensors, data, work, options)
    call cgdrag_tensors_forward(tensors, model)
    call cgdrag_tensors_delete(tensors)
    call timer_stop(timer, t_inference, it)

    call timer_start(timer, t_sample)
    call train_sample_pack(sample, data)
    call torch_tensor_from_array(sw_t, sample%wind)
    call torch_tensor_from_array(sl_t, sample%lat)
    call torch_tensor_from_array(sp_t, sample%psfc)
    call torch_tensor_from_array(st_t, sample%target)
    call torch_tensor_requires_grad(sw_t, .true.)
    call torch_tensor_attach_grad(sw_t, sample%gradient)
    call timer_stop(timer, t_sample, it)

    call timer_start(timer, t_forward)
    call torch_model_forward_graph(model, [sw_t, sl_t, sp_t], prediction)
    call timer_stop(timer, t_forward, it)

    call timer_start(timer, t_loss)
    call torch_loss_mse(prediction, st_t, loss)
    call torch_tensor_to_array(loss, losses(it))
    call timer_stop(timer, t_loss, it)

    call timer_start(timer, t_backward)
    call torch_tensor_backward(loss)
    call timer_stop(timer, t_backward, it)

    call timer_start(timer, t_step)
    call torch_optimizer_step(optimizer)
    call torch_optimizer_zero_grad(optimizer)
    call timer_stop(timer, t_step, it)

    call timer_start(timer, t_gradient)  ! backward wrote d loss / d wind into sample%gradient
    call torch_tensor_delete(loss)
    call torch_tensor_delete(prediction)
    call torch_tensor_delete(sw_t)
    call torch_tensor_delete(sl_t)
    call torch_tensor_delete(sp_t)
    call torch_tensor_delete(st_t)
    call timer_stop(timer, t_gradient, it)

    call timer_stop(timer, t_loop, it)  ! the check below is not part of the step
    call train_compare(check, it, references(it), losses(it), work%gwfcng_x, sample)
    call check_record(check, it, timer%seconds(it, t_loop), settings%quiet)
  end do

  if (len(save_path) > 0) then
    call torch_model_save(model, save_path, stat=stat, errmsg=message)
    if (stat /= 0) call bench_fail(message, "(choose a writable --save path)")
  end if
  t0 = timer_now()
  call torch_optimizer_delete(optimizer)
  call torch_model_delete(model)
  call timer_record_once(timer, "model delete", timer_now() - t0)

  if (len(metadata) > 0) call json_set_parsed(doc, "/model_metadata", metadata)
  call train_record_losses(doc, losses)
  call json_set(doc, "/threads", torch_get_num_threads())
  call bench_finish(settings, doc, timer, check)

end program benchmarker_cgdrag_train_torch
