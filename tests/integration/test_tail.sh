#!/usr/bin/env bash
# test_tail.sh -- ghost-tail end to end: exactly the lines written, each once.
#
# A private redis-server and two ghost-tail-sink receivers (two ingest
# endpoints, dedup through Redis) run in a temporary directory.  A writer
# appends numbered lines to several files while ghost-tail follows them; the
# script rotates by rename (also while ghost-tail is down), rotates by
# copytruncate, deletes a file being read, kill -9s ghost-tail mid-stream
# twice, stops it once with SIGTERM, and finishes with ghost-tail --once.
# Then the sinks' output must hold every written line exactly once.
# Everything started here is stopped by PID.
set -u
BIN=${GHOST_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/bin}
for b in ghost-tail ghost-tail-sink; do [ -x "$BIN/$b" ] || { echo "missing $BIN/$b"; exit 77; }; done
command -v redis-server >/dev/null || { echo "redis-server not installed"; exit 77; }

D=$(mktemp -d /tmp/ghost-tail-test.XXXXXX)
L=$D/logs
mkdir -p "$L"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ "${KEEP:-0}" = 1 ] || rm -rf "$D"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "logs in $D (KEEP=1 keeps them)"; tail -n 20 "$D"/*.err 2>/dev/null; exit 1; }

redis-server --port 0 --unixsocket "$D/redis.sock" --dir "$D" --save '' --appendonly no >"$D/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$D/redis.sock" ] && break; sleep 0.1; done
[ -S "$D/redis.sock" ] || fail "redis did not start"
R=unix:$D/redis.sock
EP="ipc://$D/ingest-0.sock,ipc://$D/ingest-1.sock"

for i in 0 1; do
  "$BIN/ghost-tail-sink" --bind "ipc://$D/ingest-$i.sock" --out "$D/out$i" --redis "$R" --eos 2 ${GHOST_TAIL_TEST_SINK_ARGS:-} \
    2>"$D/sink$i.err" &
  pids+=($!); sink[$i]=$!
done

TAIL_ARGS=(--connect "$EP" --redis "$R" --state-dir "$D" --poll-ms 50 --refresh-ms 200 --rotate-wait-ms 300
           --checkpoint-ms 200 --batch-size 64 --from-head "$L/*.log")
n_tail=0
start_tail() { n_tail=$((n_tail+1)); "$BIN/ghost-tail" "${TAIL_ARGS[@]}" "$@" 2>>"$D/tail.err" & tail_pid=$!; pids+=($tail_pid); }

N=0
# emit FILE COUNT [CHUNK]: append COUNT numbered lines to FILE in chunks and record them as expected.
emit() {
  local f=$1 count=$2 chunk=${3:-250} k
  for ((k = 0; k < count; k += chunk)); do
    local m=$(( count - k < chunk ? count - k : chunk ))
    seq $((N + 1)) $((N + m)) | awk -v f="$(basename "$f")" '{ printf "%s line %08d\n", f, $1 }' > "$f.chunk"
    cat "$f.chunk" >> "$f"; flock "$D/expected" cat "$f.chunk" >> "$D/expected"; rm -f "$f.chunk"
    N=$((N + m))
    sleep 0.01
  done
}
got() { cat "$D/out0" "$D/out1" 2>/dev/null | wc -l; }
wait_caught_up() {
  local want; want=$(wc -l < "$D/expected")
  for _ in $(seq 300); do [ "$(got)" -ge "$want" ] && return 0; sleep 0.1; done
  fail "receivers stuck at $(got) of $want lines"
}
: > "$D/expected"

# 1. stream two files; kill -9 ghost-tail mid-stream, restart it while the writer goes on.
start_tail
emit "$L/a.log" 3000 &                  # two writers at once, with disjoint numbers
wa=$!
( N=1000000; emit "$L/b.log" 3000 )
wait $wa
start_kill() { kill -9 "$tail_pid"; wait "$tail_pid" 2>/dev/null; }
N=2000000
emit "$L/c.log" 4000 100 &
wc_=$!
sleep 0.3; start_kill; sleep 0.3; start_tail --metrics-port 0
wait $wc_
wait_caught_up
# the restarted follower's /metrics: what it read since the restart
mport=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$D/tail.err" | tail -1)
[ -n "$mport" ] || fail "ghost-tail --metrics-port 0 logged no metrics address"
python3 - "$mport" <<'PY' || fail "ghost-tail /metrics"
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
val = {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l and not l.startswith("#")}
lines, files = val.get("ghost_tail_lines_total", 0), val.get("ghost_tail_files_opened_total", 0)
# a.log, b.log and c.log are open; c.log had lines left to read after the restart
assert lines > 0 and val["ghost_tail_bytes_total"] >= 19 * lines and files >= 3, (lines, files)
assert "process_resident_memory_bytes" in val
print("ghost-tail /metrics: %d lines, %d files since the restart" % (lines, files))
PY

# 2. rotation by rename: the old file gets a few more lines after the rename.
N=3000000
mv "$L/a.log" "$L/a.log.1"
emit "$L/a.log.1" 200
emit "$L/a.log" 2000
# 3. copytruncate (lines must all have been read before the truncate, as with any copytruncate)
wait_caught_up
cp "$L/b.log" "$L/b.log.1"; : > "$L/b.log"
sleep 0.3
emit "$L/b.log" 2000
# 4. a deleted file is read to its end: open it, then append and delete at once.
emit "$L/d.log" 100
wait_caught_up
emit "$L/d.log" 3000 3000; rm -f "$L/d.log"
wait_caught_up

# 5. kill -9 while writing, rename-rotate while ghost-tail is down, restart.
emit "$L/a.log" 3000 100 &
wa=$!
sleep 0.2; start_kill
wait $wa
N=4000000
mv "$L/a.log" "$L/a.log.2"
emit "$L/a.log" 1000
start_tail
emit "$L/c.log" 1000
wait_caught_up

# 6. graceful stop (EOS 1 of 2), restart, more lines including an unterminated last one.
kill -TERM "$tail_pid"; wait "$tail_pid"; rc=$?
[ $rc -eq 0 ] || fail "ghost-tail exited $rc on SIGTERM"
start_tail
N=5000000
emit "$L/e.log" 2000 50 &
we=$!
sleep 0.2; start_kill
wait $we
printf 'e.log unterminated last line' >> "$L/e.log"; echo 'e.log unterminated last line' >> "$D/expected"

# 7. --once catches up from the checkpoint and ends the stream (EOS 2 of 2).
"$BIN/ghost-tail" "${TAIL_ARGS[@]}" --once 2>>"$D/tail.err"; rc=$?
[ $rc -eq 0 ] || fail "ghost-tail --once exited $rc"
for i in 0 1; do
  for _ in $(seq 100); do kill -0 "${sink[$i]}" 2>/dev/null || break; sleep 0.1; done
  kill -0 "${sink[$i]}" 2>/dev/null && fail "sink $i did not see two end-of-stream batches"
done

cat "$D/out0" "$D/out1" > "$D/got"
dups=$(sort "$D/got" | uniq -d | wc -l)
want=$(wc -l < "$D/expected"); have=$(wc -l < "$D/got")
missing=$(comm -23 <(sort "$D/expected") <(sort "$D/got") | wc -l)
extra=$(comm -13 <(sort "$D/expected") <(sort "$D/got") | wc -l)
[ -s "$D/out0" ] && [ -s "$D/out1" ] || fail "one endpoint got nothing (sharding)"
grep -h "exit:" "$D"/*.err
echo "written=$want received=$have duplicates=$dups missing=$missing extra=$extra"
[ "$dups" -eq 0 ] || { sort "$D/got" | uniq -d | head -5; fail "$dups duplicated lines"; }
[ "$missing" -eq 0 ] || { comm -23 <(sort "$D/expected") <(sort "$D/got") | head -5; fail "$missing lines lost"; }
[ "$extra" -eq 0 ] || fail "$extra lines never written"
[ "$want" -eq "$have" ] || fail "count $have != $want"
grep -q "rotated" "$D/tail.err" || fail "no rotation was noticed"
grep -q "truncated" "$D/tail.err" || fail "no truncation was noticed"
grep -q "deleted" "$D/tail.err" || fail "no deletion was noticed"
echo "PASS: $want lines, each once"
