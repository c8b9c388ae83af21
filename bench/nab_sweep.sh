#!/usr/bin/env bash
# bench/nab_sweep.sh NAB_ROOT NAME VALUE... -- how the NAB score of ghost's
# detector moves with one of its constants.  For each VALUE it builds
# ghost-nab with stages/anomaly/detector.c compiled with -DNAME=VALUE (only
# the constants detector.c guards with #ifndef: S_TAIL_MEMORY, S_HIST_MEMORY,
# S_CTX_L_HALF, S_WINSOR, S_CHG_WEIGHT, S_RANGE_TOL, S_RANGE_EDGE), runs
# bench/nab.sh over NAB_ROOT and scores it with nab_score.py (NAB_SCORE,
# default ../shared/tools/nab_score.py next to the repository).  Prints one
# row per value: standard, reward-low-FP and reward-low-FN scores, each at
# its own corpus-optimised threshold, or at the threshold NAB_THRESHOLD when
# that is set (the same for every value and profile: whether a value ranks
# anomalies better, not only where the optimised threshold happens to fall).
#
#   bash bench/nab_sweep.sh ../shared/data/nab S_TAIL_MEMORY 6 7 8 10
#   NAB_THRESHOLD=0.8 bash bench/nab_sweep.sh ../shared/data/nab S_TAIL_MEMORY 7 8
#
# ghost itself is built with the values written in detector.c; this is for
# seeing how sensitive a figure is, not for choosing per-file settings.
# Needs `make` first: it compiles with the build's flags (make print-VAR) and
# links build/libghost.a and build's ghost-nab.o.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAB_ROOT NAME VALUE..." >&2; exit 2; }
name=$2
[ -d "$1/data" ] || { echo "nab_sweep.sh: $1/data not found" >&2; exit 1; }
root=$(cd "$1" && pwd)
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
score=${NAB_SCORE:-$here/../shared/tools/nab_score.py}
[ -f "$score" ] || { echo "nab_sweep.sh: $score not found (set NAB_SCORE)" >&2; exit 1; }
score=$(cd "$(dirname "$score")" && pwd)/$(basename "$score")
main=$here/build/stages/anomaly/ghost-nab.o
[ -f "$here/build/libghost.a" ] && [ -f "$main" ] ||
  { echo "nab_sweep.sh: build/libghost.a or $main not found (run make)" >&2; exit 1; }
grep -q "^#ifndef $name\$" "$here/stages/anomaly/detector.c" ||
  { echo "nab_sweep.sh: $name is not a constant detector.c lets you set" >&2; exit 2; }

work=$(mktemp -d /tmp/ghost-nab-sweep.XXXXXX)
trap 'rm -rf "$work"' EXIT
fixed=()
if [ -n "${NAB_THRESHOLD:-}" ]; then
  awk -v t="$NAB_THRESHOLD" 'BEGIN { exit !(t ~ /^[0-9]*\.?[0-9]+$/ && t + 0 <= 1) }' ||
    { echo "nab_sweep.sh: NAB_THRESHOLD=$NAB_THRESHOLD is not a score in [0,1]" >&2; exit 2; }
  t=$NAB_THRESHOLD
  printf '{"ghost": {"standard": {"threshold": %s}, "reward_low_FP_rate": {"threshold": %s}, "reward_low_FN_rate": {"threshold": %s}}}\n' \
    "$t" "$t" "$t" >"$work/thresholds.json"
  fixed=(--thresholds "$work/thresholds.json")
  echo "(every score at the fixed threshold $t)"
fi
# the build's own flags and libraries (relative include paths: run from $here)
cd "$here"
mkvar() { make -s --no-print-directory "print-$1"; }
read -r -a cflags <<<"$(mkvar CPPFLAGS) $(mkvar CFLAGS)"
read -r -a ldlibs <<<"$(mkvar LDLIBS)"
printf "%-14s %-8s %9s %9s %9s\n" "$name" value standard low_FP low_FN
for v in "$@"; do
  d=$work/$v
  mkdir -p "$d"
  # detector.o first: the linker then takes the detector from it, not from
  # the archive
  cc "${cflags[@]}" "-D$name=$v" -c stages/anomaly/detector.c -o "$d/detector.o"
  cc -o "$d/ghost-nab" "$main" "$d/detector.o" build/libghost.a "${ldlibs[@]}"
  GHOST_BIN=$d bash "$here/bench/nab.sh" "$root" "$d/out" 2>/dev/null
  python3 "$score" "$root" "$d/out" ghost "${fixed[@]}" |
    awk -v n="$name" -v v="$v" '{ sub("normalized=", "", $5); s[$2] = $5 }
      END { printf "%-14s %-8s %9s %9s %9s\n", n, v,
                    s["standard"], s["reward_low_FP_rate"], s["reward_low_FN_rate"] }'
done
