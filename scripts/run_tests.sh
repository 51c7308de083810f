#!/usr/bin/env bash
# Every test: set up (scripts/setup.sh) with a Coverage build in build-coverage/
# (gcov counters on the Fortran, C and C++ code), lint and format-check the
# Python code (python/, models/) with ruff, then pytest (which also drives the
# Fortran test programs and drivers of that build), and print what the tests
# covered: Python (coverage.py through pytest-cov, package ftbench) and the
# Fortran/C/C++ layers (gcovr over the gcov counters). Then the tests that run
# compiled code again on a Sanitize build in build-sanitize/ (AddressSanitizer,
# UndefinedBehaviorSanitizer and LeakSanitizer, gfortran's run-time checks). See
# docs/testing.md.
# Extra arguments go to pytest (e.g. -k zero_copy), in both stages.
# Environment: FTB_BUILD_DIR (default build-coverage) and FTB_BUILD_TYPE
# (default Coverage) choose another build; coverage of the compiled code is
# printed only for a Coverage build. FTB_SANITIZE=0 skips the Sanitize stage.
# FTB_PYTHON=/path/to/python: test with an existing Python and its torch instead of
# the pinned .venv; it must also hold the test tools (scripts/python.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export FTB_BUILD_DIR=${FTB_BUILD_DIR:-build-coverage}
export FTB_BUILD_TYPE=${FTB_BUILD_TYPE:-Coverage}
./scripts/setup.sh
source scripts/python.sh
if [ -n "${FTB_PYTHON:-}" ]; then "$ftb_python" -m ftbench.requirements --dev || exit 1; fi
"$ftb_python" -m ruff check python models
"$ftb_python" -m ruff format --check python models
if [ "$FTB_BUILD_TYPE" = Coverage ]; then
  find "$FTB_BUILD_DIR" -name '*.gcda' -delete  # counts of this run only
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$ftb_python" -m pytest python/tests --cov=ftbench --cov-branch --cov-report=term "$@" \
  | tee "$log" || status=$?
if [ "$FTB_BUILD_TYPE" = Coverage ] && [ "$status" -eq 0 ]; then
  # --merge-lines: a line of a C++ template counts once, covered if any instance ran it.
  echo "Coverage of the Fortran, C and C++ code (gcovr; lines and branches):"
  "$ftb_python" -m gcovr --root . --object-directory "$FTB_BUILD_DIR" --merge-lines \
    --filter 'fortran/' --filter 'native/' --exclude 'fortran/tests/' \
    --txt --print-summary --sort uncovered-percent
fi
sanitized=""
if [ "${FTB_SANITIZE:-1}" = 1 ] && [ "$status" -eq 0 ]; then
  echo "Sanitize stage: the tests that run compiled code, on build-sanitize/ (docs/testing.md)"
  FTB_BUILD_DIR=build-sanitize FTB_BUILD_TYPE=Sanitize ./scripts/setup.sh
  sanitized=$(mktemp)
  trap 'rm -f "$log" "$sanitized"' EXIT
  # Resident memory says nothing under AddressSanitizer's allocator (it holds freed
  # memory back), so the memory-growth and soak tests run in the first stage only;
  # so do the f2py tests (the extension module would need libasan preloaded into
  # Python). Programs that embed Python start with leak detection off (py_c_api.c).
  FTB_BUILD_DIR=build-sanitize LSAN_OPTIONS=suppressions=$PWD/cmake/lsan.supp \
    UBSAN_OPTIONS=print_stacktrace=1 \
    "$ftb_python" -m pytest -p no:cacheprovider -m "not resident_memory" \
    python/tests/test_direct_layer.py python/tests/test_python_layer.py \
    python/tests/test_concurrency.py python/tests/test_large_stride.py \
    python/tests/test_cgdrag.py python/tests/test_failures.py python/tests/test_aoti.py \
    python/tests/test_run_model.py python/tests/test_training.py python/tests/test_fuzz.py \
    python/tests/test_npy.py "$@" \
    | tee "$sanitized" || status=$?
fi
# pytest's verdicts again, as the last lines: the coverage tables come after them.
grep -E '^=* ?[0-9]+ (passed|failed).* in [0-9.]+s' "$log" | tail -1 || true
if [ -n "$sanitized" ]; then
  echo "Sanitize stage: $(grep -E '^=* ?[0-9]+ (passed|failed).* in [0-9.]+s' "$sanitized" | tail -1)"
fi
exit "$status"
