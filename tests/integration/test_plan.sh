#!/usr/bin/env bash
# Plans (SPEC §4a): rehearse a restore into a sealed plan, then run the
# plan. A pinned run refuses before any write (exit 1, naming what changed,
# the server's databases and the backups folder untouched) when the
# runbook, the config, the target's cluster, the plan's backup or its
# DIGEST, or one byte of the plan changed, or the plan expired; it stops
# before the first write its plan does not hold; it restores the plan's
# backup even when a newer one became latest; unchanged, it passes and its
# evidence names the plan's sha256.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src >/dev/null && pg_load_sample src app >/dev/null || { nok "server starts"; finish; exit 1; }
pg_start other >/dev/null && pg_load_sample other app >/dev/null || { nok "second server starts"; finish; exit 1; }
pg_use src
# A home of its own: the runbook can be changed without touching the tree.
export FFRUN_HOME=$WORK/home
mkdir -p "$FFRUN_HOME" && cp -r "$FF_SRC/runbooks" "$FF_SRC/stdlib" "$FFRUN_HOME/"
WS=$WORK/ws
# The target names no host: PGHOST/PGPORT pick the cluster, so another
# cluster can stand behind an unchanged config.
# services.check fails its first poll after each up (not ready yet), so a
# pinned restore retries it: a write its rehearsal never needed twice.
cat > "$WORK/up.sh" <<'SH'
#!/bin/sh
rm -f "$1.polled"; echo up > "$1"
SH
cat > "$WORK/check.sh" <<'SH'
#!/bin/sh
[ -f "$1.polled" ] && exit 0
touch "$1.polled"; echo "not ready"; exit 1
SH
chmod +x "$WORK/up.sh" "$WORK/check.sh"
make_config "$WS" "targets: { prod: { conninfo: \"user=postgres dbname=app\" } }" \
  "services:" "  up: [[ $WORK/up.sh, $WORK/app ]]" "  check: [[ $WORK/check.sh, $WORK/app ]]"
ff() { "$FFRUN" -c "$WS/ffrun.yaml" "$@"; }
state() { pg_sql src postgres "select datname from pg_database order by 1"; ls -la "$WS/backups" | awk '{print $NF, $5}'; }

ff -q backup 2> "$WORK/err" || { nok "backup: $(tail -n 1 "$WORK/err")"; finish; exit 1; }
B1=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
plan() { # FILE [extra options]: rehearse restore confirm=app into FILE
  local f=$1; shift
  ff -q --dry-run --plan-out "$f" "$@" restore confirm=app 2> "$WORK/err"
}
plan "$WORK/plan.json" || { nok "plan: $(tail -n 2 "$WORK/err")"; finish; exit 1; }
check "the plan is one sealed JSON object naming ffrun, the runbook, the backup and the writes" \
  bash -c "head -c 40 '$WORK/plan.json' | grep -q '^{\"format\":\"ffrun.plan/1\",\"body\":' &&
           grep -q '\"backup\":{\"path\":\"[^\"]*/$B1\"' '$WORK/plan.json' && grep -q 'pg.admin.swap' '$WORK/plan.json'"

refused() { # NAME PLAN EXPECTED-MESSAGE [OPTIONS]: exit 1 before any write
  local before; before=$(state)
  ff -q --plan "$2" "${@:4}" > "$WORK/out" 2> "$WORK/err"; local code=$?
  if [ "$code" = 1 ] && grep -q -- "$3" "$WORK/err" && [ "$(state)" = "$before" ]; then
    ok "$1: refused before any write ($(head -n 1 "$WORK/err" | cut -c1-150))"
  else
    nok "$1: exit $code, want 1 and '$3', nothing changed: $(head -n 2 "$WORK/err")"
  fi
}

cp "$FFRUN_HOME/runbooks/restore.lua" "$WORK/restore.orig"
echo "-- reviewed? no" >> "$FFRUN_HOME/runbooks/restore.lua"
refused "the runbook changed" "$WORK/plan.json" "the runbook .* changed since the plan"
cp "$WORK/restore.orig" "$FFRUN_HOME/runbooks/restore.lua"

echo "# a comment" >> "$FFRUN_HOME/stdlib/proof.lua"
refused "a stdlib module changed" "$WORK/plan.json" "module .*proof.lua changed since the plan"
sed -i '$ d' "$FFRUN_HOME/stdlib/proof.lua"

cp "$WS/ffrun.yaml" "$WORK/cfg.orig"
echo "retention: { keep_last: 5 }" >> "$WS/ffrun.yaml"
refused "the config changed" "$WORK/plan.json" "the configuration changed since the plan"
cp "$WORK/cfg.orig" "$WS/ffrun.yaml"

pg_use other
refused "the target is another cluster" "$WORK/plan.json" "target prod is another cluster"
pg_use src

mv "$WS/backups/$B1" "$WORK/moved"
refused "the plan's backup is gone" "$WORK/plan.json" "its backup .* is gone"
mv "$WORK/moved" "$WS/backups/$B1"

