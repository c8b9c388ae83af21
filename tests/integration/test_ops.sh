#!/usr/bin/env bash
# Operating a live pipeline (./run.sh start, two classify workers):
#  - ghostctl status lists every stage process as ok, and --json agrees;
#  - every /metrics endpoint answers valid Prometheus text with the expected
#    families, and the counters and the latency histogram move with traffic;
#  - a classify worker killed with -9 shows down (or replaced by its restart)
#    within seconds;
#  - Redis killed for ~10 s while lines keep coming: status says degraded,
#    ghost_redis_up is 0, the registry entries come back when Redis does, and
#    no line and no alert is lost (the same files replayed give the same alerts);
#  - ghostctl top draws the table.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
command -v curl >/dev/null || { echo "skipped: curl is not installed"; exit 77; }
export GHOST_RUN_DIR="$T/run"
RUN=$GHOST_RUN_DIR
trap 'GHOST_STOP_TIMEOUT=20 "$GHOST_SRC/run.sh" stop >/dev/null 2>&1; [ -f "$T/redis2.pid" ] && kill "$(cat "$T/redis2.pid")" 2>/dev/null; cleanup' EXIT

python3 "$GHOST_SRC/tests/gen_logs.py" "$T/src" --hours 2 --seed 21 >/dev/null
mkdir -p "$T/logs"
for f in auth app access audit; do : >"$T/logs/$f.log"; done
# appends part $1 of 3 of every source file
feed() {
  local f n a b
  for f in auth app access audit; do
    n=$(wc -l <"$T/src/$f.log"); a=$(((n * ($1 - 1)) / 3 + 1)); b=$(((n * $1) / 3))
    sed -n "${a},${b}p" "$T/src/$f.log" >>"$T/logs/$f.log"
  done
}
"$GHOST_SRC/run.sh" start "$T/logs/*.log" --workers classify=2 2>"$T/start.err"
check "run.sh start exits 0" [ $? -eq 0 ]
CTL=("$GHOST_BIN/ghostctl" --redis "unix:$RUN/redis.sock" --cache "$T/registry.json" --timeout-ms 1000)
# waits until `ghostctl status` lists N processes, all ok
wait_ok() { # n timeout_s
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$2" ]; do
    "${CTL[@]}" --sample-ms 0 status --json >"$T/st.json" 2>/dev/null
    python3 - "$T/st.json" "$1" <<'PY' && return 0
import json, sys
d = json.load(open(sys.argv[1])); p = d["processes"]
sys.exit(0 if len(p) == int(sys.argv[2]) and all(x["state"] == "ok" for x in p) else 1)
PY
    sleep 0.5
  done
  return 1
}
state_of() { # id -> "state pid" from the last st.json
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print(p["state"], p["pid"]) for p in d["processes"] if p["id"]==sys.argv[2]]' "$T/st.json" "$1"
}
check "status lists the 6 stage processes, all ok" wait_ok 6 20

"${CTL[@]}" status >"$T/status.txt"; rc=$?
cat "$T/status.txt"
check "ghostctl status exits 0 when all are ok" [ $rc -eq 0 ]
check "the table has one line per process" [ "$(grep -cE '^(ingest|classify|anomaly|predict|alert) ' "$T/status.txt")" -eq 6 ]
check "the table has the asked-for columns" grep -qE 'STAGE .*HOST .*PID .*UP .*IN/S .*OUT/S .*DROPS .*P99 .*RSS .*STATE' "$T/status.txt"

# kill one worker while idle (nothing in flight): it shows down, or already replaced by its restart
victim=$(cat "$RUN/pid/classify-1.pid")
kill -9 "$victim"
seen="" down_rc=1
for _ in $(seq 20); do
  "${CTL[@]}" --sample-ms 0 status --json >"$T/st.json" 2>/dev/null; rc=$?
  read -r st pid < <(state_of classify-1)
  if [ "$pid" = "$victim" ] && [ "$st" = down ]; then seen="down"; down_rc=$rc; break; fi
  if [ "$pid" != "$victim" ] && [ "$st" = ok ]; then seen="replaced"; break; fi
  sleep 0.25
done
echo "killed classify-1 ($victim): status shows it $seen"
check "a killed worker shows down or replaced within 5 s" [ -n "$seen" ]
[ "$seen" = down ] && check "status exits 1 while a process is down" [ "$down_rc" -eq 1 ]
check "the restarted worker is back and all are ok" wait_ok 6 20

feed 1
sleep 3
# metrics: every endpoint answers valid text in the Prometheus format
"${CTL[@]}" --sample-ms 0 status --json >"$T/st.json"
python3 - "$T/st.json" "$T" <<'PY'
import json, re, sys, urllib.request
d = json.load(open(sys.argv[1]))
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
sample = re.compile(r'^(%s)(\{(%s="(\\.|[^"\\])*"(,%s="(\\.|[^"\\])*")*)?\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$' % (name, name, name))
bad = 0
need = ["ghost_records_in_total", "ghost_records_out_total", "ghost_decode_errors_total", "ghost_input_backlog_batches",
        "ghost_record_latency_seconds", "ghost_redis_up", "process_cpu_seconds_total", "process_resident_memory_bytes"]
