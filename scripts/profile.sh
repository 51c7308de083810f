#!/usr/bin/env bash
# Profile one driver run: gprof (the published Profile build) and perf (which,
# unlike gprof, sees inside libtorch, libpython and the other shared libraries).
#
#   scripts/profile.sh [--name NAME] <driver> <driver arguments...>
#   e.g. scripts/profile.sh benchmarker_cgdrag_torch models cgdrag_cpu.pt 5 --threads 1
#
# Builds the Profile configuration in build-profile/ (RelWithDebInfo + -pg), runs
# the driver once (under `perf record -e cpu-clock -g` when perf is usable) and
# writes to results/profiles/<NAME> (default NAME: the driver's name):
#   output.log   the driver's output;  result.json  its results file
#   gprof.txt    gprof flat profile and call graph (gprof -b)
#   callgraph.png  the call graph drawn by gprof2dot + Graphviz (if `dot` is available)
#   perf.txt     perf report by shared object and symbol (if perf is usable)
#   run_seconds.txt  wall time of the whole run (start-up and checks included)
# then prints the layer summary. `ftbench report` adds a "Where the time goes"
# section for every profile it finds there. Missing tools are installed with
# apt-get when root (graphviz, linux-perf), otherwise skipped with a note.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
note() { printf 'profile: %s\n' "$*"; }
die() { printf 'profile: %s\n' "$*" >&2; exit 1; }

name=""
if [ "${1:-}" = "--name" ]; then name=${2:?--name needs a value}; shift 2; fi
[ $# -ge 1 ] || die "usage: scripts/profile.sh [--name NAME] <driver> <driver arguments...>"
driver=$1
shift
name=${name:-$driver}

FTB_BUILD_DIR=build-profile FTB_BUILD_TYPE=Profile ./scripts/setup.sh
source scripts/python.sh
program=build-profile/bin/$driver
[ -x "$program" ] || die "no driver $driver in build-profile/bin (one of: $(ls build-profile/bin | tr '\n' ' '))"

install_if_root() {  # <command> <Debian package>
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    note "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1; } \
      || true
  fi
  command -v "$1" >/dev/null
}

out=results/profiles/$name
rm -rf "$out"
mkdir -p "$out"
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
export GMON_OUT_PREFIX="$out/gmon"   # glibc writes gmon.<pid> there

use_perf=false
if install_if_root perf linux-perf && perf record -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
  use_perf=true
else
  note "perf is missing or not permitted here (see /proc/sys/kernel/perf_event_paranoid): gprof only"
fi

note "running $program $* (profile in $out)"
status=0
start=$(date +%s.%N)
if $use_perf; then
  perf record -q -e cpu-clock -g -o "$out/perf.data" -- "$program" "$@" --json "$out/result.json" \
    > "$out/output.log" 2>&1 || status=$?
else
  "$program" "$@" --json "$out/result.json" > "$out/output.log" 2>&1 || status=$?
fi
[ "$status" -eq 0 ] || { tail -3 "$out/output.log" >&2; die "the driver failed (exit $status); see $out/output.log"; }
# Wall time of the whole run: the report compares it with the timed steps.
awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.3f\n", a - b }' > "$out/run_seconds.txt"

gmon=$(ls "$out"/gmon.* 2>/dev/null | head -1)
[ -n "$gmon" ] || die "no gmon.out was written (is $program a Profile build?)"
mv "$gmon" "$out/gmon.out"
gprof -b "$program" "$out/gmon.out" > "$out/gprof.txt"
rm -f "$out/gmon.out"

if install_if_root dot graphviz; then
  "$ftb_python" -m gprof2dot -f prof "$out/gprof.txt" | dot -Tpng -o "$out/callgraph.png"
else
  note "Graphviz's dot is missing (Debian: graphviz): no call-graph image"
fi

if $use_perf; then
  perf report -i "$out/perf.data" --stdio --no-children --sort dso,sym -g none --percent-limit 0.01 \
    > "$out/perf.txt" 2>/dev/null
  rm -f "$out/perf.data" "$out/perf.data.old"
  ftbench parse perf "$out/perf.txt" --executable "$driver" --layers
fi
ftbench parse gprof "$out/gprof.txt" --top 8
note "done: $out"
