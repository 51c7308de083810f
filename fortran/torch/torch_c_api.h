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

/* ---- Training (autograd) on TorchScript models; AOTInductor packages run
 * forward only and are refused. A forward with autograd keeps references to
 * its input tensors (and so to the Fortran arrays they wrap) until backward:
 * leave those arrays unchanged until then. */

/* Optimisers of torch_c_optimizer_create. */
enum { TORCH_C_OPTIMIZER_SGD = 0, TORCH_C_OPTIMIZER_ADAM = 1 };

/* Make a tensor over an array (a leaf) require grad, or stop it. float32/float64 only. */
int torch_c_tensor_set_requires_grad(void *tensor, int requires_grad);

/* Make the array `grad` (same shape and dtype as the tensor, which must require
 * grad) the tensor's .grad, zeroed: backward then accumulates the gradient
 * into that Fortran array, in place (no copy; torch_c_tensor_data_ptr of the
 * gradient is not needed: the array is it). */
int torch_c_tensor_attach_grad(void *tensor, CFI_cdesc_t *grad);

/* Copy a tensor's values (e.g. a loss or a prediction) into an array of the
 * same shape and dtype (a scalar for a 0-dimensional tensor). */
int torch_c_tensor_to_array(void *tensor, CFI_cdesc_t *array);

/* module.train(train != 0): training mode (dropout, batch-norm statistics) on or off. */
int torch_c_model_train(void *model, int train);

/* Forward with autograd on: *output is a new tensor (owned by the caller:
 * torch_c_tensor_delete) holding the model's single result and its graph. */
int torch_c_model_forward_graph(void *model, int n_inputs, void *const *inputs, void **output);

/* *loss = mean((prediction - target)^2), a new 0-dimensional tensor with its
 * graph; prediction and target must have the same shape and dtype. */
int torch_c_loss_mse(void *prediction, void *target, void **loss);

/* Backward from a scalar tensor that requires grad: gradients accumulate into
 * the .grad of every leaf it depends on (the model's parameters, inputs made to
 * require grad). */
int torch_c_tensor_backward(void *tensor);

/* An optimiser (SGD or Adam, torch::optim defaults but the learning rate) over
 * the model's parameters that require grad; fails when there are none. Delete
 * it before the model. */
int torch_c_optimizer_create(void *model, int kind, double learning_rate, void **optimizer);
int torch_c_optimizer_zero_grad(void *optimizer);
int torch_c_optimizer_step(void *optimizer);
int torch_c_optimizer_delete(void *optimizer);

/* Save a TorchScript model (with its current weights) to path; Python loads it
 * with torch.jit.load. */
int torch_c_model_save(void *model, const char *path);

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
