#!/usr/bin/env bash
# bench/run.sh -- ghost's throughput benchmark (make bench).
#
#   bash bench/run.sh                 data (cached in bench/out/data), e2e with 1 worker per stage and with the
#                                     slowest stage x2, transport ceiling, latency at half load; prints a table
#                                     and writes bench/out/latest.json
#   bash bench/run.sh backpressure    the bounded-memory experiment (bench/backpressure.py [--stop STAGE] [--hold S])
#
# BENCH_LINES (default 1000000) sets the size of the generated data set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/out"
if [ "${1:-}" = backpressure ]; then shift; exec python3 "$here/backpressure.py" "$@"; fi
exec python3 "$here/bench.py"
