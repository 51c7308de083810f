// bench_npy_c.cpp -- the .npy reader and writer behind bench_npy_c.h.
// Format: numpy.lib.format (magic "\x93NUMPY", major and minor version bytes, the
// header length as little-endian uint16 (1.0) or uint32 (2.0, 3.0), then the
// header, a Python dict literal with 'descr', 'fortran_order' and 'shape', padded
// with spaces and a newline so the data starts on a 64-byte boundary).
#include "bench_npy_c.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

thread_local std::string last_error;

// Run `body`; turn any exception into last_error and -1 (none crosses the C ABI).
int guarded(const char *path, const std::function<void()> &body) {
  try {
    body();
    last_error.clear();
    return 0;
  } catch (const std::exception &error) {
    last_error = "'" + std::string(path ? path : "(null)") + "': " + error.what();
  } catch (...) {
    last_error = "'" + std::string(path ? path : "(null)") + "': unknown error";
  }
  return -1;
}

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  std::streamoff data_offset = 0;
};

// Open `path` and read its header; the stream is left at the data.
Header read_header(std::ifstream &in, const std::string &path) {
  in.open(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::strerror(errno));
  unsigned char lead[8];
  if (!in.read(reinterpret_cast<char *>(lead), 8) || std::memcmp(lead, "\x93NUMPY", 6) != 0)
    throw std::runtime_error("not a .npy file (no \\x93NUMPY magic)");
  const int major = lead[6];
  if (major < 1 || major > 3)
    throw std::runtime_error(".npy format version " + std::to_string(major) + " not supported");
  unsigned char size[4] = {0, 0, 0, 0};
  const int size_bytes = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char *>(size), size_bytes))
    throw std::runtime_error("truncated .npy header");
  const uint32_t length = size[0] | size[1] << 8 | size[2] << 16 | uint32_t(size[3]) << 24;
  std::string text(length, ' ');
  if (!in.read(text.data(), length)) throw std::runtime_error("truncated .npy header");
  Header header;
  header.data_offset = 8 + size_bytes + std::streamoff(length);
  std::smatch match;
  if (!std::regex_search(text, match, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    throw std::runtime_error(".npy header without 'descr'");
  header.descr = match[1];
  if (!std::regex_search(text, match, std::regex(R"('fortran_order'\s*:\s*(True|False))")))
    throw std::runtime_error(".npy header without 'fortran_order'");
  header.fortran_order = match[1] == "True";
  if (!std::regex_search(text, match, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw std::runtime_error(".npy header without 'shape'");
  const std::string dims = match[1];
  const std::regex number(R"(\d+)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number);
       it != std::sregex_iterator(); ++it)
    header.shape.push_back(std::stoll(it->str()));
  return header;
}

// Whether the data's order matters: more than one dimension longer than 1 (NumPy
// writes such arrays, contiguous both ways, with fortran_order False).
bool order_matters(const std::vector<int64_t> &shape) {
  return std::count_if(shape.begin(), shape.end(), [](int64_t n) { return n > 1; }) > 1;
}

std::string shape_text(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t d = 0; d < shape.size(); ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

void require_descr(const Header &header, const std::string &descr, const char *what) {
  if (header.descr != descr)
    throw std::runtime_error("holds dtype '" + header.descr + "', expected '" + descr + "' (" +
                             what + ")");
}

// Refuse a file shorter than its header says (a write cut short), whatever part
// of it is read.
void require_complete(std::ifstream &in, const Header &header, size_t size) {
  int64_t items = 1;
  for (const int64_t extent : header.shape) items *= extent;
  in.seekg(0, std::ios::end);
  if (in.tellg() < header.data_offset + std::streamoff(items * int64_t(size)))
    throw std::runtime_error("truncated data (the file is shorter than its shape " +
                             shape_text(header.shape) + " says)");
}

// Read `count` items of `size` bytes at item `index` of the data.
void read_items(std::ifstream &in, const Header &header, int64_t index, int64_t count,
                size_t size, void *out) {
  in.seekg(header.data_offset + std::streamoff(index * int64_t(size)));
  if (!in.read(static_cast<char *>(out), std::streamsize(count * int64_t(size))))
    throw std::runtime_error("truncated data (the file is shorter than its shape " +
                             shape_text(header.shape) + " says)");
}

}  // namespace

extern "C" {

int bench_npy_shape(const char *path, int max_rank, int64_t *shape, int *rank) {
  return guarded(path, [&] {
    std::ifstream in;
    const Header header = read_header(in, path);
    if (int(header.shape.size()) > max_rank)
      throw std::runtime_error("has " + std::to_string(header.shape.size()) +
                               " dimensions, at most " + std::to_string(max_rank) + " expected");
    if (order_matters(header.shape) && !header.fortran_order)
      throw std::runtime_error("is stored in C order; save a Fortran-ordered array "
                               "(numpy.asfortranarray)");
    std::copy(header.shape.begin(), header.shape.end(), shape);
    *rank = int(header.shape.size());
  });
}

int bench_npy_read_real64(const char *path, int rank, const int64_t *full, const int64_t *start,
                          const int64_t *count, double *values) {
  return guarded(path, [&] {
    std::ifstream in;
    const Header header = read_header(in, path);
    require_descr(header, "<f8", "little-endian float64");
    require_complete(in, header, sizeof(double));
    const std::vector<int64_t> expected(full, full + rank);
    if (header.shape != expected)
      throw std::runtime_error("has shape " + shape_text(header.shape) + ", expected " +
                               shape_text(expected));
    if (order_matters(header.shape) && !header.fortran_order)
      throw std::runtime_error("is stored in C order; save a Fortran-ordered array "
                               "(numpy.asfortranarray)");
    int64_t total = 1;
    for (int d = 0; d < rank; ++d) {
      if (start[d] < 0 || count[d] < 0 || start[d] + count[d] > full[d])
        throw std::out_of_range("block outside the array's dimension " + std::to_string(d + 1));
      total *= count[d];
    }
    if (total == 0) return;
    if (rank == 0) return read_items(in, header, 0, 1, sizeof(double), values);
    // Runs along the first (contiguous) dimension, for every index of the others.
    std::vector<int64_t> index(rank, 0);
    for (int64_t run = 0; run < total / count[0]; ++run) {
      int64_t element = start[0], stride = 1;
      for (int d = 1; d < rank; ++d) {
        stride *= full[d - 1];
        element += (start[d] + index[d]) * stride;
      }
      read_items(in, header, element, count[0], sizeof(double), values + run * count[0]);
      for (int d = 1; d < rank && ++index[d] == count[d]; ++d) index[d] = 0;
    }
  });
}

int bench_npy_read_int64(const char *path, int64_t *value) {
  return guarded(path, [&] {
    std::ifstream in;
    const Header header = read_header(in, path);
    require_descr(header, "<i8", "a little-endian int64 scalar");
    if (!header.shape.empty())
      throw std::runtime_error("has shape " + shape_text(header.shape) + ", expected ()");
    require_complete(in, header, sizeof(int64_t));
    read_items(in, header, 0, 1, sizeof(int64_t), value);
  });
}

namespace {

// The byte string of a '|S<n>' scalar file, trailing NULs removed.
std::string read_text(const char *path) {
  std::ifstream in;
  const Header header = read_header(in, path);
  std::smatch match;
  if (!std::regex_match(header.descr, match, std::regex(R"(\|S(\d+))")))
    throw std::runtime_error("holds dtype '" + header.descr + "', expected '|S<n>' (a byte " +
                             "string scalar)");
  if (!header.shape.empty())
    throw std::runtime_error("has shape " + shape_text(header.shape) + ", expected ()");
  std::string text(std::stoul(match[1]), '\0');
  require_complete(in, header, text.size());
  read_items(in, header, 0, 1, text.size(), text.data());
  return text.substr(0, text.find_last_not_of('\0') + 1);
}

}  // namespace

int bench_npy_text_length(const char *path, int64_t *length) {
  return guarded(path, [&] { *length = int64_t(read_text(path).size()); });
}

int bench_npy_read_text(const char *path, char *text, int64_t length) {
  return guarded(path, [&] {
    const std::string value = read_text(path);
    if (int64_t(value.size()) != length)
      throw std::invalid_argument("text of " + std::to_string(value.size()) +
                                  " bytes, room for " + std::to_string(length));
    std::memcpy(text, value.data(), value.size());
  });
}

int bench_npy_write_real64(const char *path, int rank, const int64_t *shape,
                           const double *values) {
  return guarded(path, [&] {
    const std::vector<int64_t> dims(shape, shape + rank);
    std::string header =
        "{'descr': '<f8', 'fortran_order': True, 'shape': " + shape_text(dims) + ", }";
    header.append(63 - (10 + header.size()) % 64, ' ');  // data on a 64-byte boundary
    header += '\n';
    int64_t total = 1;
    for (const int64_t extent : dims) total *= extent;
    const std::string target(path);
    const std::string temporary = target + ".tmp." + std::to_string(getpid());
    {
      std::ofstream out(temporary, std::ios::binary);
      if (!out) throw std::runtime_error("cannot create '" + temporary + "': " +
                                         std::strerror(errno));
      const unsigned char lead[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                      static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
      out.write(reinterpret_cast<const char *>(lead), sizeof lead);
      out << header;
      out.write(reinterpret_cast<const char *>(values), std::streamsize(total * 8));
      out.close();
      if (!out) {
        std::remove(temporary.c_str());
        throw std::runtime_error("write failed");
      }
    }
    if (std::rename(temporary.c_str(), path) != 0) {
      const std::string reason = std::strerror(errno);
      std::remove(temporary.c_str());
      throw std::runtime_error(reason);
    }
  });
}

const char *bench_npy_last_error(void) { return last_error.c_str(); }

}  // extern "C"
