!> benchmarker_cgdrag_train_forpy -- WaveNet-2 trained online on the T42 grid
!> through the embedded-Python coupling: every step inference on the whole grid
!> and one training step (Adam) on a sample of columns, in Python on NumPy views
!> of the Fortran arrays.
!>
!> usage: benchmarker_cgdrag_train_forpy <model-dir> <python-module> <ntimes> [options]
!>        [--torchscript FILE|none] [--checkpoint FILE] [--data DIR] [--save FILE]
!>
!> The module (cgdrag_emulator) gives the model (initialize: built in Python;
!> initialize_ts: --torchscript) and its optimiser (initialize_training), runs
!> compute_reshape_drag for the inference and train_step(model, optimizer, wind,
!> lat, p_surf, target, gradient, out) for the training step, which writes the
!> loss and the seconds of its own phases into `out`: the training forward,
!> loss, backward, optimiser step and gradient read (d loss / d wind copied into
!> the Fortran array) are recorded as Python measured them, and the rest of the
!> call (crossing into Python and back) is added to gradient read. Phases,
!> sample and check: cgdrag_train_case. --save writes the trained weights
!> (torch.save of the state dict). Exit status as benchmarker_cgdrag_train_torch.
program benchmarker_cgdrag_train_forpy
  use, intrinsic :: iso_fortran_env, only: real64
  use py_embedding, only: py_object, py_call, py_object_from, py_array_from, py_object_destroy
  use embedded_driver, only: embedded_start, embedded_load_source, embedded_finish, &
                             embedded_add_model_options, embedded_model_source, &
                             embedded_model_source_t, embedded_add_checkpoint_option, &
                             embedded_checkpoint
  use bench_cli, only: cli_parser, cli_parse, cli_string, cli_add_option, cli_usage_error
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create, bench_finish, bench_fail
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once
  use bench_check, only: check_log, check_record
  use bench_json, only: json_document, json_set
  use cgdrag_case, only: cgdrag_cli, cgdrag_options, cgdrag_read_options, cgdrag_data, cgdrag_read, &
                         cgdrag_describe, cgdrag_poison, dp, nlon, nlat
  use cgdrag_phases, only: cgdrag_work, cgdrag_allocate
  use cgdrag_embedded, only: cgdrag_arrays, cgdrag_arrays_create, cgdrag_arrays_forward, &
                             cgdrag_arrays_destroy
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
  type(embedded_model_source_t) :: source
  type(py_object) :: emulator, torch, model, optimizer, sw_a, sl_a, sp_a, st_a, sg_a, out_a, path_a
  type(cgdrag_work), target :: work
  type(cgdrag_arrays) :: arrays
  real(dp), target :: out(6)
  real(dp), allocatable :: references(:), losses(:)
  character(len=:), allocatable :: model_dir, module_name, checkpoint, save_path
  character(len=4096) :: message
  integer :: it, k
  real(real64) :: t0, call_seconds

  call cgdrag_cli(cli, "benchmarker_cgdrag_train_forpy", "embedded-Python", "python-module", &
                  "module in <model-dir>, e.g. cgdrag_emulator", phased=.false.)
  call embedded_add_model_options(cli)
  call embedded_add_checkpoint_option(cli)
  call cli_add_option(cli, "--save", "FILE", "write the trained weights (torch.save of the " // &
                      "state dict) to FILE")
  call bench_add_standard_options(cli)
  call cli_parse(cli)
  call bench_read_standard_options(cli, settings)
  call cgdrag_read_options(cli, options)
  if (options%total_columns /= nlon * nlat) &
    call cli_usage_error(cli, "--columns: online training runs on the whole grid (8192)")
  model_dir = cli_string(cli, "model-dir")
  module_name = cli_string(cli, "python-module")
  checkpoint = embedded_checkpoint(cli, model_dir)
  source = embedded_model_source(cli, model_dir, "cgdrag_cpu.pt")
  save_path = cli_string(cli, "--save")

  call bench_results_create(doc, settings, "cgdrag_train", "embedded-python", module_name)
  call json_set(doc, "/coupling_variant", source%label)
  if (len(source%file) > 0) call json_set(doc, "/model_file", source%file)
  call cgdrag_read(data, options%data_path, options%columns)
  references = train_references(options%data_path, settings%warmup + settings%ntimes)
  call cgdrag_describe(doc, data, options)
  call train_sample_create(sample, options%columns)
  call train_describe(doc, sample)

  call timer_create(timer, train_phase_names, settings%ntimes, settings%warmup)
  call embedded_start(doc, settings, model_dir, module_name, emulator, torch, timer)
  call train_check_create(check, settings%ntimes, settings%warmup)

  t0 = timer_now()
  call embedded_load_source(doc, emulator, source, checkpoint, model)
  call timer_record_once(timer, "model load", timer_now() - t0)
  t0 = timer_now()
  call py_call(emulator, "initialize_training", [model], optimizer, stat=k, errmsg=message)
  if (k /= 0) call bench_fail(message, "(train the model built in Python or its TorchScript file)")
  call timer_record_once(timer, "optimiser creation", timer_now() - t0)

  call cgdrag_allocate(work, options, nlon, nlat)
  allocate (losses(settings%warmup + settings%ntimes))
  do it = 1, settings%warmup + settings%ntimes
    call cgdrag_poison(work%gwfcng_x, work%gwfcng_y)  ! not timed: the check's safety net
    call timer_start(timer, t_loop)

    call timer_start(timer, t_inference)  ! as cgdrag_embedded's create, forward, delete
    call cgdrag_arrays_create(arrays, data, work, options)
    call cgdrag_arrays_forward(arrays, emulator, model)
    call cgdrag_arrays_destroy(arrays)
    call timer_stop(timer, t_inference, it)

    call timer_start(timer, t_sample)
    call train_sample_pack(sample, data)
    call py_array_from(sw_a, sample%wind)
    call py_array_from(sl_a, sample%lat)
    call py_array_from(sp_a, sample%psfc)
    call py_array_from(st_a, sample%target)
    call py_array_from(sg_a, sample%gradient)
    call py_array_from(out_a, out)
    call timer_stop(timer, t_sample, it)

    t0 = timer_now()
    call py_call(emulator, "train_step", [model, optimizer, sw_a, sl_a, sp_a, st_a, sg_a, out_a])
    call py_object_destroy(sw_a)
    call py_object_destroy(sl_a)
    call py_object_destroy(sp_a)
    call py_object_destroy(st_a)
    call py_object_destroy(sg_a)
    call py_object_destroy(out_a)
    call_seconds = timer_now() - t0
    losses(it) = out(1)
    do k = t_forward, t_gradient  ! as Python measured them ...
      timer%seconds(it, k) = out(2 + k - t_forward)
    end do
    ! ... and the rest of the call, crossing into Python and back, with gradient read
    timer%seconds(it, t_gradient) = timer%seconds(it, t_gradient) + call_seconds - sum(out(2:6))

    call timer_stop(timer, t_loop, it)  ! the check below is not part of the step
    call train_compare(check, it, references(it), losses(it), work%gwfcng_x, sample)
    call check_record(check, it, timer%seconds(it, t_loop), settings%quiet)
  end do

  if (len(save_path) > 0) call save_weights()
  t0 = timer_now()
  call py_object_destroy(optimizer)
  call py_object_destroy(model)
  call timer_record_once(timer, "model delete", timer_now() - t0)

  call train_record_losses(doc, losses)
  call embedded_finish(doc, emulator, torch)
  call bench_finish(settings, doc, timer, check)

contains

  !> torch.save(model.state_dict(), save_path)
  subroutine save_weights()
    type(py_object) :: state
    integer :: stat
    call py_object_from(path_a, save_path)
    call py_call(model, "state_dict", result=state)
    call py_call(torch, "save", [state, path_a], stat=stat, errmsg=message)
    if (stat /= 0) call bench_fail(message, "(choose a writable --save path)")
    call py_object_destroy(state)
    call py_object_destroy(path_a)
  end subroutine save_weights

end program benchmarker_cgdrag_train_forpy
