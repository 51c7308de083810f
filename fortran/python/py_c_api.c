/*
 * py_c_api.c -- C11 implementation of py_c_api.h over CPython 3.11+ and NumPy 2.
 *
 * The GIL: after py_c_initialize the initialising thread releases it
 * (PyEval_SaveThread); every entry point takes it with PyGILState_Ensure and
 * gives it back before returning, so Fortran code may call in from any thread
 * (OpenMP included) and Python threads can run between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#include <numpy/arrayobject.h>

#include "py_c_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FTB_PYTHON_EXECUTABLE
#define FTB_PYTHON_EXECUTABLE ""
#endif

#if defined(__SANITIZE_ADDRESS__)
/* Sanitize build only (docs/testing.md, "Sanitizers"): a program that links this
 * layer starts with LeakSanitizer off (AddressSanitizer and UBSan stay on; the
 * environment's ASAN_OPTIONS still override this). At exit LeakSanitizer scans
 * the address space that CPython and torch reserve: about 60 s instead of 2.5 s
 * per program on the 2-core VM, and it reports allocations that torch's Python
 * extension keeps until exit. This layer's own references are checked by the
 * soak tests instead (Python's allocated blocks and objects over 100,000 calls). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

static int initialized_here = 0;             /* this layer started the interpreter */
static PyThreadState *main_thread_state = 0; /* saved when the GIL was released */
static _Thread_local char *last_error = 0;   /* malloc'ed message, per thread */
static _Thread_local char *string_buffer = 0;

static void set_error(const char *format, ...) {
  va_list args;
  va_start(args, format);
  const int n = vsnprintf(NULL, 0, format, args);
  va_end(args);
  char *text = malloc((size_t)(n > 0 ? n : 0) + 1);
  if (!text) return;
  va_start(args, format);
  vsnprintf(text, (size_t)n + 1, format, args);
  va_end(args);
  free(last_error);
  last_error = text;
}

/* Copy a Python str into a new malloc'ed UTF-8 string; characters UTF-8 cannot
 * encode (lone surrogates) are written as \uXXXX escapes ("" on failure). */
static char *utf8_copy(PyObject *text) {
  PyObject *bytes = text ? PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace") : NULL;
  const char *utf8 = bytes ? PyBytes_AsString(bytes) : NULL;
  if (!utf8) {
    PyErr_Clear();
    utf8 = "";
  }
  char *copy = malloc(strlen(utf8) + 1);
  if (copy) strcpy(copy, utf8);
  Py_XDECREF(bytes);
  return copy;
}

/* Turn the pending Python exception into the last error:
 * "<what>: <Type>: <message>" on the first line, then the traceback. */
static void set_error_from_python(const char *what) {
  PyObject *type = NULL, *value = NULL, *traceback = NULL;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (!type) {
    set_error("%s: failed without a Python exception", what);
    return;
  }
  char *summary = NULL, *full = NULL;
  PyObject *module = PyImport_ImportModule("traceback");
  PyObject *lines = module ? PyObject_CallMethod(module, "format_exception", "OOO", type,
                                                 value ? value : Py_None,
                                                 traceback ? traceback : Py_None)
                           : NULL;
  if (lines && PyList_Check(lines) && PyList_GET_SIZE(lines) > 0) {
    PyObject *empty = PyUnicode_FromString("");
    PyObject *joined = empty ? PyUnicode_Join(empty, lines) : NULL;
    PyObject *last = PyList_GET_ITEM(lines, PyList_GET_SIZE(lines) - 1);
    summary = utf8_copy(last);
    full = utf8_copy(joined);
    Py_XDECREF(joined);
    Py_XDECREF(empty);
  } else {
    PyErr_Clear();
    PyObject *text = value ? PyObject_Str(value) : NULL;
    char *message = utf8_copy(text);
    const char *name = ((PyTypeObject *)type)->tp_name;
    summary = malloc(strlen(name) + strlen(message ? message : "") + 3);
    if (summary) sprintf(summary, "%s: %s", name, message ? message : "");
    free(message);
    Py_XDECREF(text);
  }
  if (summary) summary[strcspn(summary, "\n")] = '\0';
  set_error("%s: %s\n%s", what, summary ? summary : "?", full ? full : "");
  free(summary);
  free(full);
  Py_XDECREF(lines);
  Py_XDECREF(module);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
}

/* Most entry points: fail unless the interpreter runs, then take the GIL. */
#define ENTER(what)                                                                          \
  if (!initialized_here) {                                                                   \
    set_error("%s: the Python interpreter is not initialised (call py_initialize first)",   \
              what);                                                                         \
    return 1;                                                                                \
  }                                                                                          \
  PyGILState_STATE gil = PyGILState_Ensure()

/* Evaluate `status` while still holding the GIL, then release it and return. */
#define LEAVE(status)                                                                        \
  do {                                                                                       \
    const int status_ = (status);                                                            \
    PyGILState_Release(gil);                                                                 \
    return status_;                                                                          \
  } while (0)

