#!/usr/bin/env bash
# The gate (issue #15, item 1) against a real PostgreSQL: exit 1 with a
# line naming what is missing (no backup, too old, never drilled, last
# drill FAILed), exit 0 for a backup a real drill proved, and fresh=true
# taking and drilling one itself. Every exit line names the backup and the
# drill; the evidence records gate {backup, age_s, max_age_s, drill_run,
# verdict}.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src >/dev/null || { nok "server starts"; finish; exit 1; }
pg_load_sample src app >/dev/null || { nok "sample loads"; finish; exit 1; }
pg_load_sample src other >/dev/null || { nok "second db loads"; finish; exit 1; }
WS=$WORK/ws
make_config "$WS" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, other: { conninfo: \"$(pg_conninfo src other)\" }, drill: { ephemeral: true } }"
ff() { "$FFRUN" -c "$WS/ffrun.yaml" "$@"; }
# gate [PARAMS...]: sets code, out (stdout), err (the ffrun: line), ev
gate() {
  ff gate "$@" > "$WORK/out" 2> "$WORK/err"; code=$?
  out=$(grep '^gate PASS' "$WORK/out"); err=$(grep '^ffrun: ' "$WORK/err" | tail -n 1)
  ev=$(sed -n 's/^evidence: //p' "$WORK/out")
}
gate_field() { # gate_field KEY: the gate evidence's value of KEY
  "$FFRUN" -q -c "$WS/ffrun.yaml" verify path="$ev" >/dev/null 2>&1 || { echo "(evidence does not verify)"; return; }
  grep -o "\"gate\":{[^}]*}" "$ev/summary.json" | grep -o "\"$1\":[^,}]*" | cut -d: -f2- | tr -d '"'
}

# --- usage: bad params are exit 2 ------------------------------------------
ff -q gate max_age=0 2>/dev/null; c=$?
check "max_age=0 is a usage error (exit $c)" [ $c = 2 ]
ff -q gate target=drill 2>/dev/null; c=$?
check "an ephemeral target is a usage error (exit $c)" [ $c = 2 ]
check "--check passes" ff -q --check "$FF_SRC/runbooks/gate.lua"
check "--describe names the params" bash -c "'$FFRUN' --describe gate | grep -q 'max_age' && '$FFRUN' --describe gate | grep -q fresh"

# --- no backup at all ----------------------------------------------------------
gate
check "no backup: exit 1 ($code: $err)" bash -c "[ $code = 1 ] && grep -q 'no backup of target prod (database app' <<< '$err'"
check "no backup: evidence verdict FAIL, reason no backup" \
  bash -c "[ '$(gate_field verdict)' = FAIL ] && [ '$(gate_field reason)' = 'no backup' ]"
ff --dry-run gate > "$WORK/dry" 2>&1; c=$?
check "--dry-run gate passes and reports the verdict a run would give (exit $c)" \
  bash -c "[ $c = 0 ] && grep -q 'rehearsal: a run would FAIL: no backup' '$WORK/dry'"

# --- a backup never drilled -------------------------------------------------
ff -q backup 2> "$WORK/e" || { nok "backup: $(tail -n 1 "$WORK/e")"; finish; exit 1; }
stamp=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
gate
check "never drilled: exit 1 naming $stamp ($code: $err)" \
  bash -c "[ $code = 1 ] && grep -q 'backup $stamp (age [0-9]* s, limit 86400 s) was never drilled' <<< '$err' && grep -q 'drill: none' <<< '$err'"
check "never drilled: evidence names the backup" bash -c "[ '$(gate_field backup)' = $stamp ] && [ '$(gate_field reason)' = 'never drilled' ]"
# A rehearsal of a drill proves nothing.
ff -q --dry-run drill 2>/dev/null
gate
check "a dry-run drill does not count ($code)" bash -c "[ $code = 1 ] && grep -q 'never drilled' <<< '$err'"
# Another database's backup does not count for this one.
gate target=other
check "a backup of another database does not count (target=other: $code: $err)" \
  bash -c "[ $code = 1 ] && grep -q 'no backup of target other (database other' <<< '$err'"

# --- its last drill FAILed (an RTO objective no drill can meet) ---------------
cp "$WS/ffrun.yaml" "$WORK/ffrun.yaml.orig"
sed -i '$a objectives: { rpo_hours: 24, rto_minutes: 0.0001 }' "$WS/ffrun.yaml"
ff drill > "$WORK/dout" 2>/dev/null; dc=$?
failed_run=$(basename "$(sed -n 's/^evidence: //p' "$WORK/dout")")
cp "$WORK/ffrun.yaml.orig" "$WS/ffrun.yaml"
check "setup: the drill FAILed (exit $dc, run $failed_run)" [ $dc = 1 ]
gate
check "last drill FAILed: exit 1 naming $stamp and the drill run $failed_run ($err)" \
  bash -c "[ $code = 1 ] && grep -qF 'backup $stamp (age' <<< '$err' && grep -qF 'its last drill FAILed: $failed_run (' <<< '$err' && grep -q 'objectives missed' <<< '$err'"
check "last drill FAILed: evidence drill_run = $failed_run" \
  bash -c "[ '$(gate_field drill_run)' = $failed_run ] && [ '$(gate_field reason)' = 'drill failed' ]"

# --- drilled and PASSed: exit 0 naming both ----------------------------------
ff drill > "$WORK/dout" 2> "$WORK/e"; dc=$?
pass_run=$(basename "$(sed -n 's/^evidence: //p' "$WORK/dout")")
check "setup: the drill PASSed (exit $dc, run $pass_run)" [ $dc = 0 ]
gate
check "proved: exit 0 naming $stamp and $pass_run ($code: $out)" \
  bash -c "[ $code = 0 ] && grep -qE 'gate PASS: backup $stamp \(age [0-9ms]+ = [0-9]+ s, limit 86400 s\) proved by drill $pass_run$' <<< '$out'"
check "proved: evidence {backup, age_s, max_age_s, drill_run, verdict}" \
  bash -c "[ '$(gate_field backup)' = $stamp ] && [ '$(gate_field drill_run)' = $pass_run ] && [ '$(gate_field verdict)' = PASS ] && [ '$(gate_field max_age_s)' = 86400 ] && [ -n '$(gate_field age_s)' ]"
check "proved: --json gives the same verdict" bash -c "'$FFRUN' -c '$WS/ffrun.yaml' --json gate 2>/dev/null | grep -q '\"verdict\":\"PASS\"'"
check "ffrun gate && ./migrate runs the migration" bash -c "'$FFRUN' -q -c '$WS/ffrun.yaml' gate >/dev/null && touch '$WORK/migrated'; [ -e '$WORK/migrated' ]"

# The PASS drill's evidence, changed after it was sealed: it proves nothing.
pev=$WS/evidence/$pass_run
cp "$pev/summary.json" "$WORK/summary.keep"
sed -i 's/"rto_s":/"rto_s" :/' "$pev/summary.json"
gate
check "a proving drill whose evidence no longer checks against its DIGEST: exit 1 naming it ($err)" \
  bash -c "[ $code = 1 ] && grep -qF 'the evidence of drill $pass_run does not check against its DIGEST' <<< \"\$1\"" _ "$err"
cp "$WORK/summary.keep" "$pev/summary.json"
gate
check "sealed again (the file restored): exit 0 ($code)" [ $code = 0 ]

# examples/gate/migrate.sh: the migration runs after a PASS, not after a FAIL.
mkdir -p "$WORK/bin" && ln -sf "$FFRUN" "$WORK/bin/ffrun"
mig() { PATH="$WORK/bin:$PATH" FFRUN_CONFIG="$WS/ffrun.yaml" "$@" bash "$FF_SRC/examples/gate/migrate.sh" touch "$WORK/migrated2" > /dev/null 2>&1; }
mig env; c=$?
check "examples/gate/migrate.sh runs the migration on a PASS ($c)" bash -c "[ $c = 0 ] && [ -e '$WORK/migrated2' ]"
rm -f "$WORK/migrated2"; sleep 2
mig env GATE_MAX_AGE=1; c=$?
check "examples/gate/migrate.sh refuses on a FAIL, the migration not run ($c)" bash -c "[ $c = 1 ] && [ ! -e '$WORK/migrated2' ]"

# --- too old: the same proved backup, against a smaller max_age ---------------
sleep 2
gate max_age=1
check "too old: exit 1 naming $stamp, its age and the limit, and its drill ($code: $err)" \
  bash -c "[ $code = 1 ] && grep -qE 'newest backup $stamp is too old: age [0-9ms]+ = [0-9]+ s, the limit is 1 s \(drill $pass_run PASS\)' <<< '$err'"
check "too old: evidence reason" bash -c "[ '$(gate_field reason)' = 'too old' ] && [ '$(gate_field max_age_s)' = 1 ]"
# The default limit is the RPO: an objective of one second makes it too old.
sed -i '$a objectives: { rpo_hours: 0.0003, rto_minutes: 90 }' "$WS/ffrun.yaml"
gate
cp "$WORK/ffrun.yaml.orig" "$WS/ffrun.yaml"
check "max_age defaults to objectives.rpo_hours (1 s): too old ($err)" \
  bash -c "[ $code = 1 ] && grep -q 'the limit is 1 s' <<< '$err'"
# A backup made old by its STAMP: the proved one renamed to a day ago,
# re-sealed (the DIGEST lists files, not the folder's name).
old=$(date -u -d '-2 days' +%Y%m%d-%H%M%S)
cp -a "$WS/backups/$stamp" "$WS/backups/$old"
mv "$WS/backups/$stamp" "$WORK/kept-$stamp"
gate
check "an old STAMP, never drilled: too old, naming $old ($err)" \
  bash -c "[ $code = 1 ] && grep -qE 'newest backup $old is too old: age [0-9.]+d = [0-9]+ s, the limit is 86400 s \(drill: none\)' <<< '$err'"
rm -rf "$WS/backups/$old"; mv "$WORK/kept-$stamp" "$WS/backups/$stamp"

# --- a newer backup, not yet drilled, beside the proved one: still PASS --------
sleep 1
ff -q backup 2>/dev/null
gate
check "a newer undrilled backup beside a proved one: PASS on the proved one ($out)" \
  bash -c "[ $code = 0 ] && grep -q 'backup $stamp ' <<< '$out'"

# --- fresh=true: backs up and drills now, then PASSes on that backup -----------
before=$(ls -1 "$WS/backups" | grep -cE '^[0-9]{8}-[0-9]{6}$')
gate fresh=true
after=$(ls -1 "$WS/backups" | grep -cE '^[0-9]{8}-[0-9]{6}$')
new=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
fresh_drill=$(gate_field drill_run)
check "fresh=true: exit 0 ($code: $out$err), one more backup ($before -> $after)" \
  bash -c "[ $code = 0 ] && [ $after = $((before + 1)) ]"
check "fresh=true: the line names the fresh backup $new and its drill $fresh_drill" \
  bash -c "grep -qE 'gate PASS: backup $new .* proved by drill $fresh_drill$' <<< '$out' && [ -d '$WS/evidence/$fresh_drill' ]"
check "fresh=true: the drill is a real run of its own, PASS, naming $new" \
  bash -c "grep -q '\"mode\":\"run\"' '$WS/evidence/$fresh_drill/summary.json' && grep -q '\"status\":\"PASS\"' '$WS/evidence/$fresh_drill/summary.json' && grep -q '\"stamp\":\"$new\"' '$WS/evidence/$fresh_drill/summary.json'"
check "fresh=true: the children's logs are in the gate's evidence" \
  bash -c "[ -s '$ev/raw/runbook-backup.log' ] && [ -s '$ev/raw/runbook-drill.log' ]"
# fresh=true whose drill FAILs: the gate FAILs naming the drill's run.
sed -i '$a objectives: { rpo_hours: 24, rto_minutes: 0.0001 }' "$WS/ffrun.yaml"
gate fresh=true
cp "$WORK/ffrun.yaml.orig" "$WS/ffrun.yaml"
new=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
check "fresh=true, the drill FAILs: exit 1 naming the fresh backup $new and the drill's run ($err)" \
  bash -c "[ $code = 1 ] && grep -qE 'drill backup=$new FAILed \(exit 1, evidence run [0-9]{8}-[0-9]{6}-drill(-[0-9]+)?\): step objectives failed: objectives missed' <<< '$err'"
# fresh=true against a server that is down: the backup FAILs, so does the gate.
make_config "$WORK/down" "targets: { prod: { conninfo: \"host=/nonexistent dbname=app\" }, drill: { ephemeral: true } }"
"$FFRUN" -c "$WORK/down/ffrun.yaml" gate fresh=true > /dev/null 2> "$WORK/e"; c=$?
check "an unreachable target: exit 1 before any backup is tried ($c: $(grep '^ffrun:' "$WORK/e" | head -c 160))" [ $c = 1 ]
# A rehearsal of fresh=true plans both runs and runs neither.
n_before=$(ls -1 "$WS/evidence" | wc -l)
ff --dry-run gate fresh=true > "$WORK/dry" 2>&1; c=$?
n_after=$(ls -1 "$WS/evidence" | wc -l)
check "--dry-run gate fresh=true: exit 0, both runs planned, none run ($c, $n_before -> $n_after evidence folders)" \
  bash -c "[ $c = 0 ] && grep -qE '^ +plan +[0-9]+ +\[backup\] runbook.run ' '$WORK/dry' && grep -qE '^ +plan +[0-9]+ +\[drill\] runbook.run ' '$WORK/dry' && [ $n_after = $((n_before + 1)) ]"
finish
