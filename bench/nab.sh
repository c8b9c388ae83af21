#!/usr/bin/env bash
# bench/nab.sh NAB_ROOT OUT_DIR -- run ghost's anomaly detector (the very code
# and defaults ghost-anomaly uses, through bin/ghost-nab) over every series
# under NAB_ROOT/data/ and write OUT_DIR/ghost/<category>/ghost_<file>.csv
# (timestamp,value,anomaly_score,label; one row per data row).  Score with
#   python3 ../shared/tools/nab_score.py NAB_ROOT OUT_DIR ghost
# GHOST_BIN (default: bin/ next to this script) locates ghost-nab.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 NAB_ROOT OUT_DIR" >&2; exit 2; }
root=$1 out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
nab=${GHOST_BIN:-$here/bin}/ghost-nab
[ -x "$nab" ] || { echo "nab.sh: $nab not found (run make)" >&2; exit 1; }
[ -d "$root/data" ] || { echo "nab.sh: $root/data not found" >&2; exit 1; }
n=0 pids=()
while IFS= read -r f; do
  rel=${f#"$root/data/"}
  cat=$(dirname "$rel")
  mkdir -p "$out/ghost/$cat"
  "$nab" "$f" "$out/ghost/$cat/ghost_$(basename "$rel")" &
  pids+=($!)
  n=$((n+1))
done < <(find "$root/data" -name '*.csv' | sort)
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
echo "nab.sh: scored $n series into $out/ghost" >&2
exit $rc
