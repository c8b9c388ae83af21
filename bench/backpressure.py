#!/usr/bin/env python3
"""backpressure.py -- does memory stay bounded when a downstream stage stalls?

Runs ./run.sh --replay over the bench data, and once ghost-tail is running
SIGSTOPs one stage (--stop alert: the alert stage; --stop anomaly: the first
stage behind which the whole stream queues) for --hold seconds, sampling every
0.5 s how many bytes ghost-tail has read (/proc/<pid>/io rchar) and every
process's VmRSS.  Then SIGCONTs it and lets the replay finish.  If ghost-tail
waits, its rchar stops growing while the stage is stopped; if memory is
bounded, every RSS levels off.  Also reports VmHWM per process for the 1x
and 2x (every file concatenated twice) inputs: it must not grow with input size.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def rchar(pid):
    try:
        for line in open("/proc/%d/io" % pid):
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        return None


def run(files, stop, hold):
    tmp = tempfile.mkdtemp(prefix="bp.", dir=bench.OUT)
    env = dict(os.environ, TMPDIR=tmp, GHOST_BIN=bench.BIN)
    smp = bench.Sampler(tmp, 6)
    smp.start()
    p = subprocess.Popen([os.path.join(bench.ROOT, "run.sh"), "--replay"] + files + ["--alerts", "/dev/null"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    trace = []
    if stop:
        t0 = time.time()
        while time.time() - t0 < 10 and not ({"tail-0", stop + "-0"} <= set(smp.pids.values())):
            time.sleep(0.02)
        pid = {v: k for k, v in smp.pids.items()}
        os.kill(pid[stop + "-0"], signal.SIGSTOP)
        for i in range(int(hold * 2)):
            time.sleep(0.5)
            trace.append((round((i + 1) * 0.5, 1), rchar(pid["tail-0"]),
                          {k: round(v[2] / 1024, 1) for k, v in sorted(smp.last.items())}))
        os.kill(pid[stop + "-0"], signal.SIGCONT)
    p.wait()
    smp.stop = True
    smp.join()
    subprocess.run(["rm", "-rf", tmp])
    return trace, {k: round(v[1] / 1024, 1) for k, v in sorted(smp.last.items())}, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stop", default="anomaly")
    ap.add_argument("--hold", type=float, default=5)
    a = ap.parse_args()
    files = [os.path.join(bench.DATA, f) for f in bench.FILES]
    trace, hwm, rc = run(files, a.stop, a.hold)
    print("%s stopped for %.0fs: t, ghost-tail bytes read, VmRSS MB per process" % (a.stop, a.hold))
    for t, rc_, rss in trace:
        print("  %4.1fs %12s  %s" % (t, rc_, " ".join("%s=%s" % kv for kv in rss.items())))
    print("replay exit %d after SIGCONT; VmHWM MB (1x input): %s" % (rc, hwm))
    d2 = os.path.join(bench.OUT, "data2x")
    if not os.path.exists(os.path.join(d2, "done")):
        os.makedirs(d2, exist_ok=True)
        for f in bench.FILES:
            with open(os.path.join(d2, f), "wb") as o:
                for _ in range(2):
                    o.write(open(os.path.join(bench.DATA, f), "rb").read())
        open(os.path.join(d2, "done"), "w").close()
    _, hwm2, rc2 = run([os.path.join(d2, f) for f in bench.FILES], None, 0)
    print("no stop, 2x input: exit %d; VmHWM MB: %s" % (rc2, hwm2))


if __name__ == "__main__":
    main()
