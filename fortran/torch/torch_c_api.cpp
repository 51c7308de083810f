// torch_c_api.cpp -- C++17 implementation of the C ABI in torch_c_api.h.
//
// The shim owns two kinds of objects, both behind opaque handles:
//   Model  : a TorchScript module or an AOTInductor package (.pt2), plus the
//            device it was loaded on and, for a package, the input signature
//            that every forward is checked against (AOTInductor's compiled
//            code does not check its inputs: a wrong shape, dtype or memory
//            order would give a silently wrong answer or a crash);
//   Tensor : a torch::Tensor, normally a non-owning view (torch::from_blob)
//            over a Fortran array.
// No C++ exception leaves this file: each entry point runs inside guarded(),
// which turns any exception into a non-zero status and a one-line message.

#include "torch_c_api.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/cuda.h>
#include <torch/optim.h>
#include <torch/script.h>
#include <torch/version.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <set>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// One input of an AOTInductor package as exported (ftbench export records it in
// the package metadata "ftbench", key "inputs"): dtype and, per dimension, the
// range of sizes the compiled code accepts (min == max for a static one).
struct InputSpec {
  std::string name;
  c10::ScalarType dtype;
  std::vector<std::pair<int64_t, int64_t>> dims;
};

struct Model {
  std::unique_ptr<torch::jit::Module> module;                          // TorchScript, or
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> package;    // AOTInductor
  std::vector<InputSpec> inputs;  // package inputs (contiguous column-major)
  c10::Device device;
  std::string path;
  std::string metadata; // TorchScript: extra file "metadata.json"; package: metadata "ftbench"
};

thread_local std::string last_error;
thread_local std::string last_signature;  // torch_c_model_output_signature's result

// Packages not deleted yet. AOTInductor extracts a package into a temporary
// directory (/tmp/aotinductor_*) that only its loader's destructor removes; a
// program that stops on an error, or never deletes its model, would leave it
// behind. At exit this object's destructor releases the loaders still alive
// (it is constructed after libtorch's statics, so it is destroyed before them).
struct LivePackages {
  std::mutex mutex;
  std::set<Model *> models;
  ~LivePackages() {
    for (Model *model : models) {
      try {
        model->package.reset();
      } catch (...) {
      }
    }
  }
};

LivePackages &live_packages() {
  static LivePackages live;
  return live;
}

// Reduce a (possibly multi-line) libtorch message to its most telling line:
// the last "SomethingError: ..." line of a TorchScript traceback if there is
// one, else the first non-empty line.
std::string one_line(const std::string &message) {
  std::istringstream lines(message);
  std::string line, first, last_error_line;
  while (std::getline(lines, line)) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    line = line.substr(start);
    if (first.empty()) first = line;
    const auto colon = line.find(": ");
    if (colon != std::string::npos && colon >= 5 && line.compare(colon - 5, 5, "Error") == 0 &&
        line.find(' ') >= colon) {
      last_error_line = line;
    }
  }
  return last_error_line.empty() ? first : last_error_line;
}

// Run body; turn any exception into status 1 and "context: message" in
// last_error. `context` is a string, or a callable that builds one only on
// failure (keeps string work off the hot path of forward).
template <class C, class F> int guarded(C &&context, F &&body) {
  std::string message;
  try {
    body();
    return 0;
  } catch (const c10::Error &e) {
    message = one_line(e.what_without_backtrace());
  } catch (const std::exception &e) {
    message = one_line(e.what());
  } catch (...) {
    message = "unknown C++ exception";
  }
  try {
    if constexpr (std::is_invocable_v<C>) {
      last_error = context() + ": " + message;
    } else {
      last_error = std::string(context) + ": " + message;
    }
  } catch (...) {
    last_error = message;
  }
  return 1;
}

[[noreturn]] void fail(const std::string &message) { throw std::runtime_error(message); }

