#!/usr/bin/env python3
"""incident_eval.py -- scores ghost's alerts against injected incidents.

    incident_eval.py ALERTS.jsonl INCIDENTS.json [--logs DIR] [--trend-threshold N]

ALERTS.jsonl is what `run.sh --replay ... --alerts` wrote; INCIDENTS.json the
ground truth gen_logs.py wrote (kinds burst, new_template, trend, host_burst).  The log
files are read from --logs (default: the directory of INCIDENTS.json) to
measure when the trend crosses its threshold.  Prints one line per incident
and a summary; exits 1 when a target is missed, 0 otherwise.

Definitions (all times are event time, as the log lines say):
  * An alert MATCHES an incident when its text (template, examples, key)
    contains the incident's match string or an IPv4 address named in the
    incident's description ("ssh brute force from 203.0.113.77": the audit
    records of the attack name the address, not the sshd message), and it
    starts between 2 min before the incident's start and 10 min after its end.
    A HOST_BURST incident (one host's rate rises while the fleet's total
    stays normal) is reported only by an alert that also names its host
    (`host`): a per-host series' alert, or a series' alert that says the
    burst is that host's.
  * An alert is REPORTED at the event time by which its evidence was complete:
    a burst at its `end` (end of its latest bucket), a new template at its
    `start` (the line itself), a forecast at `start` + 60 s (its sample's
    bucket, 60 s by default, closes then).  The pipeline adds its lateness
    (30 s of event time) on top; that is the same for every alert and not
    counted here.
  * FALSE alerts: alerts in state "firing" (what pages a person) that match
    no incident.  "update" and "resolved" continue an alert already counted
    and are not counted again; they are reported as a total.
  * The TREND's threshold: the rate, in events per minute, at which ghost
    itself calls a series from a zero baseline a burst -- the anomaly stage's
    min-count, 5 a minute (--trend-threshold).  gen_logs.py's trend rises
    linearly from ~0 to 12 a minute, so it crosses 5 a minute a little
    before half-way.  The crossing is measured from the log lines: the lines
    containing the trend's match string are counted per minute, and the
    crossing is the first minute whose centred 11-minute mean reaches the
    threshold (the centred mean of a linear ramp is the ramp: no lag).
    The LEAD is the crossing minus the report time of the first forecast
    alert matching the trend (a burst alert is not a forecast).

Targets (the issue's): every burst, host_burst and new_template incident
reported within 120 s of its start; at most 3 false alerts; the trend forecast >= 15 min
before its crossing.
"""
import argparse
import datetime
import json
import os
import re
import sys

MATCH_BEFORE_S = 120
MATCH_AFTER_S = 600
DELAY_MAX_S = 120
FALSE_MAX = 3
LEAD_MIN_S = 900
FORECAST_REPORT_S = 60

IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d)?")
AUDIT = re.compile(r"audit\((\d+(?:\.\d+)?):")


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def hm(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%H:%M:%S")


def line_time(line):
    """Event time of a log line (ISO 8601 or auditd stamp), None if neither."""
    m = AUDIT.search(line)
    if m:
        return float(m.group(1))
    m = ISO.search(line)
    if m:
        s = m.group(1) + (m.group(2) or "Z")
        try:
            return ts(s)
        except ValueError:
            return None
    return None


def reported_at(a):
    if a["kind"] == "burst":
        return ts(a["end"])
    if a["kind"] == "forecast":
        return ts(a["start"]) + FORECAST_REPORT_S
    return ts(a["start"])


def matches(a, inc):
    text = " ".join([a.get("template", ""), a.get("key", "")] + list(a.get("examples", [])))
    needles = [inc["match"]] + IPV4.findall(inc.get("what", ""))
    if not any(n and n in text for n in needles):
        return False
    s = ts(a["start"])
    return ts(inc["start"]) - MATCH_BEFORE_S <= s <= ts(inc["end"]) + MATCH_AFTER_S


def trend_crossing(inc, logdir, thr):
    """First minute at which the centred 11-minute mean count of the trend's
    lines reaches thr; None when it never does (or no line has a time)."""
    counts = {}
    for name in sorted(os.listdir(logdir)):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(logdir, name), errors="replace") as f:
            for line in f:
                if inc["match"] in line:
                    t = line_time(line)
                    if t is not None:
                        m = int(t // 60)
                        counts[m] = counts.get(m, 0) + 1
    if not counts:
        return None
    lo, hi = min(counts), max(counts)
    for m in range(lo, hi + 1):
        w = [counts.get(k, 0) for k in range(m - 5, m + 6)]
        if sum(w) / 11.0 >= thr:
            return m * 60.0
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("alerts")
    ap.add_argument("incidents")
    ap.add_argument("--logs", default=None, help="directory of the log files (default: that of INCIDENTS)")
    ap.add_argument("--trend-threshold", type=float, default=5.0, help="events per minute (default 5)")
    ap.add_argument("--name", default="", help="label printed on the summary line")
    a = ap.parse_args()

    alerts = [json.loads(l) for l in open(a.alerts) if l.strip()]
    truth = json.load(open(a.incidents))["incidents"]
    logdir = a.logs or os.path.dirname(os.path.abspath(a.incidents))
    firing = [x for x in alerts if x.get("state", "firing") == "firing"]
    follow = len(alerts) - len(firing)
    missed = []

    matched = set()
    for inc in truth:
        hits = [x for x in firing if matches(x, inc)]
        matched.update(id(x) for x in hits)
        if inc["kind"] == "host_burst":
            hits = [x for x in hits if x.get("host") == inc["host"]]
        t0 = ts(inc["start"])
        kinds = ",".join("%s:%d" % (k, sum(1 for x in hits if x["kind"] == k))
                         for k in ("burst", "new_template", "forecast") if any(x["kind"] == k for x in hits))
        if inc["kind"] in ("burst", "new_template", "host_burst"):
            first = min(hits, key=reported_at, default=None)
            if first is None:
                print("%-12s %-34s start %s  NOT REPORTED" % (inc["kind"], inc["what"][:34], hm(t0)))
                missed.append(inc["kind"] + " not reported")
                continue
            d = reported_at(first) - t0
            ok = d <= DELAY_MAX_S
            print("%-12s %-34s start %s  first %s %s at %s  delay %+.0f s %s  (firing alerts %s)" % (
                inc["kind"], inc["what"][:34], hm(t0), first["kind"], first["key"], hm(reported_at(first)), d,
                "ok" if ok else "LATE", kinds))
            if not ok:
                missed.append("%s reported %.0f s after its start" % (inc["kind"], d))
        elif inc["kind"] == "trend":
            cross = trend_crossing(inc, logdir, a.trend_threshold)
            fc = [x for x in hits if x["kind"] == "forecast"]
            first = min(fc, key=reported_at, default=None)
            bursts = [x for x in hits if x["kind"] == "burst"]
            fb = min(bursts, key=reported_at, default=None)
            cs = hm(cross) if cross is not None else "never"
            line = "%-12s %-34s start %s  crosses %.0f/min at %s" % (
                inc["kind"], inc["what"][:34], hm(t0), a.trend_threshold, cs)
            if first is None:
                print(line + "  NO FORECAST  (first burst %s; firing alerts %s)" % (
                    hm(reported_at(fb)) if fb else "none", kinds))
                missed.append("trend not forecast")
                continue
            lead = (cross - reported_at(first)) if cross is not None else None
            ok = lead is not None and lead >= LEAD_MIN_S
            print(line + "  forecast %s at %s (crosses_at %s)  lead %s %s  (first burst %s; firing alerts %s)" % (
                first["key"], hm(reported_at(first)), first.get("forecast", {}).get("crosses_at", "?")[11:19],
                "%.0f s" % lead if lead is not None else "n/a", "ok" if ok else "SHORT",
                hm(reported_at(fb)) if fb else "none", kinds))
            if not ok:
                missed.append("trend lead %s" % ("n/a" if lead is None else "%.0f s" % lead))

    false = [x for x in firing if id(x) not in matched]
    for x in false:
        print("  false: %-12s %-34s %s %s" % (x["kind"], x["key"][:34], x["start"][11:19], x.get("template", "")[:60]))
    ok = len(false) <= FALSE_MAX
    if not ok:
        missed.append("%d false alerts" % len(false))
    print("%salerts %d (firing %d, updates/resolves %d), false %d %s; %s" % (
        a.name + ": " if a.name else "", len(alerts), len(firing), follow, len(false), "ok" if ok else "TOO MANY",
        "all targets met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
