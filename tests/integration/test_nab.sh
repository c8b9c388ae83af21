#!/usr/bin/env bash
# test_nab.sh -- run bench/nab.sh over ../shared/data/nab with the stock
# detector, score it with ../shared/tools/nab_score.py, print the scores and
# the forecaster's MASE@12.  Pass: standard >= 70 and reward-low-FP >= 60 (the
# issue's targets).  Exit 77 when the shared data or python3 is absent.
set -u
src=${GHOST_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
shared=$src/../shared
[ -d "$shared/data/nab/data" ] && [ -f "$shared/tools/nab_score.py" ] || { echo "no ../shared/data/nab"; exit 77; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
bin=${GHOST_BIN:-$src/bin}
[ -x "$bin/ghost-nab" ] || { echo "missing $bin/ghost-nab"; exit 1; }
out=$(mktemp -d /tmp/ghost-nab.XXXXXX)
trap 'rm -rf "$out"' EXIT
GHOST_BIN=$bin bash "$src/bench/nab.sh" "$shared/data/nab" "$out" || exit 1
scores=$(python3 "$shared/tools/nab_score.py" "$shared/data/nab" "$out" ghost) || exit 1
echo "$scores"
"$bin/ghost-nab" --mase "$shared"/data/nab/data/*/*.csv | tail -n 1
std=$(awk '$2=="standard"{sub("normalized=","",$5); print $5}' <<<"$scores")
lfp=$(awk '$2=="reward_low_FP_rate"{sub("normalized=","",$5); print $5}' <<<"$scores")
echo "standard=$std reward_low_FP=$lfp (targets 70 / 60)"
awk -v s="$std" -v l="$lfp" 'BEGIN { exit !(s >= 70 && l >= 60) }'