for p in d["processes"]:
    url = "http://127.0.0.1:%d/metrics" % p["metrics_port"]
    r = urllib.request.urlopen(url, timeout=3)
    ctype = r.headers.get("Content-Type", ""); text = r.read().decode()
    if not ctype.startswith("text/plain; version=0.0.4"): print("bad content type", ctype); bad += 1
    types, values, fam = {}, {}, None
    for ln in text.splitlines():
        if ln.startswith("# HELP ") or ln.startswith("# TYPE "):
            parts = ln.split(" ", 3)
            if ln.startswith("# TYPE "): types[parts[2]] = parts[3]
            continue
        m = sample.match(ln)
        if not m: print(p["id"], "bad line:", ln); bad += 1; continue
        base = re.sub(r'_(bucket|sum|count)$', '', m.group(1)) if re.search(r'_(bucket|sum|count)$', m.group(1)) and re.sub(r'_(bucket|sum|count)$', '', m.group(1)) in types else m.group(1)
        if base not in types: print(p["id"], "sample before TYPE:", ln); bad += 1
        values.setdefault(m.group(1), 0.0); values[m.group(1)] += float(m.group(7))
    for n in need:
        if n == "ghost_records_out_total" and p["stage"] == "alert": continue  # the last stage has no output socket
        if n not in types: print(p["id"], "lacks", n); bad += 1
    if types.get("ghost_record_latency_seconds") != "histogram": print(p["id"], "latency is not a histogram"); bad += 1
    if p["stage"] == "ingest":
        if values.get("ghost_records_in_total", 0) <= 0: print("ingest counted nothing in"); bad += 1
        if values.get("ghost_record_latency_seconds_count", 0) <= 0: print("ingest observed no latency"); bad += 1
    open("%s/metrics-%s.txt" % (sys.argv[2], p["id"]), "w").write(text)
print("scraped %d endpoints" % len(d["processes"]))
sys.exit(1 if bad else 0)
PY
check "every /metrics endpoint answers valid Prometheus text with the expected families" [ $? -eq 0 ]
"${CTL[@]}" status --json >"$T/st.json"
check "status --json reports rates and a p99 latency for ingest" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); p=[x for x in d["processes"] if x["stage"]=="ingest"][0]
sys.exit(0 if p["in_per_s"] is not None and p["latency_p99_s"] is not None and p["rss_bytes"] > 0 else 1)' "$T/st.json"

# Redis away for ~10 s while lines keep flowing
redis_pid=$(cat "$RUN/pid/redis.pid")
kill "$redis_pid"
for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
feed 2
deg=""
for _ in $(seq 30); do
  "${CTL[@]}" --sample-ms 0 status --json >"$T/st.json" 2>/dev/null
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["processes"]; sys.exit(0 if not d["redis_ok"] and len(p)==6 and all(x["state"]=="degraded" for x in p) else 1)' "$T/st.json"; then deg=1; break; fi
  sleep 0.5
done
"${CTL[@]}" --sample-ms 0 status >"$T/status-degraded.txt"; cat "$T/status-degraded.txt"
check "with Redis down, status shows every process degraded (from the cached registry)" [ -n "$deg" ]
port=$(python3 -c 'import json,sys; print([p for p in json.load(open(sys.argv[1]))["processes"] if p["stage"]=="ingest"][0]["metrics_port"])' "$T/st.json")
check "ghost_redis_up is 0 while Redis is down" bash -c "curl -s http://127.0.0.1:$port/metrics | grep -q '^ghost_redis_up 0$'"
sleep 8
# the same redis again, on the same socket and append-only file, as run.sh starts it
redis-server --port 0 --unixsocket "$RUN/redis.sock" --unixsocketperm 700 --dir "$RUN" --appendonly yes --save "" \
  --daemonize yes --pidfile "$RUN/pid/redis.pid" --logfile "$RUN/log/redis.log" >/dev/null
for _ in $(seq 50); do redis-cli -s "$RUN/redis.sock" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
check "after Redis returns, every process re-registers and is ok" wait_ok 6 25
feed 3
sleep 3
# a live view: two frames of ghostctl top
"${CTL[@]}" top --count 2 --interval-ms 300 </dev/null >"$T/top.txt"
check "ghostctl top draws the table twice" [ "$(grep -c 'STAGE ' "$T/top.txt")" -eq 2 ]
check "a stage logged losing Redis and getting it back" bash -c "grep -q 'redis connection lost\|redis unreachable' '$RUN/log/ingest-0.log' && grep -q 'redis is back' '$RUN/log/ingest-0.log'"

"$GHOST_SRC/run.sh" stop 2>"$T/stop.err"
check "run.sh stop exits 0" [ $? -eq 0 ]
written=$(cat "$T"/logs/*.log | wc -l)
ingest_in=$(grep -ho 'done: [0-9]* items' "$RUN/log/ingest-0.log" | awk '{s+=$2} END {print s+0}')
echo "written=$written ingest=$ingest_in"
check "ingest received every line written (none lost to the Redis outage)" [ "$ingest_in" = "$written" ]

# the same files replayed give the same alerts: none was lost live
"$GHOST_SRC/run.sh" --replay "$T"/logs/*.log --workers classify=2 --alerts "$T/replay.jsonl" 2>"$T/replay.err"
python3 - "$RUN/alerts.jsonl" "$T/replay.jsonl" <<'PY'
import json, sys
def ids(p):
    try: return {json.loads(l)["id"] for l in open(p) if l.strip()}
    except FileNotFoundError: return set()
live, replay = ids(sys.argv[1]), ids(sys.argv[2])
print("alerts: live %d, replay %d, missing live %d" % (len(live), len(replay), len(replay - live)))
sys.exit(0 if replay and not replay - live else 1)
PY
check "every alert of the replay was raised live too (no alert lost)" [ $? -eq 0 ]
finish
