#!/usr/bin/env bash
# run.sh -- start ghost: the demo, a replay of files, or a live pipeline.
#
#   ./run.sh                                 demo: generate a sample, run it through, show the alerts
#   ./run.sh --replay FILE... [--alerts PATH] [--workers classify=2,...]
#                                            push whole files through, write alerts (JSON lines) to PATH
#                                            (default stdout), exit 0 once everything drained
#   ./run.sh start FILE|GLOB... [--workers ...]   follow files live (in the background)
#   ./run.sh status                          what runs, from the registry (ghostctl status)
#   ./run.sh stop                            graceful stop: ingestion first, then every stage drains
#
# Environment: SLACK_WEBHOOK_URL (or GHOST_SLACK_WEBHOOK_FILE) sends alerts to Slack as well;
# GHOST_REDIS uses an existing Redis instead of a private one; GHOST_RUN_DIR is where a live
# pipeline keeps its sockets, logs and state (default ./.ghost); GHOST_BIN the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${GHOST_BIN:-$here/bin}
STAGES=(ingest classify anomaly predict alert)

die() { echo "run.sh: $*" >&2; exit 2; }
say() { echo "run.sh: $*" >&2; }

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

ensure_built() {
  if [ -z "${GHOST_BIN:-}" ]; then
    make -C "$here" -s deps >&2
    make -C "$here" -s all >&2 || die "build failed"
  fi
  for b in ghost-tail ghost-ingest ghost-classify ghost-anomaly ghost-predict ghost-alert; do
    [ -x "$BIN/$b" ] || die "missing $BIN/$b (run make)"
  done
  command -v redis-server >/dev/null || [ -n "${GHOST_REDIS:-}" ] || make -C "$here" -s deps >&2
}

