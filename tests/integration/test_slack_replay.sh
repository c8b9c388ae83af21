#!/usr/bin/env bash
# test_slack_replay.sh -- issue 6's "Checked by": logs with many incidents
# through the whole live pipeline (./run.sh start in a private run dir) to
# a Slack-like receiver that answers 429 and 500 part of the time and
# refuses connections for a stretch, with ghost-alert killed (-9) during the
# outage and restarted by run.sh's supervisor.  Then, after a graceful
# stop:
#   * every alert of the JSON-lines sink reached the receiver exactly once
#     (its uid in the context block of exactly one message answered ok),
#     and the receiver got no alert that is not in the sink;
#   * no two requests closer than the token bucket allows (burst + rate*t,
#     GHOST_RATE=5/s, GHOST_BURST=3, checked over every window);
#   * every payload is valid Block Kit within Slack's limits;
#   * the webhook's secret path appears in no file under the run dir.
# Four 6-hour log sets (different seeds, consecutive time ranges) are
# concatenated per file, so there are tens of incidents.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v redis-server >/dev/null || { echo "skipped: no redis-server"; exit 77; }
RUN="$T/run"
LOGS="$T/logs"
mkdir -p "$LOGS" "$T/gen"
export GHOST_RUN_DIR=$RUN GHOST_RATE=5 GHOST_BURST=3 GHOST_GROUP_WINDOW_S=1 GHOST_REPEAT_INTERVAL_S=5 \
  GHOST_TIMEOUT_MS=2000 GHOST_DRAIN_TIMEOUT_S=40 GHOST_STOP_TIMEOUT=90

# ---- logs: four sets, one after the other in event time ----------------------
now=$(date +%s)
for k in 0 1 2 3; do
  start=$(( (now - (4 - k) * 6 * 3600 - 3600) / 60 * 60 ))
  python3 "$GHOST_SRC/tests/gen_logs.py" "$T/gen/$k" --hours 6 --seed $((11 + k)) --start "$start" >/dev/null
done
for f in audit auth app access; do
  cat "$T"/gen/{0,1,2,3}/$f.log >"$T/gen/$f.log"
done

# ---- the receiver: 429/500 at random, refused from 3 s to 9 s ------------------
python3 "$GHOST_SRC/tests/slack_receiver.py" --port-file "$T/port" --log "$T/requests.jsonl" \
  --random 429=0.12,500=0.12 --seed 7 --down-at 3 --down-for 6 2>"$T/receiver.err" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
export SLACK_WEBHOOK_URL="http://127.0.0.1:$PORT/services/T000/B000/SECRETPATH"

# ---- the pipeline, live; then the logs appear (ghost-tail picks them up) ------
stop_pipeline() { GHOST_BIN=$GHOST_BIN "$GHOST_SRC/run.sh" stop >>"$T/run.out" 2>&1; }
trap 'stop_pipeline; cleanup' EXIT
GHOST_BIN=$GHOST_BIN "$GHOST_SRC/run.sh" start "$LOGS/*.log" >"$T/run.out" 2>&1 || { cat "$T/run.out"; exit 1; }
sleep 1
for f in audit auth app access; do cp "$T/gen/$f.log" "$LOGS/$f.log.tmp"; mv "$LOGS/$f.log.tmp" "$LOGS/$f.log"; done

# ---- kill -9 ghost-alert during the outage ------------------------------------
# (during the outage no request can be answered, so "exactly once" is what
# the outbox guarantees; a kill between an ok and the outbox removal would
# send that message again: delivery is at least once, see README)
sleep 5
apid=$(cat "$RUN/pid/alert-0.pid" 2>/dev/null)
if [ -n "$apid" ] && kill -9 "$apid" 2>/dev/null; then ok "ghost-alert ($apid) killed with -9 during the outage"
else bad "no ghost-alert to kill"; fi
for _ in $(seq 50); do
  npid=$(cat "$RUN/pid/alert-0.pid" 2>/dev/null)
  [ -n "$npid" ] && [ "$npid" != "$apid" ] && kill -0 "$npid" 2>/dev/null && break
  sleep 0.1
done
check "the supervisor restarted ghost-alert" grep -q "alert-0 exited" "$RUN/log/supervisor.log"

# ---- let it deliver, then stop gracefully (flushes every window) -------------
last=-1
for _ in $(seq 40); do
  n=$(grep -c '"status": 200' "$T/requests.jsonl" 2>/dev/null || echo 0)
  [ "$n" = "$last" ] && [ "$n" -gt 0 ] && break
  last=$n
  sleep 1.5
done
stop_pipeline
trap cleanup EXIT

# ---- checks ------------------------------------------------------------------
python3 - "$RUN/alerts.jsonl" "$T/requests.jsonl" "$GHOST_RATE" "$GHOST_BURST" >"$T/check.out" 2>&1 <<'EOF'
import json, sys
sink_path, req_path, rate, burst = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])

