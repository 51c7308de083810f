#!/usr/bin/env bash
# Every test: set up (scripts/setup.sh) with a Coverage build in build-coverage/
# (gcov counters on the Fortran, C and C++ code), lint and format-check the
# Python code (python/, models/) with ruff, then pytest (which also drives the
# Fortran test programs and drivers of that build), and print what the tests
# covered: Python (coverage.py through pytest-cov, package ftbench) and the
# Fortran/C/C++ layers (gcovr over the gcov counters). See docs/testing.md.
# Extra arguments go to pytest (e.g. -k zero_copy).
# Environment: FTB_BUILD_DIR (default build-coverage) and FTB_BUILD_TYPE
# (default Coverage) choose another build; coverage of the compiled code is
# printed only for a Coverage build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export FTB_BUILD_DIR=${FTB_BUILD_DIR:-build-coverage}
export FTB_BUILD_TYPE=${FTB_BUILD_TYPE:-Coverage}
./scripts/setup.sh
.venv/bin/ruff check python models
.venv/bin/ruff format --check python models
if [ "$FTB_BUILD_TYPE" = Coverage ]; then
  find "$FTB_BUILD_DIR" -name '*.gcda' -delete  # counts of this run only
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
.venv/bin/python -m pytest python/tests --cov=ftbench --cov-branch --cov-report=term "$@" \
  | tee "$log" || status=$?
if [ "$FTB_BUILD_TYPE" = Coverage ] && [ "$status" -eq 0 ]; then
  # --merge-lines: a line of a C++ template counts once, covered if any instance ran it.
  echo "Coverage of the Fortran, C and C++ code (gcovr; lines and branches):"
  .venv/bin/gcovr --root . --object-directory "$FTB_BUILD_DIR" --merge-lines \
    --filter 'fortran/' --filter 'native/' --exclude 'fortran/tests/' \
    --txt --print-summary --sort uncovered-percent
fi
# pytest's verdict again, as the last line: the coverage tables come after it.
grep -E '^=* ?[0-9]+ (passed|failed).* in [0-9.]+s' "$log" | tail -1 || true
exit "$status"