c10::Device make_device(int device_type, int device_index) {
  if (device_index < -1) fail("device index must be -1 (default) or >= 0, got " + std::to_string(device_index));
  switch (device_type) {
  case TORCH_C_DEVICE_CPU:
    return c10::Device(c10::kCPU);
  case TORCH_C_DEVICE_CUDA:
    if (!torch::cuda::is_available())
      fail("CUDA device requested, but this libtorch has no CUDA support or sees no GPU; use the CPU "
           "device");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device_index));
  default:
    fail("unknown device type " + std::to_string(device_type) + " (0 = CPU, 1 = CUDA)");
  }
}

std::string dtype_name(c10::ScalarType t) {
  switch (t) {
  case c10::kFloat:
    return "float32";
  case c10::kDouble:
    return "float64";
  case c10::kInt:
    return "int32";
  case c10::kLong:
    return "int64";
  default:
    return c10::toString(t);
  }
}

std::string shape_string(c10::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

c10::ScalarType dtype_from_cfi(CFI_type_t type) {
  switch (type) {
  case CFI_type_float:
    return c10::kFloat;
  case CFI_type_double:
    return c10::kDouble;
  case CFI_type_int32_t:
    return c10::kInt;
  case CFI_type_int64_t:
    return c10::kLong;
  default:
    fail("unsupported Fortran type (CFI type code " + std::to_string(type) +
         "); use real32, real64, int32 or int64");
  }
}

torch::Tensor &as_tensor(void *handle, const char *what) {
  if (!handle) fail(std::string(what) + " is a null tensor (not created, or already deleted)");
  return *static_cast<torch::Tensor *>(handle);
}

// Copy one model result into the output tensor that wraps a Fortran array.
void copy_result(const c10::IValue &value, torch::Tensor &out, int index) {
  const std::string which = "output " + std::to_string(index + 1);
  if (!value.isTensor()) fail("model " + which + " is a " + value.tagKind() + ", not a tensor");
  const torch::Tensor result = value.toTensor();
  if (result.scalar_type() != out.scalar_type())
    fail("model " + which + " has dtype " + dtype_name(result.scalar_type()) + " but output array " +
         std::to_string(index + 1) + " has dtype " + dtype_name(out.scalar_type()));
  if (result.sizes() != out.sizes())
    fail("model " + which + " has shape " + shape_string(result.sizes()) + " but output array " +
         std::to_string(index + 1) + " has shape " + shape_string(out.sizes()));
  out.copy_(result);
}

// "forward of 'file' on (float32 [3, 4], ...)" for error messages.
std::string describe_forward(const Model *m, int n_inputs, void *const *inputs) {
  std::string text = "forward of '" + (m ? m->path : std::string("?")) + "' on (";
  for (int i = 0; i < n_inputs; ++i) {
    const auto *t = static_cast<const torch::Tensor *>(inputs[i]);
    text += (i ? ", " : "") +
            (t ? dtype_name(t->scalar_type()) + " " + shape_string(t->sizes()) : std::string("null"));
  }
  return text + ") failed";
}

c10::ScalarType dtype_from_name(const std::string &name) {
  if (name == "float32") return c10::kFloat;
  if (name == "float64") return c10::kDouble;
  if (name == "int32") return c10::kInt;
  if (name == "int64") return c10::kLong;
  fail("unsupported dtype '" + name + "' in the package's input signature");
}

bool is_package(const std::string &file) {
  return std::filesystem::path(file).extension() == ".pt2";
}

// Load an AOTInductor package and the input signature that ftbench export
// stores in its metadata; refuse a package without one, or made by another torch.
// Loads are serialised: in torch 2.13 the package loader parses every JSON file
// of a package into one function-local static (load_json_file in
// model_package_loader.cpp; upstream fix proposed in pytorch/pytorch#194128), so
// packages loaded by several threads at once corrupt each other's metadata
// (seen here: a segfault in load_metadata_from_package with 8 OpenMP threads).
std::unique_ptr<Model> load_package(const std::string &file, const c10::Device &device) {
  static std::mutex loading;
  const std::lock_guard<std::mutex> one_at_a_time(loading);
  auto model = std::make_unique<Model>(Model{nullptr, nullptr, {}, device, file, ""});
  const auto stored = torch::inductor::AOTIModelPackageLoader::load_metadata_from_package(file, "model");
  const auto found = stored.find("ftbench");
  if (found == stored.end())
    fail("the package has no input signature (metadata 'ftbench'): export it with `ftbench export`, "
         "which records the inputs' dtypes, shapes and memory order");
  model->metadata = found->second;
  const nlohmann::json meta = nlohmann::json::parse(model->metadata, nullptr, false);
  if (!meta.is_object() || !meta.contains("inputs"))
    fail("the package has no input signature (metadata 'ftbench' without 'inputs'): export it "
         "with `ftbench export`, which records the inputs' dtypes, shapes and memory order");
  const std::string exported_by = meta.value("torch_version", "unknown");
  const std::string here = TORCH_VERSION;
  if (exported_by.substr(0, exported_by.find('+')) != here)
    fail("the package was compiled by torch " + exported_by + " but this libtorch is " + here +
         ": AOTInductor packages run only on the torch that compiled them; re-export it with "
         "`ftbench export`");
  if (meta.value("layout", "") != "column-major")
    fail("the package was not compiled for column-major (Fortran) inputs; export it with "
         "`ftbench export`");
  for (const auto &input : meta.at("inputs")) {
    InputSpec spec{input.at("name").get<std::string>(),
                   dtype_from_name(input.at("dtype").get<std::string>()), {}};
    for (const auto &dim : input.at("shape")) {
      if (dim.is_array())
        spec.dims.emplace_back(dim.at(0).get<int64_t>(), dim.at(1).get<int64_t>());
      else
        spec.dims.emplace_back(dim.get<int64_t>(), dim.get<int64_t>());
    }
    model->inputs.push_back(std::move(spec));
  }
  model->package = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
      file, "model", false, 1, device.is_cpu() ? -1 : device.index());
  LivePackages &live = live_packages();
  const std::lock_guard<std::mutex> lock(live.mutex);
  live.models.insert(model.get());
  return model;
}

