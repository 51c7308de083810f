#!/usr/bin/env bash
# Mutation testing (mutmut) of the modules whose numbers users act on: the
# correctness check (ftbench/checks.py), results files and their statistics
# (results.py) and run comparison (compare.py). Not part of CI (about 3
# minutes on 2 cores); see docs/testing.md for the last score and what the
# surviving mutants are.
#
# mutmut copies python/ to python/mutants/, changes one thing at a time in those
# modules (an operator, a constant, an argument) and runs the fast in-process
# tests that cover the changed function (`pytest -m "not build"`; configured in
# python/pyproject.toml, [tool.mutmut]). A mutant the tests do not notice
# "survives". Prints the survivors and the score (killed / total); exits 1 when
# the score is below FTB_MUTATION_MIN (default 80 %).
#
# Usage: scripts/mutation.sh      (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || { echo "mutation.sh: .venv/bin/mutmut not found: run scripts/setup.sh" >&2; exit 1; }
minimum=${FTB_MUTATION_MIN:-80}
cd python
rm -rf mutants  # every run from scratch: no stale results
../.venv/bin/mutmut run --max-children "$(nproc)" >/dev/null
echo "Surviving mutants (see one with: cd python && ../.venv/bin/mutmut show <name>):"
../.venv/bin/mutmut results
../.venv/bin/mutmut export-cicd-stats >/dev/null
../.venv/bin/python - "$minimum" <<'PY'
import json
import sys

stats = json.load(open("mutants/mutmut-cicd-stats.json"))
score = 100 * stats["killed"] / stats["total"]
print(
    f"Mutation score: {score:.1f} % ({stats['killed']} of {stats['total']} killed; "
    f"{stats['survived']} survived, {stats['timeout']} timed out, {stats['no_tests']} untested)"
)
sys.exit(0 if score >= float(sys.argv[1]) else 1)
PY
