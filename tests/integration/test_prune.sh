#!/usr/bin/env bash
# prune's clean-ups (issue #15, item 4): evidence folders older than
# retention.evidence_days go, never the evidence a kept backup needs (the
# drill that proved it, the run that made it); with confirm=<db> the
# <db>__ffprev_* copies a restore set aside go when older than keep_days,
# never the newest, never in a dry-run; without confirm= none, and it says
# so. report says what retention keeps and why.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_createdb src app || { nok "database app"; finish; exit 1; }
why() { { grep -m 1 '^ffrun:' "$1" || tail -n 1 "$1"; } 2>/dev/null | head -c 300; }
dbs() { pg_sql src postgres "select string_agg(datname, ' ' order by datname) from pg_database where datname like 'app%' or datname like 'other%'"; }

P=$WORK/p
make_config "$P" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }" \
  "retention: { keep_last: 1, keep_days: 10, evidence_days: 30 }"
ff() { "$FFRUN" -c "$P/ffrun.yaml" "$@"; }
# The newest prune run's evidence (a report of the same second sorts after it).
last_prune() { ls -1d "$P"/evidence/*-prune*/ | sed 's:/$::' | sort -V | tail -n 1; }
now=$(date -u +%s)
ago() { date -u -d "@$((now - $1 * 86400 - 60))" +%Y%m%d-%H%M%S; }
mk_backup() { # mk_backup DAYS_AGO MAKER_RUN [DBNAME] -> a minimal complete backup folder that old
  local s; s=$(ago "$1")
  mkdir -p "$P/backups/$s"
  echo "{\"format\":\"ffrun.backup/2\",\"artifacts\":[],\"evidence_run\":\"$2\",\"source\":{\"system_identifier\":\"7\",\"dbname\":\"${3:-app}\"}}" > "$P/backups/$s/manifest.json"
  echo "$s"
}
mk_run() { # mk_run DAYS_AGO RUNBOOK [STATUS [BACKUP_STAMP]] -> an evidence folder that old
  local id; id="$(ago "$1")-$2"
  mkdir -p "$P/evidence/$id"
  echo "{\"format\":\"ffrun.evidence/1\",\"run_id\":\"$id\",\"runbook\":{\"name\":\"$2\"},\"mode\":\"run\",\"status\":\"${3:-PASS}\"${4:+,\"backup\":{\"stamp\":\"$4\"}}}" > "$P/evidence/$id/summary.json"
  echo "$id"
}

# Backups 60 and 50 days old, both beyond retention but the 50-day one the
# newest drill-proven (kept), and the newest (kept: keep_last 1).
maker60=$(mk_run 60 backup); maker50=$(mk_run 50 backup); maker1=$(mk_run 1 backup)
b60=$(mk_backup 60 "$maker60"); b50=$(mk_backup 50 "$maker50"); b1=$(mk_backup 1 "$maker1")
drill60=$(mk_run 59 drill PASS "$b60")     # proved a backup that goes: old, goes
drill50=$(mk_run 49 drill PASS "$b50")     # proved a kept backup: stays
drill50f=$(mk_run 44 drill FAIL "$b50")    # the kept backup's last drill, FAILed: stays (gate reads it)
old_report=$(mk_run 45 report)             # old, nobody needs it: goes
# Another database's backups in the same folder: retention is per database.
# Its only proven one (55 days) is older than app's proven one; it stays.
makero=$(mk_run 56 backup)
o55=$(mk_backup 55 "$makero" other); o30=$(mk_backup 30 "$makero" other)
drillo55=$(mk_run 54 drill PASS "$o55")
young=$(mk_run 5 report)                   # young: stays
mkdir -p "$P/evidence/00-notes"            # not a run folder: never touched (sorts first: last_evidence)

# --- report says what retention keeps and why ------------------------------------
ff -q report > "$WORK/report" 2> "$WORK/err"
check "report: the newest is kept as the newest" grep -qE "^$b1 .*kept: among the newest 1" "$WORK/report"
check "report: the drill-proven one is kept, saying so" grep -qE "^$b50 .*kept: the newest backup a drill has proven" "$WORK/report"
check "report: the old one says the next prune removes it" grep -qE "^$b60 .*removed by the next prune" "$WORK/report"

# --- a dry-run plans, removes nothing ---------------------------------------------
before=$(ls "$P/evidence" | sort | tr '\n' ' ')
ff --dry-run prune > "$WORK/out" 2> "$WORK/err"; code=$?
check "dry-run prune: exit 0 ($(why "$WORK/err"))" [ $code = 0 ]
check "dry-run prune plans the two old evidence folders" \
  bash -c "grep -qE 'fs.remove .*$drill60' '$WORK/out' && grep -qE 'fs.remove .*$old_report' '$WORK/out'"
check "and removes nothing" bash -c "[ -d '$P/backups/$b60' ] && [ -d '$P/evidence/$drill60' ] && [ -d '$P/evidence/$old_report' ]"

