# tests/integration/lib.sh -- shared by the integration tests (sourced).
# Each test gets its own temporary directory, removed at exit, and stops
# whatever it started by PID.
set -u
: "${GHOST_BIN:?}" "${GHOST_SRC:?}"
T=$(mktemp -d /tmp/ghost-it.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { # description command...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
finish() { [ $fails -eq 0 ] && { echo "all checks passed"; exit 0; }; echo "$fails check(s) failed"; exit 1; }
# start_redis: a private redis-server on a unix socket in $T; sets REDIS_URL
start_redis() {
  redis-server --port 0 --unixsocket "$T/redis.sock" --dir "$T" --save "" --appendonly no \
    --daemonize no >"$T/redis.log" 2>&1 &
  PIDS+=($!)
  REDIS_PID=$!
  for _ in $(seq 50); do redis-cli -s "$T/redis.sock" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  REDIS_URL="unix:$T/redis.sock"
}
shared_data() { # prints the shared data dir or exits 77
  local d="$GHOST_SRC/../shared/data"
  [ -d "$d" ] || { echo "skipped: ../shared/data is absent"; exit 77; }
  echo "$d"
}