std::string signature_string(const InputSpec &spec) {
  std::string s = dtype_name(spec.dtype) + " [";
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    const auto [lo, hi] = spec.dims[d];
    s += (d ? ", " : "") + (lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi));
  }
  return s + "]";
}

// Check one input against the package's signature: dtype, rank, each size in
// its exported range, and a dense column-major layout (the strides the compiled
// code assumes; a size-1 dimension's stride does not matter).
void check_package_input(const InputSpec &spec, const torch::Tensor &t, int index) {
  const std::string which = "input " + std::to_string(index + 1) + " (" + spec.name + ")";
  const std::string wanted = "; the package expects " + signature_string(spec);
  if (t.scalar_type() != spec.dtype)
    fail(which + " has dtype " + dtype_name(t.scalar_type()) + wanted);
  if (t.dim() != static_cast<int64_t>(spec.dims.size()))
    fail(which + " has rank " + std::to_string(t.dim()) + wanted);
  for (int64_t d = 0; d < t.dim(); ++d) {
    const auto [lo, hi] = spec.dims[d];
    if (t.size(d) < lo || t.size(d) > hi)
      fail(which + " has shape " + shape_string(t.sizes()) + wanted +
           (lo == hi ? "" : " (the range of sizes it was exported for)"));
  }
  std::vector<int64_t> reversed(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) reversed[d] = t.dim() - 1 - d;
  if (!t.permute(reversed).is_contiguous())
    fail(which + " has strides " + shape_string(t.strides()) +
         ": the package was compiled for contiguous column-major (Fortran) arrays; pass a "
         "contiguous array, not a section with gaps or a transposed view");
}

