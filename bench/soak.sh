#!/usr/bin/env bash
# soak.sh [CYCLES] - CYCLES (default 50) of backup -> drill -> prune while
# pgbench writes to the source at a steady rate the whole time. Checks that
# every cycle PASSes, that ffrun's peak RSS does not drift (cycle 5 against
# the last), and that nothing is left behind: no temporary folder, no drill
# instance or server, no lock held, and backups bounded by retention.
# Prints one summary line for the README's reliability table.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../tests/harness/lib.sh"
source "$HERE/../tests/harness/pg.sh"
CYCLES=${1:-50}
[ -x /usr/bin/time ] || { echo "soak: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

pg_start src >/dev/null || exit 2
pg_load_sample src app >/dev/null || exit 2
pg_load_pgbench src app 3 || exit 2
make_config "$WORK/ws" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }" \
  "retention: { keep_last: 3, keep_days: 0 }"
tmp_before=$(ls -d /tmp/ffrun-* 2>/dev/null | wc -l)

# Steady writes for as long as the soak lasts.
_pg_client src pgbench -n -R 20 -T 100000 -c 1 app > "$WORK/pgbench.log" 2>&1 &
writer=$!

declare -A rss
fails=0
for i in $(seq "$CYCLES"); do
  for rb in backup drill prune; do
    /usr/bin/time -f %M -o "$WORK/rss" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" $rb 2> "$WORK/err"
    code=$?
    rss[$rb,$i]=$(cat "$WORK/rss")
    if [ $code != 0 ]; then
      fails=$((fails + 1)); nok "cycle $i $rb exit $code: $(tail -n 1 "$WORK/err")"
    fi
  done
  n=$(ls "$WORK/ws/backups" | grep -cE '^[0-9]{8}-[0-9]{6}$')
  [ "$n" -le 4 ] || { fails=$((fails + 1)); nok "cycle $i: $n backups kept, retention says at most 4"; }
  [ $((i % 10)) = 0 ] && echo "cycle $i/$CYCLES: $fails failures, $n backups" >&2
done
kill $writer 2>/dev/null; wait $writer 2>/dev/null

passed_cycles=$((CYCLES * 3 - fails))
check "$passed_cycles/$((CYCLES * 3)) runs PASS under write load" [ $fails = 0 ]
drift=0
for rb in backup drill prune; do
  d=$(( ${rss[$rb,$CYCLES]} - ${rss[$rb,5]} )); d=${d#-}
  [ $d -gt $drift ] && drift=$d
  check "$rb peak RSS cycle 5 ${rss[$rb,5]} KiB, cycle $CYCLES ${rss[$rb,$CYCLES]} KiB: drift < 1 MiB" [ $d -lt 1024 ]
done
check "no ffrun temporary folder left" [ "$(ls -d /tmp/ffrun-* 2>/dev/null | wc -l)" = "$tmp_before" ]
check "no drill server left" [ "$(ps -eo args | grep -c '[p]ostgres.*ffrun-drill-')" = 0 ]
check "no lock left held" flock -n "$WORK/ws/backups/.ffrun.lock" true
check "no .partial folder left" bash -c "! ls '$WORK/ws/backups' | grep -q partial"
echo "soak: $CYCLES cycles of backup, drill, prune under pgbench -R 20: $passed_cycles/$((CYCLES * 3)) PASS, max RSS drift $drift KiB"
finish
