# Sourced by the scripts (from the repository root): the Python that runs
# ftbench, pytest and the Python tools, and that the build embeds.
#   FTB_PYTHON unset: the project's pinned venv, .venv/bin/python (scripts/setup.sh
#     makes it with the exact packages of python/requirements.txt, CPU torch).
#   FTB_PYTHON=/path/to/python: that interpreter (Python >= 3.11) with the packages
#     already in it, torch included (a CUDA build too). No venv is made and nothing
#     is installed into it (scripts/setup.sh names what is missing); ftbench is
#     imported from python/src through PYTHONPATH, which the drivers' embedded
#     interpreter and the suite's child processes inherit.
# Defines: ftb_python (absolute path, symlinks kept: a venv is known by its path)
# and ftbench (the command-line tool, run by that interpreter).
if [ -n "${FTB_PYTHON:-}" ]; then
  ftb_python=$(command -v "$FTB_PYTHON") \
    || { printf 'FTB_PYTHON=%s: no such interpreter (give the path of a python >= 3.11)\n' "$FTB_PYTHON" >&2; exit 1; }
  ftb_python="$(cd "$(dirname "$ftb_python")" && pwd)/$(basename "$ftb_python")"
  export PYTHONPATH="$PWD/python/src${PYTHONPATH:+:$PYTHONPATH}"
else
  ftb_python="$PWD/.venv/bin/python"
fi
ftbench() { "$ftb_python" -m ftbench.cli "$@"; }
