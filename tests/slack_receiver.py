#!/usr/bin/env python3
"""slack_receiver.py -- a loopback HTTP server that answers like a Slack
incoming webhook, for ghost's delivery tests.

Every POST is checked like Slack does (JSON object with `text` or `blocks`,
else 400 invalid_payload), then answered by the next step of a script:

  ok                 200 "ok"
  429:N              429 rate_limited with Retry-After: N
  500 (any 5xx)      that status, body "internal_error"
  invalid_payload,   permanent Slack errors: 400 invalid_payload,
  channel_not_found, 404 channel_not_found, 410 channel_is_archived,
  channel_is_archived, 403 action_prohibited, 400 no_text ...
  action_prohibited, no_text
  slow:N             wait N seconds, then 200 "ok"
  2xx:BODY           200 with BODY instead of "ok" (a proxy, a changed API)
  down:N             close the connection without an answer, and do the
                     same for every request during the next N seconds

After the last step the server answers `ok` (or starts over with --cycle).
With --random "429=0.1,500=0.1" each request that the script does not
decide (after its end) is answered 429 (Retry-After: 1) or 500 with those
probabilities (--seed makes it repeatable); with --down-at T --down-for D
the server refuses connections (closes its listening socket, and drops the
requests of connections kept alive from before) from T to
T+D seconds after start.  POSTs to a path under /hook/ are a generic
webhook: valid when the body is a JSON object with a non-empty "alerts"
list.
Each request is written as one JSON line to --log as soon as it arrives:
{"t": unix time, "path": ..., "step": ..., "status": intended status,
"body": request body text}.  The bound port (bind port 0 by default) is
written to --port-file once the server listens.
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PERMANENT = {"invalid_payload": 400, "no_text": 400, "invalid_blocks": 400, "channel_not_found": 404,
             "channel_is_archived": 410, "action_prohibited": 403, "no_service": 404, "invalid_token": 403}


class State:
    def __init__(self, script, cycle, log_path):
        self.script = [s.strip() for s in script.split(",") if s.strip()] or ["ok"]
        self.cycle = cycle
        self.pos = 0
        self.down_until = 0.0
        self.lock = threading.Lock()
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None
        self.random = []
        self.rng = None

    def next_step(self):
        with self.lock:
            if self.pos < len(self.script):
                step = self.script[self.pos]
                self.pos += 1
                if self.cycle and self.pos == len(self.script):
                    self.pos = 0
                return step
            return "ok"

    def record(self, entry):
        if not self.log:
            return
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()


def valid_payload(raw, path="/"):
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    if path.startswith("/hook/"):
        return isinstance(doc.get("alerts"), list) and len(doc["alerts"]) > 0
    text, blocks = doc.get("text"), doc.get("blocks")
    return (isinstance(text, str) and text != "") or (isinstance(blocks, list) and len(blocks) > 0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slack-receiver"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def _answer(self, status, body, headers=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        now = time.time()
        entry = {"t": now, "path": self.path, "body": raw.decode("utf-8", "replace")}
        if now < st.down_until:
            entry.update(step="down", status=0)
            st.record(entry)
            return self._drop()
        if not valid_payload(raw, self.path):
            entry.update(step="validate", status=400)
            st.record(entry)
            return self._answer(400, "invalid_payload")
        step = st.next_step()
        if step == "ok" and st.random and st.pos >= len(st.script):
            x = st.rng.random()
            for code, p in st.random:
                if x < p:
                    step = "429:1" if code == "429" else code
                    break
                x -= p
        name, _, arg = step.partition(":")
        if name == "ok":
            entry.update(step=step, status=200)
            st.record(entry)
            return self._answer(200, "ok")
        if name == "429":
            entry.update(step=step, status=429)
            st.record(entry)
            return self._answer(429, "rate_limited", {"Retry-After": arg or "1"})
        if name.isdigit():
            entry.update(step=step, status=int(name))
            st.record(entry)
            return self._answer(int(name), "internal_error")
        if name == "2xx":
            entry.update(step=step, status=200)
            st.record(entry)
            return self._answer(200, arg)
        if name == "slow":
            entry.update(step=step, status=200)
            st.record(entry)
            time.sleep(float(arg or 3))
            try:
                return self._answer(200, "ok")
            except OSError:
                return None
        if name == "down":
            st.down_until = now + float(arg or 2)
            entry.update(step=step, status=0)
            st.record(entry)
            return self._drop()
        status = PERMANENT.get(name, 400)
        entry.update(step=step, status=status)
        st.record(entry)
        return self._answer(status, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="port to bind on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--script", default="ok", help="comma-separated answers, e.g. ok,429:2,500,invalid_payload")
    ap.add_argument("--cycle", action="store_true", help="repeat the script instead of answering ok after it")
    ap.add_argument("--random", default="", help="after the script: answer 429/500 with these odds, e.g. 429=0.1,500=0.1")
    ap.add_argument("--seed", type=int, default=1, help="seed for --random")
    ap.add_argument("--down-at", type=float, default=-1, help="refuse connections from this many seconds after start")
    ap.add_argument("--down-for", type=float, default=0, help="... for this many seconds")
    a = ap.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(a.script, a.cycle, a.log)
    if a.random:
        import random
        srv.state.rng = random.Random(a.seed)
        for kv in a.random.split(","):
            k, _, v = kv.partition("=")
            srv.state.random.append((k.strip(), float(v)))
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        import os
        os.replace(tmp, a.port_file)
    if a.down_at >= 0 and a.down_for > 0:
        threading.Timer(a.down_at, srv.shutdown).start()
    try:
        srv.serve_forever()
        if a.down_at >= 0 and a.down_for > 0:
            # the outage: nothing listens (connection refused), then the same port again
            port, state = srv.server_address[1], srv.state
            srv.server_close()
            # connections kept alive from before drop their requests too, as
            # they would if the server had gone away
            state.down_until = float("inf")
            state.record({"t": time.time(), "path": "", "step": "outage-start", "status": -1, "body": ""})
            time.sleep(a.down_for)
            while True:
                try:
                    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                    break
                except OSError:
                    time.sleep(0.1)
            srv.daemon_threads = True
            srv.state = state
            state.down_until = 0.0
            state.record({"t": time.time(), "path": "", "step": "outage-end", "status": -1, "body": ""})
            srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