int py_c_initialize(const char *python_executable) {
  if (initialized_here || Py_IsInitialized()) {
    set_error("the Python interpreter is already initialised (call py_finalize first)");
    return 1;
  }
  const char *executable = python_executable;
  if (!executable || !*executable) executable = getenv("FTB_PYTHON_EXECUTABLE");
  if (!executable || !*executable) executable = FTB_PYTHON_EXECUTABLE;
  if (!*executable) {
    set_error("no Python interpreter given (pass one, set FTB_PYTHON_EXECUTABLE, or build with "
              "-DPython_EXECUTABLE=<venv>/bin/python)");
    return 1;
  }
  if (access(executable, X_OK) != 0) {
    set_error("Python interpreter '%s' not found or not executable (set FTB_PYTHON_EXECUTABLE to "
              "a venv's bin/python, or run scripts/setup.sh)",
              executable);
    return 1;
  }
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0; /* leave SIGINT and friends to the host program */
  config.parse_argv = 0;
  PyStatus status = PyConfig_SetBytesString(&config, &config.executable, executable);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    set_error("cannot start Python with '%s': %s", executable,
              status.err_msg ? status.err_msg : "unknown error");
    return 1;
  }
  if (_import_array() < 0) {
    set_error_from_python("cannot load NumPy's C API (is numpy installed in the venv?)");
    Py_FinalizeEx();
    return 1;
  }
  main_thread_state = PyEval_SaveThread();
  initialized_here = 1;
  return 0;
}

int py_c_finalize(void) {
  if (!initialized_here) {
    set_error("the Python interpreter is not initialised");
    return 1;
  }
  PyEval_RestoreThread(main_thread_state);
  main_thread_state = NULL;
  initialized_here = 0;
  if (Py_FinalizeEx() < 0) {
    set_error("Python reported an error while finalising (buffered output could not be flushed)");
    return 1;
  }
  return 0;
}

int py_c_is_initialized(void) { return initialized_here; }

int py_c_path_append(const char *directory) {
  ENTER("cannot append to sys.path");
  PyObject *path = PySys_GetObject("path"); /* borrowed */
  PyObject *entry = PyUnicode_DecodeFSDefault(directory);
  const int rc = (path && entry) ? PyList_Append(path, entry) : -1;
  Py_XDECREF(entry);
  if (rc != 0) {
    set_error_from_python("cannot append to sys.path");
    LEAVE(1);
  }
  LEAVE(0);
}

int py_c_import(const char *name, void **module) {
  ENTER("cannot import");
  *module = PyImport_ImportModule(name);
  if (!*module) {
    char what[512];
    snprintf(what, sizeof what, "cannot import module '%s' (is its directory on sys.path?)", name);
    set_error_from_python(what);
    LEAVE(1);
  }
  LEAVE(0);
}

/* "module 'name'" or "object of type 'T'" for messages. */
static void describe(PyObject *object, char *text, size_t size) {
  if (object && PyModule_Check(object)) {
    const char *name = PyModule_GetName(object);
    if (!name) PyErr_Clear();
    snprintf(text, size, "module '%s'", name ? name : "?");
  } else {
    snprintf(text, size, "object of type '%s'", object ? Py_TYPE(object)->tp_name : "null");
  }
}

int py_c_getattr(void *object, const char *name, void **value) {
  ENTER("cannot get attribute");
  *value = NULL;
  if (!object) {
    set_error("cannot get attribute '%s' of a null object (not created, or destroyed)", name);
    LEAVE(1);
  }
  *value = PyObject_GetAttrString((PyObject *)object, name);
  if (!*value) {
    char what[512], owner[256];
    describe((PyObject *)object, owner, sizeof owner);
    snprintf(what, sizeof what, "cannot get attribute '%s' of %s", name, owner);
    set_error_from_python(what);
    LEAVE(1);
  }
  LEAVE(0);
}

int py_c_call(void *object, const char *name, int nargs, void *const *args, void **result) {
  ENTER("cannot call");
  if (result) *result = NULL;
  if (!object) {
    set_error("cannot call '%s' of a null object (not created, or destroyed)", name);
    LEAVE(1);
  }
  for (int i = 0; i < nargs; ++i) {
    if (!args[i]) {
      set_error("cannot call '%s': argument %d is a null object (not created, or destroyed)",
                name, i + 1);
      LEAVE(1);
    }
  }
  PyObject *method = PyUnicode_InternFromString(name);
  PyObject *small[9];
  PyObject **vector = nargs < 9 ? small : malloc(sizeof(PyObject *) * (size_t)(nargs + 1));
  PyObject *value = NULL;
  if (method && vector) {
    vector[0] = (PyObject *)object; /* self, or the module whose function is called */
    for (int i = 0; i < nargs; ++i) vector[i + 1] = (PyObject *)args[i];
    value = PyObject_VectorcallMethod(method, vector, (size_t)nargs + 1, NULL);
  }
  if (vector != small) free(vector);
  Py_XDECREF(method);
  if (!value) {
    char what[512], owner[256];
    describe((PyObject *)object, owner, sizeof owner);
    snprintf(what, sizeof what, "calling '%s' of %s failed", name, owner);
    set_error_from_python(what);
    LEAVE(1);
  }
  if (result) {
    *result = value;
  } else {
    Py_DECREF(value);
  }
  LEAVE(0);
}

