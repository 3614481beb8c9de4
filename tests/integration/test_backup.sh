#!/usr/bin/env bash
# The backup runbook against a real PostgreSQL (issue: backup). Each block
# is one acceptance check; see the ok/FAIL lines.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
pg_load_pgbench src app 3 || { nok "pgbench data loads"; finish; exit 1; }

WS=$WORK/ws
cat > "$WORK/docker-compose.yml" <<'YAML'
services:
  api:
    image: foxproflow/api
    environment:
      DATABASE_URL: postgres://app:UrlSecretPW321@db/app
      API_TOKEN: TokenValue654
  db:
    environment:
      - POSTGRES_PASSWORD=ComposeSecret789
    secret: SecretValue987
YAML
make_config "$WS" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }" \
  "snapshots: [ $WORK/docker-compose.yml ]"
# A password in pgpass and in the environment: libpq may read both, no file
# of ours may ever hold them.
echo "*:*:*:*:PgpassSecret456" > "$WORK/pgpass"; chmod 600 "$WORK/pgpass"
export PGPASSFILE=$WORK/pgpass PGPASSWORD=EnvSecret123
SECRETS="PgpassSecret456 EnvSecret123 ComposeSecret789 SecretValue987 TokenValue654 UrlSecretPW321"

ff() { "$FFRUN" -c "$WS/ffrun.yaml" "$@"; }
complete_backups() { ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$'; }

# --- layout, DIGEST, stock pg_restore, manifest against count(*) ----------
ff -q backup 2> "$WORK/err"; code=$?
check "backup passes (exit $code: $(tail -n 2 "$WORK/err"))" [ $code = 0 ]
stamp=$(complete_backups | tail -n 1)
B=$WS/backups/$stamp
check "one complete backup named by a UTC stamp" test -n "$stamp" -a -d "$B"
for f in db.dump globals.sql manifest.json backup.log DIGEST snapshots/docker-compose.yml; do
  check "layout: $f present" [ -f "$B/$f" ]
done
check "files are 0600, folders 0700" bash -c "[ -z \"\$(find '$B' -type f ! -perm 600)\" ] && [ -z \"\$(find '$B' -type d ! -perm 700)\" ]"
check "sha256sum -c DIGEST passes" bash -c "cd '$B' && sha256sum --quiet -c DIGEST"
check "DIGEST lists every other file" bash -c "cd '$B' && diff <(find . -type f ! -name DIGEST | sed 's:^\./::' | sort) <(awk '{print \$2}' DIGEST | sort)"
check "stock pg_restore -l reads db.dump" bash -c "pg_restore -l '$B/db.dump' | grep -q 'TABLE DATA public pgbench_accounts'"
check "no role password hashes in globals.sql" bash -c "! grep -qi 'PASSWORD' '$B/globals.sql'"
mkdir -p "$WORK/counts"
pg_tables src app > /dev/null
_pg_client src psql -X -qAt -d app -c "
  select format('%s.%s', n.nspname, c.relname), (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r','p') and not c.relispartition
     and n.nspname not in ('pg_catalog','information_schema')" -F ' ' > "$WORK/counts/counts.txt"
ff -q "$FF_TEST_SRC/integration/check_manifest.lua" path="$B" counts="$WORK/counts" 2> "$WORK/err"; code=$?
check "manifest has every SPEC key and row counts equal count(*) ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
ff -q "$FF_TEST_SRC/integration/expected_dump.lua" root="$WS/backups" 2> "$WORK/err"; code=$?
check "the next dump is expected to weigh the last one's db.dump, scaled by the database's growth ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
ff -q verify path="$B" 2> "$WORK/err"; code=$?
check "ffrun verify passes on the backup ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
ev=$(ls -1d "$WS"/evidence/*-backup*/ | sort -V | tail -n 1)
check "the fingerprints came from the dump's own stream (pg_restore-scan.log in raw/)" test -f "$ev/raw/pg_restore-scan.log"
check "a table with money is read on the server under lc_monetary C, not from pg_dump's text" \
  grep -q '"call":"pg.conn.fingerprints".*"name":"tips"' "$ev/events.jsonl"
ff -q "$FF_TEST_SRC/integration/manifest_vs_server.lua" path="$B" 2> "$WORK/err"; code=$?
check "manifest rows and content digests equal one COPY per table on the server ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
ff -q "$FF_TEST_SRC/integration/fingerprints_parallel.lua" 2> "$WORK/err"; code=$?
check "fingerprints over 1-3 connections equal one connection's, table by table ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
# A table over 64 MiB is read in page ranges by several connections: the
# same rows and digest as one COPY, wherever the ranges cut.
pg_createdb src big >/dev/null && pg_sql src big "
  create table wide as select g as id, repeat(md5(g::text), 8) as pad from generate_series(1, 300000) g;
  create table small (id int primary key, note text); insert into small values (1, 'one'), (2, NULL);
  create table empty (id int);" >/dev/null
make_config "$WORK/big" "targets: { prod: { conninfo: \"$(pg_conninfo src big)\" } }"
"$FFRUN" -q -c "$WORK/big/ffrun.yaml" "$FF_TEST_SRC/integration/fingerprints_parallel.lua" ranges=true 2> "$WORK/err"; code=$?
check "a table over 64 MiB read in page ranges equals one COPY of it ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]

# --- a row policy never shrinks what is proven -----------------------------
# A role the policy filters (FORCE: the owner too) reads 3 of 10 rows; the
# fingerprint must refuse, as pg_dump does, not prove the 3. A role with
# BYPASSRLS reads all 10.
pg_createdb src rls >/dev/null && pg_sql src rls "
  create role ffrls login; create role ffbypass login bypassrls;
  create table t (id int); insert into t select generate_series(1, 10);
  alter table t owner to ffrls; alter table t enable row level security; alter table t force row level security;
  create policy few on t using (id <= 3); grant select on t to ffbypass;" >/dev/null || nok "rls: the database"
cat > "$WORK/rls.lua" <<'LUA'
local rb = require "rb"
return {
  name = "rls", version = "1", summary = "test helper: fingerprint public.t",
  params = { { name = "target", type = "string", default = "prod", doc = "configured target" },
             { name = "mode", type = "string", default = "rows", doc = "rows or content" },
             { name = "parallel", type = "boolean", default = false, doc = "conn:fingerprints" } },
  steps = { { name = "fp", doc = "fingerprint public.t", run = function(p)
    local db = rb.must(ff.pg.connect(p.target))
    local rows
    if p.parallel then rows = rb.must(db:fingerprints({ { schema = "public", name = "t" } }, p.mode, 2))[1].rows
    else rows = rb.must(db:fingerprint("public", "t", p.mode)) end
    ff.log.info("rows " .. rows)
  end } },
}
LUA
rls_conf() { make_config "$WORK/rls-$1" "targets: { prod: { conninfo: \"host=$(pg_host src) port=$(pg_port src) user=$1 dbname=rls\" } }"; }
rls_conf ffrls; rls_conf ffbypass
for how in "mode=rows" "mode=content" "mode=rows parallel=true" "mode=content parallel=true"; do
  # shellcheck disable=SC2086
  "$FFRUN" -c "$WORK/rls-ffrls/ffrun.yaml" "$WORK/rls.lua" $how > /dev/null 2> "$WORK/err"; code=$?
  check "rls ($how): the role a FORCE policy filters: exit 1, row-level security named, no count ($(grep -m1 error "$WORK/err" | cut -c1-160))" \
    bash -c "[ $code = 1 ] && grep -q 'row-level security' '$WORK/err' && ! grep -q 'rows [0-9]' '$WORK/err'"
  # shellcheck disable=SC2086
  "$FFRUN" -c "$WORK/rls-ffbypass/ffrun.yaml" "$WORK/rls.lua" $how > /dev/null 2> "$WORK/err"; code=$?
  check "rls ($how): a BYPASSRLS role: all 10 rows ($code: $(tail -n 1 "$WORK/err"))" bash -c "[ $code = 0 ] && grep -q 'rows 10$' '$WORK/err'"
done

# --- secrets: none in any file under backups/ or evidence/ ----------------
leaked=""
for s in $SECRETS; do grep -rqF "$s" "$WS/backups" "$WS/evidence" && leaked+=" $s"; done
check "no password, secret or token in backups/ or evidence/ (leaked:$leaked)" [ -z "$leaked" ]
check "the compose snapshot kept its non-secret values" grep -q "foxproflow/api" "$B/snapshots/docker-compose.yml"

# --- a truncated and a flipped db.dump are refused, naming file and reason -
cp -a "$B" "$WORK/cut"; size=$(stat -c %s "$WORK/cut/db.dump")
truncate -s $((size * 60 / 100)) "$WORK/cut/db.dump"
"$FFRUN" -q -c "$WS/ffrun.yaml" verify path="$WORK/cut" 2> "$WORK/err"; code=$?
check "db.dump cut at 60%: exit 1 naming db.dump and the mismatch" bash -c "[ $code = 1 ] && grep -q 'db.dump: sha256 mismatch' '$WORK/err'"
# Even with DIGEST and manifest rewritten to match, reading the archive
# catches the cut: pg_restore --list alone would not.
check "pg_restore --list alone accepts the cut archive (why verify reads it all)" pg_restore -l "$WORK/cut/db.dump" -f /dev/null
(cd "$WORK/cut" && old=$(awk '$2 == "db.dump" { print $1 }' DIGEST) && sum=$(sha256sum db.dump | cut -d' ' -f1) &&
  sed -i "s/\"bytes\":$size\([,}]\)/\"bytes\":$(stat -c %s db.dump)\1/; s/$old/$sum/" manifest.json &&
  find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST)
"$FFRUN" -q -c "$WS/ffrun.yaml" verify path="$WORK/cut" 2> "$WORK/err"; code=$?
check "cut db.dump with matching DIGEST: exit 1, pg_restore cannot read it ($(tail -n 1 "$WORK/err" | head -c 160))" \
  bash -c "[ $code = 1 ] && grep -q 'db.dump: pg_restore cannot read the whole archive' '$WORK/err'"
cp -a "$B" "$WORK/flip"
printf '\x00\xff' | dd of="$WORK/flip/db.dump" bs=1 seek=$((size / 2)) conv=notrunc status=none
"$FFRUN" -q -c "$WS/ffrun.yaml" verify path="$WORK/flip" 2> "$WORK/err"; code=$?
check "flipped bytes in db.dump: exit 1 naming db.dump" bash -c "[ $code = 1 ] && grep -q 'db.dump: sha256 mismatch' '$WORK/err'"

# --- snapshot consistency under concurrent writes -------------------------
pg_sql src app "create table ticks (id bigserial primary key, at timestamptz default clock_timestamp())" >/dev/null
echo "insert into ticks default values;" > "$WORK/tick.sql"
_pg_client src pgbench -n -f "$WORK/tick.sql" -T 8 -c 2 app > "$WORK/pgbench.log" 2>&1 &
writer=$!
sleep 1
before=$(pg_sql src app "select count(*) from ticks")
ff -q backup 2> "$WORK/err"; code=$?
after=$(pg_sql src app "select count(*) from ticks")
wait $writer
stamp2=$(complete_backups | tail -n 1)
check "backup under write load passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
pg_createdb src restored >/dev/null
_pg_client src pg_restore -d restored "$WS/backups/$stamp2/db.dump" 2> "$WORK/restore.err"
in_dump=$(pg_sql src restored "select count(*) from ticks")
in_manifest=$(grep -o '{[^{}]*"name":"ticks"[^{}]*}' "$WS/backups/$stamp2/manifest.json" | grep '"schema":"public"' | grep -o '"rows":[0-9]*' | cut -d: -f2)
check "writes happened during the backup ($before before, $after after)" [ "$after" -gt "$before" ]
check "ticks: dump holds $in_dump rows, manifest says $in_manifest: the same snapshot" test -n "$in_dump" -a "$in_dump" = "$in_manifest"

# --- a second concurrent backup is refused at once (exit 4) ---------------
ff -q backup 2> "$WORK/err1" & first=$!
for _ in $(seq 100); do ls "$WS/backups" | grep -q partial && break; sleep 0.05; done
start=$(date +%s%N)
ff -q backup 2> "$WORK/err2"; code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $first; first_code=$?
check "concurrent backup exits 4 in ${ms} ms saying who holds the lock" \
  bash -c "[ $code = 4 ] && grep -q 'locked by another run (pid' '$WORK/err2' && [ $ms -lt 3000 ]"
check "the first backup still passes" [ $first_code = 0 ]

# --- SIGKILL at random moments: never a complete-looking broken backup ----
for i in $(seq 10); do
  # ffrun itself, not the ff function: $! of a backgrounded function is a
  # subshell, and killing that can leave ffrun running (and locking).
  "$FFRUN" -q -c "$WS/ffrun.yaml" backup 2>/dev/null & pid=$!
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done
bad=""
for s in $(complete_backups); do
  "$FFRUN" -q -c "$WS/ffrun.yaml" verify path="$WS/backups/$s" 2>/dev/null || bad+=" $s"
done
check "after 10 SIGKILLs every folder without .partial verifies (bad:$bad)" [ -z "$bad" ]
if flock -n "$WS/backups/.ffrun.lock" true; then
  ok "no lock left holding after the kills"
else
  nok "no lock left holding after the kills (holders: $(fuser -v "$WS/backups/.ffrun.lock" 2>&1 | tr '\n' ' '))"
  ps -eo pid,ppid,stat,etime,args | grep -E "ffrun|pg_dump|pg_restore" | grep -v grep >&2
fi
ff -q backup 2> "$WORK/err"; code=$?
check "the next backup succeeds ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "and it removed the .partial folders the kills left" bash -c "! ls '$WS/backups' | grep -q partial"

# --- SIGTERM while db.dump is read back, after pg_dump has ended ----------
# The content digests come from pg_restore reading db.dump behind the
# writer. Stopping that pg_restore (SIGSTOP) holds the read-back still, so
# pg_dump ends first and the signal lands in exactly that stretch: the run
# must end at once (killing what it started), not wait for a read-back
# that cannot move. Twice: an archive bigger than the pipe to pg_restore
# (the follower still feeds it) and one that fits (the follower is done).
sigterm_during_readback() { # NAME WORKSPACE
  local name=$1 ws=$2 pid reader="" dumper_seen="" dumper_gone="" code ms ev n_before
  n_before=$(ls -1 "$ws/backups" | grep -cE '^[0-9]{8}-[0-9]{6}$')
  "$FFRUN" -q -c "$ws/ffrun.yaml" backup 2> "$WORK/err" & pid=$!
  for _ in $(seq 1000); do
    [ -z "$reader" ] && reader=$(pgrep -P $pid -f -- "pg_restore --data-only") && kill -STOP $reader
    # pg_dump seen running, or (a tiny archive: it may come and go between
    # two looks) gone with the archive written: db.dump is not empty.
    if pgrep -P $pid -x pg_dump >/dev/null; then dumper_seen=1
    elif [ -n "$reader" ] && { [ -n "$dumper_seen" ] ||
         [ -s "$(ls -d "$ws"/backups/*.partial 2>/dev/null | head -n 1)/db.dump" ]; }; then dumper_gone=1; break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
  done
  check "$name: pg_dump ran and ended while the stopped pg_restore held the read-back (reader pid ${reader:-none})" \
    test -n "$reader" -a -n "$dumper_gone"
  check "$name: ffrun is still running then" kill -0 $pid
  local start; start=$(date +%s%N)
  kill -TERM $pid
  for _ in $(seq 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then
    nok "$name: ffrun still runs 15 s after SIGTERM"
    kill -9 $pid; [ -n "$reader" ] && kill -9 $reader
  fi
  wait $pid; code=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  # This backup's own evidence: a verify of the same second sorts after it.
  ev=$(ls -1d "$ws"/evidence/*-backup*/ | sed 's:/$::' | sort -V | tail -n 1)
  check "$name: exit 1 in ${ms} ms, within the 2 s kill grace (the stopped child was continued to act on SIGTERM)" \
    [ $code = 1 -a $ms -lt 2000 ]
  check "$name: FAIL evidence naming the signal, sealed ($(grep -o '"error":"[^"]*"' "$ev/summary.json" | head -n 1 | cut -c1-200))" \
    bash -c "grep -q '\"status\":\"FAIL\"' '$ev/summary.json' && grep -q 'SIGTERM' '$ev/summary.json' && cd '$ev' && sha256sum --quiet -c DIGEST"
  check "$name: the stopped pg_restore is gone" bash -c "[ -z \"\$(ps -o stat= -p ${reader:-0} | grep -v Z)\" ]"
  check "$name: no .partial left, no backup added" \
    bash -c "! ls '$ws/backups' | grep -q partial && [ \$(ls -1 '$ws/backups' | grep -cE '^[0-9]{8}-[0-9]{6}\$') = $n_before ]"
  check "$name: the lock is free" flock -n "$ws/backups/.ffrun.lock" true
}
sigterm_during_readback "SIGTERM during the read-back" "$WS"
pg_createdb src tiny >/dev/null && pg_sql src tiny "create table t (id int primary key, note text); insert into t select g, 'n' || g from generate_series(1, 100) g" >/dev/null
# A tiny archive is read back in a blink, too fast to catch reliably from
# outside (under ASan the catch missed it): this workspace's pg_restore
# stops itself when started for the read-back, so the stretch is sure.
REAL=$(_pg_find_bindir)
mkdir -p "$WORK/stopbin"
for t in pg_dump pg_dumpall; do ln -s "$REAL/$t" "$WORK/stopbin/$t"; done
printf '#!/bin/sh\ncase " $* " in *" --data-only "*) kill -STOP $$ ;; esac\nexec %s/pg_restore "$@"\n' "$REAL" > "$WORK/stopbin/pg_restore"
chmod +x "$WORK/stopbin/pg_restore"
make_config "$WORK/tiny" "targets: { prod: { conninfo: \"$(pg_conninfo src tiny)\" } }" "backup: { globals: none }" \
  "postgres: { bindir: $WORK/stopbin }"
sigterm_during_readback "SIGTERM during the read-back of an archive that fits in the pipe" "$WORK/tiny"

# --- bad inputs: one clear line, FAIL evidence, no complete backup --------
n_before=$(complete_backups | wc -l)
fails() { # fails NAME CONFIG-LINES... : the backup must fail cleanly
  local name=$1; shift
  make_config "$WORK/bad" "$@"
  "$FFRUN" -q -c "$WORK/bad/ffrun.yaml" backup > "$WORK/out" 2> "$WORK/err"; local code=$?
  local ev; ev=$(last_evidence "$WORK/bad")
  local lines; lines=$(grep -c '^ffrun: ' "$WORK/err")
  check "$name: exit $code, one line: $(grep '^ffrun: ' "$WORK/err" | head -c 200)" \
    bash -c "[ $code = 1 ] && [ $lines = 1 ]"
  check "$name: FAIL evidence that verifies" bash -c "[ -f '$ev/summary.json' ] && grep -q '\"status\":\"FAIL\"' '$ev/summary.json' && cd '$ev' && sha256sum --quiet -c DIGEST"
  check "$name: no complete-looking backup" bash -c "[ -z \"\$(ls -A '$WORK/bad/backups' | grep -v '^\.ffrun\.lock$')\" ]"
  rm -rf "$WORK/bad"
}
fails "server down" "targets: { prod: { conninfo: \"host=$WORK/nosuchsock port=1 user=postgres dbname=app\" } }"
fails "unknown database" "targets: { prod: { conninfo: \"$(pg_conninfo src nosuchdb)\" } }"
mkdir -p "$WORK/emptybin"
fails "pg_dump missing" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }" "postgres: { bindir: $WORK/emptybin }"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$WORK/small"
  mount -t tmpfs -o size=2m tmpfs "$WORK/small"
  make_config "$WORK/bad" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }"
  sed -i "s|backups: .*|backups: $WORK/small|" "$WORK/bad/ffrun.yaml"
  "$FFRUN" -q -c "$WORK/bad/ffrun.yaml" backup > /dev/null 2> "$WORK/err"; code=$?
  check "disk full: exit 1 naming the cause ($(grep '^ffrun: ' "$WORK/err" | head -c 200))" \
    bash -c "[ $code = 1 ] && grep -qiE 'No space left|not enough room' '$WORK/err'"
  check "disk full: nothing left but the lock" bash -c "[ -z \"\$(ls -A '$WORK/small' | grep -v '^\.ffrun\.lock$')\" ]"
  umount "$WORK/small"
else
  nok "disk full: needs root to mount a small tmpfs (not run)"
fi
check "the failures added no complete backup" [ "$(complete_backups | wc -l)" = "$n_before" ]

# --- a backup whose second is taken ---------------------------------------
# A stamp names a second: a backup that finds its second taken (the backup
# before it finished within it) takes the next one instead of failing.
while [ "$(date +%N | cut -c1)" != 0 ]; do sleep 0.01; done
taken=$(date -u +%Y%m%d-%H%M%S)
mkdir "$WS/backups/$taken"
ff -q backup 2> "$WORK/err"; code=$?
newest=$(complete_backups | tail -n 1)
check "a backup in a taken second passes under the next stamp ($taken -> $newest, exit $code)" \
  test $code = 0 -a "$newest" != "$taken" -a -f "$WS/backups/$newest/DIGEST"
rmdir "$WS/backups/$taken"

# --- dry-run writes nothing ------------------------------------------------
ls -la "$WS/backups" > "$WORK/ls-before"
ff --dry-run backup > "$WORK/out" 2> "$WORK/err"; code=$?
ls -la "$WS/backups" > "$WORK/ls-after"
check "dry-run backup passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "dry-run backup writes nothing to backups/" diff -q "$WORK/ls-before" "$WORK/ls-after"
check "dry-run plans the dump" grep -q 'pg.dump' "$WORK/out"
finish
