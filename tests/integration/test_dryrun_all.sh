#!/usr/bin/env bash
# Every shipped runbook rehearsed with every documented parameter, against
# a real server: each dry-run passes, plans the writes its run would do, and
# changes nothing (the server's databases and roles, the backups folder).
# restore globals=true is the operator guide's rehearsal for a rebuilt
# server (it used to fail: the stand-in of apply_globals returned true, not
# the real call's table).
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src >/dev/null || { nok "server starts"; finish; exit 1; }
pg_load_sample src app >/dev/null || { nok "sample loads"; finish; exit 1; }
WS=$WORK/ws
make_config "$WS" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }"
ff() { "$FFRUN" -q -c "$WS/ffrun.yaml" "$@"; }
state() {
  pg_sql src postgres "select datname from pg_database order by 1; select rolname from pg_roles order by 1"
  (cd "$WS/backups" && find . -path ./.ffrun.lock -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)
}

# Two backups (prune has one to plan away) and one real restore (rollback
# has a set-aside copy to plan the way back to).
ff backup 2> "$WORK/err" && sleep 1 && ff backup 2>> "$WORK/err" && ff restore confirm=app 2>> "$WORK/err" ||
  { nok "setup: $(tail -n 2 "$WORK/err")"; finish; exit 1; }
stamp=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | head -n 1)
before=$(state)

rehearse() { # EXPECTED-CALL RUNBOOK [PARAMS...]: exit 0, EXPECTED-CALL planned
  local want=$1; shift
  "$FFRUN" -c "$WS/ffrun.yaml" --dry-run "$@" > "$WORK/out" 2> "$WORK/err"; local code=$?
  local plan; plan=$(grep -cE '^ +plan +[0-9]+' "$WORK/out")
  if [ "$code" = 0 ] && { [ -z "$want" ] || grep -qE "^ +plan +[0-9]+ +\[[^]]*\] $want " "$WORK/out"; }; then
    ok "--dry-run $*: PASS, $plan planned write(s)${want:+, $want among them}"
  else
    nok "--dry-run $*: exit $code, $plan planned, want '$want': $(grep -v '^ *plan' "$WORK/err" | tail -n 2)"
  fi
}
rehearse pg.dump backup
rehearse pg.globals backup target=prod
rehearse "" verify path="$WS/backups/$stamp"
rehearse pg.admin.swap restore confirm=app
rehearse pg.admin.apply_globals restore confirm=app globals=true
rehearse pg.admin.restore restore confirm=app backup="$stamp" jobs=2 keep_failed=true services_timeout=10
rehearse pg.instance drill
rehearse pg.instance drill backup="$stamp" jobs=1 target=drill
rehearse pg.admin.swap rollback confirm=app
rehearse pg.admin.swap rollback confirm=app stamp=latest target=prod
rehearse "" prune
rehearse fs.remove prune keep_last=1 keep_days=0
rehearse "" report
rehearse "" gate
rehearse "" gate target=prod max_age=60 fresh=false
rehearse runbook.run gate fresh=true
check "nothing changed: databases, roles and the backups folder as before" [ "$(state)" = "$before" ]
# The stand-ins answer what the real calls answer, so the runbooks test the
# flag only where the procedure itself differs (there is no restored copy
# to prove in a rehearsal; the gate reports the verdict a run would give
# and does not enforce it, the backup it would judge being only planned).
uses=$(grep -o 'ff\.dry_run' "$FF_SRC"/runbooks/*.lua | wc -l)
check "the shipped runbooks test ff.dry_run in $uses place(s), at most 3" [ "$uses" -le 3 ]
finish
