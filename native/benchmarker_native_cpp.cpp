// benchmarker_native_cpp -- the native C++ baseline: the same TorchScript model or
// AOTInductor package (.pt2) on the same inputs and sizes as the Fortran drivers,
// called from a small libtorch program with no Fortran and no Python, over
// preallocated buffers.
//
// usage: benchmarker_native_cpp <model-dir> <model-file> <ntimes> large_stride --n N [options]
//        benchmarker_native_cpp <model-dir> <model-file> <ntimes> cgdrag [--columns K] [--data DIR]
//        benchmarker_native_cpp <model-dir> <model-file> <ntimes> cgdrag_train [--data DIR]
//        benchmarker_native_cpp <model-dir> <model-file> <ntimes> model --inputs SIG
//                               --references FILES --rtol X [--name NAME]
//
// `model` is any model on a declared signature, as the generic Fortran drivers
// run it (docs/run-model.md): inputs by the shared rule (bench_inputs.h), outputs
// sized from one forward ("output sizing", once), checked against the
// references that `ftbench run-model` writes.
//
// Buffers have the Fortran drivers' layout (column-major, so tensors get the same
// strides). Phases per iteration: "tensor creation" (torch::from_blob on the
// buffers), "forward" (module.forward, or the package's run, under
// c10::InferenceMode, result copied into
// the output buffer), "tensor deletion", and "loop" (the three). Every iteration
// is checked as the Fortran drivers check it: the same rule (bench_check_c.h) and
// tolerances (bench_tolerances.h, from python/src/ftbench/checks.json).
// `cgdrag_train` trains WaveNet-2 online as the Fortran training drivers do
// (python/src/ftbench/training.py, the numbers of checks.json in
// bench_tolerances.h): each step inference on the whole grid, then one Adam step
// on the sample of columns, with the phases "inference", "sample", "training
// forward", "loss", "backward", "optimiser step", "gradient read" (d loss / d
// wind accumulated by backward straight into the sample's gradient buffer, then
// the step's tensors released) and "loop"; every step's loss (and the loss of
// the inference's drag on the sample) checked against train_loss_ref.
// Results: the schema of docs/results-schema.md, coupling_path
// "native-cpp-torchscript" or "native-cpp-aoti". Exit status 0 if every check passed, 1 otherwise or
// on error (one line on stderr, no results file), 2 on a usage error.

#include "bench_check_c.h"
#include "bench_inputs.h"
#include "bench_json_c.h"
#include "bench_npy_c.h"
#include "bench_tolerances.h"

#include <CLI/CLI.hpp>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/optim.h>
#include <torch/script.h>
#include <torch/version.h>

#include <ATen/Parallel.h>
#include <ATen/Version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <fstream>
#include <iostream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Largest error ratio and absolute difference of one output component against its
// reference, with atol = atol_fraction * max|reference| (bench_check's rule).
struct Comparison {
  double ratio = 0.0, abs_error = 0.0, atol = 0.0;
};

template <typename T>
Comparison compare(const std::vector<T> &actual, const std::vector<T> &expected, double rtol,
                   double atol_fraction) {
  Comparison c;
  const auto n = static_cast<int64_t>(expected.size());
  if constexpr (std::is_same_v<T, double>) {
    c.atol = atol_fraction * bench_check_max_abs_f64(expected.data(), n);
    bench_check_compare_f64(actual.data(), expected.data(), n, rtol, c.atol, &c.ratio, &c.abs_error);
  } else {
    c.atol = atol_fraction * bench_check_max_abs_f32(expected.data(), n);
    bench_check_compare_f32(actual.data(), expected.data(), n, rtol, c.atol, &c.ratio, &c.abs_error);
  }
  return c;
}

// The same for two buffers of one dtype (float32 or float64), as tensors.
Comparison compare_tensor(const torch::Tensor &actual, const torch::Tensor &expected, double rtol,
                          double atol_fraction) {
  Comparison c;
  const int64_t n = expected.numel();
  if (expected.scalar_type() == torch::kFloat64) {
    c.atol = atol_fraction * bench_check_max_abs_f64(expected.data_ptr<double>(), n);
    bench_check_compare_f64(actual.data_ptr<double>(), expected.data_ptr<double>(), n, rtol, c.atol,
                            &c.ratio, &c.abs_error);
  } else {
    c.atol = atol_fraction * bench_check_max_abs_f32(expected.data_ptr<float>(), n);
    bench_check_compare_f32(actual.data_ptr<float>(), expected.data_ptr<float>(), n, rtol, c.atol,
                            &c.ratio, &c.abs_error);
  }
  return c;
}

// One "SIZExSIZE...:DTYPE" entry of a signature (docs/run-model.md).
struct Spec {
  std::vector<int64_t> sizes;
  torch::ScalarType dtype;
  std::string text;
};

