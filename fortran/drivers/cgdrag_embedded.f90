!> cgdrag_embedded -- the WaveNet-2 (MiMA cg_drag) benchmark on the T42 grid
!> through the embedded-Python coupling (the forpy path), phase by phase, for
!> one process (benchmarker_cgdrag_forpy) or every rank of an MPI job
!> (benchmarker_cgdrag_forpy_mpi): the same code, on the team it is given.
!>
!> Command line: <model-dir> <python-module> <ntimes> [options]
!>        [--torchscript FILE|none | --aoti FILE | --compile] [--checkpoint FILE]
!>        [--explicit-reshape] [--alloc-in-loop] [--columns K] [--data DIR] [--output DIR]
!>
!> The module (e.g. cgdrag_emulator) gives the model from initialize(checkpoint)
!> (built in Python), initialize_ts(file) (--torchscript; the default in a
!> -DUSETS=ON build), initialize_aoti(file) (--aoti, an AOTInductor package) or
!> initialize_compiled(checkpoint) (--compile: torch.compile, compiled in the
!> first warm-up step, whose time the results keep as warmup_seconds). Each
!> step passes NumPy views of the arrays (no copy) to
!> compute_reshape_drag(model, wind, lat, p_surf, Y_out, num_col), once per wind
!> component. Same phases (cgdrag_phases), check, options and results as
!> cgdrag_direct; once-only phases: interpreter start, imports, model load,
!> model delete and "start-up to first step" (from team%start, i.e. MPI_Init
!> under MPI, to the first step).
module cgdrag_embedded
  use, intrinsic :: iso_fortran_env, only: real64
  use py_embedding, only: py_object, py_call, py_object_from, py_array_from, py_object_destroy, &
                          py_object_to
  use embedded_driver, only: embedded_start, embedded_load_source, embedded_finish, &
                             embedded_add_model_options, embedded_model_source, &
                             embedded_model_source_t, embedded_add_checkpoint_option, &
                             embedded_checkpoint
  use bench_cli, only: cli_parser, cli_parse, cli_string
  use bench_run, only: bench_settings, bench_add_standard_options, bench_read_standard_options, &
                       bench_results_create
  use bench_timer, only: phase_timer, timer_create, timer_start, timer_stop, timer_now, &
                         timer_record_once
  use bench_check, only: check_log
  use bench_json, only: json_document, json_set
  use bench_teams, only: bench_team
  use cgdrag_case
  use cgdrag_phases
  implicit none
  private

  public :: cgdrag_embedded_run
  public :: cgdrag_arrays, cgdrag_arrays_create, cgdrag_arrays_forward, cgdrag_arrays_destroy

  !> The Python objects of one step: NumPy views of the step's Fortran arrays (no
  !> copy; winds u, v, latitude, surface pressure and drag x, y) and the column count.
  type :: cgdrag_arrays
    type(py_object) :: u, v, lat, psfc, x, y, ncol
  end type cgdrag_arrays

