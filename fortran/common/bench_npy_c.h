/*
 * bench_npy_c.h -- C ABI for NumPy's .npy files (format versions 1.0 to 3.0, as
 * numpy.save writes them and numpy.lib.format documents), so that the benchmark
 * inputs need no extra C library: the Fortran drivers (module bench_npy) and the
 * native C++ baseline read the cgdrag inputs with it and the drivers write their
 * --output fields with it.
 *
 * Arrays are read in Fortran order: a float64 array must be stored with
 * fortran_order True (numpy.save of a Fortran-ordered array), unless at most one
 * of its dimensions is longer than 1 (then both orders are the same bytes);
 * shapes are given first dimension first, as in Fortran.
 * Little-endian data only ('<f8', '<i8'), as on every machine this project runs on.
 *
 * Entry points return 0 on success; on failure, bench_npy_last_error() gives a
 * one-line message naming the file. No C++ exception leaves this library.
 */
#ifndef FTB_BENCH_NPY_C_H
#define FTB_BENCH_NPY_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shape of the array in `path`: *rank dimensions in shape[0..*rank-1] (at most
 * max_rank), first dimension first. */
int bench_npy_shape(const char *path, int max_rank, int64_t *shape, int *rank);

/* Read the block start[d] .. start[d] + count[d] - 1 (0-based) of the float64
 * array in `path`, whose shape must be full[0..rank-1], into `values` (Fortran
 * order, count[0] * ... * count[rank-1] elements). rank 0 reads a scalar. */
int bench_npy_read_real64(const char *path, int rank, const int64_t *full, const int64_t *start,
                          const int64_t *count, double *values);

/* Read the int64 scalar ('<i8', shape ()) in `path`. */
int bench_npy_read_int64(const char *path, int64_t *value);

/* Length in bytes of the byte-string scalar ('|S<n>', shape ()) in `path`, without
 * trailing NUL bytes (numpy pads to n with them). */
int bench_npy_text_length(const char *path, int64_t *length);

/* Copy that byte string into text[0..length-1] (no terminating NUL written). */
int bench_npy_read_text(const char *path, char *text, int64_t length);

/* Write the float64 array values (Fortran order, shape shape[0..rank-1]) to `path`
 * as a version 1.0 .npy with fortran_order True: first to a temporary file in the
 * same directory, then renamed, so a reader never sees a partial file. */
int bench_npy_write_real64(const char *path, int rank, const int64_t *shape,
                           const double *values);

/* One-line message of the last failure on this thread ("" if none). */
const char *bench_npy_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* FTB_BENCH_NPY_C_H */
