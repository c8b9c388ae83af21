#!/usr/bin/env bash
# Example lines travel only with the lines that can be examples: ghost-classify
# sends a line's raw text on to ghost-anomaly only when it may be one of the
# first three of a window (see stages/classify/ghost-classify.c).  The alerts,
# examples included, must be exactly those of a run where every line carries
# its raw text (--bucket-s 0), and a classify whose window differs from
# anomaly's must be reported, not silently give alerts without examples.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
python3 "$GHOST_SRC/tests/gen_logs.py" "$T/in" --hours 4 --seed 31 --host-burst-at 0.5 >/dev/null
# empty lines are lines too: an empty raw line is not a missing one
printf 'Nov 14 22:13:20 web1 sshd[42]: session opened\n\n\nNov 14 22:13:21 web1 sshd[43]: session closed\n' \
  >"$T/in/empty.log"
# a bin directory whose ghost-classify gets extra arguments
wrap() { # dir classify-args...
  local d=$1; shift
  mkdir -p "$d"
  for b in "$GHOST_BIN"/ghost-*; do ln -sf "$b" "$d/"; done
  rm -f "$d/ghost-classify"
  printf '#!/bin/sh\nexec "%s/ghost-classify" "$@" %s\n' "$GHOST_BIN" "$*" >"$d/ghost-classify"
  chmod +x "$d/ghost-classify"
}
run() { # name bin
  KEEP_RUN=1 TMPDIR="$T/$1.run" GHOST_BIN=$2 "$GHOST_SRC/run.sh" --replay "$T"/in/*.log --alerts "$T/$1.jsonl" \
    2>"$T/$1.err"
  check "replay ($1) exits 0" [ $? -eq 0 ]
  cat "$T/$1.run"/ghost-replay.*/log/anomaly-*.log >"$T/$1.anomaly.log" 2>/dev/null
}
mkdir -p "$T/thin.run" "$T/full.run" "$T/off.run"
wrap "$T/bin-full" --bucket-s 0
wrap "$T/bin-off" --bucket-s 3600
run thin "$GHOST_BIN"
run full "$T/bin-full"
run off "$T/bin-off"
n=$(wc -l <"$T/thin.jsonl")
nex=$(grep -c '"examples":\["' "$T/thin.jsonl")
echo "alerts: $n, with examples: $nex"
check "some alerts, with examples" [ "$n" -gt 0 -a "$nex" -gt 0 ]
sort "$T/thin.jsonl" >"$T/thin.sorted"; sort "$T/full.jsonl" >"$T/full.sorted"
check "the same alerts and examples as when every line carries its raw text" cmp -s "$T/thin.sorted" "$T/full.sorted"
cmp -s "$T/thin.sorted" "$T/full.sorted" || diff "$T/thin.sorted" "$T/full.sorted" | head -4 | cut -c1-300
check "no example went missing" bash -c "! grep -q 'without their raw line' '$T/thin.anomaly.log'"
check "classify with another window width is reported" grep -q "ghost-classify's --bucket-s is not" "$T/off.anomaly.log"
grep -h "without their raw line" "$T/off.anomaly.log" | head -2 | cut -c1-200
finish
