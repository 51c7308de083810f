#!/usr/bin/env bash
# Set up everything the benchmarks and tests need, idempotently:
#   1. Debian packages (gfortran, g++, cmake, make, git, pkg-config,
#      nlohmann-json3-dev, libcli11-dev, and python3.11-dev / python3.11-venv
#      when the interpreter lacks them): installed
#      with apt-get when missing and we are root; otherwise we stop and name them;
#      OpenMPI (openmpi-bin, libopenmpi-dev) for the MPI drivers likewise, except
#      that without root we only name it and build without the MPI drivers;
#   2. .venv with the exact Python packages of python/requirements.txt (CPU torch)
#      and the ftbench package (editable); redone only when those files change;
#   3. the CMake build in build/ (Release) against the venv's libtorch.
# A second run only re-checks and rebuilds what changed.
# Environment: PYTHON (interpreter for the venv, default python3.11 or python3),
#              FTB_BUILD_DIR (default build), FTB_BUILD_TYPE (default Release),
#              FTB_PYTHON (an existing Python >= 3.11 with torch, a CUDA build
#              too: no venv is made, step 2 only checks its packages and names
#              what is missing, step 3 builds against its torch; scripts/python.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/python.sh

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# --- 1. system packages ------------------------------------------------------
if [ -n "${FTB_PYTHON:-}" ]; then
  python=$ftb_python
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "FTB_PYTHON=$python is Python $("$python" -c 'import platform; print(platform.python_version())'), need 3.11 or later"
else
  python=${PYTHON:-}
  if [ -z "$python" ]; then
    if command -v python3.11 >/dev/null; then python=python3.11; else python=python3; fi
  fi
  command -v "$python" >/dev/null || die "Python 3.11 not found: install python3.11 (Debian: apt-get install python3.11 python3.11-venv)"
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "$python is Python $("$python" -c 'import platform; print(platform.python_version())'), need 3.11 (set PYTHON=/path/to/python3.11)"
fi
python_dev=python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-dev

missing=()
command -v gfortran >/dev/null || missing+=(gfortran)
command -v g++ >/dev/null || missing+=(g++)
command -v cmake >/dev/null || missing+=(cmake)
command -v make >/dev/null || missing+=(make)
command -v git >/dev/null || missing+=(git)
[ -f /usr/include/nlohmann/json.hpp ] || missing+=(nlohmann-json3-dev)
[ -f /usr/include/CLI/CLI.hpp ] || missing+=(libcli11-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
# Embedding CPython needs its headers and shared libpython (Debian: python3.11-dev),
# and a venv needs ensurepip (Debian: python3.11-venv).
"$python" - <<'PY' || missing+=("$python_dev")
import os, sys, sysconfig
header = os.path.join(sysconfig.get_paths()["include"], "Python.h")
library = os.path.join(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("LDLIBRARY") or "")
sys.exit(0 if os.path.exists(header) and library.endswith(".so") and os.path.exists(library) else 1)
PY
[ -n "${FTB_PYTHON:-}" ] || [ -x .venv/bin/python ] || "$python" -c 'import ensurepip, venv' 2>/dev/null \
  || missing+=(python3.11-venv)
# OpenMPI (mpifort with the mpi_f08 module, mpirun) for the MPI drivers: optional.
if ! command -v mpifort >/dev/null || ! command -v mpirun >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    missing+=(openmpi-bin libopenmpi-dev)
  else
    say "OpenMPI not found: building without the MPI drivers (to add them: sudo apt-get install openmpi-bin libopenmpi-dev, then run this again)"
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  else
    die "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}"
  fi
fi

# --- 2. Python virtual environment --------------------------------------------
stamp=.venv/.ftb-requirements
want=$(cat python/requirements.txt python/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -n "${FTB_PYTHON:-}" ]; then
  say "using FTB_PYTHON=$ftb_python and the packages in it (no venv)"
  "$ftb_python" -m ftbench.requirements || exit 1
elif [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $python"
    "$python" -m venv .venv || die "cannot create a venv with $python (Debian: apt-get install python3.11-venv)"
  fi
  say "installing pinned Python packages into .venv (torch CPU build)"
  pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
  # torch==2.13.0+cpu comes from a local wheel or PyPI mirror where available,
  # else from PyTorch's CPU index.
  "${pip[@]}" -r python/requirements.txt 2>/dev/null \
    || "${pip[@]}" -r python/requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu \
    || die "pip could not install python/requirements.txt"
  "${pip[@]}" --no-deps --no-build-isolation -e python || die "pip could not install the ftbench package"
  echo "$want" > "$stamp"
fi

# --- 3. build ------------------------------------------------------------------
build=${FTB_BUILD_DIR:-build}
build_type=${FTB_BUILD_TYPE:-Release}
torch_prefix=$("$ftb_python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
if [ ! -f "$build/CMakeCache.txt" ] \
   || ! grep -qx "CMAKE_PREFIX_PATH:[A-Z]*=$torch_prefix" "$build/CMakeCache.txt" \
   || ! grep -qx "Python_EXECUTABLE:[A-Z]*=$ftb_python" "$build/CMakeCache.txt" \
   || ! grep -qx "CMAKE_BUILD_TYPE:[A-Z]*=$build_type" "$build/CMakeCache.txt" \
   || { command -v mpifort >/dev/null && ! grep -q "^MPI_Fortran_MODULE_DIR:PATH=/" "$build/CMakeCache.txt"; }; then
  say "configuring $build ($build_type)"
  mkdir -p "$build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_PREFIX_PATH="$torch_prefix" \
        -DPython_EXECUTABLE="$ftb_python" > "$build/ftb-configure.log" 2>&1 \
    || { tail -20 "$build/ftb-configure.log" >&2; die "CMake configure failed (log: $build/ftb-configure.log)"; }
fi
say "building $build"
cmake --build "$build" --parallel "$(nproc)" > "$build/ftb-build.log" 2>&1 \
  || { grep -E 'error|Error' "$build/ftb-build.log" | head -20 >&2; die "build failed (log: $build/ftb-build.log)"; }
