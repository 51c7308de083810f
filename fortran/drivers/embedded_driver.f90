!> embedded_driver -- what the embedded-Python (forpy) drivers share around their
!> timed loops: starting Python and importing the driver's module, loading the
!> model through it, and recording threads, versions and metadata.
module embedded_driver
  use, intrinsic :: iso_fortran_env, only: int64
  use py_embedding, only: py_object, py_initialize, py_finalize, py_path_append, py_import, &
                          py_call, py_getattr, py_object_from, py_object_to, py_object_destroy, &
                          py_version
  use bench_run, only: bench_settings, bench_fail, bench_path_join, bench_record_torch
  use bench_json, only: json_document, json_set, json_set_parsed
  use bench_cli, only: cli_parser, cli_add_option, cli_string, cli_given
  use driver_build_config, only: build_uses_torchscript
  implicit none
  private

  public :: embedded_start, embedded_load_model, embedded_finish
  public :: embedded_torch_setup, embedded_record_threads
  public :: embedded_add_torchscript_option, embedded_torchscript
  public :: embedded_add_checkpoint_option, embedded_checkpoint

contains

  !> Start the venv's Python, put `model_dir` on sys.path, import `module_name`
  !> and torch, set torch's threads (--threads) and record the versions.
  !> A module that cannot be imported stops the program with the import error.
  subroutine embedded_start(doc, settings, model_dir, module_name, emulator, torch)
    type(json_document), intent(in) :: doc        !< results document
    type(bench_settings), intent(in) :: settings  !< run settings
    character(len=*), intent(in) :: model_dir     !< directory of the module
    character(len=*), intent(in) :: module_name   !< module to import
    type(py_object), intent(out) :: emulator      !< the imported module
    type(py_object), intent(out) :: torch         !< the torch module
    character(len=8192) :: message
    integer :: stat
    call py_initialize()
    call py_path_append(model_dir)
    call py_import(emulator, module_name, stat=stat, errmsg=message)
    if (stat /= 0) call bench_fail(message, "(the module must be " // &
                                   bench_path_join(model_dir, module_name // ".py") // ")")
    call embedded_torch_setup(doc, settings, torch)
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
  !> failure. Then records emulator.metadata(model) as /model_metadata.
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
    if (len(text) > 2) call json_set_parsed(doc, "/model_metadata", text)
  end subroutine embedded_load_model

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

  !> Declare --torchscript FILE|none (load TorchScript with initialize_ts instead
  !> of building the model in Python).
  subroutine embedded_add_torchscript_option(cli)
    type(cli_parser), intent(inout) :: cli  !< the driver's parser
    call cli_add_option(cli, "--torchscript", "FILE", "load this TorchScript file (in " // &
                        "<model-dir>) with initialize_ts instead of building the model in " // &
                        "Python; 'none' builds it")
  end subroutine embedded_add_torchscript_option

  !> The TorchScript file to load, or "" to build the model in Python: --torchscript
  !> when given ("none" = build), else `default_file` in a -DUSETS=ON build, else "".
  function embedded_torchscript(cli, model_dir, default_file) result(path)
    type(cli_parser), intent(in) :: cli             !< parsed command line
    character(len=*), intent(in) :: model_dir       !< where the file is
    character(len=*), intent(in) :: default_file    !< the USETS default, e.g. cgdrag_cpu.pt
    character(len=:), allocatable :: path           !< file path, or ""
    path = ""
    if (build_uses_torchscript) path = default_file
    if (cli_given(cli, "--torchscript")) path = cli_string(cli, "--torchscript")
    if (path == "none") path = ""
    if (len(path) > 0) path = bench_path_join(model_dir, path)
  end function embedded_torchscript

end module embedded_driver