// Run forward on the input tensors (under the caller's InferenceMode) and
// return the results, one per output (a tuple or list result split). For a
// package, the inputs are first checked against its signature.
std::vector<c10::IValue> run_forward(const Model *m, int n_inputs, void *const *inputs) {
  if (!m) fail("null model (not loaded, or already deleted)");
  if (n_inputs < 0) fail("negative input count");
  if (m->package) {
    if (n_inputs != static_cast<int>(m->inputs.size()))
      fail(std::to_string(n_inputs) + " input(s) given but the package takes " +
           std::to_string(m->inputs.size()));
    std::vector<torch::Tensor> tensors;
    tensors.reserve(static_cast<size_t>(n_inputs));
    for (int i = 0; i < n_inputs; ++i) {
      const torch::Tensor &t = as_tensor(inputs[i], "input tensor");
      check_package_input(m->inputs[i], t, i);
      tensors.push_back(m->device.is_cpu() ? t : t.to(m->device));
    }
    const std::vector<torch::Tensor> results = m->package->run(tensors);
    return std::vector<c10::IValue>(results.begin(), results.end());
  }
  std::vector<c10::IValue> args;
  args.reserve(static_cast<size_t>(n_inputs));
  for (int i = 0; i < n_inputs; ++i) {
    const torch::Tensor &t = as_tensor(inputs[i], "input tensor");
    args.emplace_back(m->device.is_cpu() ? t : t.to(m->device));
  }
  const c10::IValue result = m->module->forward(std::move(args));
  std::vector<c10::IValue> parts;
  if (result.isTuple()) {
    const auto &elements = result.toTupleRef().elements();
    parts.assign(elements.begin(), elements.end());
  } else if (result.isList()) {
    const auto list = result.toList();
    parts.assign(list.begin(), list.end());
  } else {
    parts.push_back(result);
  }
  return parts;
}

// An optimiser over the parameters of a TorchScript model that require grad.
struct Optimizer {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::string kind;  // "SGD" or "Adam"
};

Model &as_model(void *handle) {
  if (!handle) fail("null model (not loaded, or already deleted)");
  return *static_cast<Model *>(handle);
}

// The TorchScript module of a model that can be trained; an AOTInductor package
// cannot: its compiled code runs forward only and has no parameters to update.
torch::jit::Module &trainable_module(Model &m) {
  if (m.package)
    fail("'" + m.path + "' is an AOTInductor package: its compiled code runs forward only (no "
         "autograd graph, no parameters to update); train the TorchScript file (or the model in "
         "Python) and export a package from the trained weights");
  return *m.module;
}

// The tensor of a Fortran array (descriptor), without copying; checked against
// `like`'s shape and dtype when given.
torch::Tensor tensor_over(CFI_cdesc_t *array, const torch::Tensor *like, const std::string &what) {
  if (!array || !array->base_addr) fail(what + " is not allocated or not associated");
  const c10::ScalarType dtype = dtype_from_cfi(array->type);
  std::vector<int64_t> sizes(array->rank), strides(array->rank);
  for (int d = 0; d < array->rank; ++d) {
    if (array->dim[d].sm % static_cast<CFI_index_t>(array->elem_len) != 0)
      fail("stride of dimension " + std::to_string(d + 1) + " of " + what +
           " is not a whole number of elements");
    sizes[d] = array->dim[d].extent;
    strides[d] = array->dim[d].sm / static_cast<CFI_index_t>(array->elem_len);
  }
  torch::Tensor t = torch::from_blob(array->base_addr, sizes, strides,
                                     torch::TensorOptions().dtype(dtype).device(c10::kCPU));
  if (like && (t.sizes() != like->sizes() || t.scalar_type() != like->scalar_type()))
    fail(what + " is " + dtype_name(t.scalar_type()) + " " + shape_string(t.sizes()) +
         " but the tensor is " + dtype_name(like->scalar_type()) + " " + shape_string(like->sizes()));
  return t;
}

} // namespace