# --- prune: backups and evidence by retention -------------------------------------
ff prune > "$WORK/out" 2> "$WORK/err"; code=$?
check "prune: exit 0 ($(why "$WORK/err"))" [ $code = 0 ]
check "the backup beyond retention is gone, the proven and the newest stay" \
  bash -c "[ ! -e '$P/backups/$b60' ] && [ -d '$P/backups/$b50' ] && [ -d '$P/backups/$b1' ]"
check "old evidence nobody needs is gone (the removed backup's drill, an old report)" \
  bash -c "[ ! -e '$P/evidence/$drill60' ] && [ ! -e '$P/evidence/$old_report' ]"
check "the kept backups' evidence stays: the proving drill and the runs that made them" \
  bash -c "[ -d '$P/evidence/$drill50' ] && [ -d '$P/evidence/$maker50' ] && [ -d '$P/evidence/$maker1' ]"
check "and a kept backup's last drill, though it FAILed after the one that proved it" [ -d "$P/evidence/$drill50f" ]
check "another database's newest proven backup stays, though app has a newer one" \
  bash -c "[ -d '$P/backups/$o55' ] && [ -d '$P/backups/$o30' ] && [ -d '$P/evidence/$drillo55' ]"
check "young evidence and what is not a run folder stay" \
  bash -c "[ -d '$P/evidence/$young' ] && [ -d '$P/evidence/00-notes' ]"
check "the removed backup's maker run (60 days) is gone too: its backup is" [ ! -e "$P/evidence/$maker60" ]
ev=$(last_prune)
check "the evidence lists what it removed" grep -q "\"evidence_removed\":\[[^]]*$old_report" "$ev/summary.json"
check "without confirm= no copy is removed, and it says so" \
  grep -q 'none removed; give confirm=<db> to remove those older than 10 days' "$WORK/err"

# --- set-aside copies on the server -------------------------------------------------
for d in 40 30 20; do pg_sql src postgres "create database \"app__ffprev_$(ago $d)\"" > /dev/null; done
# A rollback's replaced copies and the failed ones restore kept, each kind on its own.
for d in 50 25; do pg_sql src postgres "create database \"app__ffbad_$(ago $d)\"" > /dev/null; done
for d in 60 35; do pg_sql src postgres "create database \"app__fffailed_$(ago $d)\"" > /dev/null; done
pg_sql src postgres "create database \"app__fffailed_$(ago 3)\"" > /dev/null
pg_sql src postgres "create database \"other__ffprev_$(ago 40)\"" > /dev/null
pg_sql src postgres "create database \"app__ffprevious\"" > /dev/null
all=$(dbs)
ff -q prune 2> "$WORK/err"
check "prune without confirm=: every copy stays" [ "$(dbs)" = "$all" ]
old2=$(mk_run 45 report)
ff -q prune confirm=nope 2> "$WORK/err"; code=$?
check "a wrong confirm=: exit 2, every copy stays ($(why "$WORK/err"))" bash -c "[ $code = 2 ] && [ '$(dbs)' = '$all' ]"
check "and it stopped before removing anything else (an old evidence folder stays)" [ -d "$P/evidence/$old2" ]
ff --dry-run prune confirm=app > "$WORK/out" 2> "$WORK/err"; code=$?
check "dry-run with confirm=: plans five drops, drops nothing (exit $code)" \
  bash -c "[ $code = 0 ] && [ \$(grep -cE 'drop_database' '$WORK/out') = 5 ] && [ '$(dbs)' = '$all' ]"
ff prune confirm=app 2> "$WORK/err"; code=$?
want="app app__ffbad_$(ago 25) app__fffailed_$(ago 3) app__ffprev_$(ago 20) app__ffprevious other__ffprev_$(ago 40)"
check "prune confirm=app: the copies older than 10 days go but the newest of each kind; others untouched (exit $code: $(dbs))" \
  bash -c "[ $code = 0 ] && [ '$(dbs)' = '$want' ]"
check "and it names what it dropped" grep -q "drop app__ffprev_$(ago 40)" "$WORK/err"
ev=$(last_prune)
listed=$(grep -o '"copies_removed":\[[^]]*\]' "$ev/summary.json" | grep -o 'app__ff[a-z]*_[0-9-]*' | sort | tr '\n' ' ')
want_listed=$(printf '%s\n' "app__ffprev_$(ago 40)" "app__ffprev_$(ago 30)" "app__ffbad_$(ago 50)" \
  "app__fffailed_$(ago 60)" "app__fffailed_$(ago 35)" | sort | tr '\n' ' ')
check "the evidence lists the dropped copies ($listed)" [ "$listed" = "$want_listed" ]
ff -q prune confirm=app 2> "$WORK/err"
check "the newest copy stays however old it is" [ "$(dbs)" = "$want" ]

finish