// Parse a comma-separated signature; std::invalid_argument names a bad entry.
std::vector<Spec> parse_signature(const std::string &text, const std::string &what) {
  std::vector<Spec> specs;
  std::stringstream entries(text);
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    const auto colon = entry.find(':');
    if (colon == std::string::npos || colon == 0)
      throw std::invalid_argument(what + ": '" + entry + "' is not SIZExSIZE...:DTYPE");
    const std::string dtype = entry.substr(colon + 1);
    if (dtype != "float32" && dtype != "float64")
      throw std::invalid_argument(what + ": '" + entry + "': dtype '" + dtype +
                                  "' is not supported; use float32 or float64");
    Spec spec{{}, dtype == "float32" ? torch::kFloat32 : torch::kFloat64, entry};
    std::stringstream sizes(entry.substr(0, colon));
    std::string size;
    while (std::getline(sizes, size, 'x')) {
      if (size.empty() || size.size() > 12 || size.find_first_not_of("0123456789") != std::string::npos ||
          std::stoll(size) < 1)
        throw std::invalid_argument(what + ": '" + entry + "': sizes must be whole numbers >= 1");
      spec.sizes.push_back(std::stoll(size));
    }
    if (spec.sizes.size() > 4)
      throw std::invalid_argument(what + ": '" + entry + "' has rank " +
                                  std::to_string(spec.sizes.size()) + "; ranks 1 to 4 run");
    specs.push_back(std::move(spec));
  }
  if (specs.empty()) throw std::invalid_argument(what + ": no tensor declared");
  return specs;
}

// A buffer of these sizes in column-major layout: the Fortran drivers' layout.
torch::Tensor fortran_buffer(const std::vector<int64_t> &sizes, torch::ScalarType dtype) {
  std::vector<int64_t> strides(sizes.size());
  int64_t stride = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    strides[d] = stride;
    stride *= sizes[d];
  }
  return torch::empty_strided(sizes, strides, torch::TensorOptions().dtype(dtype));
}

// Input m (from 0) by the rule of checks.json (model.input, generated into
// bench_inputs.h): element at column-major linear index L (from 0) is
// ((ELEMENT_STEP L + INPUT_STEP m) mod MODULUS) / MODULUS, exact in both dtypes.
void fill_input(torch::Tensor &buffer, int64_t m) {
  const auto fill = [&buffer, m](auto *values) {
    using T = std::remove_pointer_t<decltype(values)>;
    const int64_t offset = int64_t{FTB_MODEL_INPUT_STEP} * m;
    for (int64_t l = 0; l < buffer.numel(); ++l)
      values[l] = static_cast<T>((int64_t{FTB_MODEL_ELEMENT_STEP} * l + offset) % FTB_MODEL_MODULUS) /
                  static_cast<T>(FTB_MODEL_MODULUS);
  };
  if (buffer.scalar_type() == torch::kFloat32)
    fill(buffer.data_ptr<float>());
  else
    fill(buffer.data_ptr<double>());
}

// A view without copy of a column-major buffer (what "tensor creation" times).
torch::Tensor wrap(const torch::Tensor &buffer) {
  return torch::from_blob(buffer.data_ptr(), buffer.sizes(), buffer.strides(),
                          torch::TensorOptions().dtype(buffer.scalar_type()));
}

struct Statistics {
  double min, median, mean, stddev, max;
};

Statistics statistics(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double ss = 0.0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {x.front(), 0.5 * (x[(n - 1) / 2] + x[n / 2]), mean, n > 1 ? std::sqrt(ss / (n - 1)) : 0.0,
          x.back()};
}

void check(int rc, const std::string &what) {
  if (rc != 0) throw std::runtime_error(what + ": " + bench_json_last_error());
}

// The block of `count` (Fortran order, first dimension first) at the start of the
// float64 array `name` of the inputs directory `dir`, whose shape must be `full`.
std::vector<double> read_variable(const std::string &dir, const char *name,
                                  const std::vector<int64_t> &full,
                                  const std::vector<int64_t> &count) {
  const std::string path = dir + "/" + name + ".npy";
  const std::vector<int64_t> start(full.size(), 0);
  std::vector<double> values(
      std::accumulate(count.begin(), count.end(), int64_t{1}, std::multiplies<>()));
  if (bench_npy_read_real64(path.c_str(), int(full.size()), full.data(), start.data(),
                            count.data(), values.data()) != 0)
    throw std::runtime_error(std::string(bench_npy_last_error()) +
                             " (write the inputs with `ftbench inputs`, or run "
                             "scripts/run_benchmarks.sh)");
  // As the Fortran drivers' cgdrag_read: refused before the model load.
  const auto bad =
      std::count_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  if (bad > 0)
    throw std::runtime_error("variable " + std::string(name) + " in '" + dir + "' has " +
                             std::to_string(bad) +
                             " NaN or infinite value(s) (rewrite it with `ftbench inputs`)");
  return values;
}

