#!/usr/bin/env bash
# Incidents on logs the project was not tuned on: six hours of gen_logs.py
# output with seeds no other test uses, one of them a variant (another
# background rate and error/warning mix, a weaker brute force, the incidents
# at other times, a steeper trend, a start time not on a minute boundary),
# replayed through ./run.sh.  Each set also has a host_burst: one host's failed
# logins rise over tenfold for ten minutes while the fleet's total stays within
# what the series detector calls normal (web2 in a and db1 in c: a per-host
# series reports it; app1 in b: the total bursts too, and its alert names the
# host).  tests/incident_eval.py must find every burst, host_burst and
# new-template incident reported within 2 min of its start (a host_burst by an
# alert naming its host), at most 3 firing
# alerts that match no incident, and the trend forecast >= 15 min before it
# crosses 5 a minute (see incident_eval.py for the definitions).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

now=$(date +%s)
# syslog lines carry no year: keep event times in the recent past
start=$(( (now / 86400 - 2) * 86400 + 5 * 3600 + 37 ))   # changes once a day, not per run
sets=(
  "a|--seed 61 --host-burst-at 0.35"
  "b|--seed 62 --start $start --host-burst-at 0.35 --host-burst-host app1"
  "c|--seed 63 --start $start --rate 6 --error-weight 5 --warn-weight 12 --burst-per-min 20 --burst-at 0.3 --new-at 0.45 --trend-from 0.4 --trend-peak 16 --host-burst-at 0.2 --host-burst-host db1 --host-burst-per-min 10"
)
for s in "${sets[@]}"; do
  name=${s%%|*}; args=${s#*|}
  # shellcheck disable=SC2086
  python3 "$GHOST_SRC/tests/gen_logs.py" "$T/$name" --hours 6 $args >/dev/null
  "$GHOST_SRC/run.sh" --replay "$T/$name"/*.log --alerts "$T/$name.jsonl" 2>"$T/$name.err"
  check "replay of set $name exits 0" [ $? -eq 0 ]
  python3 "$GHOST_SRC/tests/incident_eval.py" "$T/$name.jsonl" "$T/$name/incidents.json" --name "set $name ($args)"
  check "set $name: every incident on time, <= 3 false alerts, trend forecast >= 15 min ahead" [ $? -eq 0 ]
done
finish