extern "C" {

int torch_c_model_load(const char *path, int device_type, int device_index, void **model) {
  const std::string file = path ? path : "";
  const char *kind = is_package(file) ? "AOTInductor package" : "TorchScript model";
  return guarded("cannot load " + std::string(kind) + " '" + file + "'", [&] {
    if (!model) fail("null output handle");
    *model = nullptr;
    if (!std::filesystem::exists(file)) fail("no such file");
    if (std::filesystem::is_directory(file)) fail("is a directory, not a model file");
    const c10::Device device = make_device(device_type, device_index);
    if (is_package(file)) {
      *model = load_package(file, device).release();
      return;
    }
    torch::jit::ExtraFilesMap extra{{"metadata.json", ""}};
    auto loaded = std::make_unique<Model>(
        Model{std::make_unique<torch::jit::Module>(torch::jit::load(file, device, extra)), nullptr,
              {}, device, file, extra["metadata.json"]});
    loaded->module->eval();
    *model = loaded.release();
  });
}

int torch_c_model_delete(void *model) {
  return guarded("cannot delete model", [&] {
    Model *m = static_cast<Model *>(model);
    if (m && m->package) {
      LivePackages &live = live_packages();
      const std::lock_guard<std::mutex> lock(live.mutex);
      live.models.erase(m);
    }
    delete m;
  });
}

const char *torch_c_model_metadata(void *model) {
  return model ? static_cast<const Model *>(model)->metadata.c_str() : "";
}

int torch_c_model_forward(void *model, int n_inputs, void *const *inputs, int n_outputs,
                          void *const *outputs) {
  const Model *m = static_cast<const Model *>(model);
  const auto context = [&] { return describe_forward(m, n_inputs, inputs); };
  return guarded(context, [&] {
    if (n_outputs < 1) fail("need at least one output tensor");
    c10::InferenceMode no_autograd;
    const std::vector<c10::IValue> parts = run_forward(m, n_inputs, inputs);
    if (static_cast<int>(parts.size()) != n_outputs)
      fail(std::string(m->package ? "package" : "model") + " returned " + std::to_string(parts.size()) +
           " output(s) but " + std::to_string(n_outputs) + " output array(s) were given");
    for (int k = 0; k < n_outputs; ++k) copy_result(parts[k], as_tensor(outputs[k], "output tensor"), k);
  });
}

int torch_c_model_output_signature(void *model, int n_inputs, void *const *inputs, const char **signature) {
  const Model *m = static_cast<const Model *>(model);
  const auto context = [&] { return describe_forward(m, n_inputs, inputs); };
  return guarded(context, [&] {
    if (!signature) fail("null output pointer");
    *signature = "";
    c10::InferenceMode no_autograd;
    const std::vector<c10::IValue> parts = run_forward(m, n_inputs, inputs);
    std::string text;
    for (size_t k = 0; k < parts.size(); ++k) {
      if (!parts[k].isTensor())
        fail("model output " + std::to_string(k + 1) + " is a " + parts[k].tagKind() + ", not a tensor");
      const torch::Tensor result = parts[k].toTensor();
      text += k ? "," : "";
      for (int64_t d = 0; d < result.dim(); ++d) text += (d ? "x" : "") + std::to_string(result.size(d));
      if (result.dim() == 0) text += "scalar";
      text += ":" + dtype_name(result.scalar_type());
    }
    last_signature = text;
    *signature = last_signature.c_str();
  });
}

int torch_c_tensor_from_array(CFI_cdesc_t *array, void **tensor) {
  return guarded("cannot wrap array as a tensor", [&] {
    if (!tensor) fail("null output handle");
    *tensor = nullptr;
    if (!array || !array->base_addr) fail("array is not allocated or not associated");
    const c10::ScalarType dtype = dtype_from_cfi(array->type);
    std::vector<int64_t> sizes(array->rank), strides(array->rank);
    for (int d = 0; d < array->rank; ++d) {
      if (array->dim[d].sm % static_cast<CFI_index_t>(array->elem_len) != 0)
        fail("stride of dimension " + std::to_string(d + 1) + " is not a whole number of elements");
      sizes[d] = array->dim[d].extent;
      strides[d] = array->dim[d].sm / static_cast<CFI_index_t>(array->elem_len);
    }
    auto options = torch::TensorOptions().dtype(dtype).device(c10::kCPU);
    *tensor = new torch::Tensor(torch::from_blob(array->base_addr, sizes, strides, options));
  });
}

int torch_c_tensor_delete(void *tensor) {
  return guarded("cannot delete tensor", [&] { delete static_cast<torch::Tensor *>(tensor); });
}

int torch_c_tensor_data_ptr(void *tensor, void **data) {
  return guarded("cannot read tensor data pointer", [&] { *data = as_tensor(tensor, "tensor").data_ptr(); });
}

int torch_c_tensor_layout(void *tensor, int max_rank, int *rank, int64_t *sizes, int64_t *strides) {
  return guarded("cannot read tensor layout", [&] {
    const torch::Tensor &t = as_tensor(tensor, "tensor");
    if (t.dim() > max_rank)
      fail("tensor has rank " + std::to_string(t.dim()) + ", more than " + std::to_string(max_rank));
    *rank = static_cast<int>(t.dim());
    for (int64_t d = 0; d < t.dim(); ++d) {
      sizes[d] = t.size(d);
      strides[d] = t.stride(d);
    }
  });
}

int torch_c_tensor_set_requires_grad(void *tensor, int requires_grad) {
  return guarded("cannot set requires_grad", [&] {
    torch::Tensor &t = as_tensor(tensor, "tensor");
    if (!t.is_leaf())
      fail("the tensor is the result of a computation; only tensors over arrays can require grad");
    if (requires_grad && !t.is_floating_point())
      fail("only float32 and float64 tensors can require grad, this one is " + dtype_name(t.scalar_type()));
    t.set_requires_grad(requires_grad != 0);
  });
}

int torch_c_tensor_attach_grad(void *tensor, CFI_cdesc_t *grad) {
  return guarded("cannot attach a gradient array", [&] {
    torch::Tensor &t = as_tensor(tensor, "tensor");
    if (!t.requires_grad()) fail("the tensor does not require grad (torch_tensor_requires_grad first)");
    torch::Tensor g = tensor_over(grad, &t, "the gradient array");
    g.zero_();
    t.mutable_grad() = g;
  });
}

int torch_c_tensor_to_array(void *tensor, CFI_cdesc_t *array) {
  return guarded("cannot copy the tensor into the array", [&] {
    const torch::Tensor &t = as_tensor(tensor, "tensor");
    torch::Tensor out = tensor_over(array, &t, "the array");
    const c10::NoGradGuard no_grad;
    out.copy_(t.detach());
  });
}

int torch_c_model_train(void *model, int train) {
  return guarded("cannot set the model's training mode", [&] {
    trainable_module(as_model(model)).train(train != 0);
  });
}

int torch_c_model_forward_graph(void *model, int n_inputs, void *const *inputs, void **output) {
  const Model *m = static_cast<const Model *>(model);
  const auto context = [&] { return describe_forward(m, n_inputs, inputs) + " (with autograd)"; };
  return guarded(context, [&] {
    if (!output) fail("null output handle");
    *output = nullptr;
    trainable_module(as_model(model));
    const c10::AutoGradMode with_autograd(true);
    const std::vector<c10::IValue> parts = run_forward(m, n_inputs, inputs);
    if (parts.size() != 1 || !parts[0].isTensor())
      fail("the model must return one tensor to be trained through this layer, it returned " +
           std::to_string(parts.size()) + " value(s)");
    *output = new torch::Tensor(parts[0].toTensor());
  });
}

int torch_c_loss_mse(void *prediction, void *target, void **loss) {
  return guarded("cannot compute the MSE loss", [&] {
    if (!loss) fail("null output handle");
    *loss = nullptr;
    const torch::Tensor &p = as_tensor(prediction, "prediction");
    const torch::Tensor &t = as_tensor(target, "target");
    if (p.sizes() != t.sizes() || p.scalar_type() != t.scalar_type())
      fail("prediction is " + dtype_name(p.scalar_type()) + " " + shape_string(p.sizes()) +
           " but target is " + dtype_name(t.scalar_type()) + " " + shape_string(t.sizes()) +
           " (they must match: no broadcasting)");
    const c10::AutoGradMode with_autograd(true);
    *loss = new torch::Tensor(torch::mse_loss(p, t.to(p.device())));
  });
}

int torch_c_tensor_backward(void *tensor) {
  return guarded("backward failed", [&] {
    const torch::Tensor &t = as_tensor(tensor, "tensor");
    if (!t.requires_grad())
      fail("the tensor does not require grad: it was not computed from a parameter or an input "
           "that requires grad (use torch_model_forward_graph and torch_loss_mse)");
    if (t.numel() != 1) fail("backward needs a scalar (a loss); this tensor has shape " + shape_string(t.sizes()));
    t.backward();
  });
}

int torch_c_optimizer_create(void *model, int kind, double learning_rate, void **optimizer) {
  return guarded("cannot create the optimiser", [&] {
    if (!optimizer) fail("null output handle");
    *optimizer = nullptr;
    if (!(learning_rate > 0)) fail("the learning rate must be positive, got " + std::to_string(learning_rate));
    std::vector<torch::Tensor> parameters;
    for (const torch::Tensor &p : trainable_module(as_model(model)).parameters())
      if (p.requires_grad()) parameters.push_back(p);
    if (parameters.empty())
      fail("the model has no parameter that requires grad (all frozen): nothing to train");
    auto made = std::make_unique<Optimizer>();
    if (kind == TORCH_C_OPTIMIZER_SGD) {
      made->optimizer = std::make_unique<torch::optim::SGD>(parameters, torch::optim::SGDOptions(learning_rate));
      made->kind = "SGD";
    } else if (kind == TORCH_C_OPTIMIZER_ADAM) {
      made->optimizer = std::make_unique<torch::optim::Adam>(parameters, torch::optim::AdamOptions(learning_rate));
      made->kind = "Adam";
    } else {
      fail("unknown optimiser kind " + std::to_string(kind) + " (0 = SGD, 1 = Adam)");
    }
    *optimizer = made.release();
  });
}

int torch_c_optimizer_zero_grad(void *optimizer) {
  return guarded("cannot zero the gradients", [&] {
    if (!optimizer) fail("null optimiser (not created, or already deleted)");
    static_cast<Optimizer *>(optimizer)->optimizer->zero_grad();
  });
}

int torch_c_optimizer_step(void *optimizer) {
  return guarded("optimiser step failed", [&] {
    if (!optimizer) fail("null optimiser (not created, or already deleted)");
    const c10::NoGradGuard no_grad;
    static_cast<Optimizer *>(optimizer)->optimizer->step();
  });
}

int torch_c_optimizer_delete(void *optimizer) {
  return guarded("cannot delete the optimiser", [&] { delete static_cast<Optimizer *>(optimizer); });
}

int torch_c_model_save(void *model, const char *path) {
  const std::string file = path ? path : "";
  return guarded("cannot save the model to '" + file + "'", [&] {
    trainable_module(as_model(model)).save(file);
  });
}

int torch_c_set_num_threads(int n) {
  return guarded("cannot set the number of threads", [&] {
    if (n < 1) fail("need at least 1 thread, got " + std::to_string(n));
    at::set_num_threads(n);
  });
}

int torch_c_get_num_threads(void) { return at::get_num_threads(); }

const char *torch_c_version(void) { return TORCH_VERSION; }

const char *torch_c_cpu_capability(void) {
  static const std::string capability = at::get_cpu_capability();
  return capability.c_str();
}

const char *torch_c_config(void) {
  static const std::string config = at::show_config();
  return config.c_str();
}

const char *torch_c_last_error(void) { return last_error.c_str(); }

} // extern "C"
