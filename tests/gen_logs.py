#!/usr/bin/env python3
"""gen_logs.py -- writes a realistic multi-format log set with known incidents.

Four files in OUT_DIR, as a small fleet would produce them:
  audit.log   Linux auditd (USER_AUTH/USER_LOGIN/SYSCALL/EXECVE/CRED_* records)
  auth.log    RFC 3164 syslog from sshd, sudo, cron, kernel
  app.log     JSON lines from an application (nested fields, levels)
  access.log  nginx combined access log
and incidents.json, the ground truth of what was injected:
  burst          an SSH brute force from one address (auth.log + audit.log)
  new_template   a never-seen error (kernel OOM kill) after the warm-up
  trend          database timeouts in app.log rising steadily to a threshold
  host_burst     (only with --host-burst-at) one host's failed logins rise
                 tenfold and more for ten minutes, while the total of the
                 fleet's failed logins stays within what ghost calls normal
With --quiet no incident is injected (background traffic only).

Event times start at --start (default: now - duration - 10 min, whole
minute) so the files look recent; lines within a file are in time order.
Everything is driven by --seed: the same arguments give the same bytes.

Variants (defaults reproduce the set above byte for byte): --burst-per-min,
--trend-peak (per minute at the end), --burst-at / --new-at / --trend-from
(fractions of the span), --error-weight / --warn-weight (share of the app's
background errors and warnings, out of 100 with info 70 and debug 20).
--host-burst-at (fraction of the span; default: no such incident),
--host-burst-per-min (default 12) and --host-burst-host (default web2) add
the host_burst incident; its lines are drawn after everything else, so the
other lines stay byte for byte those without it.
"""
import argparse
import json
import os
import random
import time

