!> embedded_driver -- what the embedded-Python (forpy) drivers share around their
!> timed loops: starting Python and importing the driver's module, loading the
!> model through it, and recording threads, versions and metadata.
module embedded_driver
  use, intrinsic :: iso_fortran_env, only: int64, real64
  use py_embedding, only: py_object, py_initialize, py_finalize, py_path_append, py_import, &
                          py_call, py_getattr, py_object_from, py_object_to, py_object_destroy, &
                          py_version
  use bench_run, only: bench_settings, bench_fail, bench_path_join, bench_record_torch
  use bench_json, only: json_document, json_set, json_set_parsed
  use bench_timer, only: phase_timer, timer_now, timer_record_once
  use bench_cli, only: cli_parser, cli_add_option, cli_add_flag, cli_string, cli_given, cli_usage_error
  use driver_build_config, only: build_uses_torchscript
  implicit none
  private

  public :: embedded_start, embedded_load_model, embedded_load_source, embedded_finish
  public :: embedded_torch_setup, embedded_record_threads
  public :: embedded_add_model_options, embedded_model_source
  public :: embedded_add_checkpoint_option, embedded_checkpoint

  !> How an embedded driver gets its model from the emulator module.
  type, public :: embedded_model_source_t
    character(len=:), allocatable :: initializer  !< initialize, initialize_ts, initialize_aoti or initialize_compiled
    character(len=:), allocatable :: file         !< the model file it loads; "" when built in Python
    character(len=:), allocatable :: label        !< for results: python model, torchscript, aoti, ...
  end type embedded_model_source_t