contains

  !> Run the benchmark as `program` (its name in messages) on `team`, which
  !> the caller has started; returns after team%finish (or stops on an error).
  subroutine cgdrag_embedded_run(team, program)
    class(bench_team), intent(inout) :: team    !< the processes of the run, started
    character(len=*), intent(in) :: program     !< program name, for the usage text
    save  ! static locals, as the programs' were: LeakSanitizer sees them at exit

    type(cli_parser) :: cli
    type(bench_settings) :: settings
    type(cgdrag_options) :: options
    type(cgdrag_data), target :: data
    type(cgdrag_work), target :: work
    type(phase_timer) :: timer
    type(check_log) :: check
    type(json_document) :: doc
    type(py_object) :: emulator, torch, model
    type(cgdrag_arrays) :: arrays
    character(len=:), allocatable :: model_dir, module_name, checkpoint
    type(embedded_model_source_t) :: source
    integer :: it
    real(real64) :: t0

    call cgdrag_cli(cli, program, "embedded-Python", "python-module", &
                    "module in <model-dir>, e.g. cgdrag_emulator", phased=.true.)
    call embedded_add_model_options(cli)
    call embedded_add_checkpoint_option(cli)
    call bench_add_standard_options(cli)
    call cli_parse(cli)
    call bench_read_standard_options(cli, settings, writer=team%writes())
    call cgdrag_read_options(cli, options)
    call cgdrag_split(options, team)
    model_dir = cli_string(cli, "model-dir")
    module_name = cli_string(cli, "python-module")
    checkpoint = embedded_checkpoint(cli, model_dir)
    source = embedded_model_source(cli, model_dir, "cgdrag_cpu.pt")

    call bench_results_create(doc, settings, "cgdrag", "embedded-python", module_name)
    call json_set(doc, "/coupling_variant", variant_label())
    if (len(source%file) > 0) call json_set(doc, "/model_file", source%file)
    call cgdrag_read(data, options%data_path, options%columns, options%first_row)
    data%reference_max = team%max_all(data%reference_max)
    call cgdrag_describe(doc, data, options)

    call timer_create(timer, cgdrag_phase_names, settings%ntimes, settings%warmup)
    call embedded_start(doc, settings, model_dir, module_name, emulator, torch, timer)
    call cgdrag_check_create(check, settings%ntimes, settings%warmup)

    t0 = timer_now()
    call embedded_load_source(doc, emulator, source, checkpoint, model)
    call timer_record_once(timer, "model load", timer_now() - t0)
    call team%placement(torch_threads(torch))

    if (.not. options%alloc_in_loop) call cgdrag_allocate(work, options, nlon, options%columns / nlon)
    call timer_record_once(timer, "start-up to first step", timer_now() - team%started)
    do it = 1, settings%warmup + settings%ntimes
      call team%barrier()  ! steps start together, as a coupled model's do (not timed)
      call cgdrag_step_start(timer, it, work, options, data)

      call timer_start(timer, p_create)
      call cgdrag_arrays_create(arrays, data, work, options)
      call timer_stop(timer, p_create, it)

      call timer_start(timer, p_forward)
      call cgdrag_arrays_forward(arrays, emulator, model)
      call timer_stop(timer, p_forward, it)

      call timer_start(timer, p_delete)
      call cgdrag_arrays_destroy(arrays)
      call timer_stop(timer, p_delete, it)

      call cgdrag_step_finish(timer, it, work, options, data, check, settings%quiet, &
                              settings%inject_seconds)
    end do

    t0 = timer_now()
    call py_object_destroy(model)
    call timer_record_once(timer, "model delete", timer_now() - t0)

    call cgdrag_output(team, options, work)
    call embedded_finish(doc, emulator, torch)
    call team%finish(settings, doc, timer, check)

  contains

    function variant_label() result(label)
      character(len=:), allocatable :: label
      label = source%label // ", " // merge("explicit reshape", "implicit reshape", options%explicit_reshape)
      if (options%alloc_in_loop) label = label // ", alloc in loop"
    end function variant_label

  end subroutine cgdrag_embedded_run

  !> NumPy views of the step's arrays, without copying: with --explicit-reshape
  !> the column arrays of `work`, else the (lon, lat, lev) fields of `data` and the
  !> drag arrays of `work` (the emulator views them as columns).
  subroutine cgdrag_arrays_create(arrays, data, work, options)
    type(cgdrag_arrays), intent(inout) :: arrays     !< objects of the step (new)
    type(cgdrag_data), intent(in) :: data            !< inputs of the process's band
    type(cgdrag_work), intent(inout) :: work         !< the step's arrays (outputs)
    type(cgdrag_options), intent(in) :: options      !< --columns, --explicit-reshape
    if (options%explicit_reshape) then
      call py_array_from(arrays%u, work%u_col)
      call py_array_from(arrays%v, work%v_col)
      call py_array_from(arrays%lat, work%lat_col)
      call py_array_from(arrays%psfc, work%psfc_col)
      call py_array_from(arrays%x, work%x_col)
      call py_array_from(arrays%y, work%y_col)
    else
      call py_array_from(arrays%u, data%uuu)
      call py_array_from(arrays%v, data%vvv)
      call py_array_from(arrays%lat, data%lat)
      call py_array_from(arrays%psfc, data%psfc)
      call py_array_from(arrays%x, work%gwfcng_x)
      call py_array_from(arrays%y, work%gwfcng_y)
    end if
    call py_object_from(arrays%ncol, options%columns)
  end subroutine cgdrag_arrays_create

  !> The step's two calls of emulator.compute_reshape_drag(model, wind, lat, psfc,
  !> out, ncol): drag x from wind u, drag y from wind v, written into the Fortran
  !> arrays under arrays%x and arrays%y; stops with the Python error on failure.
  subroutine cgdrag_arrays_forward(arrays, emulator, model)
    type(cgdrag_arrays), intent(in) :: arrays  !< objects of the step
    type(py_object), intent(in) :: emulator    !< the driver's module
    type(py_object), intent(in) :: model       !< what its initializer returned
    call py_call(emulator, "compute_reshape_drag", &
                 [model, arrays%u, arrays%lat, arrays%psfc, arrays%x, arrays%ncol])
    call py_call(emulator, "compute_reshape_drag", &
                 [model, arrays%v, arrays%lat, arrays%psfc, arrays%y, arrays%ncol])
  end subroutine cgdrag_arrays_forward

  !> Release the step's objects (the Fortran arrays stay).
  subroutine cgdrag_arrays_destroy(arrays)
    type(cgdrag_arrays), intent(inout) :: arrays  !< objects of the step
    call py_object_destroy(arrays%u)
    call py_object_destroy(arrays%v)
    call py_object_destroy(arrays%lat)
    call py_object_destroy(arrays%psfc)
    call py_object_destroy(arrays%x)
    call py_object_destroy(arrays%y)
    call py_object_destroy(arrays%ncol)
  end subroutine cgdrag_arrays_destroy

  !> torch.get_num_threads() of the interpreter. A module procedure, not an
  !> internal one: gcov's instrumentation (the Coverage build) takes the address
  !> of internal procedures that use their host's variables, and the trampoline
  !> that needs made the linker ask for an executable stack.
  integer function torch_threads(torch)
    type(py_object), intent(in) :: torch  !< the imported torch module
    type(py_object) :: value
    call py_call(torch, "get_num_threads", result=value)
    call py_object_to(value, torch_threads)
    call py_object_destroy(value)
  end function torch_threads

end module cgdrag_embedded
