/* bench_check_c -- the element-wise comparison behind every correctness check
 * (Fortran drivers through bench_check, and the native C++ baseline), so both
 * apply exactly the same rule (docs/checks.md):
 *
 *   element passes  <=>  |actual - expected| <= rtol * |expected| + atol
 *
 * and the comparison returns the largest ratio |actual - expected| / (rtol *
 * |expected| + atol) (<= 1: every element passes) and the largest absolute
 * difference. A NaN or infinite actual value gives an infinite ratio unless the
 * reference is the same infinity; a NaN reference always fails. Where the
 * tolerance is 0 (rtol * |expected| + atol == 0) only exact equality passes. */
#ifndef BENCH_CHECK_C_H
#define BENCH_CHECK_C_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compare n float64 elements; writes the largest ratio and absolute difference. */
void bench_check_compare_f64(const double *actual, const double *expected, int64_t n, double rtol,
                             double atol, double *max_ratio, double *max_abs_error);

/* Compare n float32 elements (differences computed in float64). */
void bench_check_compare_f32(const float *actual, const float *expected, int64_t n, double rtol,
                             double atol, double *max_ratio, double *max_abs_error);

/* Largest finite |expected| of n float64 / float32 elements (0 when none is
 * finite): infinite and NaN references do not scale atol. */
double bench_check_max_abs_f64(const double *expected, int64_t n);
double bench_check_max_abs_f32(const float *expected, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