contains

  !> Start the venv's Python, put `model_dir` on sys.path, import `module_name`
  !> and torch, set torch's threads (--threads) and record the versions.
  !> A module that cannot be imported stops the program with the import error.
  !> With `timer`, records the once-only phases "interpreter start" (starting
  !> CPython) and "imports" (the module, which imports torch, and torch's setup).
  subroutine embedded_start(doc, settings, model_dir, module_name, emulator, torch, timer)
    type(json_document), intent(in) :: doc        !< results document
    type(bench_settings), intent(in) :: settings  !< run settings
    character(len=*), intent(in) :: model_dir     !< directory of the module
    character(len=*), intent(in) :: module_name   !< module to import
    type(py_object), intent(out) :: emulator      !< the imported module
    type(py_object), intent(out) :: torch         !< the torch module
    type(phase_timer), intent(inout), optional :: timer  !< where to record the start-up parts
    character(len=8192) :: message
    integer :: stat
    real(real64) :: t0
    t0 = timer_now()
    call py_initialize()
    if (present(timer)) call timer_record_once(timer, "interpreter start", timer_now() - t0)
    t0 = timer_now()
    call py_path_append(model_dir)
    call py_import(emulator, module_name, stat=stat, errmsg=message)
    if (stat /= 0) call bench_fail(message, "(the module must be " // &
                                   bench_path_join(model_dir, module_name // ".py") // ")")
    call embedded_torch_setup(doc, settings, torch)
    if (present(timer)) call timer_record_once(timer, "imports", timer_now() - t0)
  end subroutine embedded_start

  !> In a running interpreter: import torch, set its threads (--threads) and
  !> record the torch and Python versions, torch's CPU capability and BLAS.
  subroutine embedded_torch_setup(doc, settings, torch)
    type(json_document), intent(in) :: doc        !< results document
    type(bench_settings), intent(in) :: settings  !< run settings
    type(py_object), intent(out) :: torch         !< the torch module
    type(py_object) :: arg, value, submodule
    character(len=:), allocatable :: version, capability, config
    call py_import(torch, "torch")
    call py_getattr(torch, "__version__", value)
    call py_object_to(value, version)
    call py_object_destroy(value)
    call py_import(submodule, "torch.backends.cpu")
    call py_call(submodule, "get_cpu_capability", result=value)
    call py_object_to(value, capability)
    call py_object_destroy(value)
    call py_object_destroy(submodule)
    call py_import(submodule, "torch.__config__")
    call py_call(submodule, "show", result=value)
    call py_object_to(value, config)
    call py_object_destroy(value)
    call py_object_destroy(submodule)
    call bench_record_torch(doc, version, capability, config)
    call json_set(doc, "/environment/python_version", py_version())
    if (settings%threads > 0) then
      call py_object_from(arg, settings%threads)
      call py_call(torch, "set_num_threads", [arg])
      call py_object_destroy(arg)
    end if
  end subroutine embedded_torch_setup

  !> model = emulator.<initializer>(argument); stops with the Python error on
  !> failure. Then records emulator.metadata(model), which must be the text of a
  !> JSON object, as /model_metadata (stops with one line otherwise).
  subroutine embedded_load_model(doc, emulator, initializer, argument, model)
    type(json_document), intent(in) :: doc      !< results document
    type(py_object), intent(in) :: emulator     !< the driver's module
    character(len=*), intent(in) :: initializer !< "initialize" or "initialize_ts"
    character(len=*), intent(in) :: argument    !< its one argument (a string)
    type(py_object), intent(out) :: model       !< the model
    type(py_object) :: arg, value
    character(len=:), allocatable :: text
    character(len=8192) :: message
    integer :: stat
    call py_object_from(arg, argument)
    call py_call(emulator, initializer, [arg], model, stat=stat, errmsg=message)
    call py_object_destroy(arg)
    if (stat /= 0) call bench_fail(message, "")
    call py_call(emulator, "metadata", [model], value)
    call py_object_to(value, text)
    call py_object_destroy(value)
    if (text(1:min(len(text), 1)) /= "{") call bench_fail("metadata(model) returned '" // &
      text(1:min(len(text), 60)) // "', not the text of a JSON object", &
      "(return json.dumps of a dict; see ftbench.emulators.metadata_json)")
    if (len(text) > 2) call json_set_parsed(doc, "/model_metadata", text)
  end subroutine embedded_load_model

  !> embedded_load_model with the initializer `source` names: its model file, or
  !> `built_from` (a checkpoint, a variant) when the model is built in Python.
  subroutine embedded_load_source(doc, emulator, source, built_from, model)
    type(json_document), intent(in) :: doc               !< results document
    type(py_object), intent(in) :: emulator              !< the driver's module
    type(embedded_model_source_t), intent(in) :: source  !< from embedded_model_source
    character(len=*), intent(in) :: built_from           !< argument when source%file is ""
    type(py_object), intent(out) :: model                !< the model
    if (len(source%file) > 0) then
      call embedded_load_model(doc, emulator, source%initializer, source%file, model)
    else
      call embedded_load_model(doc, emulator, source%initializer, built_from, model)
    end if
  end subroutine embedded_load_source

  !> Record the threads torch used, release the modules and finalise Python.
  subroutine embedded_finish(doc, emulator, torch)
    type(json_document), intent(in) :: doc      !< results document
    type(py_object), intent(inout) :: emulator  !< the driver's module
    type(py_object), intent(inout) :: torch     !< the torch module
    call embedded_record_threads(doc, torch)
    call py_object_destroy(torch)
    call py_object_destroy(emulator)
    call py_finalize()
  end subroutine embedded_finish

  !> Record torch.get_num_threads() as /threads.
  subroutine embedded_record_threads(doc, torch)
    type(json_document), intent(in) :: doc  !< results document
    type(py_object), intent(in) :: torch    !< the torch module
    type(py_object) :: value
    integer(int64) :: threads_used
    call py_call(torch, "get_num_threads", result=value)
    call py_object_to(value, threads_used)
    call py_object_destroy(value)
    call json_set(doc, "/threads", threads_used)
  end subroutine embedded_record_threads

  !> Declare --checkpoint FILE (the checkpoint for initialize, default wavenet_checkpoint.pt).
  subroutine embedded_add_checkpoint_option(cli)
    type(cli_parser), intent(inout) :: cli  !< the driver's parser
    call cli_add_option(cli, "--checkpoint", "FILE", "checkpoint for initialize (in " // &
                        "<model-dir>; default wavenet_checkpoint.pt)", "wavenet_checkpoint.pt")
  end subroutine embedded_add_checkpoint_option

  !> Path of the --checkpoint file in `model_dir`.
  function embedded_checkpoint(cli, model_dir) result(path)
    type(cli_parser), intent(in) :: cli        !< parsed command line
    character(len=*), intent(in) :: model_dir  !< where the file is
    character(len=:), allocatable :: path      !< file path
    path = bench_path_join(model_dir, cli_string(cli, "--checkpoint"))
  end function embedded_checkpoint

  !> Declare how the model is obtained: --torchscript FILE|none (initialize_ts),
  !> --aoti FILE (initialize_aoti, an AOTInductor package) or --compile
  !> (initialize_compiled: the Python-built model under torch.compile); none of
  !> them: initialize (built in Python).
  subroutine embedded_add_model_options(cli)
    type(cli_parser), intent(inout) :: cli  !< the driver's parser
    call cli_add_option(cli, "--torchscript", "FILE", "load this TorchScript file (in " // &
                        "<model-dir>) with initialize_ts instead of building the model in " // &
                        "Python; 'none' builds it")
    call cli_add_option(cli, "--aoti", "FILE", "load this AOTInductor package (.pt2, in " // &
                        "<model-dir>) with initialize_aoti")
    call cli_add_flag(cli, "--compile", "build the model in Python and run it under " // &
                      "torch.compile (initialize_compiled; compiled in the first warm-up call)")
  end subroutine embedded_add_model_options

  !> The model source chosen by the options of embedded_add_model_options: at most
  !> one of --torchscript (not 'none'), --aoti and --compile (else a usage error);
  !> with none of them, `torchscript_default` in a -DUSETS=ON build, else the
  !> model built in Python.
  function embedded_model_source(cli, model_dir, torchscript_default) result(source)
    type(cli_parser), intent(in) :: cli                    !< parsed command line
    character(len=*), intent(in) :: model_dir              !< where model files are
    character(len=*), intent(in) :: torchscript_default    !< the USETS default, e.g. cgdrag_cpu.pt
    type(embedded_model_source_t) :: source                !< the choice
    character(len=:), allocatable :: torchscript
    integer :: chosen
    logical :: torchscript_given, aoti_given, compile_given
    torchscript_given = cli_given(cli, "--torchscript")
    aoti_given = cli_given(cli, "--aoti")
    compile_given = cli_given(cli, "--compile")
    torchscript = ""
    if (torchscript_given) torchscript = cli_string(cli, "--torchscript")
    if (torchscript == "none") torchscript = ""
    chosen = merge(1, 0, len(torchscript) > 0) + merge(1, 0, aoti_given) + merge(1, 0, compile_given)
    if (chosen > 1) call cli_usage_error(cli, "give at most one of --torchscript, --aoti and --compile")
    source%initializer = "initialize"
    source%file = ""
    source%label = "python model"
    if (len(torchscript) > 0) then
      source%initializer = "initialize_ts"
      source%file = bench_path_join(model_dir, torchscript)
      source%label = "torchscript"
    else if (aoti_given) then
      source%initializer = "initialize_aoti"
      source%file = bench_path_join(model_dir, cli_string(cli, "--aoti"))
      source%label = "aoti"
    else if (compile_given) then
      source%initializer = "initialize_compiled"
      source%label = "python model, torch.compile"
    else if (build_uses_torchscript .and. .not. torchscript_given) then
      source%initializer = "initialize_ts"
      source%file = bench_path_join(model_dir, torchscript_default)
      source%label = "torchscript"
    end if
  end function embedded_model_source

end module embedded_driver
