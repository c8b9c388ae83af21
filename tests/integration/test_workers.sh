#!/usr/bin/env bash
# Scaling must not change the result: the same input replayed with one
# worker per stage and with several workers of the stateful stages gives
# exactly the same alerts (same ids, same lines), and no event is dropped as
# late on the way (watermarks flow with the data; anomaly restores each
# source's event-time order before counting).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
# (with a host_burst: per-host series live with their series, in one worker)
python3 "$GHOST_SRC/tests/gen_logs.py" "$T/in" --hours 4 --seed 21 --host-burst-at 0.3 >/dev/null
run() { # name workers
  "$GHOST_SRC/run.sh" --replay "$T"/in/*.log --alerts "$T/$1.jsonl" --workers "$2" 2>"$T/$1.err"
  check "replay with --workers $2 exits 0" [ $? -eq 0 ]
  check "no late drops with --workers $2" bash -c "! grep -q 'late=' '$T/$1.err'"
}
run one ingest=1
run many ingest=2,classify=3,anomaly=4,predict=2,alert=2
n1=$(wc -l <"$T/one.jsonl")
echo "alerts: one worker each $n1, several $(wc -l <"$T/many.jsonl")"
check "some alerts were raised" [ "$n1" -gt 0 ]
sort "$T/one.jsonl" >"$T/one.sorted"; sort "$T/many.jsonl" >"$T/many.sorted"
check "identical alerts with 1 and N workers" cmp -s "$T/one.sorted" "$T/many.sorted"
cmp -s "$T/one.sorted" "$T/many.sorted" || diff "$T/one.sorted" "$T/many.sorted" | head -5 | cut -c1-200
finish
