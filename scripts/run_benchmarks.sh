#!/usr/bin/env bash
# The main job: set up (scripts/setup.sh), export the models, write the cgdrag
# inputs and references, run the default benchmark suite and write
# results/report.md with its plots.
# Options are passed to `ftbench suite` (e.g. --threads 2; see ftbench suite --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
.venv/bin/ftbench export --out models
.venv/bin/ftbench inputs --out models/data/cgdrag_t42.nc
.venv/bin/ftbench suite --build "${FTB_BUILD_DIR:-build}" --models models --raw results/raw "$@"
.venv/bin/ftbench report results/raw --out results
