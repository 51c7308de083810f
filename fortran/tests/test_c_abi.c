/* test_c_abi -- the guards of both C shims that Fortran's type system cannot reach.
 *
 * The Fortran modules only ever pass descriptors of allocated real32, real64,
 * int32 and int64 arrays whose strides are whole elements, and valid handles.
 * Other languages can call the C ABI directly (torch_c_api.h, py_c_api.h), so
 * its guards must hold too: this program builds the descriptors and handles
 * that Fortran cannot (ISO_Fortran_binding.h's CFI_establish), calls every
 * guarded entry point with them, and prints one line per case:
 *   ok <case>: <the shim's error message>
 * or "FAILED <case>: ..." and exits 1 when a call succeeds or its message lacks
 * the expected text. Ends with "ALL PASSED". Driven by python/tests/test_direct_layer.py.
 */
#include <ISO_Fortran_binding.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "py_c_api.h"
#include "torch_c_api.h"

static int failures = 0;

/* Check that a call failed (rc != 0) with a message containing `expected`. */
static void check_failed(const char *name, int rc, const char *message, const char *expected) {
  if (rc == 0) {
    printf("FAILED %s: the call succeeded\n", name);
    ++failures;
  } else if (!strstr(message, expected)) {
    printf("FAILED %s: message '%s' lacks '%s'\n", name, message, expected);
    ++failures;
  } else {
    printf("ok %s: %s\n", name, message);
  }
}

/* A rank-1 descriptor over `base` with `extent` elements of `type`, `elem_len` bytes,
 * `stride` bytes apart. */
static void establish(CFI_cdesc_t *desc, void *base, CFI_type_t type, size_t elem_len,
                      CFI_index_t extent, CFI_index_t stride) {
  const CFI_index_t extents[1] = {extent};
  CFI_establish(desc, base, CFI_attribute_other, type, elem_len, 1, extents);
  desc->dim[0].sm = stride;
}

/* Make the call first, then read the shim's last error (C leaves the order in
 * which function arguments are evaluated unspecified). */
#define EXPECT(name, call, last_error, expected)                                             \
  do {                                                                                       \
    const int rc_ = (call);                                                                  \
    check_failed(name, rc_, last_error(), expected);                                         \
  } while (0)

