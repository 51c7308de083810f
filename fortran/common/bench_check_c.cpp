// bench_check_c -- the element-wise comparison of the correctness checks (see
// bench_check_c.h for the rule, docs/checks.md for the tolerances' basis).
#include "bench_check_c.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace {

template <typename T>
void compare(const T *actual, const T *expected, int64_t n, double rtol, double atol,
             double *max_ratio, double *max_abs_error) {
  constexpr double infinity = std::numeric_limits<double>::infinity();
  double worst_ratio = 0.0, worst_abs = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = actual[i], e = expected[i];
    double difference, ratio;
    if (std::isfinite(a) && std::isfinite(e)) {
      difference = std::fabs(a - e);
      const double tolerance = rtol * std::fabs(e) + atol;
      ratio = tolerance > 0 ? difference / tolerance : (difference == 0 ? 0.0 : infinity);
    } else if (a == e) {  // the same infinity (NaN never compares equal)
      difference = ratio = 0.0;
    } else {
      difference = ratio = infinity;
    }
    worst_ratio = std::max(worst_ratio, ratio);
    worst_abs = std::max(worst_abs, difference);
  }
  *max_ratio = worst_ratio;
  *max_abs_error = worst_abs;
}

// Over the finite references only: an infinite one would make atol infinite and
// let every finite error pass (its own element is judged by equality above).
template <typename T> double max_abs(const T *expected, int64_t n) {
  double largest = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = std::fabs(static_cast<double>(expected[i]));
    if (std::isfinite(e)) largest = std::max(largest, e);
  }
  return largest;
}

} // namespace

extern "C" {

void bench_check_compare_f64(const double *actual, const double *expected, int64_t n, double rtol,
                             double atol, double *max_ratio, double *max_abs_error) {
  compare(actual, expected, n, rtol, atol, max_ratio, max_abs_error);
}

void bench_check_compare_f32(const float *actual, const float *expected, int64_t n, double rtol,
                             double atol, double *max_ratio, double *max_abs_error) {
  compare(actual, expected, n, rtol, atol, max_ratio, max_abs_error);
}

double bench_check_max_abs_f64(const double *expected, int64_t n) { return max_abs(expected, n); }

double bench_check_max_abs_f32(const float *expected, int64_t n) { return max_abs(expected, n); }

} // extern "C"
