#!/usr/bin/env bash
# The application in the drill (issue #15, item 3): services.drill's up,
# check and down run after the drill's proof with the drill database's
# connection in their environment (PGHOST, PGPORT, PGDATABASE, PGUSER,
# DATABASE_URL; never a password). The service here is a real small
# process started by `up`: it polls the database it was given with psql
# and publishes the row count it reads; `check` passes when that count is
# the backup's (not production's, which has moved on). RTO is measured to
# the first passing check; `down` runs after a PASS, a FAIL and a SIGTERM,
# and no service process is left.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_createdb src app || { nok "database app"; finish; exit 1; }
pg_sql src app "create table items (id int primary key); insert into items select generate_series(1, 42)" > /dev/null
PSQL=$(_pg_find_bindir)/psql
why() { { grep -m 1 '^ffrun:' "$1" || tail -n 1 "$1"; } 2>/dev/null | head -c 300; }

# The service: `up` starts it in a session of its own (as `docker compose
# up -d` leaves containers running) and returns once it runs; it records the
# environment it was given and keeps publishing `select count(*)`.
cat > "$WORK/svc-up" <<SH
#!/bin/bash
state=\$1
env | grep -E '^(PG[A-Z_]*|DATABASE_URL)=' | sort > "\$state/env"
setsid bash -c 'echo \$\$ > "\$0/pid"; while :; do
  "$PSQL" -XAtc "select count(*) from items" > "\$0/health.tmp" 2>> "\$0/psql.err" && mv "\$0/health.tmp" "\$0/health"
  sleep 0.2; done' "\$state" < /dev/null > /dev/null 2>&1 &