# ---- worker counts -------------------------------------------------------
declare -A W=([ingest]=1 [classify]=1 [anomaly]=1 [predict]=1 [alert]=1)
parse_workers() { # "classify=2,anomaly=4"
  local spec=$1 kv k v
  IFS=, read -ra kvs <<<"$spec"
  for kv in "${kvs[@]}"; do
    k=${kv%%=*} v=${kv#*=}
    [[ -n "${W[$k]:-}" ]] || die "unknown stage '$k' in --workers (stages: ${STAGES[*]})"
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "bad worker count '$v' for $k"
    W[$k]=$v
  done
}
endpoints() { # stage -> comma list
  local s=$1 i out=""
  for ((i = 0; i < W[$s]; i++)); do out+="${out:+,}ipc://$RUN/sock/$s-$i.sock"; done
  echo "$out"
}

# ---- redis ---------------------------------------------------------------
start_redis() {
  if [ -n "${GHOST_REDIS:-}" ]; then REDIS_URL=$GHOST_REDIS; return; fi
  REDIS_URL="unix:$RUN/redis.sock"
  [ -S "$RUN/redis.sock" ] && redis_alive && return
  redis-server --port 0 --unixsocket "$RUN/redis.sock" --unixsocketperm 700 --dir "$RUN" \
    --appendonly "${1:-no}" --save "" --daemonize yes --pidfile "$RUN/pid/redis.pid" \
    --logfile "$RUN/log/redis.log" >/dev/null || die "redis-server failed to start (see $RUN/log/redis.log)"
  for _ in $(seq 50); do redis_alive && return; sleep 0.1; done
  die "redis-server did not come up (see $RUN/log/redis.log)"
}
redis_alive() { redis-cli -s "$RUN/redis.sock" ping 2>/dev/null | grep -q PONG; }
stop_redis() {
  [ -f "$RUN/pid/redis.pid" ] || return 0
  local pid; pid=$(cat "$RUN/pid/redis.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$RUN/pid/redis.pid"
}

# ---- supervision ---------------------------------------------------------
# run.sh __supervise NAME CMD...: runs CMD, restarts it with backoff when it dies abnormally; a clean
# exit (0: its input ended) or a stop request ends supervision.
supervise() {
  local name=$1; shift
  local backoff=1 rc
  trap 'kill -TERM "$child" 2>/dev/null' TERM
  while :; do
    "$@" >>"$RUN/log/$name.log" 2>&1 &
    child=$!
    echo "$child" >"$RUN/pid/$name.pid"
    rc=0; wait "$child" || rc=$?
    # a trapped TERM interrupts wait: wait again for the child itself
    while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done
    [ "$rc" -eq 0 ] && break
    [ -e "$RUN/stopping" ] && break
    echo "$(date -u +%FT%TZ) $name exited with status $rc; restarting in ${backoff}s" >>"$RUN/log/supervisor.log"
    say "$name exited with status $rc; restarting in ${backoff}s"
    sleep "$backoff"
    backoff=$((backoff * 2 > 30 ? 30 : backoff * 2))
  done
  rm -f "$RUN/pid/$name.pid"
}

spawn() { # NAME CMD...
  local name=$1; shift
  setsid -w "$0" __supervise "$RUN" "$name" "$@" </dev/null >>"$RUN/log/supervisor.log" 2>&1 &
  echo $! >"$RUN/pid/$name.sup"
}

common_args() { # stage index
  echo "--index $2 --run-dir $RUN/sock --bind ipc://$RUN/sock/$1-$2.sock --redis $REDIS_URL"
}

start_stages() { # sink path
  local sink=$1 i
  mkdir -p "$RUN/sock" "$RUN/log" "$RUN/pid"
  local alert_producers=$((W[anomaly] + W[predict]))
  # alert first, ingest last: every socket is bound before anything is pushed to it
  for ((i = 0; i < W[alert]; i++)); do
    spawn "alert-$i" "$BIN/ghost-alert" $(common_args alert $i) --producers "$alert_producers" --sink "$sink"
  done
  for ((i = 0; i < W[predict]; i++)); do
    spawn "predict-$i" "$BIN/ghost-predict" $(common_args predict $i) --producers "${W[anomaly]}" \
      --connect "$(endpoints alert)"
  done
  for ((i = 0; i < W[anomaly]; i++)); do
    spawn "anomaly-$i" "$BIN/ghost-anomaly" $(common_args anomaly $i) --producers "${W[classify]}" \
      --connect "$(endpoints alert)" --connect2 "$(endpoints predict)"
  done
  for ((i = 0; i < W[classify]; i++)); do
    spawn "classify-$i" "$BIN/ghost-classify" $(common_args classify $i) --producers "${W[ingest]}" \
      --connect "$(endpoints anomaly)"
  done
  for ((i = 0; i < W[ingest]; i++)); do
    spawn "ingest-$i" "$BIN/ghost-ingest" $(common_args ingest $i) --producers 1 --connect "$(endpoints classify)"
  done
}

# Waits until every supervised stage has ended (end of stream reached the end).
wait_stages() { # timeout_s (0 = none)
  local limit=$1 t0=$SECONDS s
  while :; do
    local alive=0
    for s in "$RUN"/pid/*.sup; do
      [ -e "$s" ] || continue
      if kill -0 "$(cat "$s")" 2>/dev/null; then alive=1; else rm -f "$s"; fi
    done
    [ $alive -eq 0 ] && return 0
    [ "$limit" -gt 0 ] && [ $((SECONDS - t0)) -ge "$limit" ] && return 1
    sleep 0.2
  done
}

kill_all() { # signal
  local f
  touch "$RUN/stopping"
  for f in "$RUN"/pid/*.pid; do
    [ -e "$f" ] || continue
    [[ "$f" == */redis.pid ]] && continue
    kill "-$1" "$(cat "$f")" 2>/dev/null || true
  done
}

# Stops what the run directory holds: the shipper first; its end of stream then drains every stage.
graceful_stop() {
  touch "$RUN/stopping"
  [ -f "$RUN/pid/tail.pid" ] && kill -TERM "$(cat "$RUN/pid/tail.pid")" 2>/dev/null || true
  if ! wait_stages "${GHOST_STOP_TIMEOUT:-60}"; then
    say "stages still running after ${GHOST_STOP_TIMEOUT:-60}s; sending TERM"
    kill_all TERM
    wait_stages 15 || { say "sending KILL"; kill_all KILL; wait_stages 5 || true; }
  fi
  stop_redis
}

