/*
 * py_c_api.h -- plain C ABI over the CPython and NumPy C APIs for the embedded
 * Python coupling path (the "forpy" path).
 *
 * The interpreter is initialised once per process (py_c_initialize) so that it
 * runs in the project's virtual environment, and finalised once. Objects are
 * opaque handles (PyObject *, one strong reference each) that the caller
 * releases with py_c_object_destroy. Every entry point takes the GIL itself
 * (PyGILState_Ensure/Release), so calls are safe from any thread.
 *
 * Entry points return 0 on success and non-zero on failure; then
 * py_c_last_error() gives the message: a first line saying what failed and,
 * for a Python exception, the exception and its traceback on the lines after.
 *
 * Arrays come in as Fortran 2018 descriptors (ISO_Fortran_binding.h); compile
 * against the header of the Fortran compiler that builds the calling code.
 */
#ifndef FTB_PY_C_API_H
#define FTB_PY_C_API_H

#include <ISO_Fortran_binding.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start the interpreter with `python_executable` as sys.executable, so a venv's
 * interpreter gives that venv's sys.prefix and site-packages. NULL or "" means:
 * $FTB_PYTHON_EXECUTABLE if set, else the interpreter configured at build time.
 * Fails if the interpreter is already running (in this or another layer). */
int py_c_initialize(const char *python_executable);

/* Finalise the interpreter (Py_FinalizeEx). Must run on the initialising thread. */
int py_c_finalize(void);

/* 1 when this layer has initialised the interpreter and not yet finalised it. */
int py_c_is_initialized(void);

/* sys.path.append(directory). */
int py_c_path_append(const char *directory);

/* import <name>; *module is a new handle. */
int py_c_import(const char *name, void **module);

/* getattr(object, name); *value is a new handle. */
int py_c_getattr(void *object, const char *name, void **value);

/* getattr(object, name)(*args); *result is a new handle, or the result is
 * released at once when result is NULL. */
int py_c_call(void *object, const char *name, int nargs, void *const *args, void **result);

/* New Python int, float, str (UTF-8) or bool. */
int py_c_object_from_int(int64_t value, void **object);
int py_c_object_from_real(double value, void **object);
int py_c_object_from_string(const char *value, void **object);
int py_c_object_from_bool(int value, void **object);

/* A NumPy array that wraps the Fortran array without copying: same address,
 * shape in Fortran order, byte strides from the descriptor (Fortran order for
 * a contiguous array), writeable. real32, real64, int32, int64. The Fortran
 * array must outlive every Python reference to the view. */
int py_c_array_from(CFI_cdesc_t *array, void **object);

/* Python int -> int64, number -> double, str(object) -> UTF-8 text. The text
 * stays valid until the next py_c_object_to_string call on this thread. */
int py_c_object_to_int(void *object, int64_t *value);
int py_c_object_to_real(void *object, double *value);
int py_c_object_to_string(void *object, const char **text);

/* Release a handle (Py_DECREF); NULL is ignored. */
int py_c_object_destroy(void *object);

/* Python version of the embedded interpreter, e.g. "3.11.7". */
const char *py_c_version(void);

/* Message of the last failure on this thread ("" if none). */
const char *py_c_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* FTB_PY_C_API_H */