def uid(a):
    st = a.get("state") or "firing"
    if st == "firing": return a["id"]
    if st == "update":
        e = "".join(c for c in a.get("end", "").split(".")[0] if c.isdigit() or c == "T")
        return "%s/update@%s" % (a["id"], e)
    return "%s/%s" % (a["id"], st)

sink = [json.loads(l) for l in open(sink_path) if l.strip()]
reqs = [json.loads(l) for l in open(req_path) if l.strip()]
posts = [r for r in reqs if r.get("status", -1) >= 0 and r.get("step") != "outage-start"]
fails = []
def check(cond, what):
    print(("ok   - " if cond else "FAIL - ") + what)
    if not cond: fails.append(what)

kinds = {}
for a in sink: kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
print("sink: %d alerts %s; requests: %d (%s)" % (len(sink), kinds, len(posts),
      ", ".join("%s=%d" % (s, sum(1 for r in posts if r["status"] == s)) for s in sorted({r["status"] for r in posts}))))
check(len(sink) >= 30, "many alerts in the sink (%d)" % len(sink))
check(any(r["status"] == 429 for r in posts) and any(r["status"] == 500 for r in posts), "the receiver answered 429 and 500")
check(any(r["step"] == "outage-end" for r in reqs), "the receiver was down for a stretch")

# exactly once: uids in the context blocks of the messages answered ok
delivered = {}
limits_ok, why = True, ""
for r in posts:
    try: p = json.loads(r["body"])
    except ValueError: limits_ok, why = False, "body not JSON"; continue
    blocks = p.get("blocks") or []
    size = len(r["body"].encode())
    problems = []
    if not isinstance(p.get("text"), str) or not p["text"]: problems.append("no text fallback")
    if len(p.get("text", "")) > 3000: problems.append("text > 3000")
    if not 0 < len(blocks) <= 50: problems.append("%d blocks" % len(blocks))
    if size > 40000: problems.append("%d bytes" % size)
    for b in blocks:
        t = b.get("type")
        if t == "header":
            tx = b.get("text", {})
            if tx.get("type") != "plain_text" or not 0 < len(tx.get("text", "")) <= 150: problems.append("header")
        elif t == "section":
            tx, fl = b.get("text"), b.get("fields")
            if tx is None and not fl: problems.append("empty section")
            if tx is not None and (tx.get("type") not in ("mrkdwn", "plain_text") or not 0 < len(tx.get("text", "")) <= 3000): problems.append("section text")
            if fl is not None and (len(fl) > 10 or any(not 0 < len(f.get("text", "")) <= 2000 for f in fl)): problems.append("fields")
        elif t == "context":
            el = b.get("elements") or []
            if not 0 < len(el) <= 10 or any(not 0 < len(e.get("text", "")) <= 2000 for e in el): problems.append("context")
        else: problems.append("unknown block " + str(t))
    if problems: limits_ok, why = False, "; ".join(problems)
    if r["status"] != 200: continue
    for b in blocks:
        if b.get("type") != "context": continue
        for e in b["elements"]:
            t = e.get("text", "")
            if t.startswith("key `"): continue  # the key/score line; the others list uids
            for part in t.split("`")[1::2]:
                delivered[part] = delivered.get(part, 0) + 1
check(limits_ok, "every payload is valid Block Kit within Slack's limits" + (" (%s)" % why if why else ""))
want = {uid(a) for a in sink if not a.get("silenced")}
missing = sorted(want - set(delivered))
dups = sorted(u for u, n in delivered.items() if n > 1)
extra = sorted(set(delivered) - want)
check(not missing, "every sink alert reached the receiver (missing: %s)" % missing[:5])
check(not dups, "none twice (duplicates: %s)" % dups[:5])
check(not extra, "nothing the sink does not have (extra: %s)" % extra[:5])

# the rate: never more than burst + rate*t requests in any window
ts = sorted(r["t"] for r in posts)
worst = 0.0
for i in range(len(ts)):
    for j in range(i, len(ts)):
        worst = max(worst, (j - i + 1) - (burst + rate * (ts[j] - ts[i])))
check(worst <= 1.0, "never faster than the token bucket (burst %g + %g/s); worst excess %.2f" % (burst, rate, worst))
sys.exit(1 if fails else 0)
EOF
rc=$?
cat "$T/check.out"
[ $rc -eq 0 ] && ok "delivery checks" || bad "delivery checks"
if grep -rl "SECRETPATH" "$RUN" >/dev/null 2>&1; then bad "the webhook secret path is in $(grep -rl SECRETPATH "$RUN" | head -3)"
else ok "the webhook secret path is in no file under the run dir"; fi
check "stage logs exist" test -s "$RUN/log/alert-0.log"
finish
