#!/usr/bin/env bash
# The main job: set up (scripts/setup.sh), export the models, write the cgdrag
# inputs and references, run the default benchmark suite and write
# results/report.md with its plots (raw results and logs in results/raw.tar.xz);
# then, when the MPI drivers were built, the MPI suite on 1 and 2 ranks
# (results/mpi/report.md, which results/report.md links to).
#
#   ./scripts/run_benchmarks.sh               default suite, 1 intra-op thread, and
#                                             --mpi 2 (about 5 min; 7 from a fresh clone)
#   ./scripts/run_benchmarks.sh --threads 2   default suite at 2 threads
#   ./scripts/run_benchmarks.sh --full        every path, format and grad mode instead:
#                                             results/full/report.md (about 15 min)
#   ./scripts/run_benchmarks.sh --sweep       size and thread sweeps instead:
#                                             results/sweep/report.md (about 5 min)
#   ./scripts/run_benchmarks.sh --mpi N       WaveNet-2 on 1..N MPI ranks instead:
#                                             results/mpi/report.md (about 2 min for N = 2)
#   ./scripts/run_benchmarks.sh --selftest    what a run resolves instead: A/A and
#                                             injected costs, results/selftest/selftest.md
#                                             (about 3 min); results/report.md, which
#                                             quotes it, is rewritten when it exists
# Other options go to `ftbench suite` (see .venv/bin/ftbench suite --help).
# FTB_PYTHON=/path/to/python: run with an existing Python and its torch instead of
# the pinned .venv (scripts/python.sh; docs/install.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
source scripts/python.sh
ftbench export --out models
ftbench inputs --out models/data/cgdrag_t42
if [ "${1:-}" = "--selftest" ]; then
  shift
  ftbench selftest --build "${FTB_BUILD_DIR:-build}" --models models \
    --out results/selftest "$@"
  if [ -f results/raw.tar.xz ]; then
    ftbench report results/raw.tar.xz --out results
  fi
  exit 0
fi
build=${FTB_BUILD_DIR:-build}
mpi_suite() {
  ftbench suite --build "$build" --models models --raw results/mpi/raw.tar.xz "$@"
  ftbench report results/mpi/raw.tar.xz --out results/mpi
}
if [ "${1:-}" = "--mpi" ]; then
  mpi_suite "$@"
  exit 0
fi
out=results
for arg in "$@"; do
  if [ "$arg" = "--sweep" ]; then out=results/sweep; fi
  if [ "$arg" = "--full" ]; then out=results/full; fi
done
ftbench suite --build "$build" --models models --raw "$out/raw.tar.xz" "$@"
if [ $# -eq 0 ] && [ -x "$build/bin/benchmarker_cgdrag_torch_mpi" ]; then
  mpi_suite --mpi 2
fi
ftbench report "$out/raw.tar.xz" --out "$out"
