#!/usr/bin/env bash
# The application's state at backup time (issue #15, item 2): the
# backup.app_state command's output, redacted like the snapshots, kept as
# compose_ps.txt, listed in the manifest and DIGEST. Optional, as the
# canon says: the command failing or missing is a warning and the backup
# still PASSes.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
why() { { grep -m 1 '^ffrun:' "$1" || tail -n 1 "$1"; } 2>/dev/null | head -c 300; }

# A stand-in for `docker compose ps --format json`: a real program whose
# output holds a secret under a secret-looking key and in a URL.
cat > "$WORK/compose-ps" <<'SH'
#!/bin/sh
echo '{"Name":"app-api-1","State":"running","Health":"healthy"}'
echo "password: hunter2-planted"
echo "DATABASE_URL=postgres://app:url-secret-planted@db/app"
echo "args: $*"
echo '{"Name":"app-db-1","Labels":"x","Env":"POSTGRES_PASSWORD=json-secret-planted"}'
SH
printf '#!/bin/sh\necho partial output\nexit 3\n' > "$WORK/fails"
chmod +x "$WORK/compose-ps" "$WORK/fails"

conf() { # conf DIR APP_STATE
  make_config "$1" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }" \
    "backup: { verify: rows, globals: none, app_state: $2 }"
}
newest() { ls -1d "$1"/backups/*/ 2>/dev/null | sed 's:/$::' | grep -E '/[0-9]{8}-[0-9]{6}(-[0-9]+)?$' | sort -V | tail -n 1; }

# --- the state is kept, redacted -------------------------------------------------
conf "$WORK/a" "[$WORK/compose-ps, --format, json]"
"$FFRUN" -c "$WORK/a/ffrun.yaml" backup 2> "$WORK/err"; code=$?
b=$(newest "$WORK/a"); ev=$(last_evidence "$WORK/a")
check "backup with app_state: PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
check "compose_ps.txt holds the command's output" grep -q '"Name":"app-api-1"' "$b/compose_ps.txt"
check "with its arguments as given" grep -qx 'args: --format json' "$b/compose_ps.txt"
check "compose_ps.txt is listed in DIGEST and sha256sum -c agrees" \
  bash -c "grep -q '  compose_ps.txt\$' '$b/DIGEST' && cd '$b' && sha256sum --quiet -c DIGEST"
check "compose_ps.txt is a manifest artifact" grep -q '"path":"compose_ps.txt"' "$b/manifest.json"
check "the planted password is redacted in compose_ps.txt" \
  bash -c "grep -q '^password: \[REDACTED\]' '$b/compose_ps.txt' && ! grep -q hunter2 '$b/compose_ps.txt'"
grep -q json-secret-planted "$b/compose_ps.txt"; code=$?
check "a secret KEY=VALUE inside a JSON line is redacted (grep exit $code)" [ $code = 1 ]
# grep's exit 1 (searched, not found), not 2 (nothing to search).
grep -q url-secret-planted "$b/compose_ps.txt"; code=$?
check "the URL's password is redacted too (grep exit $code)" [ $code = 1 ]
grep -rqa -e hunter2-planted -e url-secret-planted -e json-secret-planted "$WORK/a/backups" "$WORK/a/evidence"; code=$?
check "no planted secret anywhere in the backup or the evidence (grep exit $code)" [ $code = 1 ]
check "the evidence says app_state ok" grep -q '"app_state":{[^}]*"ok":true' "$ev/summary.json"
check "and the log how many values were redacted" grep -qE 'app_state: compose_ps.txt, [0-9]+ bytes, [1-9][0-9]* value\(s\) redacted' "$WORK/err"
"$FFRUN" -q verify path="$b" 2> "$WORK/err"
check "the backup verifies (ffrun verify)" [ $? = 0 ]

# --- a failing command: a warning, and a PASS backup -----------------------------
conf "$WORK/f" "[$WORK/fails]"
"$FFRUN" -c "$WORK/f/ffrun.yaml" backup 2> "$WORK/err"; code=$?
b=$(newest "$WORK/f"); ev=$(last_evidence "$WORK/f")
check "a failing app_state command: backup PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
check "with a warning naming the exit status ($(grep -m 1 'warn.*app_state' "$WORK/err" | head -c 200))" \
  grep -q "warn.*app_state $WORK/fails: exit 3" "$WORK/err"
check "the evidence says app_state not ok, and why" grep -q '"app_state":{[^}]*"ok":false' "$ev/summary.json"
check "no compose_ps.txt, and DIGEST still verifies" \
  bash -c "[ ! -e '$b/compose_ps.txt' ] && cd '$b' && sha256sum --quiet -c DIGEST"

# --- a program that is not installed: a warning, and a PASS backup ---------------
conf "$WORK/m" "[no-such-compose-ffrun, ps]"
"$FFRUN" -c "$WORK/m/ffrun.yaml" backup 2> "$WORK/err"; code=$?
check "a missing app_state program: backup PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
check "with a warning saying it is not found" grep -q 'warn.*program no-such-compose-ffrun not found' "$WORK/err"

# --- a bad value is a configuration error ----------------------------------------
conf "$WORK/bad" "docker"
"$FFRUN" -c "$WORK/bad/ffrun.yaml" backup 2> "$WORK/err"; code=$?
check "app_state that is not a list: exit 2 naming the key ($(why "$WORK/err"))" \
  bash -c "[ $code = 2 ] && grep -q 'backup.app_state' '$WORK/err'"
conf "$WORK/two" "[[$WORK/fails], [$WORK/fails]]"
"$FFRUN" -c "$WORK/two/ffrun.yaml" backup 2> "$WORK/err"; code=$?
check "two commands: exit 2, app_state is one command ($(why "$WORK/err"))" \
  bash -c "[ $code = 2 ] && grep -q 'backup.app_state is one command' '$WORK/err'"

# --- a rehearsal runs nothing -------------------------------------------------------
rm -f "$WORK/ran"
printf '#!/bin/sh\ntouch %s/ran\n' "$WORK" > "$WORK/marks"; chmod +x "$WORK/marks"
conf "$WORK/d" "[[$WORK/marks]]"
"$FFRUN" -q -c "$WORK/d/ffrun.yaml" --dry-run backup 2> "$WORK/err"; code=$?
check "dry-run backup with app_state: PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
check "and the command did not run" [ ! -e "$WORK/ran" ]

finish