static int new_object(PyObject *value, const char *what, void **object) {
  *object = value;
  if (!value) {
    set_error_from_python(what);
    return 1;
  }
  return 0;
}

int py_c_object_from_int(int64_t value, void **object) {
  ENTER("cannot create a Python int");
  LEAVE(new_object(PyLong_FromLongLong((long long)value), "cannot create a Python int", object));
}

int py_c_object_from_real(double value, void **object) {
  ENTER("cannot create a Python float");
  LEAVE(new_object(PyFloat_FromDouble(value), "cannot create a Python float", object));
}

int py_c_object_from_string(const char *value, void **object) {
  ENTER("cannot create a Python str");
  LEAVE(new_object(PyUnicode_FromString(value), "cannot create a Python str", object));
}

int py_c_object_from_bool(int value, void **object) {
  ENTER("cannot create a Python bool");
  LEAVE(new_object(PyBool_FromLong(value), "cannot create a Python bool", object));
}

int py_c_array_from(CFI_cdesc_t *array, void **object) {
  ENTER("cannot wrap array as a NumPy array");
  *object = NULL;
  if (!array || !array->base_addr) {
    set_error("cannot wrap array as a NumPy array: array is not allocated or not associated");
    LEAVE(1);
  }
  int typenum;
  switch (array->type) {
  case CFI_type_float: typenum = NPY_FLOAT32; break;
  case CFI_type_double: typenum = NPY_FLOAT64; break;
  case CFI_type_int32_t: typenum = NPY_INT32; break;
  case CFI_type_int64_t: typenum = NPY_INT64; break;
  default:
    set_error("cannot wrap array as a NumPy array: unsupported Fortran type (CFI type code %d); "
              "use real32, real64, int32 or int64",
              (int)array->type);
    LEAVE(1);
  }
  npy_intp dims[CFI_MAX_RANK], strides[CFI_MAX_RANK];
  for (int d = 0; d < array->rank; ++d) {
    dims[d] = (npy_intp)array->dim[d].extent;
    strides[d] = (npy_intp)array->dim[d].sm; /* bytes, as NumPy wants */
  }
  *object = PyArray_New(&PyArray_Type, array->rank, dims, typenum, strides, array->base_addr,
                        (int)array->elem_len, NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED, NULL);
  if (!*object) {
    set_error_from_python("cannot wrap array as a NumPy array");
    LEAVE(1);
  }
  LEAVE(0);
}

int py_c_object_to_int(void *object, int64_t *value) {
  ENTER("cannot convert to an integer");
  const long long v = object ? PyLong_AsLongLong((PyObject *)object) : -1;
  if (!object || (v == -1 && PyErr_Occurred())) {
    char owner[256];
    describe((PyObject *)object, owner, sizeof owner);
    if (!object) {
      set_error("cannot convert a null object to an integer");
    } else {
      char what[320];
      snprintf(what, sizeof what, "cannot convert %s to an integer", owner);
      set_error_from_python(what);
    }
    LEAVE(1);
  }
  *value = (int64_t)v;
  LEAVE(0);
}

int py_c_object_to_real(void *object, double *value) {
  ENTER("cannot convert to a real");
  const double v = object ? PyFloat_AsDouble((PyObject *)object) : -1.0;
  if (!object || (v == -1.0 && PyErr_Occurred())) {
    if (!object) {
      set_error("cannot convert a null object to a real");
    } else {
      char owner[256], what[320];
      describe((PyObject *)object, owner, sizeof owner);
      snprintf(what, sizeof what, "cannot convert %s to a real", owner);
      set_error_from_python(what);
    }
    LEAVE(1);
  }
  *value = v;
  LEAVE(0);
}

int py_c_object_to_string(void *object, const char **text) {
  ENTER("cannot convert to a string");
  *text = "";
  PyObject *str = object ? PyObject_Str((PyObject *)object) : NULL;
  if (!str) {
    if (!object) {
      set_error("cannot convert a null object to a string");
    } else {
      set_error_from_python("cannot convert to a string");
    }
    LEAVE(1);
  }
  free(string_buffer);
  string_buffer = utf8_copy(str);
  Py_DECREF(str);
  *text = string_buffer ? string_buffer : "";
  LEAVE(0);
}

int py_c_object_destroy(void *object) {
  if (!object) return 0;
  ENTER("cannot release a Python object");
  Py_DECREF((PyObject *)object);
  LEAVE(0);
}

const char *py_c_version(void) {
  static char version[32];
  const char *full = Py_GetVersion();
  const size_t n = strcspn(full, " ");
  snprintf(version, sizeof version, "%.*s", (int)(n < sizeof version ? n : sizeof version - 1),
           full);
  return version;
}

const char *py_c_last_error(void) { return last_error ? last_error : ""; }
