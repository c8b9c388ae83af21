#!/usr/bin/env bash
# End to end: generated logs with a known SSH brute force, a never-seen kernel
# error and a rising trend go through ./run.sh --replay (real redis-server,
# the five stage processes, ZeroMQ); the alerts must name the burst within
# two minutes of its start, every alert line must be well formed, and the
# same generator without incidents must give no burst alert.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

python3 "$GHOST_SRC/tests/gen_logs.py" "$T/inc" --hours 4 --seed 11 >/dev/null
python3 "$GHOST_SRC/tests/gen_logs.py" "$T/quiet" --hours 4 --seed 12 --quiet >/dev/null

"$GHOST_SRC/run.sh" --replay "$T"/inc/*.log --alerts "$T/inc.jsonl" 2>"$T/inc.err"
check "replay with incidents exits 0" [ $? -eq 0 ]
"$GHOST_SRC/run.sh" --replay "$T"/quiet/*.log --alerts "$T/quiet.jsonl" 2>"$T/quiet.err"
check "replay without incidents exits 0" [ $? -eq 0 ]

python3 - "$T/inc.jsonl" "$T/inc/incidents.json" "$T/quiet.jsonl" <<'PY'
import json, sys, datetime
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def load(p):
    out = []
    for n, line in enumerate(open(p), 1):
        a = json.loads(line)          # every line is one JSON object
        for k in ("id", "kind", "key", "template", "start", "end", "count", "rate", "baseline", "score", "examples"):
            assert k in a, "line %d lacks %s: %s" % (n, k, line)
        assert a["kind"] in ("burst", "new_template", "forecast"), a["kind"]
        assert t(a["start"]) <= t(a["end"]), line
        assert 0 <= a["score"] <= 1, line
        assert len(a["examples"]) <= 3, line
        if a["kind"] == "forecast":
            for k in ("method", "horizon_s", "predicted", "threshold", "crosses_at"):
                assert k in a["forecast"], line
        out.append(a)
    return out
inc = load(sys.argv[1]); quiet = load(sys.argv[3])
truth = json.load(open(sys.argv[2]))["incidents"]
fails = 0
burst = [i for i in truth if i["kind"] == "burst"][0]
hits = [a for a in inc if a["kind"] == "burst" and (burst["match"] in a["template"] or
        any(burst["match"] in e for e in a["examples"])) and abs(t(a["start"]) - t(burst["start"])) <= 120]
print("alerts with incidents: %d (%s)" % (len(inc), ", ".join(sorted(set(a["kind"] for a in inc)))))
print("burst alerts naming the brute force within 2 min of its start: %d" % len(hits))
if not hits: fails += 1; print("FAIL: the injected burst was not reported")
new = [i for i in truth if i["kind"] == "new_template"][0]
nh = [a for a in inc if a["kind"] == "new_template" and new["match"] in a["template"] and abs(t(a["start"]) - t(new["start"])) <= 120]
print("new-template alerts for the OOM kill: %d" % len(nh))
if not nh: fails += 1; print("FAIL: the never-seen error was not reported")
qb = [a for a in quiet if a["kind"] == "burst" and a.get("state", "firing") == "firing"]
print("burst alerts without incidents: %d" % len(qb))
for a in qb: print("  unexpected:", a["key"], a["template"][:80], a["start"])
if qb: fails += 1; print("FAIL: a log with no incident raised a burst alert")
sys.exit(1 if fails else 0)
PY
check "alerts match the injected incidents and nothing else" [ $? -eq 0 ]
finish
