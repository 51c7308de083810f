/*
 * bench_json_c.h -- C ABI over nlohmann::json for the benchmark drivers:
 * build a results document with JSON-pointer paths ("/phases/forward/seconds"),
 * add a description of the machine, and write it atomically.
 *
 * Entry points return 0 on success; on failure, bench_json_last_error() gives
 * a one-line message. No C++ exception leaves this library.
 */
#ifndef FTB_BENCH_JSON_C_H
#define FTB_BENCH_JSON_C_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* New empty JSON object; NULL on failure. Release with bench_json_destroy. */
void *bench_json_create(void);
void bench_json_destroy(void *doc);

/* Set the value at a JSON pointer (RFC 6901), creating parent objects. */
int bench_json_set_string(void *doc, const char *pointer, const char *value);
int bench_json_set_int(void *doc, const char *pointer, int64_t value);
int bench_json_set_real(void *doc, const char *pointer, double value); /* NaN/Inf -> null */
int bench_json_set_bool(void *doc, const char *pointer, int value);
int bench_json_set_real_array(void *doc, const char *pointer, const double *values, int64_t n);
int bench_json_set_int_array(void *doc, const char *pointer, const int64_t *values, int64_t n);
int bench_json_set_string_array(void *doc, const char *pointer, const char *values, int64_t n,
                                int64_t len); /* n blank-padded strings of length len */

/* Parse `text` as JSON and set it at `pointer`; fails on malformed text. */
int bench_json_set_parsed(void *doc, const char *pointer, const char *text);

/* Describe this machine and run under `pointer`: hostname, CPU model, logical
 * CPUs, kernel, UTC time, git commit of the build, C++ compiler, and the
 * environment variables that change timings (OMP_*, MKL_*, MALLOC_*,
 * GLIBC_TUNABLES). */
int bench_json_add_environment(void *doc, const char *pointer);

/* Write the document to `path`, pretty-printed: first to a temporary file in
 * the same directory, then renamed, so a reader never sees a partial file. */
int bench_json_write(void *doc, const char *path);

/* One-line message of the last failure on this thread ("" if none). */
const char *bench_json_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* FTB_BENCH_JSON_C_H */
