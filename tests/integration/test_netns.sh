#!/usr/bin/env bash
# Two "hosts" as network namespaces joined by a veth pair: ghost-tail on the
# log host ships over tcp:// with CURVE to ghost-ingest on the analytics
# host, which admits only the client keys in its --curve-allow directory and
# hands the records to a receiving sink.  The lines cross; a shipper with an
# unknown key and one without CURVE are refused, and none of their lines
# arrive.  Needs root (ip netns); exits 77 otherwise.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root for ip netns"; exit 77; }
command -v ip >/dev/null || { echo "skipped: ip (iproute2) is not installed (apt-get install -y iproute2)"; exit 77; }
A=ghlog$$ B=ghana$$
netns_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
  cleanup
}
trap netns_cleanup EXIT
ip netns add "$A" 2>"$T/netns.err" || { echo "skipped: cannot create network namespaces ($(cat "$T/netns.err"))"; exit 77; }
ip netns add "$B"
ip link add "v$A" type veth peer name "v$B"
ip link set "v$A" netns "$A"; ip link set "v$B" netns "$B"
ip -n "$A" addr add 10.77.0.1/24 dev "v$A"; ip -n "$B" addr add 10.77.0.2/24 dev "v$B"
for n in "$A" "$B"; do ip -n "$n" link set lo up; done
ip -n "$A" link set "v$A" up; ip -n "$B" link set "v$B" up

# keys: the analytics side's server pair, the shipper's pair (allowed), an intruder's pair (not allowed)
"$GHOST_BIN/ghostctl" keygen "$T/keys" analytics >/dev/null && "$GHOST_BIN/ghostctl" keygen "$T/keys" shipper >/dev/null &&
  "$GHOST_BIN/ghostctl" keygen "$T/rogue" intruder >/dev/null
check "ghostctl keygen writes the keypairs" [ -f "$T/keys/analytics.key" ] && [ -f "$T/keys/shipper.pub" ]
check "the secret key file is mode 0600" [ "$(stat -c %a "$T/keys/shipper.key")" = 600 ]
mkdir -p "$T/allow"; cp "$T/keys/shipper.pub" "$T/allow/"

# the analytics host: ingest (CURVE server with an allow list) -> sink
ip netns exec "$B" "$GHOST_BIN/ghost-sink" --bind "ipc://$T/records.sock" --producers 1 >"$T/sink.json" 2>"$T/sink.err" &
PIDS+=($!); SINK=$!
ip netns exec "$B" "$GHOST_BIN/ghost-ingest" --bind tcp://10.77.0.2:7101 --connect "ipc://$T/records.sock" \
  --producers 1 --no-dedup --curve-secret "$T/keys/analytics.key" --curve-allow "$T/allow" --metrics-port 9464 \
  2>"$T/ingest.err" &
PIDS+=($!); INGEST=$!
sleep 0.5

for i in $(seq 1 500); do echo "Nov 22 10:00:00 web1 sshd[1]: good line $i"; done >"$T/good.log"
for i in $(seq 1 50); do echo "Nov 22 10:00:00 evil sshd[1]: rogue line $i"; done >"$T/rogue.log"
# the intruders first: an unknown key, and no CURVE at all (their sends never get a peer: timeout ends them)
ip netns exec "$A" env GHOST_CURVE_SECRET="$T/rogue/intruder.key" GHOST_CURVE_SERVER_KEY="$T/keys/analytics.pub" \
  timeout -s KILL 6 "$GHOST_BIN/ghost-tail" --once --id rogue-0 --close-wait-ms 4000 --connect tcp://10.77.0.2:7101 \
  "$T/rogue.log" 2>"$T/rogue.err" &
PIDS+=($!)
ip netns exec "$A" timeout -s KILL 6 "$GHOST_BIN/ghost-tail" --once --id plain-0 --close-wait-ms 4000 \
  --connect tcp://10.77.0.2:7101 "$T/rogue.log" 2>"$T/plain.err" &
PIDS+=($!)
sleep 1.5
# the real shipper
ip netns exec "$A" env GHOST_CURVE_SECRET="$T/keys/shipper.key" GHOST_CURVE_SERVER_KEY="$T/keys/analytics.pub" \
  timeout 20 "$GHOST_BIN/ghost-tail" --once --id tail-0 --connect tcp://10.77.0.2:7101 "$T/good.log" 2>"$T/tail.err"
check "the shipper on the log host ends cleanly" [ $? -eq 0 ]
for _ in $(seq 100); do kill -0 "$SINK" 2>/dev/null || break; sleep 0.1; done
wait "$SINK" 2>/dev/null
items=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"])' "$T/sink.json" 2>/dev/null)
echo "sink received ${items:-nothing}: $(cat "$T/sink.json" 2>/dev/null)"
check "all 500 lines crossed over tcp:// with CURVE and reached the sink" [ "${items:-0}" = 500 ]
check "ingest counted exactly the shipper's lines (no rogue line)" grep -q "done: 500 items" "$T/ingest.err"
check "ingest refused the intruder's key (ZAP)" grep -q "refused a connection.*unknown key" "$T/ingest.err"
check "ingest said its input is CURVE with an allow list" grep -q "CURVE, allow-list" "$T/ingest.err"
check "no rogue line arrived" bash -c "! grep -q 'rogue' '$T/ingest.err'"
finish
