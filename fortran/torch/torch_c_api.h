/*
 * torch_c_api.h -- plain C ABI over libtorch for the direct coupling path.
 *
 * Every entry point catches every C++ exception and returns a status:
 * 0 on success, non-zero on failure. After a failure, torch_c_last_error()
 * gives a one-line message (what failed, which file/shape/dtype, and the
 * libtorch message). The message is per thread.
 *
 * Objects are opaque handles (void *) owned by this library: create them with
 * torch_c_model_load / torch_c_tensor_from_array and release them with the
 * matching *_delete call.
 *
 * Arrays come in as Fortran descriptors (ISO_Fortran_binding.h, Fortran 2018),
 * so the shim sees the Fortran address, extents, strides and type. This header
 * must be compiled against the ISO_Fortran_binding.h of the Fortran compiler
 * that builds the calling code (descriptor layouts differ between vendors).
 */
#ifndef FTB_TORCH_C_API_H
#define FTB_TORCH_C_API_H

#include <ISO_Fortran_binding.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Device types, numbered as c10::DeviceType. */
enum { TORCH_C_DEVICE_CPU = 0, TORCH_C_DEVICE_CUDA = 1 };

/* Load a model onto a device: a TorchScript file (eval mode), or an
 * AOTInductor package when the name ends in ".pt2" (torch.export +
 * aoti_compile_and_package, as `ftbench export` writes them: the package must
 * carry the input signature in its metadata "ftbench" and come from this very
 * torch version). path: NUL-terminated file name. device_index: -1 for the
 * default device. On success *model is a new handle. */
int torch_c_model_load(const char *path, int device_type, int device_index, void **model);

/* Text of the extra file "metadata.json" saved in the TorchScript archive
 * (torch.jit.save(..., _extra_files={"metadata.json": ...})) or of a package's
 * metadata entry "ftbench", or "" if there is none. Valid until the model is
 * deleted. */
const char *torch_c_model_metadata(void *model);

/* Release a model handle (NULL is accepted and ignored). */
int torch_c_model_delete(void *model);

/* Run model.forward(inputs...) under c10::InferenceMode (no autograd
 * bookkeeping) and copy the result into the output tensors, which normally
 * wrap caller-owned arrays. A tensor result needs n_outputs == 1; a tuple or
 * list result needs one output tensor per element. Shapes and dtypes must
 * match exactly (no broadcasting, no conversion). For an AOTInductor package
 * the inputs are first checked against its signature (count, dtype, rank,
 * sizes within the exported range, contiguous column-major layout): a mismatch
 * is an error, never a silently wrong result. */
int torch_c_model_forward(void *model, int n_inputs, void *const *inputs, int n_outputs,
                          void *const *outputs);

/* Run model.forward(inputs...) once, as torch_c_model_forward does, and
 * describe its results instead of copying them: *signature points to text such
 * as "2x1000:float32,2:int64", one "SIZExSIZE...:DTYPE" entry per output in
 * PyTorch's dimension order ("scalar:DTYPE" for a 0-dimensional result), valid
 * until the next call on this thread. Used to size output arrays from a model
 * whose outputs are not known in advance. */
int torch_c_model_output_signature(void *model, int n_inputs, void *const *inputs, const char **signature);

/* Wrap the array described by a Fortran descriptor as a tensor, without
 * copying: the tensor's data pointer is the array's address, its sizes are the
 * Fortran extents in Fortran order and its strides come from the descriptor
 * (column-major for a contiguous array), so tensor element [i-1, j-1] is
 * a(i, j). Supported types: real32, real64, int32, int64. The array must
 * outlive the tensor. Such tensors live on the CPU (they are host memory);
 * torch_c_model_forward moves inputs to the model's device when it differs. */
int torch_c_tensor_from_array(CFI_cdesc_t *array, void **tensor);

/* Release a tensor handle; the wrapped array is not touched. NULL is ignored. */
int torch_c_tensor_delete(void *tensor);

/* Address of the tensor's first element (for zero-copy checks). */
int torch_c_tensor_data_ptr(void *tensor, void **data);

/* Rank, sizes and strides (in elements) of a tensor; sizes and strides must
 * hold max_rank entries. Fails when the tensor's rank exceeds max_rank. */
int torch_c_tensor_layout(void *tensor, int max_rank, int *rank, int64_t *sizes, int64_t *strides);

/* Number of intra-op threads libtorch uses (at::set_num_threads). n >= 1. */
int torch_c_set_num_threads(int n);
int torch_c_get_num_threads(void);

/* libtorch version the shim was built against, e.g. "2.13.0". */
const char *torch_c_version(void);

/* CPU capability libtorch dispatches its kernels to (at::get_cpu_capability(),
 * e.g. "AVX512", "AVX2"; Python: torch.backends.cpu.get_cpu_capability()). */
const char *torch_c_cpu_capability(void);

/* How libtorch was built (at::show_config(); Python: torch.__config__.show()),
 * with the BLAS in its "BLAS_INFO=" entry. */
const char *torch_c_config(void);

/* One-line message of the last failure on this thread ("" if none). */
const char *torch_c_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* FTB_TORCH_C_API_H */