int main(int argc, char **argv) {
  (void)argc;
  CFI_CDESC_T(1) storage;
  CFI_cdesc_t *desc = (CFI_cdesc_t *)&storage;
  float floats[8] = {0};
  int8_t bytes[8] = {0};
  void *handle = NULL, *data = NULL;
  int rank = 0;
  int64_t sizes[2], strides[2];

  /* Direct layer (torch_c_api.cpp). */
  establish(desc, floats, CFI_type_float, sizeof(float), 4, 6);
  EXPECT("torch-stride-not-whole", torch_c_tensor_from_array(desc, &handle), torch_c_last_error,
         "stride of dimension 1 is not a whole number of elements");
  establish(desc, bytes, CFI_type_int8_t, 1, 8, 1);
  EXPECT("torch-unsupported-type", torch_c_tensor_from_array(desc, &handle), torch_c_last_error,
         "unsupported Fortran type (CFI type code");
  establish(desc, floats, CFI_type_float, sizeof(float), 4, 4);
  desc->base_addr = NULL; /* as for an unallocated array */
  EXPECT("torch-null-base", torch_c_tensor_from_array(desc, &handle), torch_c_last_error,
         "array is not allocated or not associated");
  EXPECT("torch-null-descriptor", torch_c_tensor_from_array(NULL, &handle), torch_c_last_error,
         "array is not allocated or not associated");
  EXPECT("torch-null-output-handle", torch_c_tensor_from_array(desc, NULL), torch_c_last_error,
         "null output handle");
  EXPECT("torch-data-ptr-null-tensor", torch_c_tensor_data_ptr(NULL, &data), torch_c_last_error,
         "cannot read tensor data pointer");
  establish(desc, floats, CFI_type_float, sizeof(float), 8, 4);
  if (torch_c_tensor_from_array(desc, &handle) != 0) {
    printf("FAILED torch-wrap: %s\n", torch_c_last_error());
    return 1;
  }
  EXPECT("torch-layout-rank-above-max", torch_c_tensor_layout(handle, 0, &rank, sizes, strides),
         torch_c_last_error, "tensor has rank 1, more than 0");
  /* Training entry points (null handles and outputs; an int tensor cannot require grad). */
  void *out = NULL, *ints_tensor = NULL;
  int32_t ints[4] = {0};
  establish(desc, ints, CFI_type_int32_t, sizeof(int32_t), 4, sizeof(int32_t));
  if (torch_c_tensor_from_array(desc, &ints_tensor) != 0) {
    printf("FAILED torch-wrap-int32: %s\n", torch_c_last_error());
    return 1;
  }
  EXPECT("torch-grad-int-tensor", torch_c_tensor_set_requires_grad(ints_tensor, 1),
         torch_c_last_error, "only float32 and float64 tensors can require grad");
  torch_c_tensor_delete(ints_tensor);
  EXPECT("torch-attach-grad-null-tensor", torch_c_tensor_attach_grad(NULL, desc), torch_c_last_error,
         "null tensor");
  EXPECT("torch-train-null-model", torch_c_model_train(NULL, 1), torch_c_last_error, "null model");
  EXPECT("torch-forward-graph-null-output", torch_c_model_forward_graph(NULL, 0, NULL, NULL),
         torch_c_last_error, "null output handle");
  EXPECT("torch-loss-null-output", torch_c_loss_mse(handle, handle, NULL), torch_c_last_error,
         "null output handle");
  EXPECT("torch-optimizer-null-model", torch_c_optimizer_create(NULL, 0, 0.1, &out),
         torch_c_last_error, "null model");
  EXPECT("torch-optimizer-step-null", torch_c_optimizer_step(NULL), torch_c_last_error,
         "null optimiser");
  EXPECT("torch-zero-grad-null", torch_c_optimizer_zero_grad(NULL), torch_c_last_error,
         "null optimiser");
  torch_c_tensor_delete(handle);
  /* The device is checked before the file is read: any existing file will do. */
  EXPECT("torch-unknown-device", torch_c_model_load(argv[0], 7, -1, &handle), torch_c_last_error,
         "unknown device type 7 (0 = CPU, 1 = CUDA)");
  EXPECT("torch-bad-device-index", torch_c_model_load(argv[0], TORCH_C_DEVICE_CPU, -2, &handle),
         torch_c_last_error, "device index must be -1 (default) or >= 0, got -2");

  /* Embedded-Python layer (py_c_api.c). */
  EXPECT("py-not-initialised", py_c_array_from(desc, &handle), py_c_last_error,
         "the Python interpreter is not initialised (call py_initialize first)");
  EXPECT("py-finalize-not-initialised", py_c_finalize(), py_c_last_error,
         "the Python interpreter is not initialised");
  if (py_c_initialize("") != 0) {
    printf("FAILED py-initialize: %s\n", py_c_last_error());
    return 1;
  }
  establish(desc, bytes, CFI_type_int8_t, 1, 8, 1);
  EXPECT("py-unsupported-type", py_c_array_from(desc, &handle), py_c_last_error,
         "unsupported Fortran type (CFI type code");
  establish(desc, floats, CFI_type_float, sizeof(float), 4, 4);
  desc->base_addr = NULL;
  EXPECT("py-null-base", py_c_array_from(desc, &handle), py_c_last_error,
         "array is not allocated or not associated");
  EXPECT("py-null-descriptor", py_c_array_from(NULL, &handle), py_c_last_error,
         "array is not allocated or not associated");
  /* A call whose result the caller does not want (NULL): released by the shim. */
  void *gc = NULL;
  if (py_c_import("gc", &gc) != 0 || py_c_call(gc, "collect", 0, NULL, NULL) != 0) {
    printf("FAILED py-call-without-result: %s\n", py_c_last_error());
    ++failures;
  } else {
    printf("ok py-call-without-result: gc.collect() called, its result released\n");
  }
  py_c_object_destroy(gc);
  py_c_finalize();

  if (failures) return 1;
  printf("ALL PASSED\n");
  return 0;
}
