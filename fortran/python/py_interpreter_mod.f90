!> py_interpreter_mod -- the embedded CPython interpreter: start, stop, sys.path.
!>
!> py_initialize starts the interpreter once per process with a venv's
!> interpreter as sys.executable, so Python finds that venv's site-packages
!> (torch included) whatever the user's shell has activated. The interpreter
!> is, in order: the `python_executable` argument, the environment variable
!> FTB_PYTHON_EXECUTABLE, or the one configured at build time (CMake's
!> Python_EXECUTABLE, normally the project's .venv/bin/python).
module py_interpreter_mod
  use coupling_status, only: status_clear
  use coupling_strings, only: string_to_c, string_from_c
  use py_c_bindings, only: py_c_initialize, py_c_finalize, py_c_is_initialized, py_c_path_append, &
                           py_c_version, py_fail_from_c
  implicit none
  private

  public :: py_initialize, py_finalize, py_is_initialized, py_path_append, py_version

contains

  !> Start the interpreter and NumPy's C API.
  !> Errors: already initialised; the interpreter is missing; Python cannot
  !> start; NumPy cannot be imported.
  subroutine py_initialize(python_executable, stat, errmsg)
    character(len=*), intent(in), optional :: python_executable !< venv's bin/python (see module doc)
    integer, intent(out), optional :: stat                      !< 0 on success
    character(len=*), intent(inout), optional :: errmsg         !< message on failure
    call status_clear(stat)
    if (present(python_executable)) then
      if (py_c_initialize(string_to_c(trim(python_executable))) /= 0) &
        call py_fail_from_c("py_initialize", stat, errmsg)
    else
      if (py_c_initialize(string_to_c("")) /= 0) call py_fail_from_c("py_initialize", stat, errmsg)
    end if
  end subroutine py_initialize

  !> Finalise the interpreter (once, from the thread that initialised it).
  !> Release every py_object first. Errors: not initialised.
  subroutine py_finalize(stat, errmsg)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_finalize() /= 0) call py_fail_from_c("py_finalize", stat, errmsg)
  end subroutine py_finalize

  !> True between py_initialize and py_finalize.
  logical function py_is_initialized()
    py_is_initialized = py_c_is_initialized() /= 0
  end function py_is_initialized

  !> sys.path.append(directory): make the modules in `directory` importable.
  subroutine py_path_append(directory, stat, errmsg)
    character(len=*), intent(in) :: directory            !< directory (trailing blanks ignored)
    integer, intent(out), optional :: stat               !< 0 on success
    character(len=*), intent(inout), optional :: errmsg  !< message on failure
    call status_clear(stat)
    if (py_c_path_append(string_to_c(trim(directory))) /= 0) &
      call py_fail_from_c("py_path_append", stat, errmsg)
  end subroutine py_path_append

  !> Version of the embedded interpreter, e.g. "3.11.7".
  function py_version() result(version)
    character(len=:), allocatable :: version  !< version string
    version = string_from_c(py_c_version())
  end function py_version

end module py_interpreter_mod