# Return once it runs in its own session (ffrun ends the rest of up's
# process group when up exits).
for _ in \$(seq 100); do [ -s "\$state/pid" ] && exit 0; sleep 0.05; done
exit 1
SH
# check WANT: passes when the service serves WANT rows (prints what it serves).
cat > "$WORK/svc-check" <<'SH'
#!/bin/bash
state=$1 want=$2
[ -s "$state/health" ] || { echo "not serving yet"; exit 1; }
got=$(cat "$state/health"); echo "serving $got rows"; [ "$got" = "$want" ]
SH
cat > "$WORK/svc-down" <<'SH'
#!/bin/bash
state=$1
echo down >> "$state/downs"
pid=$(cat "$state/pid" 2>/dev/null) || exit 0
kill "$pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$pid"
SH
chmod +x "$WORK"/svc-*
# A drill instance gone: its folder, and every postgres process naming it.
gone() { [ -n "$1" ] && [ ! -e "$1" ] && ! ps -eo comm=,args= | awk '$1 == "postgres"' | grep -qF "$1"; }
# The service ran (its pid file) and is gone now.
stopped() { [ -s "$1/pid" ] && ! kill -0 "$(cat "$1/pid")" 2>/dev/null; }
alive() { [ -s "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

conf() { # conf WS STATE WANT
  mkdir -p "$2"
  make_config "$1" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }" \
    "drill: { amcheck: false }" \
    "services: { drill: { up: [[$WORK/svc-up, $2]], check: [[$WORK/svc-check, $2, \"$3\"]], down: [[$WORK/svc-down, $2]] } }"
}

WS=$WORK/ws S=$WORK/s1
conf "$WS" "$S" 42
"$FFRUN" -q -c "$WS/ffrun.yaml" backup 2> "$WORK/err" || { nok "backup: $(why "$WORK/err")"; finish; exit 1; }
# Production moves on after the backup: the drill's service must see 42.
pg_sql src app "insert into items select generate_series(43, 50)" > /dev/null

# --- PASS: the service runs against the drill database -----------------------------
"$FFRUN" -c "$WS/ffrun.yaml" drill 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "drill with services: PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
check "the service was given PGHOST, PGPORT, PGDATABASE, PGUSER and DATABASE_URL" \
  bash -c "for v in PGHOST PGPORT PGDATABASE PGUSER DATABASE_URL; do grep -q \"^\$v=.\" '$S/env' || exit 1; done"
check "and no password ($(tr '\n' ' ' < "$S/env" | head -c 300))" \
  bash -c "! grep -qiE 'PGPASSWORD|PGPASSFILE|:[^/@]*@' '$S/env'"
check "PGHOST is the drill instance's socket, not production's" \
  bash -c "grep -q '^PGHOST=/tmp/ffrun-drill-' '$S/env' && ! grep -q '$(pg_host src)' '$S/env'"
check "the service served the backup's 42 rows from the drill database" \
  bash -c "cat '$ev'/raw/drill-services-check.log* | grep -q 'serving 42 rows'"
check "while production, which it was not given, has 50" [ "$(pg_sql src app 'select count(*) from items')" = 50 ]
check "the summary says RTO was measured to the services check" \
  grep -q '"rto_to":"services.drill.check' "$ev/summary.json"
rto=$(grep -o '"rto_s":[0-9.]*' "$ev/summary.json" | cut -d: -f2)
dur=$(grep -o '"duration_s":[0-9.]*' "$ev/summary.json" | head -n 1 | cut -d: -f2)
check "RTO ($rto s) is within the run ($dur s)" awk -v r="$rto" -v d="$dur" 'BEGIN { exit !(r > 0 && r <= d) }'
check "down ran once" [ "$(wc -l < "$S/downs")" = 1 ]
check "no service process left" stopped "$S"
inst1=$(sed -n 's|^PGHOST=\(/tmp/ffrun-drill-[^/]*\)/sock$|\1|p' "$S/env")
check "no drill server left (its own: ${inst1:-?})" \
  gone "$inst1"

# --- FAIL: the check never passes; down still runs -----------------------------------
S2=$WORK/s2
conf "$WS" "$S2" 999
"$FFRUN" -q -c "$WS/ffrun.yaml" drill services_timeout=3 2> "$WORK/err"; code=$?
check "a check that never passes: FAIL naming it (exit $code: $(why "$WORK/err"))" \
  bash -c "[ $code = 1 ] && grep -q 'svc-check did not pass within 3 s' '$WORK/err'"
check "the service had come up in the FAIL case" [ -s "$S2/pid" ]
check "down ran after the FAIL" [ "$(wc -l < "$S2/downs" 2>/dev/null)" = 1 ]
check "no service process left after the FAIL" stopped "$S2"

# --- SIGTERM while the drill waits for the service ------------------------------------
S3=$WORK/s3
conf "$WS" "$S3" 999
"$FFRUN" -q -c "$WS/ffrun.yaml" drill services_timeout=60 2> "$WORK/err" & pid=$!
for _ in $(seq 600); do alive "$S3" && break; sleep 0.1; done
check "the service came up before the signal" alive "$S3"
kill -TERM $pid; wait $pid; code=$?
check "SIGTERM during the services wait: exit 1 ($code)" [ $code = 1 ]
check "down ran after the SIGTERM" [ "$(wc -l < "$S3/downs" 2>/dev/null)" = 1 ]
check "no service process left after the SIGTERM" stopped "$S3"
inst3=$(sed -n 's|^PGHOST=\(/tmp/ffrun-drill-[^/]*\)/sock$|\1|p' "$S3/env")
check "no drill server left after the SIGTERM (its own: ${inst3:-?})" \
  gone "$inst3"

# --- a dry-run runs none of them ---------------------------------------------------------
S4=$WORK/s4
conf "$WS" "$S4" 42
"$FFRUN" -c "$WS/ffrun.yaml" --dry-run drill > "$WORK/out" 2> "$WORK/err"; code=$?
check "dry-run drill with services: PASS, plans up and down, runs neither (exit $code)" \
  bash -c "[ $code = 0 ] && grep -q 'svc-up' '$WORK/out' && grep -q 'svc-down' '$WORK/out' && [ ! -e '$S4/env' ] && [ ! -e '$S4/downs' ]"

finish
