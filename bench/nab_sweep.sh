#!/usr/bin/env bash
# bench/nab_sweep.sh NAB_ROOT NAME VALUE... -- how the NAB score of ghost's
# detector moves with one of its constants.  For each VALUE it builds
# ghost-nab with stages/anomaly/detector.c compiled with -DNAME=VALUE (only
# the constants detector.c guards with #ifndef: S_TAIL_MEMORY, S_CTX_L_HALF,
# S_WINSOR, S_CHG_WEIGHT), runs bench/nab.sh over NAB_ROOT and scores it with
# nab_score.py (NAB_SCORE, default ../shared/tools/nab_score.py next to the
# repository).  Prints one row per value: standard, reward-low-FP and
# reward-low-FN scores, each at its own corpus-optimised threshold.
#
#   bash bench/nab_sweep.sh ../shared/data/nab S_TAIL_MEMORY 6 7 8 10
#
# ghost itself is built with the values written in detector.c; this is for
# seeing how sensitive a figure is, not for choosing per-file settings.
# Needs `make` first (it links build/libghost.a).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAB_ROOT NAME VALUE..." >&2; exit 2; }
root=$1 name=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
score=${NAB_SCORE:-$here/../shared/tools/nab_score.py}
[ -d "$root/data" ] || { echo "nab_sweep.sh: $root/data not found" >&2; exit 1; }
[ -f "$score" ] || { echo "nab_sweep.sh: $score not found (set NAB_SCORE)" >&2; exit 1; }
[ -f "$here/build/libghost.a" ] || { echo "nab_sweep.sh: build/libghost.a not found (run make)" >&2; exit 1; }
grep -q "^#ifndef $name\$" "$here/stages/anomaly/detector.c" ||
  { echo "nab_sweep.sh: $name is not a constant detector.c lets you set" >&2; exit 2; }

work=$(mktemp -d /tmp/ghost-nab-sweep.XXXXXX)
trap 'rm -rf "$work"' EXIT
pkgs="libzmq hiredis msgpack libcurl jansson yajl libpcre2-8 libxxhash libmicrohttpd"
cflags=(-std=c11 -O2 -D_GNU_SOURCE -I"$here/lib" -I"$here/proto" -I"$here/stages")
printf "%-14s %-8s %9s %9s %9s\n" "$name" value standard low_FP low_FN
for v in "$@"; do
  d=$work/$v
  mkdir -p "$d"
  # detector.o first: the linker then takes the detector from it, not from
  # the archive
  cc "${cflags[@]}" "-D$name=$v" -c "$here/stages/anomaly/detector.c" -o "$d/detector.o"
  cc "${cflags[@]}" -c "$here/stages/anomaly/ghost-nab.c" -o "$d/ghost-nab.o"
  # shellcheck disable=SC2086
  cc -o "$d/ghost-nab" "$d/ghost-nab.o" "$d/detector.o" "$here/build/libghost.a" \
     $(pkg-config --libs $pkgs) -lm -lpthread
  GHOST_BIN=$d bash "$here/bench/nab.sh" "$root" "$d/out" 2>/dev/null
  python3 "$score" "$root" "$d/out" ghost |
    awk -v n="$name" -v v="$v" '{ sub("normalized=", "", $5); s[$2] = $5 }
      END { printf "%-14s %-8s %9s %9s %9s\n", n, v,
                    s["standard"], s["reward_low_FP_rate"], s["reward_low_FN_rate"] }'
done