pretty_alerts() { # follow a JSON-lines file and print one readable line per alert
  python3 -u -c '
import json, sys
for line in sys.stdin:
    try: a = json.loads(line)
    except ValueError: continue
    extra = ""
    if a.get("kind") == "forecast" and a.get("forecast"):
        f = a["forecast"]; extra = " crosses %s at %s" % (f.get("threshold"), f.get("crosses_at"))
    what = a.get("template") or ("class " + a["class"] if a.get("class") else "") or (a.get("examples") or [""])[0]
    print("ALERT %-12s %-8s %-36.36s %s..%s count=%g score=%.2f%s\n      %s" % (a.get("kind"), a.get("state", ""),
          a.get("key"), a.get("start", "")[11:19], a.get("end", "")[11:19], a.get("count") or 0, a.get("score") or 0,
          extra, what[:110]), flush=True)
'
}

# ---- modes ---------------------------------------------------------------
replay() { # files... ; globals ALERTS, SHOW
  [ $# -gt 0 ] || die "--replay needs at least one file"
  local f
  for f in "$@"; do [ -r "$f" ] || die "cannot read $f"; done
  RUN=$(mktemp -d "${TMPDIR:-/tmp}/ghost-replay.XXXXXX")
  mkdir -p "$RUN/sock" "$RUN/log" "$RUN/pid"
  trap 'kill_all KILL 2>/dev/null; stop_redis; [ -n "${KEEP_RUN:-}" ] || rm -rf "$RUN"' EXIT
  trap 'say "interrupted: stopping"; kill_all TERM; exit 130' INT TERM
  start_redis no
  local sink="$RUN/alerts.jsonl"
  : >"$sink"
  start_stages "$sink"
  local follower=""
  if [ -n "${SHOW:-}" ]; then
    tail -n +1 -F "$sink" 2>/dev/null | pretty_alerts &
    follower=$!
    disown "$follower" 2>/dev/null || true
  fi
  local t0=$SECONDS
  "$BIN/ghost-tail" --once --from-head --id tail-0 --connect "$(endpoints ingest)" --redis "$REDIS_URL" \
    "$@" 2>>"$RUN/log/tail.log" || die "ghost-tail failed (see $RUN/log/tail.log)"
  if ! wait_stages 0; then die "stages did not finish"; fi
  local dt=$((SECONDS - t0))
  if [ -n "$follower" ]; then
    sleep 0.3
    pkill -f "tail -n \+1 -F $sink" 2>/dev/null || true
    kill "$follower" 2>/dev/null || true
  fi
  if grep -q "restarting" "$RUN/log/supervisor.log" 2>/dev/null; then
    say "note: some stages were restarted during the replay:"; grep restarting "$RUN/log/supervisor.log" >&2
  fi
  local n; n=$(wc -l <"$sink")
  say "replay done in ${dt}s: $n alert(s); stage logs were in $RUN/log"
  if [ -z "${SHOW:-}" ]; then
    if [ "$ALERTS" = "-" ]; then cat "$sink"; else cp "$sink" "$ALERTS"; fi
  fi
  grep -h "done:" "$RUN"/log/*.log 2>/dev/null | sed 's/^/  /' >&2 || true
}

demo() {
  ensure_built
  local data; data=$(mktemp -d "${TMPDIR:-/tmp}/ghost-demo-data.XXXXXX")
  say "generating a sample: 6 hours of auditd, auth.log (syslog), JSON app and nginx access logs"
  say "with an SSH brute force, a never-seen kernel error and a rising database-timeout trend"
  python3 "$here/tests/gen_logs.py" "$data" >&2
  say "starting redis and the five stages; alerts appear below as the pipeline raises them"
  [ -n "${SLACK_WEBHOOK_URL:-}" ] && say "SLACK_WEBHOOK_URL is set: alerts also go to Slack"
  SHOW=1 ALERTS=- replay "$data/audit.log" "$data/auth.log" "$data/app.log" "$data/access.log"
  say "injected incidents were:"
  python3 -c 'import json,sys; [print("  %-13s %s  %s" % (i["kind"], i["start"], i["what"])) for i in json.load(open(sys.argv[1]))["incidents"]]' "$data/incidents.json" >&2
  rm -rf "$data"
}

start_live() {
  [ $# -gt 0 ] || die "start needs files or glob patterns to follow"
  RUN=${GHOST_RUN_DIR:-$here/.ghost}
  mkdir -p "$RUN/sock" "$RUN/log" "$RUN/pid" "$RUN/state"
  if ls "$RUN"/pid/*.sup >/dev/null 2>&1 && wait_stages 1; then :; fi
  ls "$RUN"/pid/*.sup >/dev/null 2>&1 && die "a pipeline already runs in $RUN (./run.sh stop first)"
  rm -f "$RUN/stopping"
  start_redis yes
  declare -p W | sed 's/declare -A/declare -gA/' >"$RUN/workers"
  start_stages "$RUN/alerts.jsonl"
  spawn tail "$BIN/ghost-tail" --id tail-0 --connect "$(endpoints ingest)" --redis "$REDIS_URL" \
    --state-dir "$RUN/state" "$@"
  say "following $*; alerts go to $RUN/alerts.jsonl; logs in $RUN/log"
  say "./run.sh status to look, ./run.sh stop to stop"
}

status_live() {
  RUN=${GHOST_RUN_DIR:-$here/.ghost}
  [ -d "$RUN" ] || die "nothing runs (no $RUN)"
  REDIS_URL=${GHOST_REDIS:-unix:$RUN/redis.sock}
  local f
  for f in "$RUN"/pid/*.pid; do
    [ -e "$f" ] || continue
    local n; n=$(basename "$f" .pid)
    if kill -0 "$(cat "$f")" 2>/dev/null; then printf '  %-12s pid %-8s running\n' "$n" "$(cat "$f")"; else printf '  %-12s down\n' "$n"; fi
  done
  "$BIN/ghostctl" --redis "$REDIS_URL" --cache "$RUN/registry.json" status || true
}

stop_live() {
  RUN=${GHOST_RUN_DIR:-$here/.ghost}
  [ -d "$RUN/pid" ] || die "nothing runs (no $RUN)"
  say "stopping: ghost-tail first, then each stage drains"
  graceful_stop
  rm -f "$RUN/stopping"
  say "stopped"
}

# ---- main ----------------------------------------------------------------
if [ "${1:-}" = "__supervise" ]; then
  RUN=$2; shift 2
  set +e
  supervise "$@"
  exit 0
fi

set -m
ALERTS=-
mode=demo
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help|help) usage; exit 0 ;;
    --replay) mode=replay ;;
    --alerts) [ $# -ge 2 ] || die "--alerts needs a path"; ALERTS=$2; shift ;;
    --alerts=*) ALERTS=${1#*=} ;;
    --workers) [ $# -ge 2 ] || die "--workers needs stage=N,..."; parse_workers "$2"; shift ;;
    --workers=*) parse_workers "${1#*=}" ;;
    start|status|stop) [ "$mode" = demo ] && [ ${#files[@]} -eq 0 ] && mode=$1 || files+=("$1") ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) files+=("$1") ;;
  esac
  shift
done

case "$mode" in
  demo) [ ${#files[@]} -eq 0 ] || die "files given without --replay or start (see --help)"; demo ;;
  replay) ensure_built; replay "${files[@]}" ;;
  start) ensure_built; start_live "${files[@]}" ;;
  status) status_live ;;
  stop) [ -f "${GHOST_RUN_DIR:-$here/.ghost}/workers" ] && source "${GHOST_RUN_DIR:-$here/.ghost}/workers"; stop_live ;;
esac
