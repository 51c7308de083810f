#!/usr/bin/env bash
# Every test: set up (scripts/setup.sh), lint and format-check the Python
# package with ruff, then pytest (which also drives the Fortran test programs
# built in build/). Extra arguments go to pytest (e.g. -k zero_copy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
.venv/bin/ruff check python
.venv/bin/ruff format --check python
.venv/bin/python -m pytest python/tests "$@"