cp "$WS/backups/$B1/DIGEST" "$WORK/digest.orig"
echo "0000000000000000000000000000000000000000000000000000000000000000  extra" >> "$WS/backups/$B1/DIGEST"
refused "the backup's DIGEST changed" "$WORK/plan.json" "the DIGEST of its backup .* changed"
cp "$WORK/digest.orig" "$WS/backups/$B1/DIGEST"

cp "$WORK/plan.json" "$WORK/altered.json"
sed -i 's/"confirm":"app"/"confirm":"apq"/' "$WORK/altered.json"
check "the altered copy differs from the plan in one byte" \
  [ "$(cmp -l "$WORK/plan.json" "$WORK/altered.json" | wc -l)" = 1 ]
refused "one byte of the plan changed" "$WORK/altered.json" "the plan was altered"

plan "$WORK/short.json" --plan-ttl 1 || nok "short plan"
sleep 2
refused "the plan expired" "$WORK/short.json" "expired"

sha=$(sed -n 's/.*,"sha256":"\([0-9a-f]\{64\}\)"}$/\1/p' "$WORK/plan.json")
refused "another plan than the approved sha256" "$WORK/plan.json" "not the approved" --plan-sha256 "$(printf '%064d' 0)"

# A sealed body of the wrong shape is refused, not fatal.
v=$("$FFRUN" --version | head -n 1 | cut -d' ' -f2)
body="{\"ffrun\":\"$v\",\"expires_unix\":9999999999,\"runbook\":5}"
printf '{"format":"ffrun.plan/1","body":%s,"sha256":"%s"}\n' "$body" "$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)" > "$WORK/shape.json"
refused "a sealed body of the wrong shape" "$WORK/shape.json" "malformed"

check "--plan takes no runbook" bash -c "'$FFRUN' -c '$WS/ffrun.yaml' --plan '$WORK/plan.json' restore 2>/dev/null; [ \$? = 2 ]"
check "--plan-out needs --dry-run" bash -c "'$FFRUN' -c '$WS/ffrun.yaml' --plan-out '$WORK/x.json' restore 2>/dev/null; [ \$? = 2 ] && [ ! -e '$WORK/x.json' ]"

# A deviation mid-run: a leftover copy appears after the plan, so the run
# would drop it first, a write the plan does not hold. It stops before it.
pg_sql src postgres "create database app__ffrestore_19990101_000000" >/dev/null
ff -q --plan "$WORK/plan.json" > "$WORK/out" 2> "$WORK/err"; code=$?
check "deviation: exit 1 naming the step, the planned write and the attempted one ($(grep -m1 'pinned run' "$WORK/err" | cut -c1-250))" \
  bash -c "[ $code = 1 ] && grep -q 'pinned run: step restore left its plan: planned write 5 is .*create_database.*the run attempted .*drop_database' '$WORK/err'"
check "deviation: the write was not done (the leftover copy is still there), the live database untouched" \
  bash -c "pg_sql() { :; }; psql -h '$(pg_host src)' -p '$(pg_port src)' -U postgres -Atc \"select count(*) from pg_database where datname in ('app__ffrestore_19990101_000000','app')\" postgres | grep -qx 2"
pg_sql src postgres "drop database app__ffrestore_19990101_000000" >/dev/null

# A newer backup became latest after the plan: the plan's is restored.
pg_sql src app "create table marker_after_plan (x int)" >/dev/null
sleep 1; ff -q backup 2> "$WORK/err" || nok "second backup: $(tail -n 1 "$WORK/err")"
B2=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
check "a newer backup is latest now ($B2 after $B1)" [ "$B2" != "$B1" ]
ff -q --plan "$WORK/plan.json" --plan-sha256 "$sha" > "$WORK/out" 2> "$WORK/err"; code=$?
ev=$(ls -1d "$WS"/evidence/*-restore*/ | sed 's:/$::' | sort -V | tail -n 1)
polls=$(grep '"call":"exec"' "$ev/events.jsonl" 2>/dev/null | grep -c 'check.sh')
check "the unchanged pinned restore passes, its services check polled twice (a retry the plan allows: $polls) ($code: $(tail -n 1 "$WORK/err"))" \
  [ "$code" = 0 -a "$polls" = 2 ]
check "it restored the plan's backup $B1, not the newer $B2" \
  bash -c "grep -o '\"backup\":{[^}]*}' '$ev/summary.json' | grep -q '\"stamp\":\"$B1\"' &&
           [ -z \"\$(psql -h '$(pg_host src)' -p '$(pg_port src)' -U postgres -Atc \"select to_regclass('marker_after_plan')\" app)\" ]"
check "its evidence names the plan's sha256 and that it was pinned, every planned write done" \
  grep -qE "\"plan\":\{\"sha256\":\"$sha\",\"file\":\"[^\"]*\",\"pinned\":true,\"writes_planned\":([0-9]+),\"writes_done\":\1\}" "$ev/summary.json"
check "the evidence verifies" bash -c "cd '$ev' && sha256sum --quiet -c DIGEST"
ff -q report > "$WORK/report" 2>&1
check "report shows the run pinned to the plan" \
  bash -c "grep -E '^$(basename "$ev") +restore +run +PASS .* pinned ${sha:0:12}\$' '$WORK/report'"
finish
