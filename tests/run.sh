#!/usr/bin/env bash
# tests/run.sh -- run every unit test binary and integration script, each in
# its own process under a timeout; exit 0 = pass, 77 = skipped, else failed.
# Ends with the line "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${GHOST_BIN:?}" "${GHOST_TESTBIN:?}"
export GHOST_BIN GHOST_TESTBIN GHOST_SRC="$(cd "$here/.." && pwd)"
only=${GHOST_ONLY:-all}
filter=${GHOST_TEST:-}
unit_timeout=${GHOST_UNIT_TIMEOUT:-120}
integ_timeout=${GHOST_INTEG_TIMEOUT:-240}
pass=0 fail=0 skip=0 failed=()
logdir=$(mktemp -d /tmp/ghost-tests.XXXXXX)

run_one() { # name timeout cmd...
  local name=$1 to=$2; shift 2
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
  local log="$logdir/${name//\//_}.log" t0=$SECONDS rc
  timeout -k 5 "$to" "$@" >"$log" 2>&1; rc=$?
  local dt=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then pass=$((pass+1)); printf 'PASS  %-44s %3ss\n' "$name" "$dt"
  elif [ $rc -eq 77 ]; then skip=$((skip+1)); printf 'SKIP  %-44s (%s)\n' "$name" "$(tail -n1 "$log")"
  else fail=$((fail+1)); failed+=("$name")
    [ $rc -eq 124 ] && echo "timed out after ${to}s" >>"$log"
    printf 'FAIL  %-44s %3ss (rc=%s)\n' "$name" "$dt" "$rc"; sed 's/^/      | /' "$log" | tail -n 40
  fi
}

if [ "$only" = all ] || [ "$only" = unit ]; then
  for t in "$GHOST_TESTBIN"/test_*; do
    [ -x "$t" ] || continue
    run_one "unit/$(basename "$t")" "$unit_timeout" "$t"
  done
fi
if [ "$only" = all ] || [ "$only" = integration ]; then
  for t in "$here"/integration/test_*.sh; do
    [ -f "$t" ] || continue
    run_one "integration/$(basename "$t" .sh)" "$integ_timeout" bash "$t"
  done
fi
echo "logs: $logdir"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