HOSTS = ["web1", "web2", "db1", "app1", "app2"]
USERS = ["alice", "bob", "deploy", "carol", "backup"]
PATHS = ["/api/v1/orders", "/api/v1/items", "/login", "/static/app.js", "/api/v1/users", "/health"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.4.0", "Go-http-client/1.1", "kube-probe/1.28"]
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def ip(r):
    return "10.%d.%d.%d" % (r.randint(0, 3), r.randint(0, 255), r.randint(1, 254))


def hexs(s):
    return s.encode().hex().upper()


def syslog_ts(t):
    g = time.gmtime(t)
    return "%s %2d %02d:%02d:%02d" % (MON[g.tm_mon - 1], g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def access_ts(t):
    g = time.gmtime(t)
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (g.tm_mday, MON[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)


class Gen:
    def __init__(self, seed, start, warn_w=8, error_w=2):
        self.r = random.Random(seed)
        self.weights = [70, 20, warn_w, error_w]
        self.serial = 1000
        self.pid = 2000
        self.out = {"audit": [], "auth": [], "app": [], "access": []}
        self.start = start

    def nextpid(self):
        self.pid += self.r.randint(1, 7)
        return self.pid

    def audit(self, t, typ, body, node=None):
        self.serial += 1
        n = ("node=%s " % node) if node else ""
        self.out["audit"].append((t, "%stype=%s msg=audit(%.3f:%d): %s" % (n, typ, t, self.serial, body)))

    def auth(self, t, host, prog, msg, pid=True):
        tag = "%s[%d]" % (prog, self.nextpid()) if pid else prog
        self.out["auth"].append((t, "%s %s %s: %s" % (syslog_ts(t), host, tag, msg)))

    def app(self, t, level, msg, **fields):
        rec = {"ts": iso(t), "level": level, "host": self.r.choice(["app1", "app2"]), "msg": msg}
        rec.update(fields)
        self.out["app"].append((t, json.dumps(rec, separators=(",", ":"))))

    def access(self, t, status=None):
        r = self.r
        path = r.choice(PATHS)
        if path.startswith("/api") and r.random() < 0.6:
            path += "/%d" % r.randint(1, 99999)
        st = status or r.choices([200, 200, 200, 200, 304, 301, 404, 500], [50, 30, 10, 5, 3, 1, 2, 0.3])[0]
        line = '%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s"' % (
            ip(r), access_ts(t), r.choice(["GET", "GET", "POST", "PUT"]), path, st, r.randint(120, 90000),
            r.choice(AGENTS))
        self.out["access"].append((t, line))

    # ---- background traffic -------------------------------------------------
    def background(self, t):
        r = self.r
        k = r.random()
        host = r.choice(HOSTS)
        if k < 0.40:
            self.access(t)
        elif k < 0.62:
            lvl = r.choices(["info", "debug", "warn", "error"], self.weights)[0]
            if lvl == "info":
                self.app(t, "info", "request completed", http={"path": r.choice(PATHS), "status": 200},
                         latency_ms=r.randint(2, 400), request_id="%016x" % r.getrandbits(64))
            elif lvl == "debug":
                self.app(t, "debug", "cache lookup key=user:%d hit=%s" % (r.randint(1, 5000), r.choice(["true", "false"])))
            elif lvl == "warn":
                self.app(t, "warn", "slow query took %d ms" % r.randint(500, 3000), table=r.choice(["orders", "users"]))
            else:
                self.app(t, "error", "payment provider returned status %d" % r.choice([502, 503]), retry=True)
        elif k < 0.80:
            u = r.choice(USERS)
            c = r.random()
            if c < 0.35:
                self.auth(t, host, "sshd", "Accepted publickey for %s from %s port %d ssh2: RSA SHA256:%s" % (
                    u, ip(r), r.randint(30000, 65000), "".join(r.choice("abcdefABCDEF0123456789") for _ in range(20))))
            elif c < 0.55:
                self.auth(t, host, "CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
            elif c < 0.75:
                self.auth(t, host, "sudo", "  %s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx" % (
                    u, r.randint(0, 5), u), pid=False)
            elif c < 0.93:
                self.auth(t, host, "sshd", "pam_unix(sshd:session): session closed for user %s" % u)
            else:
                self.auth(t, host, "sshd", "Failed password for %s from %s port %d ssh2" % (u, ip(r), r.randint(30000, 65000)))
        else:
            pid = self.nextpid()
            c = r.random()
            if c < 0.5:
                self.audit(t, "SYSCALL", 'arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 '
                           'ppid=%d pid=%d auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 '
                           'ses=%d comm="systemctl" exe="/usr/bin/systemctl" key="exec"' % (pid - 1, pid, r.randint(1, 40)),
                           node=host)
            elif c < 0.8:
                self.audit(t, "USER_LOGIN", "pid=%d uid=0 auid=1000 ses=%d msg='op=login id=1000 exe=\"/usr/sbin/sshd\" "
                           "hostname=%s addr=%s terminal=sshd res=success'" % (pid, r.randint(1, 40), ip(r), ip(r)),
                           node=host)
            else:
                self.audit(t, "CRED_ACQ", "pid=%d uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:setcred "
                           "grantors=pam_permit acct=\"root\" exe=\"/usr/sbin/cron\" hostname=? addr=? terminal=cron "
                           "res=success'" % pid, node=host)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--hours", type=float, default=6.0, help="event-time span (default 6)")
    ap.add_argument("--rate", type=float, default=4.0, help="background lines per second (default 4)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=float, default=None, help="first event time, epoch seconds")
    ap.add_argument("--quiet", action="store_true", help="no incidents")
    ap.add_argument("--lines", type=int, default=0, help="stop after about this many lines (bench)")
    ap.add_argument("--burst-per-min", type=float, default=40, help="brute-force attempts a minute (default 40)")
    ap.add_argument("--trend-peak", type=float, default=12.0, help="trend's rate a minute at its end (default 12)")
    ap.add_argument("--burst-at", type=float, default=0.55, help="burst start, fraction of the span (default 0.55)")
    ap.add_argument("--new-at", type=float, default=0.70, help="new error, fraction of the span (default 0.70)")
    ap.add_argument("--trend-from", type=float, default=0.62, help="trend start, fraction of the span (default 0.62)")
    ap.add_argument("--warn-weight", type=float, default=8, help="app background warn weight (default 8)")
    ap.add_argument("--error-weight", type=float, default=2, help="app background error weight (default 2)")
    ap.add_argument("--host-burst-at", type=float, default=None,
                    help="one host's failed logins rise at this fraction of the span (default: never)")
    ap.add_argument("--host-burst-per-min", type=float, default=12,
                    help="that host's extra failed logins a minute, for 10 min (default 12)")
    ap.add_argument("--host-burst-host", default="web2", help="that host (default web2)")
    a = ap.parse_args()

    dur = a.hours * 3600
    start = a.start if a.start is not None else (int(time.time() - dur - 600) // 60) * 60
    g = Gen(a.seed, start, a.warn_weight, a.error_weight)
    r = g.r
    incidents = []
    if not a.quiet:
        b0 = start + dur * a.burst_at
        incidents.append({"kind": "burst", "what": "ssh brute force from 203.0.113.77", "start": iso(b0),
                          "end": iso(b0 + 600), "match": "Failed password"})
        n0 = start + dur * a.new_at
        incidents.append({"kind": "new_template", "what": "kernel OOM kill", "start": iso(n0), "end": iso(n0 + 60),
                          "match": "Out of memory"})
        t0, t1 = start + dur * a.trend_from, start + dur
        incidents.append({"kind": "trend", "what": "database timeouts rising", "start": iso(t0), "end": iso(t1),
                          "match": "database connection timeout"})
        if a.host_burst_at is not None:
            h0 = start + dur * a.host_burst_at
            incidents.append({"kind": "host_burst", "what": "failed logins on %s" % a.host_burst_host,
                              "start": iso(h0), "end": iso(h0 + 600), "match": "Failed password for",
                              "host": a.host_burst_host})

    # background: Poisson arrivals
    t = start
    total = 0
    while t < start + dur:
        t += r.expovariate(a.rate)
        g.background(t)
        total += 1
        if a.lines and total >= a.lines:
            break
    end = t
    if not a.quiet:
        # burst: ~40 failures a minute for ten minutes from one address
        t = b0
        while t < b0 + 600:
            t += r.expovariate(a.burst_per_min / 60)
            u = r.choice(["admin", "oracle", "test", "ubuntu", "pi", "git"])
            port = r.randint(30000, 65000)
            g.auth(t, "web1", "sshd", "Failed password for invalid user %s from 203.0.113.77 port %d ssh2" % (u, port))
            g.audit(t, "USER_AUTH", "pid=%d uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication "
                    "grantors=? acct=\"%s\" exe=\"/usr/sbin/sshd\" hostname=203.0.113.77 addr=203.0.113.77 "
                    "terminal=ssh res=failed'" % (g.nextpid(), u), node="web1")
        # new template: an OOM kill, twice
        for k in range(2):
            tk = n0 + 20 * k
            g.auth(tk, "db1", "kernel", "Out of memory: Killed process %d (postgres) total-vm:%dkB, anon-rss:%dkB" % (
                g.nextpid(), r.randint(10 ** 6, 10 ** 7), r.randint(10 ** 6, 10 ** 7)), pid=False)
        # trend: timeouts whose rate grows linearly from ~0 to ~12 a minute
        t = t0
        while t < t1:
            frac = (t - t0) / (t1 - t0)
            lam = 0.05 + a.trend_peak * frac  # per minute
            t += r.expovariate(lam / 60)
            if t < t1:
                g.app(t, "error", "database connection timeout after %d ms" % r.randint(1000, 5000),
                      db={"host": "db1", "port": 5432}, pool="primary")

        if a.host_burst_at is not None:
            # one host's failed logins (the background's own message, the
            # background's ~0.6-0.9 a minute on each of the five hosts) rise
            # by --host-burst-per-min for ten minutes: the fleet's total
            # (~3-4.5 a minute) moves by less than the series detector calls a
            # burst, the host's own rate by over tenfold
            t = h0
            while t < h0 + 600:
                t += r.expovariate(a.host_burst_per_min / 60)
                if t < h0 + 600:
                    g.auth(t, a.host_burst_host, "sshd", "Failed password for %s from %s port %d ssh2" % (
                        r.choice(USERS), ip(r), r.randint(30000, 65000)))

    os.makedirs(a.out_dir, exist_ok=True)
    n = 0
    for name, lines in g.out.items():
        lines.sort(key=lambda x: x[0])
        with open(os.path.join(a.out_dir, name + ".log"), "w") as f:
            for _, line in lines:
                f.write(line + "\n")
                n += 1
    with open(os.path.join(a.out_dir, "incidents.json"), "w") as f:
        json.dump({"start": iso(start), "end": iso(max(end, start + dur)), "lines": n, "incidents": incidents}, f,
                  indent=1)
    print("wrote %d lines to %s (%s .. %s), %d incidents" % (n, a.out_dir, iso(start), iso(start + dur),
                                                             len(incidents)))


if __name__ == "__main__":
    main()
