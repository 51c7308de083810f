// bench_json_c.cpp -- implementation of bench_json_c.h over nlohmann::ordered_json
// (insertion order is kept, so files read in the order the drivers wrote them).

#include "bench_json_c.h"
#include "bench_build_info.h"

#include <nlohmann/json.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

extern char **environ;

namespace {

using json = nlohmann::ordered_json;

thread_local std::string last_error;

template <class F> int guarded(const char *context, F &&body) {
  try {
    body();
    last_error.clear();
    return 0;
  } catch (const std::exception &e) {
    last_error = std::string(context) + ": " + e.what();
  } catch (...) {
    last_error = std::string(context) + ": unknown C++ exception";
  }
  return 1;
}

json &at(void *doc, const char *pointer) {
  if (!doc) throw std::invalid_argument("null JSON document");
  return (*static_cast<json *>(doc))[json::json_pointer(pointer)];
}

json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

bool timing_variable(const std::string &name) {
  for (const char *prefix : {"OMP_", "MKL_", "OPENBLAS_", "MALLOC_", "GLIBC_TUNABLES", "KMP_",
                             "TORCHINDUCTOR_", "TORCH_COMPILE_"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

} // namespace

extern "C" {

void *bench_json_create(void) {
  void *doc = nullptr;
  guarded("cannot create JSON document", [&] { doc = new json(json::object()); });
  return doc;
}

void bench_json_destroy(void *doc) { delete static_cast<json *>(doc); }

int bench_json_set_string(void *doc, const char *pointer, const char *value) {
  return guarded(pointer, [&] { at(doc, pointer) = std::string(value); });
}

int bench_json_set_int(void *doc, const char *pointer, int64_t value) {
  return guarded(pointer, [&] { at(doc, pointer) = value; });
}

int bench_json_set_real(void *doc, const char *pointer, double value) {
  return guarded(pointer, [&] { at(doc, pointer) = number(value); });
}

int bench_json_set_bool(void *doc, const char *pointer, int value) {
  return guarded(pointer, [&] { at(doc, pointer) = (value != 0); });
}

int bench_json_set_real_array(void *doc, const char *pointer, const double *values, int64_t n) {
  return guarded(pointer, [&] {
    json array = json::array();
    for (int64_t i = 0; i < n; ++i) array.push_back(number(values[i]));
    at(doc, pointer) = std::move(array);
  });
}

int bench_json_set_int_array(void *doc, const char *pointer, const int64_t *values, int64_t n) {
  return guarded(pointer, [&] { at(doc, pointer) = json(std::vector<int64_t>(values, values + n)); });
}

int bench_json_set_string_array(void *doc, const char *pointer, const char *values, int64_t n,
                                int64_t len) {
  return guarded(pointer, [&] {
    json array = json::array();
    for (int64_t i = 0; i < n; ++i) {
      std::string item(values + i * len, static_cast<size_t>(len));
      item.erase(item.find_last_not_of(' ') + 1);
      array.push_back(item);
    }
    at(doc, pointer) = std::move(array);
  });
}

int bench_json_set_parsed(void *doc, const char *pointer, const char *text) {
  return guarded(pointer, [&] { at(doc, pointer) = json::parse(text); });
}

int bench_json_add_environment(void *doc, const char *pointer) {
  return guarded("environment", [&] {
    json env = json::object();
    char host[256] = {0};
    env["hostname"] = gethostname(host, sizeof host - 1) == 0 ? host : "unknown";
    env["cpu_model"] = cpu_model();
    env["logical_cpus"] = std::thread::hardware_concurrency();
    struct utsname un {};
    if (uname(&un) == 0) env["os"] = std::string(un.sysname) + " " + un.release + " " + un.machine;
    env["utc_time"] = utc_now();
    env["git_commit"] = FTB_GIT_COMMIT;
    env["cxx_compiler"] = FTB_CXX_COMPILER;
    env["build_type"] = FTB_BUILD_TYPE;
    json vars = json::object();
    for (char **e = environ; e && *e; ++e) {
      const std::string entry(*e);
      const auto eq = entry.find('=');
      if (eq != std::string::npos && timing_variable(entry.substr(0, eq)))
        vars[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    env["variables"] = std::move(vars);
    at(doc, pointer) = std::move(env);
  });
}

int bench_json_write(void *doc, const char *path) {
  return guarded("cannot write results file", [&] {
    if (!doc) throw std::invalid_argument("null JSON document");
    const std::string target(path);
    const std::string temporary = target + ".tmp." + std::to_string(getpid());
    {
      std::ofstream out(temporary);
      if (!out) throw std::runtime_error("'" + temporary + "': " + std::strerror(errno));
      out << static_cast<json *>(doc)->dump(2) << '\n';
      out.close();
      if (!out) {
        std::remove(temporary.c_str());
        throw std::runtime_error("'" + temporary + "': write failed");
      }
    }
    if (std::rename(temporary.c_str(), target.c_str()) != 0) {
      const std::string reason = std::strerror(errno);
      std::remove(temporary.c_str());
      throw std::runtime_error("'" + target + "': " + reason);
    }
  });
}

const char *bench_json_last_error(void) { return last_error.c_str(); }

} // extern "C"
