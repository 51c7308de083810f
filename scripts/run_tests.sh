#!/usr/bin/env bash
# Every test: set up (scripts/setup.sh), lint and format-check the Python
# code (python/, models/) with ruff, then pytest (which also drives the Fortran test programs
# built in build/). Extra arguments go to pytest (e.g. -k zero_copy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
.venv/bin/ruff check python models
.venv/bin/ruff format --check python models
.venv/bin/python -m pytest python/tests "$@"