struct Run {
  std::vector<std::string> phases{"tensor creation", "forward", "tensor deletion", "loop"};
  std::vector<std::vector<double>> seconds = std::vector<std::vector<double>>(4);
  std::vector<double> ratios, abs_errors;
};

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Native C++ baseline: a TorchScript model or AOTInductor package over preallocated "
               "buffers (no Fortran)."};
  std::string model_dir, model_file, benchmark, data_path, json_path, input_path;
  std::string input_signature, reference_files, name = "model";
  double model_rtol = -1.0;
  int ntimes = 0, n = 0, columns = 8192, threads = 0, warmup = 1;
  app.add_option("model-dir", model_dir, "directory holding the model")->required();
  app.add_option("model-file", model_file, "TorchScript file, or AOTInductor package (.pt2)")
      ->required();
  app.add_option("ntimes", ntimes, "measured iterations")->required()->check(CLI::PositiveNumber);
  app.add_option("benchmark", benchmark,
                 "large_stride, cgdrag, cgdrag_train or model (any model: docs/run-model.md)")
      ->required()
      ->check(CLI::IsMember({"large_stride", "cgdrag", "cgdrag_train", "model"}));
  app.add_option("--n", n, "large_stride: array size N")->check(CLI::Range(2, 1 << 16));
  app.add_option("--columns", columns, "cgdrag: first K columns (multiple of 128)")
      ->check(CLI::Range(128, 8192));
  app.add_option("--data", data_path, "cgdrag: directory of the inputs (default <model-dir>/data/cgdrag_t42)");
  app.add_option("--threads", threads, "intra-op threads (default: libtorch's)")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "warm-up iterations (default 1)")->check(CLI::NonNegativeNumber);
  app.add_option("--json", json_path, "write the results to this file");
  app.add_option("--write-input", input_path,
                 "large_stride: write the first iteration's input to this file (raw float32, "
                 "column-major) to compare paths");
  app.add_option("--inputs", input_signature,
                 "model: the inputs, SIZExSIZE...:DTYPE comma separated (PyTorch order; float32 "
                 "or float64; rank 1 to 4)");
  app.add_option("--references", reference_files,
                 "model: one raw column-major file per output, comma separated");
  app.add_option("--rtol", model_rtol, "model: tolerance, rtol = atol_fraction = X")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--name", name, "model: benchmark name in the results (default model)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;  // help: 0; any usage error: 2, as the Fortran drivers
  }
  const bool generic = benchmark == "model";
  std::vector<Spec> input_specs;
  if (generic) {
    if (input_signature.empty() || reference_files.empty() || model_rtol < 0) {
      std::cerr << "benchmarker_native_cpp: model needs --inputs, --references and --rtol\n";
      return 2;
    }
    try {
      input_specs = parse_signature(input_signature, "--inputs");
    } catch (const std::invalid_argument &e) {
      std::cerr << "benchmarker_native_cpp: " << e.what() << "\n";
      return 2;
    }
  }
  if (benchmark == "large_stride" && n == 0) {
    std::cerr << "benchmarker_native_cpp: large_stride needs --n N\n";
    return 2;
  }
  if (benchmark == "cgdrag" && columns % 128 != 0) {
    std::cerr << "benchmarker_native_cpp: --columns must be a multiple of 128\n";
    return 2;
  }
  const bool train = benchmark == "cgdrag_train";
  if (train && columns != 8192) {
    std::cerr << "benchmarker_native_cpp: --columns: online training runs on the whole grid (8192)\n";
    return 2;
  }

  void *doc = bench_json_create();
  try {
    const std::string path = model_dir + "/" + model_file;
    check(bench_json_add_environment(doc, "/environment"), "environment");
    if (threads > 0) at::set_num_threads(threads);

    // Inputs, outputs and references, laid out as in the Fortran drivers.
    const bool cgdrag = benchmark == "cgdrag" || train;
    const int64_t ncol = columns, nlev = 40;
    std::vector<float> x32, y32;
    std::vector<double> u, v, lat, psfc, gwfu, gwfv, x64, y64, loss_references;
    std::vector<int64_t> sizes;
    std::vector<std::pair<std::string, std::string>> reference_conditions;
    int reference_conditions_threads = 0;
    if (cgdrag) {
      if (data_path.empty()) data_path = model_dir + "/data/cgdrag_t42";
      // Fortran (lon, lat, lev): the first K columns are the first K / 128 latitude rows.
      const int64_t rows = ncol / 128;
      const std::vector<int64_t> grid{128, 64, nlev}, band{128, rows, nlev};
      u = read_variable(data_path, "uuu", grid, band);
      v = read_variable(data_path, "vvv", grid, band);
      gwfu = read_variable(data_path, "gwfu_ref", grid, band);
      gwfv = read_variable(data_path, "gwfv_ref", grid, band);
      psfc = read_variable(data_path, "psfc", {128, 64}, {128, rows});
      const std::vector<double> lat1 = read_variable(data_path, "lat", {64}, {64});
      const auto attribute_file = [&](const char *name) {
        return data_path + "/" + name + ".npy";
      };
      const auto npy_check = [](int rc) {
        if (rc != 0)
          throw std::runtime_error(std::string(bench_npy_last_error()) +
                                   " (rewrite the inputs with `ftbench inputs`)");
      };
      const auto text_attribute = [&](const char *name) {
        int64_t length = 0;
        npy_check(bench_npy_text_length(attribute_file(name).c_str(), &length));
        std::string text(length, '\0');
        npy_check(bench_npy_read_text(attribute_file(name).c_str(), text.data(), length));
        return text;
      };
      int64_t reference_threads = 0;
      npy_check(bench_npy_read_int64(attribute_file("reference_threads").c_str(),
                                     &reference_threads));
      reference_conditions = {{"cpu_model", text_attribute("reference_cpu_model")},
                              {"cpu_capability", text_attribute("reference_cpu_capability")},
                              {"blas", text_attribute("reference_blas")},
                              {"torch_version", text_attribute("reference_torch_version")}};
      reference_conditions_threads = int(reference_threads);
      if (train) {
        int64_t steps = 0;
        int rank = 0;
        npy_check(bench_npy_shape(attribute_file("train_loss_ref").c_str(), 1, &steps, &rank));
        loss_references = read_variable(data_path, "train_loss_ref", {steps}, {steps});
        if (static_cast<int>(loss_references.size()) < warmup + ntimes)
          throw std::runtime_error("cgdrag_train: '" + data_path + "' has reference losses for " +
                                   std::to_string(loss_references.size()) + " steps, the run asks for " +
                                   std::to_string(warmup + ntimes) + " (warm-up included)");
      }
      lat.resize(ncol);
      for (int64_t c = 0; c < ncol; ++c) lat[c] = lat1[c / 128];
      x64.resize(ncol * nlev);
      y64.resize(ncol * nlev);
    } else if (!generic) {
      x32.resize(static_cast<size_t>(n) * n);
      y32.resize(x32.size());
    }
    std::vector<torch::Tensor> inputs, outputs, references;  // model: column-major buffers
    for (size_t m = 0; m < input_specs.size(); ++m) {
      inputs.push_back(fortran_buffer(input_specs[m].sizes, input_specs[m].dtype));
      fill_input(inputs.back(), static_cast<int64_t>(m));
    }

    if (!std::ifstream(path))
      throw std::runtime_error("cannot load TorchScript model '" + path +
                               "': no such file (create the models with `ftbench export`)");
    auto load_start = Clock::now();
    torch::jit::ExtraFilesMap extra{{"metadata.json", ""}};
    const bool package = std::filesystem::path(path).extension() == ".pt2";
    torch::jit::Module module;
    std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;
    if (package) {
      loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(path);
      const auto stored = loader->get_metadata();
      if (const auto found = stored.find("ftbench"); found != stored.end())
        extra["metadata.json"] = found->second;
    } else {
      module = torch::jit::load(path, c10::Device(c10::kCPU), extra);
      module.eval();
    }
    // One forward: the package's compiled code (inputs laid out as it was exported
    // for: column-major, as here) or the TorchScript module.
    const auto forward_all = [&](const std::vector<torch::Tensor> &args) {
      if (package) return loader->run(args);
      const c10::IValue result = module.forward(std::vector<c10::IValue>(args.begin(), args.end()));
      std::vector<torch::Tensor> parts;
      if (result.isTuple()) {
        for (const auto &element : result.toTupleRef().elements()) parts.push_back(element.toTensor());
      } else if (result.isList()) {
        const auto list = result.toList();
        for (size_t i = 0; i < list.size(); ++i) parts.push_back(list.get(i).toTensor());
      } else {
        parts.push_back(result.toTensor());
      }
      return parts;
    };
    const auto forward = [&](const std::vector<torch::Tensor> &args) { return forward_all(args).at(0); };
    const double load_seconds = seconds_since(load_start);

    // cgdrag_train: the sample (column-major buffers, as the Fortran drivers'), its
    // target and gradient, and the optimiser (timed once: "optimiser creation").
    const int64_t stride = FTB_CGDRAG_TRAIN_SAMPLE_STRIDE;
    const int64_t nsample = train ? (ncol - 1) / stride + 1 : 0;
    std::vector<double> s_wind(nsample * nlev), s_lat(nsample), s_psfc(nsample),
        s_target(nsample * nlev), s_gradient(nsample * nlev), losses;
    std::unique_ptr<torch::optim::Adam> optimizer;
    double optimiser_seconds = 0.0;
    if (train) {
      if (package)
        throw std::runtime_error("cgdrag_train: '" + path + "' is an AOTInductor package, which runs "
                                 "forward only; train the TorchScript file");
      const auto start = Clock::now();
      std::vector<torch::Tensor> parameters;
      for (const auto &parameter : module.parameters()) parameters.push_back(parameter);
      optimizer = std::make_unique<torch::optim::Adam>(
          parameters, torch::optim::AdamOptions(FTB_CGDRAG_TRAIN_LEARNING_RATE));
      optimiser_seconds = seconds_since(start);
    }

    // model: size the outputs from one forward, then read their references.
    double sizing_seconds = 0.0;
    std::string output_signature;
    if (generic) {
      std::vector<torch::Tensor> views;
      for (const auto &buffer : inputs) views.push_back(wrap(buffer));
      const auto sizing_start = Clock::now();
      std::vector<torch::Tensor> results;
      {
        c10::InferenceMode no_autograd;
        results = forward_all(views);
      }
      sizing_seconds = seconds_since(sizing_start);
      if (results.size() > 8) throw std::runtime_error("the model returns more than 8 outputs");
      std::stringstream refs(reference_files);
      std::string file;
      for (size_t k = 0; k < results.size(); ++k) {
        const torch::Tensor &r = results[k];
        if (r.scalar_type() != torch::kFloat32 && r.scalar_type() != torch::kFloat64)
          throw std::runtime_error("model output " + std::to_string(k + 1) +
                                   " is not float32 or float64");
        if (r.dim() < 1 || r.dim() > 4)
          throw std::runtime_error("model output " + std::to_string(k + 1) + " has rank " +
                                   std::to_string(r.dim()) + "; ranks 1 to 4 run");
        outputs.push_back(fortran_buffer(r.sizes().vec(), r.scalar_type()));
        references.push_back(fortran_buffer(r.sizes().vec(), r.scalar_type()));
        std::string entry;
        for (int64_t d = 0; d < r.dim(); ++d) entry += (d ? "x" : "") + std::to_string(r.size(d));
        entry += r.scalar_type() == torch::kFloat32 ? ":float32" : ":float64";
        output_signature += (k ? "," : "") + entry;
        if (!std::getline(refs, file, ','))
          throw std::runtime_error("--references names fewer files than the model's " +
                                   std::to_string(results.size()) + " output(s) (one file per output)");
        const auto bytes =
            static_cast<std::uintmax_t>(references[k].numel()) * references[k].element_size();
        std::error_code error;
        const auto found = std::filesystem::file_size(file, error);
        if (error || found != bytes)
          throw std::runtime_error("reference " + file + ": " +
                                   (error ? std::string("cannot read it") : std::to_string(found) + " bytes") +
                                   ", but output " + std::to_string(k + 1) + " (" + entry + ") needs " +
                                   std::to_string(bytes) +
                                   " (write the references with `ftbench run-model` for this signature)");
        std::ifstream stream(file, std::ios::binary);
        stream.read(static_cast<char *>(references[k].data_ptr()), static_cast<std::streamsize>(bytes));
        if (!stream) throw std::runtime_error("reference " + file + ": cannot read it");
      }
      if (std::getline(refs, file, ','))
        throw std::runtime_error("--references names more files than the model's " +
                                 std::to_string(results.size()) + " output(s) (one file per output)");
    }

    Run run;
    if (train) {
      run.phases = {"inference", "sample",         "training forward", "loss",
                    "backward",  "optimiser step", "gradient read",    "loop"};
      run.seconds.assign(run.phases.size(), {});
    }
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
    const double rtol = generic  ? model_rtol
                        : train  ? FTB_CGDRAG_TRAIN_RTOL
                        : cgdrag ? FTB_CGDRAG_RTOL
                                 : FTB_LARGE_STRIDE_RTOL;
    const double atol_fraction = generic  ? model_rtol
                                 : train  ? 0.0
                                 : cgdrag ? FTB_CGDRAG_ATOL_FRACTION
                                          : FTB_LARGE_STRIDE_ATOL_FRACTION;
    std::vector<std::pair<std::string, double>> atol;  // largest atol used per output component
    const auto record_atol = [&atol](const std::string &name, double value) {
      for (auto &entry : atol)
        if (entry.first == name) {
          entry.second = std::max(entry.second, value);
          return;
        }
      atol.emplace_back(name, value);
    };
    // cgdrag_train: one training step on the sample; the seconds of "sample" ..
    // "gradient read"; the loss (before the update) appended to `losses`.
    const auto train_step = [&](int) {
      std::vector<double> t;
      auto start = Clock::now();
      for (int64_t k = 0; k < nsample; ++k) {  // column k * stride of the Fortran-ordered grid
        const int64_t c = k * stride;
        for (int64_t l = 0; l < nlev; ++l) {
          s_wind[k + l * nsample] = u[c + l * ncol];
          s_target[k + l * nsample] = FTB_CGDRAG_TRAIN_TARGET_SCALE * gwfu[c + l * ncol];
        }
        s_lat[k] = lat[c];
        s_psfc[k] = psfc[c];
      }
      torch::Tensor wind = torch::from_blob(s_wind.data(), {nsample, nlev}, {1, nsample}, f64);
      const torch::Tensor la = torch::from_blob(s_lat.data(), {nsample, 1}, {1, nsample}, f64);
      const torch::Tensor ps = torch::from_blob(s_psfc.data(), {nsample, 1}, {1, nsample}, f64);
      const torch::Tensor target = torch::from_blob(s_target.data(), {nsample, nlev}, {1, nsample}, f64);
      wind.set_requires_grad(true);
      wind.mutable_grad() = torch::from_blob(s_gradient.data(), {nsample, nlev}, {1, nsample}, f64).zero_();
      t.push_back(seconds_since(start));
      start = Clock::now();
      torch::Tensor prediction = module.forward({wind, la, ps}).toTensor();
      t.push_back(seconds_since(start));
      start = Clock::now();
      torch::Tensor loss = torch::mse_loss(prediction, target);
      losses.push_back(loss.item<double>());
      t.push_back(seconds_since(start));
      start = Clock::now();
      loss.backward();
      t.push_back(seconds_since(start));
      start = Clock::now();
      optimizer->step();
      optimizer->zero_grad();
      t.push_back(seconds_since(start));
      start = Clock::now();  // backward wrote d loss / d wind into s_gradient
      loss = torch::Tensor();
      prediction = torch::Tensor();
      wind = torch::Tensor();
      t.push_back(seconds_since(start));
      return t;
    };
    for (int it = 0; it < warmup + ntimes; ++it) {
      if (!cgdrag && !generic) {
        // The input rule every path shares (checks.json, generated into bench_inputs.h):
        // element (i, j) of iteration k, all from 0, exact in float32.
        const int64_t offset = int64_t{FTB_LARGE_STRIDE_ITERATION_STEP} * it;
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < n; ++i)
            x32[i + j * n] = static_cast<float>((FTB_LARGE_STRIDE_ROW_STEP * i +
                                                 FTB_LARGE_STRIDE_COLUMN_STEP * j + offset) %
                                                FTB_LARGE_STRIDE_MODULUS) /
                             static_cast<float>(FTB_LARGE_STRIDE_MODULUS);
        if (it == 0 && !input_path.empty()) {
          std::ofstream file(input_path, std::ios::binary);
          file.write(reinterpret_cast<const char *>(x32.data()),
                     static_cast<std::streamsize>(x32.size() * sizeof(float)));
          if (!file) throw std::runtime_error("--write-input " + input_path + ": cannot write");
        }
      }
      std::fill(y32.begin(), y32.end(), std::numeric_limits<float>::quiet_NaN());
      std::fill(x64.begin(), x64.end(), std::numeric_limits<double>::quiet_NaN());
      std::fill(y64.begin(), y64.end(), std::numeric_limits<double>::quiet_NaN());
      for (auto &buffer : outputs) buffer.fill_(std::numeric_limits<double>::quiet_NaN());
      double t_create, t_forward, t_delete;
      const auto loop_start = Clock::now();
      {
        auto start = Clock::now();
        std::vector<torch::Tensor> tensors;
        if (generic) {
          for (const auto &buffer : inputs) tensors.push_back(wrap(buffer));
          for (const auto &buffer : outputs) tensors.push_back(wrap(buffer));
        } else if (cgdrag) {
          tensors = {torch::from_blob(u.data(), {ncol, nlev}, {1, ncol}, f64),
                     torch::from_blob(v.data(), {ncol, nlev}, {1, ncol}, f64),
                     torch::from_blob(lat.data(), {ncol, 1}, {1, ncol}, f64),
                     torch::from_blob(psfc.data(), {ncol, 1}, {1, ncol}, f64),
                     torch::from_blob(x64.data(), {ncol, nlev}, {1, ncol}, f64),
                     torch::from_blob(y64.data(), {ncol, nlev}, {1, ncol}, f64)};
        } else {
          tensors = {torch::from_blob(x32.data(), {n, n}, {1, n}, f32),
                     torch::from_blob(y32.data(), {n, n}, {1, n}, f32)};
        }
        t_create = seconds_since(start);
        start = Clock::now();
        {
          c10::InferenceMode no_autograd;
          if (generic) {
            const std::vector<torch::Tensor> args(tensors.begin(), tensors.begin() + inputs.size());
            const std::vector<torch::Tensor> results = forward_all(args);
            if (results.size() != outputs.size())
              throw std::runtime_error("the model returned " + std::to_string(results.size()) +
                                       " output(s) after " + std::to_string(outputs.size()));
            for (size_t k = 0; k < outputs.size(); ++k) tensors[inputs.size() + k].copy_(results[k]);
          } else if (cgdrag) {
            tensors[4].copy_(forward({tensors[0], tensors[2], tensors[3]}));
            tensors[5].copy_(forward({tensors[1], tensors[2], tensors[3]}));
          } else {
            tensors[1].copy_(forward({tensors[0]}));
          }
        }
        t_forward = seconds_since(start);
        start = Clock::now();
        tensors.clear();
        t_delete = seconds_since(start);
      }
      std::vector<double> train_seconds;  // sample .. gradient read
      if (train) train_seconds = train_step(it);
      const double t_loop = seconds_since(loop_start);
      Comparison result;
      if (train) {
        // the training loss, and the same loss from the inference's drag on the sample
        double inference_loss = 0.0;
        for (int64_t k = 0; k < nsample; ++k)
          for (int64_t l = 0; l < nlev; ++l) {
            const double d = x64[k * stride + l * ncol] - s_target[k + l * nsample];
            inference_loss += d * d;
          }
        inference_loss /= static_cast<double>(nsample * nlev);
        const std::vector<double> expected{loss_references[it]};
        const Comparison cl = compare(std::vector<double>{losses.back()}, expected, rtol, 0.0);
        const Comparison ci = compare(std::vector<double>{inference_loss}, expected, rtol, 0.0);
        record_atol("loss", 0.0);
        record_atol("inference loss", 0.0);
        result = {std::max(cl.ratio, ci.ratio), std::max(cl.abs_error, ci.abs_error), 0.0};
      } else if (generic) {
        for (size_t k = 0; k < outputs.size(); ++k) {
          const Comparison c = compare_tensor(outputs[k], references[k], rtol, atol_fraction);
          record_atol("output " + std::to_string(k + 1), c.atol);
          result = {std::max(result.ratio, c.ratio), std::max(result.abs_error, c.abs_error), 0.0};
        }
      } else if (cgdrag) {
        const Comparison cu = compare(x64, gwfu, rtol, atol_fraction);
        const Comparison cv = compare(y64, gwfv, rtol, atol_fraction);
        record_atol("gwfu", cu.atol);
        record_atol("gwfv", cv.atol);
        result = {std::max(cu.ratio, cv.ratio), std::max(cu.abs_error, cv.abs_error), 0.0};
      } else {
        std::vector<float> expected(x32.size());
        for (size_t i = 0; i < x32.size(); ++i) expected[i] = 2.0f * x32[i];
        expected[n] = -expected[n];  // element (1, 2): column-major offset n
        result = compare(y32, expected, rtol, atol_fraction);
        record_atol("y", result.atol);
      }
      run.ratios.push_back(result.ratio);
      run.abs_errors.push_back(result.abs_error);
      const bool ok = result.ratio <= 1.0;
      std::printf("%s :: [check %s %d (%9.3E s)] maximum error / tolerance = %10.4E\n",
                  ok ? "PASSED" : "FAILED", it < warmup ? "warm-up" : "iteration",
                  it < warmup ? it + 1 : it - warmup + 1, t_loop, result.ratio);
      std::vector<double> values{t_create, t_forward, t_delete, t_loop};
      if (train) {
        values = {t_create + t_forward + t_delete};
        values.insert(values.end(), train_seconds.begin(), train_seconds.end());
        values.push_back(t_loop);
      }
      for (size_t p = 0; p < values.size(); ++p) run.seconds[p].push_back(values[p]);
    }

    // Results, in the schema of docs/results-schema.md.
    size_t failed = 0;
    for (double r : run.ratios) failed += !(r <= 1.0);
    check(bench_json_set_int(doc, "/schema_version", 2), "json");
    check(bench_json_set_string(doc, "/benchmark", generic ? name.c_str() : benchmark.c_str()), "json");
    check(bench_json_set_string(doc, "/coupling_path",
                                package ? "native-cpp-aoti" : "native-cpp-torchscript"),
          "json");
    check(bench_json_set_string(doc, "/coupling_variant", train ? "training" : "inference_mode"), "json");
    check(bench_json_set_string(doc, "/model", path.c_str()), "json");
    if (!extra["metadata.json"].empty()) {
      check(bench_json_set_parsed(doc, "/model_metadata", extra["metadata.json"].c_str()), "metadata");
    } else if (generic) {  // a file ftbench did not export: its stem and format
      check(bench_json_set_string(doc, "/model_metadata/model",
                                  std::filesystem::path(path).stem().string().c_str()), "json");
      check(bench_json_set_string(doc, "/model_metadata/format", "torchscript"), "json");
    }
    check(bench_json_set_int(doc, "/ntimes", ntimes), "json");
    check(bench_json_set_int(doc, "/warmup", warmup), "json");
    check(bench_json_set_int(doc, "/threads_requested", threads), "json");
    check(bench_json_set_int(doc, "/threads", at::get_num_threads()), "json");
    std::string dtype = cgdrag ? "float64" : "float32";
    if (generic) {
      std::stringstream out_entries(output_signature);
      std::string entry;
      for (int k = 1; std::getline(out_entries, entry, ','); ++k)
        check(bench_json_set_string(doc, ("/sizes/output_" + std::to_string(k)).c_str(), entry.c_str()),
              "json");
      dtype = input_specs[0].text.substr(input_specs[0].text.find(':') + 1);
      for (size_t m = 0; m < input_specs.size(); ++m) {
        check(bench_json_set_string(doc, ("/sizes/input_" + std::to_string(m + 1)).c_str(),
                                    input_specs[m].text.c_str()), "json");
        if (input_specs[m].dtype != input_specs[0].dtype) dtype = "mixed";
      }
      check(bench_json_set_real(doc, "/once/output sizing", sizing_seconds), "json");
    } else if (cgdrag) {
      check(bench_json_set_int(doc, "/sizes/columns", ncol), "json");
      check(bench_json_set_int(doc, "/sizes/levels", nlev), "json");
      if (train) {
        check(bench_json_set_int(doc, "/sizes/training_columns", nsample), "json");
        check(bench_json_set_string(doc, "/training/optimizer", "adam"), "json");
        check(bench_json_set_real(doc, "/training/learning_rate", FTB_CGDRAG_TRAIN_LEARNING_RATE), "json");
        check(bench_json_set_int(doc, "/training/sample_stride", FTB_CGDRAG_TRAIN_SAMPLE_STRIDE), "json");
        check(bench_json_set_real(doc, "/training/target_scale", FTB_CGDRAG_TRAIN_TARGET_SCALE), "json");
        check(bench_json_set_real_array(doc, "/training/losses", losses.data(),
                                        static_cast<int64_t>(losses.size())), "json");
        check(bench_json_set_real(doc, "/once/optimiser creation", optimiser_seconds), "json");
      }
    } else {
      check(bench_json_set_int(doc, "/sizes/N", n), "json");
    }
    check(bench_json_set_string(doc, "/dtype", dtype.c_str()), "json");
    check(bench_json_set_string(doc, "/device", "cpu"), "json");
    std::string command;
    for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
    check(bench_json_set_string(doc, "/command_line", command.c_str()), "json");
    std::string names;
    for (const auto &p : run.phases) names += p + std::string(16 - p.size(), ' ');
    check(bench_json_set_string_array(doc, "/phase_order", names.data(),
                                      static_cast<int64_t>(run.phases.size()), 16), "json");
    std::printf("Timing summary (wall clock): %d measured iterations; %d warm-up iteration(s) excluded.\n",
                ntimes, warmup);
    for (size_t p = 0; p < run.phases.size(); ++p) {
      const std::string base = "/phases/" + run.phases[p];
      const std::vector<double> measured(run.seconds[p].begin() + warmup, run.seconds[p].end());
      const Statistics s = statistics(measured);
      check(bench_json_set_real_array(doc, (base + "/seconds").c_str(), measured.data(),
                                      static_cast<int64_t>(measured.size())), "json");
      check(bench_json_set_real_array(doc, (base + "/warmup_seconds").c_str(), run.seconds[p].data(),
                                      warmup), "json");
      check(bench_json_set_int(doc, (base + "/statistics/count").c_str(), ntimes), "json");
      check(bench_json_set_real(doc, (base + "/statistics/min").c_str(), s.min), "json");
      check(bench_json_set_real(doc, (base + "/statistics/median").c_str(), s.median), "json");
      check(bench_json_set_real(doc, (base + "/statistics/mean").c_str(), s.mean), "json");
      check(bench_json_set_real(doc, (base + "/statistics/stddev").c_str(), s.stddev), "json");
      check(bench_json_set_real(doc, (base + "/statistics/max").c_str(), s.max), "json");
      std::printf("%-31s%13.4E%13.4E%13.4E%13.4E%13.4E\n", run.phases[p].c_str(), s.min, s.median,
                  s.mean, s.stddev, s.max);
    }
    check(bench_json_set_real(doc, "/once/model load", load_seconds), "json");
    const std::vector<double> measured_ratios(run.ratios.begin() + warmup, run.ratios.end());
    const std::vector<double> measured_abs(run.abs_errors.begin() + warmup, run.abs_errors.end());
    check(bench_json_set_string(doc, "/correctness/reference",
                                generic ? "outputs of native Python on the same inputs"
                                : train ? "loss of each training step (and the same loss from the "
                                          "inference's drag on the sample) against the native Python "
                                          "reference losses of `ftbench inputs`"
                                : cgdrag ? "WaveNet-2 drag of both wind components (gwfu from uuu, gwfv "
                                           "from vvv) computed in Python (eager, float64) by `ftbench "
                                           "inputs`"
                                         : "analytic: 2 * input with element (1, 2) negated"),
          "json");
    check(bench_json_set_real(doc, "/correctness/rtol", rtol), "json");
    check(bench_json_set_real(doc, "/correctness/atol_fraction", atol_fraction), "json");
    for (const auto &[name, value] : atol)
      check(bench_json_set_real(doc, ("/correctness/atol/" + name).c_str(), value), "json");
    check(bench_json_set_real(doc, "/correctness/max_error_ratio",
                              *std::max_element(measured_ratios.begin(), measured_ratios.end())),
          "json");
    check(bench_json_set_real(doc, "/correctness/max_abs_error",
                              *std::max_element(measured_abs.begin(), measured_abs.end())),
          "json");
    check(bench_json_set_real_array(doc, "/correctness/error_ratios", measured_ratios.data(),
                                    static_cast<int64_t>(measured_ratios.size())), "json");
    if (cgdrag) {
      check(bench_json_set_int(doc, "/correctness/reference_conditions/threads",
                               reference_conditions_threads), "json");
      for (const auto &[name, value] : reference_conditions)
        check(bench_json_set_string(doc, ("/correctness/reference_conditions/" + name).c_str(),
                                    value.c_str()), "json");
    }
    check(bench_json_set_int(doc, "/correctness/failed_iterations", static_cast<int64_t>(failed)),
          "json");
    check(bench_json_set_bool(doc, "/correctness/passed", failed == 0), "json");
    check(bench_json_set_string(doc, "/environment/torch_version", TORCH_VERSION), "json");
    check(bench_json_set_string(doc, "/environment/cpu_capability", at::get_cpu_capability().c_str()),
          "json");
    {
      const std::string config = at::show_config();
      const auto start = config.find("BLAS_INFO=");
      const std::string blas =
          start == std::string::npos
              ? "unknown"
              : config.substr(start + 10, config.find_first_of(", \n", start + 10) - start - 10);
      check(bench_json_set_string(doc, "/environment/blas", blas.c_str()), "json");
    }
    if (!json_path.empty()) check(bench_json_write(doc, json_path.c_str()), "cannot write results");
    bench_json_destroy(doc);
    if (failed > 0) {
      std::cerr << "FAILED: " << failed << " of " << run.ratios.size()
                << " iterations exceeded the tolerance\n";
      return 1;
    }
    std::printf("All %zu checks PASSED.\n", run.ratios.size());
    return 0;
  } catch (const c10::Error &e) {
    std::string message = e.what_without_backtrace();
    std::cerr << "benchmarker_native_cpp: " << message.substr(0, message.find('\n')) << "\n";
  } catch (const std::exception &e) {
    std::cerr << "benchmarker_native_cpp: " << e.what() << "\n";
  }
  bench_json_destroy(doc);
  return 1;
}
