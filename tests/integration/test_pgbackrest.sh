#!/usr/bin/env bash
# test_pgbackrest.sh - engine pgbackrest against a real server and real
# pgBackRest (posix repositories in this test's folder), as postgres when
# root: archive_mode on, archive_command = pgbackrest archive-push,
# wal_level logical.
#   a. backup under writes, then a drill to the proof point L: PASS, exact
#   b. the same drill FAILs naming the table when the manifest's L is moved
#      earlier (re-sealed), and when a table's fingerprint is changed
#   c. a WAL segment removed from the repository: the drill FAILs naming it
#   d. an encrypted repository (aes-256-cbc, passphrase in pgbackrest.conf)
#      works; the passphrase is in no output, log, backup or evidence file
#   e. a drill to a time between two commits sees the first, not the second
#   f. SIGTERM during a drill: no instance left, an honest FAIL
#   g. without logical WAL: a restore point, proof level integrity said
#   h. a tampered file of the backup set: the drill FAILs (pgbackrest restore)
# Also: config errors with file:line, rehearsals, verify, a restore into
# another target refused (test_pgbackrest_restore.sh restores).
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

source "$(dirname "$0")/../harness/pgbr.sh"

# Config errors name file:line.
bad=$WORK/bad
mkdir -p "$bad"
printf 'targets:\n  prod:\n    engine: pgbackrest\n' > "$bad/a.yaml"
"$FFRUN" -c "$bad/a.yaml" --check "$FF_SRC/runbooks/backup.lua" > /dev/null 2> "$bad/a.err"; rc=$?
check "config: engine pgbackrest without pgbackrest: exit 2 naming file:line" \
  bash -c "[ $rc = 2 ] && grep -q 'a.yaml:3:.*engine pgbackrest needs pgbackrest' '$bad/a.err'"
printf 'targets:\n  prod:\n    engine: pgbackrest\n    pgbackrest: { stanza: main, config: /nonexistent/pgbackrest.conf }\n' > "$bad/b.yaml"
"$FFRUN" -c "$bad/b.yaml" --check "$FF_SRC/runbooks/backup.lua" > /dev/null 2> "$bad/b.err"; rc=$?
check "config: a missing pgbackrest config file: exit 2 naming file:line" \
  bash -c "[ $rc = 2 ] && grep -q 'b.yaml:4:.*nonexistent/pgbackrest.conf' '$bad/b.err'"
printf 'targets:\n  prod:\n    engine: rsync\n' > "$bad/c.yaml"
"$FFRUN" -c "$bad/c.yaml" --check "$FF_SRC/runbooks/backup.lua" > /dev/null 2> "$bad/c.err"; rc=$?
check "config: an unknown engine: exit 2 naming file:line" \
  bash -c "[ $rc = 2 ] && grep -q 'c.yaml:3:.*pg_dump or pgbackrest' '$bad/c.err'"

# ---- a. backup under writes, drill to L ------------------------------------
pg_sql src sample "CREATE TABLE ff_writes (id bigserial PRIMARY KEY, v text, at timestamptz DEFAULT now())" ||
  nok "ff_writes created"
writer() { # inserts until $WORK/writing goes
  while [ -e "$WORK/writing" ]; do
    pg_sql src sample "INSERT INTO ff_writes (v) SELECT md5(random()::text) FROM generate_series(1, 20);
      UPDATE orders SET id = id WHERE id = (SELECT min(id) FROM orders)" > /dev/null 2>&1 || true
  done
}
touch "$WORK/writing"
writer &
WRITER=$!
sleep 1
t0=$(date +%s.%N)
ff backup type=full > "$WORK/backup.out" 2> "$WORK/backup.err"; rc=$?
t1=$(date +%s.%N)
rm -f "$WORK/writing"
wait "$WRITER"
echo "# backup took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
check "a: backup engine pgbackrest under writes: exit 0 ($(why "$WORK/backup.err"))" [ "$rc" = 0 ]
B=$WS/backups/$(newest)
M=$B/manifest.json
check "a: the backup folder is sealed (sha256sum -c DIGEST)" bash -c "cd '$B' && sha256sum --quiet -c DIGEST"
check "a: no db.dump: the data stays in the repository" [ ! -e "$B/db.dump" ]
check "a: backup.log, pgbackrest_info.json and the inventories are there" \
  bash -c "[ -s '$B/backup.log' ] && [ -s '$B/pgbackrest_info.json' ] && [ -s '$B/schema.tsv' ] && [ -s '$B/large_objects.tsv' ]"
check "a: manifest: engine pgbackrest, a label, proof level exact at an LSN" jcheck "$M" "
assert(j.engine == 'pgbackrest' and j.pgbackrest.label:match('^%d+%-%d+F$'), 'engine, label')
assert(j.proof.level == 'exact' and j.proof.lsn:match('^%x+/%x+$'), 'proof level, L')
assert(#j.proof.wal_segment == 24 and j.proof.wal_segment:match('^%x+$'), 'wal_segment')
local w; for _, t in ipairs(j.tables) do if t.name == 'ff_writes' then w = t end end
assert(w and w.rows > 0 and #w.content_sha256 == 64, 'ff_writes fingerprinted')
assert(j.database and j.schema_inventory.objects > 0 and j.large_objects.count > 0, 'categories')
assert(j.pgbackrest.info == 'pgbackrest_info.json' and j.source.wal_segment_size == 16777216, 'info, segment size')
local u; for _, t in ipairs(j.tables) do if t.name == 'ul_cache' then u = t end end
assert(u and u.unlogged and u.rows == 0 and u.content_sha256 == string.rep('0', 64), 'ul_cache: unlogged, proved empty')"
rows_at_l=$(jget "$M" "(function() for _, t in ipairs(j.tables) do if t.name == 'ff_writes' then return t.rows end end end)()")
rows_now=$(pg_sql src sample "select count(*) from ff_writes")
check "a: writes went on past the proof point ($rows_at_l rows at L, $rows_now now)" [ "$rows_now" -gt "$rows_at_l" ]
check "a: the proof point's slot is gone from the source" \
  bash -c "[ \"\$(printf 'select count(*) from pg_replication_slots' | PGHOST='$SOCK' PGPORT='$PORT' PGUSER=postgres psql -X -qAt -d postgres)\" = 0 ]"

# Writes go on during the drill too: it must not matter.
touch "$WORK/writing"
writer &
WRITER=$!
t0=$(date +%s.%N)
ff drill > "$WORK/drill.out" 2> "$WORK/drill.err"; rc=$?
t1=$(date +%s.%N)
rm -f "$WORK/writing"
wait "$WRITER"
echo "# drill took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
EV=$(last_drill)
check "a: drill to L: exit 0 ($(why "$WORK/drill.err"))" [ "$rc" = 0 ]
check "a: drill: PASS, proof level exact, tables, large objects and schema compared" jcheck "$EV/summary.json" "
assert(j.status == 'PASS' and j.proof_level == 'exact', 'status, proof level')
local v = j.verification
assert(v.tables > 0 and next(v.mismatches) == nil and v.large_objects > 0 and v.schema_objects > 0, 'verification')
assert(j.restore.type == 'lsn' and j.rto_s > 0 and j.rpo_from == 'the proof point', 'restore, rto, rpo')"
check "a: drill evidence sealed" bash -c "cd '$EV' && sha256sum --quiet -c DIGEST"
L=$(jget "$M" j.proof.lsn)
check "a: the restored server stopped just before L ($L), as its log in the evidence says" \
  grep -q "recovery stopping before WAL location (LSN) \"$L\"" "$EV/raw/instance.log"
folder=$(jget "$EV/summary.json" j.restore.folder)
check "a: the drill's instance is gone ($folder)" [ ! -e "$folder" ]

# The report shows the point-in-time window the repository holds.
ff report > "$WORK/report.out" 2> "$WORK/report.err"; rc=$?
max=$(as_pg pgbackrest --config="$BR/plain.conf" --stanza=main info --output=json | grep -o '"max":"[0-9A-F]*"' | cut -d'"' -f4 | sort | tail -n 1)
sets=$(as_pg pgbackrest --config="$BR/plain.conf" --stanza=main info --output=json | grep -o '"label":"' | wc -l)
check "a: report: the PITR window of prod, stanza main, $sets set(s), to the newest WAL archived ($max)" \
  bash -c "[ $rc = 0 ] && [ -n '$max' ] && grep -E '^prod +main +$sets +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z +$max\$' '$WORK/report.out'"

# Rehearsals: they plan the writes and do none (no new backup set).
sets() { as_pg pgbackrest --config="$BR/plain.conf" --stanza=main info --output=json | grep -o '"label"' | wc -l; }
before=$(sets)
ff --dry-run backup > "$WORK/dry.out" 2> "$WORK/dry.err"; rc=$?
check "a: backup --dry-run: exit 0, no new backup set ($(why "$WORK/dry.err"))" \
  bash -c "[ $rc = 0 ] && [ '$(sets)' = '$before' ] && grep -q 'pgbackrest.backup' '$(ls -1d "$WS"/evidence/*-backup* | sort -V | tail -n 1)/events.jsonl'"
# A plan of a backup names the proof point's writes (running a backup's
# plan is not expected to work: its content digests are only known then).
ff -q --dry-run --plan-out "$WORK/plan.json" backup type=incr > /dev/null 2> "$WORK/plan.err"; rc=$?
check "a: backup --dry-run --plan-out: exit 0, the slot and the pgbackrest backup planned ($(why "$WORK/plan.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'pgbackrest.backup' '$WORK/plan.json' && grep -q 'logical_snapshot' '$WORK/plan.json'"
ff --dry-run drill > "$WORK/dry.out" 2> "$WORK/dry.err"; rc=$?
check "a: drill --dry-run: exit 0 ($(why "$WORK/dry.err"))" [ "$rc" = 0 ]
# A drill's plan, reviewed, then run exactly.
ff -q --dry-run --plan-out "$WORK/drill.plan" drill > /dev/null 2> "$WORK/dplan.err"; rc=$?
check "a: drill --dry-run --plan-out: exit 0, the restored instance planned ($(why "$WORK/dplan.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'pg.instance' '$WORK/drill.plan'"
ff -q --plan "$WORK/drill.plan" > /dev/null 2> "$WORK/dplan.err"; rc=$?
check "a: that drill plan runs: exit 0, PASS ($(why "$WORK/dplan.err"))" \
  bash -c "[ $rc = 0 ] && [ \"\$(grep -o '\"status\":\"[A-Z]*\"' '$(last_drill)/summary.json' | head -n 1)\" = '\"status\":\"PASS\"' ]"

ff verify "path=$B" > "$WORK/v.out" 2> "$WORK/v.err"; rc=$?
check "a: verify of the backup folder: exit 0, pgbackrest verify of the repository and the WAL to L whole ($(why "$WORK/v.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'repo1: verify ok; set $(jget "$M" j.pgbackrest.label) and the [0-9]* WAL segments from [0-9A-F]* to the proof point.s $(jget "$M" j.proof.wal_segment) are there' '$WORK/v.err'"
ff restore target=drill confirm=sample > "$WORK/r.out" 2> "$WORK/r.err"; rc=$?
check "a: restore of a pgBackRest backup into another target is refused, before any write ($(why "$WORK/r.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'a physical restore replaces that cluster only' '$WORK/r.err'"

# ---- b. the proved thing changed, re-sealed --------------------------------
reseal() { (cd "$1" && find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST); }
# forge NAME CODE: a copy of B whose manifest CODE changed (j is it).
forge() {
  local f=$WS/backups/20991231-00000$1
  rm -rf "$f" && cp -a "$B" "$f" && jset "$f/manifest.json" "$2" && reseal "$f" && echo "$f"
}
# L moved back halfway to where the backup itself ended (the writes went
# on between): the transactions after it are not replayed, and the table
# the writes filled differs.
F=$(forge 1 "
local function h(s) local a, b = s:match('^(%x+)/(%x+)$'); return tonumber(a, 16) * 4294967296 + tonumber(b, 16) end
local x = (h(j.pgbackrest.lsn.stop) + h(j.proof.lsn)) // 2
j.proof.lsn = string.format('%X/%X', x // 4294967296, x % 4294967296)")
check "b: the forged backup (L moved earlier) is sealed" bash -c "cd '$F' && sha256sum --quiet -c DIGEST"
ff drill backup=20991231-000001 > "$WORK/b1.out" 2> "$WORK/b1.err"; rc=$?
check "b: drill to an earlier L: exit 1 naming table ff_writes ($(why "$WORK/b1.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'table public.ff_writes: [0-9]* rows, the backup had' '$WORK/b1.err'"
check "b: its evidence says FAIL" [ "$(json_status "$(last_drill)")" = FAIL ]
F=$(forge 2 "
for _, t in ipairs(j.tables) do
  if t.name == 'customers' then
    t.content_sha256 = (t.content_sha256:sub(1, 1) == '0' and '1' or '0') .. t.content_sha256:sub(2)
  end
end")
ff drill backup=20991231-000002 > "$WORK/b2.out" 2> "$WORK/b2.err"; rc=$?
check "b: drill with customers' fingerprint changed: exit 1 naming it, and only it ($(why "$WORK/b2.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'table public.customers: content differs' '$WORK/b2.err' && ! grep -q 'table public.ff_writes' '$WORK/b2.err'"
rm -rf "$WS/backups/20991231-000001" "$WS/backups/20991231-000002"

# ---- c. a WAL segment missing from the repository ---------------------------
SEG=$(jget "$M" j.proof.wal_segment)
found=$(find "$BR/repo/archive/main" -name "$SEG-*")
check "c: the proof point's segment $SEG is in the repository" [ -n "$found" ]
mkdir -p "$WORK/moved" && mv $found "$WORK/moved/"
# The drill in the background, its instance spotted by its ffrun.owner.
"$FFRUN" -c "$WS/ffrun.yaml" drill > "$WORK/c.out" 2> "$WORK/c.err" &
run=$! inst=""
while kill -0 "$run" 2>/dev/null; do
  for d in /tmp/ffrun-drill-*; do
    [ -z "$inst" ] && [ "$(cut -d' ' -f1 "$d/ffrun.owner" 2>/dev/null)" = "$run" ] && inst=$d
  done
  sleep 0.02
done
wait "$run"; rc=$?
check "c: drill with $SEG removed: exit 1 naming the gap ($(why "$WORK/c.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'gap in the WAL archive: WAL segment $SEG could not be restored' '$WORK/c.err'"
check "c: its evidence says FAIL" [ "$(json_status "$(last_drill)")" = FAIL ]
left=$(pgrep -f -- "$inst/data" | wc -l)
check "c: no instance left behind ($inst: folder gone, no server on it)" \
  bash -c "[ -n '$inst' ] && [ ! -e '$inst' ] && [ '$left' = 0 ]"
check "c: the server log of the failed recovery is in the evidence" \
  grep -q 'recovery ended before configured recovery target was reached' "$(last_drill)/raw/instance.log"

# ---- h. a tampered file of the backup set in the repository -----------------
mv "$WORK/moved/"* "$(dirname "$found")/" || nok "h: the WAL segment put back"
LABEL=$(jget "$M" j.pgbackrest.label)
victim=$(find "$BR/repo/backup/main/$LABEL/pg_data/base" -type f -size +4k | sort | head -n 1)
check "h: a file of set $LABEL to tamper with ($victim)" [ -n "$victim" ]
cp -a "$victim" "$WORK/victim.keep"
printf 'ffrun-tamper' | dd of="$victim" bs=1 seek=2000 conv=notrunc status=none
ff drill > "$WORK/h.out" 2> "$WORK/h.err"; rc=$?
check "h: drill of the tampered set: exit 1, pgbackrest restore failed ($(why "$WORK/h.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'pgbackrest restore failed' '$WORK/h.err'"
check "h: its evidence says FAIL" [ "$(json_status "$(last_drill)")" = FAIL ]
cp -a "$WORK/victim.keep" "$victim"

# ---- i. two repositories -----------------------------------------------------
# repo1 and repo2 of one stanza: archive-push keeps both in step with WAL,
# each gets its own backup set (repo=), verify checks both, and a drill
# restores from either to the same proof point.
mkdir -p "$BR/two1" "$BR/two2"; if _pg_is_root; then chown -R "$PG_OS_USER:" "$BR/two1" "$BR/two2"; fi
conf "$BR/two.conf" two "$BR/two1" "repo2-path=$BR/two2"
archive_to "$BR/two.conf" two || nok "i: archive_command to the two-repository stanza"
as_pg pgbackrest --config="$BR/two.conf" --stanza=two stanza-create > "$WORK/stanza-two.log" 2>&1 ||
  nok "i: stanza-create (two repositories): $(tail -n 3 "$WORK/stanza-two.log")"
WS=$WORK/ws-two
config "$WS" "$BR/two.conf" two "monitoring: { textfile: $WORK/two.prom }"
two_sets() { as_pg pgbackrest --config="$BR/two.conf" --stanza=two info --output=json | grep -o '"label"' | wc -l; }
ff backup type=full repo=3 > "$WORK/i0.out" 2> "$WORK/i0.err"; rc=$?
check "i: backup repo=3 of a two-repository stanza: exit 1 naming it, no set made ($(why "$WORK/i0.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'stanza two has no repository 3' '$WORK/i0.err' && [ \"\$(ls '$WS/backups' | grep -c '^[0-9]')\" = 0 ] && [ '$(two_sets)' = 0 ]"
ff backup type=full > "$WORK/i1.out" 2> "$WORK/i1.err"; rc=$?
check "i: backup to repo1: exit 0 ($(why "$WORK/i1.err"))" [ "$rc" = 0 ]
B1=$WS/backups/$(newest)
pg_sql src sample "INSERT INTO ff_writes (v) VALUES ('between the two backups')" > /dev/null || nok "i: a write"
sleep 1
ff backup type=full repo=2 > "$WORK/i2.out" 2> "$WORK/i2.err"; rc=$?
check "i: backup repo=2: exit 0 ($(why "$WORK/i2.err"))" [ "$rc" = 0 ]
B2=$WS/backups/$(newest)
L2=$(jget "$B2/manifest.json" j.proof.lsn)
SET1=$(jget "$B1/manifest.json" j.pgbackrest.label) SET2=$(jget "$B2/manifest.json" j.pgbackrest.label)
as_pg pgbackrest --config="$BR/two.conf" --stanza=two info --output=json > "$WORK/two-info.json"
i_repos() {
  [ "$(jget "$B1/manifest.json" j.pgbackrest.repo)" = 1 ] && [ "$(jget "$B2/manifest.json" j.pgbackrest.repo)" = 2 ] &&
    jcheck "$WORK/two-info.json" "local r = {}
for _, b in ipairs(j[1].backup) do r[b.label] = b.database['repo-key'] end
assert(r['$SET1'] == 1 and r['$SET2'] == 2, 'repo keys')"
}
check "i: the manifests name their repositories (repo 1: $SET1, repo 2: $SET2), and pgBackRest's info agrees" i_repos
ff verify "path=$B2" > "$WORK/i3.out" 2> "$WORK/i3.err"; rc=$?
check "i: verify of the repo2 backup: exit 0, both repositories verified, the WAL to its proof point whole in each ($(why "$WORK/i3.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'repo1: verify ok; set $SET1 and the [0-9]* WAL segments' '$WORK/i3.err' && grep -q 'repo2: verify ok; set $SET2 and the [0-9]* WAL segments' '$WORK/i3.err'"
ff drill "backup=$(basename "$B2")" > "$WORK/i4.out" 2> "$WORK/i4.err"; rc=$?
check "i: drill of the repo2 backup from its own repository: PASS, exact, restored from repo 2 ($(why "$WORK/i4.err"))" \
  jcheck "$(last_drill)/summary.json" "assert($rc == 0 and j.status == 'PASS' and j.proof_level == 'exact', 'status')
assert(j.restore.repo == 2 and j.restore.label == '$SET2', 'repo ' .. tostring(j.restore.repo))"
check "i: pgbackrest restore ran with --repo=2 (its own log's last restore)" \
  bash -c "grep 'restore command begin' '$BR/log/two-restore.log' | tail -n 1 | grep -q -- ' --repo=2 '"
ff drill "backup=$(basename "$B2")" repo=1 > "$WORK/i5.out" 2> "$WORK/i5.err"; rc=$?
check "i: the same drill from repo1: PASS, exact at the same point $L2, from repo1's set $SET1 and its WAL ($(why "$WORK/i5.err"))" \
  jcheck "$(last_drill)/summary.json" "assert($rc == 0 and j.status == 'PASS' and j.proof_level == 'exact', 'status')
assert(j.restore.repo == 1 and j.restore.label == '$SET1' and j.restore.target == '$L2', 'repo ' .. tostring(j.restore.repo))"
check "i: pgbackrest restore ran with --repo=1 (its own log's last restore)" \
  bash -c "grep 'restore command begin' '$BR/log/two-restore.log' | tail -n 1 | grep -q -- ' --repo=1 '"
ff drill "backup=$(basename "$B1")" repo=2 > "$WORK/i6.out" 2> "$WORK/i6.err"; rc=$?
check "i: a drill of the repo1 backup from repo2, whose only set ended after its proof point: exit 1 saying so ($(why "$WORK/i6.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'repo2 holds no backup set of stanza two that ended before the proof point' '$WORK/i6.err'"
# A file of repo2's set changed: verify names the repository and the set.
victim=$(find "$BR/two2/backup/two/$SET2/pg_data/base" -type f -size +4k | sort | head -n 1)
cp -a "$victim" "$WORK/victim2.keep"
printf 'ffrun-tamper' | dd of="$victim" bs=1 seek=2000 conv=notrunc status=none
ff verify "path=$B2" > "$WORK/i7.out" 2> "$WORK/i7.err"; rc=$?
check "i: verify with a file of repo2's set changed: exit 1 naming repo2 and set $SET2 ($(why "$WORK/i7.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'repo2: pgbackrest verify says error: backup $SET2 (invalid): .*checksum invalid: 1' '$WORK/i7.err'"
cp -a "$WORK/victim2.keep" "$victim"
# A WAL segment between repo1's set and the proof point gone from repo1:
# pgbackrest verify does not see a gap; ffrun's listing does.
SEG2=$(jget "$B2/manifest.json" j.proof.wal_segment)
gap=$(find "$BR/two1/archive/two" -name "*.lz4" | sort | awk -v s="$SEG2" '{ n = $0; sub(".*/", "", n); n = substr(n, 1, 24); if (n < s) last = $0 } END { print last }')
check "i: a repo1 segment before the proof point's $SEG2 to remove ($gap)" [ -n "$gap" ]
mv "$gap" "$WORK/gap.keep"
ff verify "path=$B2" > "$WORK/i8.out" 2> "$WORK/i8.err"; rc=$?
check "i: verify with that segment gone: exit 1, repo1's gap named ($(why "$WORK/i8.err"))" \
  bash -c "[ $rc = 1 ] && grep -q \"repo1: gap in the WAL archive: $(basename "$gap" | cut -c1-24) missing\" '$WORK/i8.err'"
mv "$WORK/gap.keep" "$gap"
ff verify "path=$B2" > /dev/null 2> "$WORK/i9.err"; rc=$?
check "i: everything put back: verify exit 0 again ($(why "$WORK/i9.err"))" [ "$rc" = 0 ]

# ---- j. gate and metrics: the WAL archive's lag -----------------------------
ff gate > "$WORK/j1.out" 2> "$WORK/j1.err"; rc=$?
check "j: gate of a drilled pgBackRest backup, archiving current: PASS, its lag said ($(why "$WORK/j1.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'proved by drill .*; WAL archive lag [0-9]* s (limit 86400 s)' '$WORK/j1.out'"
check "j: the gate's lag is in the metrics file" \
  grep -qE '^ffrun_wal_archive_lag_seconds\{runbook="gate"\} [0-9.]+$' "$WORK/two.prom"
pg_sql src sample "INSERT INTO ff_writes (v) VALUES ('not archived yet')" > /dev/null || nok "j: a write"
sleep 2.2
ff gate max_archive_lag=1 > "$WORK/j2.out" 2> "$WORK/j2.err"; rc=$?
check "j: gate max_archive_lag=1 with WAL written 2 s ago and not archived: FAIL naming the lag ($(why "$WORK/j2.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'is proved, but WAL has waited [0-9m]*s = [0-9]* s for the archive (limit 1 s)' '$WORK/j2.err'"
check "j: that gate's evidence holds the lag (bytes above 0)" \
  jcheck "$(ls -1d "$WS"/evidence/*-gate* | sort -V | tail -n 1)/summary.json" "
assert(j.status == 'FAIL' and j.wal_archive.lag_bytes > 0 and j.wal_archive.lag_s >= 2 and j.gate.reason == 'archive lag', 'lag')"
pg_sql src postgres "ALTER SYSTEM SET archive_command = 'false'" && pg_sql src postgres "SELECT pg_reload_conf()" > /dev/null &&
  pg_sql src postgres "SELECT pg_switch_wal()" > /dev/null || nok "j: archive_command set to fail"
for _ in $(seq 1 100); do
  [ -n "$(pg_sql src postgres "SELECT last_failed_wal FROM pg_stat_archiver WHERE last_failed_time > coalesce(last_archived_time, '-infinity')")" ] && break
  sleep 0.2
done
ff gate > "$WORK/j3.out" 2> "$WORK/j3.err"; rc=$?
check "j: gate while archiving fails: FAIL saying so ($(why "$WORK/j3.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'is proved, but WAL archiving fails (last failed [0-9A-F]*' '$WORK/j3.err'"
archive_to "$BR/two.conf" two || nok "j: archive_command put back"
for _ in $(seq 1 150); do
  [ -z "$(pg_sql src postgres "SELECT 1 FROM pg_stat_archiver WHERE last_failed_time > coalesce(last_archived_time, '-infinity')")" ] && break
  sleep 0.2
done
ff gate > "$WORK/j4.out" 2> "$WORK/j4.err"; rc=$?
check "j: archiving back: gate PASS again ($(why "$WORK/j4.err"))" [ "$rc" = 0 ]

# ---- k. prune: pgBackRest's retention, never the newest drill-proven set ----
# Retention of one full set per repository. B2 (repo2, SET2) is the newest
# proved backup; its last drill restored SET1 from repo1.
conf "$BR/two.conf" two "$BR/two1" "repo2-path=$BR/two2" "repo1-retention-full=1" "repo2-retention-full=1"
has_set() { as_pg pgbackrest --config="$BR/two.conf" --stanza=two info --output=json | grep -q "\"label\":\"$1\""; }
ff backup type=full > "$WORK/k1.out" 2> "$WORK/k1.err"; rc=$?
B3=$WS/backups/$(newest)
SET3=$(jget "$B3/manifest.json" j.pgbackrest.label)
k1() { [ "$rc" = 0 ] && [ "$SET3" != "$SET1" ] && has_set "$SET1"; }
check "k: a third full backup ($SET3) with repo1-retention-full=1: exit 0, and its own expire did not run ($SET1 still there) ($(why "$WORK/k1.err"))" k1
ff prune > "$WORK/k2.out" 2> "$WORK/k2.err"; rc=$?
check "k: prune: exit 0; pgBackRest would expire $SET1, which the newest proved backup's drill restored: kept ($(why "$WORK/k2.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'repo1: pgBackRest.s retention would expire set $SET1, which a newest drill-proven backup needs: kept' '$WORK/k2.err'"
k2() { has_set "$SET1" && [ -d "$B1" ] && [ -d "$B2" ] && [ -d "$B3" ]; }
check "k: $SET1 is still in repo1, and the folders of B1, B2, B3 are all there" k2
ff drill "backup=$(basename "$B3")" > "$WORK/k3.out" 2> "$WORK/k3.err"; rc=$?
check "k: drill of the new backup: PASS ($(why "$WORK/k3.err"))" [ "$rc" = 0 ]
ff --dry-run prune > "$WORK/k4.out" 2> "$WORK/k4.err"; rc=$?
k4() { [ "$rc" = 0 ] && grep -q "repo1: set $SET1 would expire" "$WORK/k4.err" && [ -d "$B1" ] && has_set "$SET1"; }
check "k: prune --dry-run: exit 0, $SET1 would expire, nothing is removed" k4
ff prune > "$WORK/k5.out" 2> "$WORK/k5.err"; rc=$?
check "k: prune now that a newer backup is proved: $SET1 expired from repo1 and B1's folder removed; B2 (repo2) and B3 kept ($(why "$WORK/k5.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'repo1: set $SET1 expired' '$WORK/k5.err' && [ ! -e '$B1' ] && [ -d '$B2' ] && [ -d '$B3' ]"
k6() { ! has_set "$SET1" && has_set "$SET2" && has_set "$SET3"; }
check "k: pgBackRest no longer lists $SET1; $SET2 and $SET3 are there" k6
ff report > "$WORK/k7.out" 2> "$WORK/k7.err"; rc=$?
check "k: report: the physical backups' folders follow their sets, not keep_last/keep_days" \
  bash -c "[ $rc = 0 ] && grep -q '^$(basename "$B2") .*kept: while its pgBackRest set is in its repository' '$WORK/k7.out'"

check "k: the prune's evidence lists the set expired and the folder removed" \
  jcheck "$(ls -1d "$WS"/evidence/*-prune* | sort -V | tail -n 1)/summary.json" "
assert(j.expire.expired[1] == 'prod repo1 $SET1' and j.expire.removed[1] == '$(basename "$B1")', 'expire')"

# A kept set between an older one that expires and a newer one: the older
# one goes, with only the WAL it alone needed; the kept set still replays
# to its proof point.
ff backup type=full > "$WORK/k8.out" 2> "$WORK/k8.err" && B4=$WS/backups/$(newest) &&
  ff drill "backup=$(basename "$B4")" > "$WORK/k8.out" 2> "$WORK/k8.err" && sleep 1 &&
  ff backup type=full > "$WORK/k9.out" 2> "$WORK/k9.err" || nok "k: a fourth backup, drilled, and a fifth ($(why "$WORK/k9.err"))"
SET4=$(jget "$B4/manifest.json" j.pgbackrest.label)
ff prune > "$WORK/k10.out" 2> "$WORK/k10.err"; rc=$?
k10() {
  [ "$rc" = 0 ] && grep -q "repo1: set $SET3 expired" "$WORK/k10.err" &&
    grep -q "repo1: pgBackRest.s retention would expire set $SET4, which a newest drill-proven backup needs: kept" "$WORK/k10.err" &&
    ! has_set "$SET3" && has_set "$SET4" && [ ! -e "$B3" ] && [ -d "$B4" ]
}
check "k: three fulls, the middle one ($SET4) proved: the oldest ($SET3) expires, the proved one stays ($(why "$WORK/k10.err"))" k10
ff verify "path=$B4" > "$WORK/k11.out" 2> "$WORK/k11.err"; rc=$?
check "k: the kept set's WAL to its proof point is whole after the expire: verify exit 0 ($(why "$WORK/k11.err"))" [ "$rc" = 0 ]
ff drill "backup=$(basename "$B4")" > "$WORK/k12.out" 2> "$WORK/k12.err"; rc=$?
check "k: and it still drills to its proof point: PASS ($(why "$WORK/k12.err"))" [ "$rc" = 0 ]
as_pg pgbackrest --config="$BR/two.conf" --stanza=two info --output=json > "$WORK/two-info2.json"
check "k: the WAL older than every set left is gone from repo1 (its archive now starts at $SET4's first segment or later)" \
  jcheck "$WORK/two-info2.json" "local start, min
for _, b in ipairs(j[1].backup) do if b.label == '$SET4' then start = b.archive.start end end
for _, a in ipairs(j[1].archive) do if a.database['repo-key'] == 1 then min = a.min end end
assert(start and min and min >= start, tostring(min) .. ' vs ' .. tostring(start))"
# A set newer than the kept one, that retention would expire: kept with it.
SET5=$(jget "$WORK/two-info2.json" "(function() local l; for _, b in ipairs(j[1].backup) do if b.database['repo-key'] == 1 then l = b.label end end; return l end)()")
ff backup type=full > "$WORK/k13.out" 2> "$WORK/k13.err" || nok "k: a sixth backup ($(why "$WORK/k13.err"))"
ff prune > "$WORK/k14.out" 2> "$WORK/k14.err"; rc=$?
k14() {
  [ "$rc" = 0 ] && grep -q "repo1: pgBackRest.s retention would expire set $SET5, newer than a set kept for a newest drill-proven backup: kept with it" "$WORK/k14.err" &&
    has_set "$SET4" && has_set "$SET5"
}
check "k: prune with $SET4 kept and $SET5 after it in the plan: $SET5 is kept too ($(why "$WORK/k14.err"))" k14

# ---- l. SIGKILL during backup and drill ---------------------------------------
# kill9 WHAT WHEN: start ffrun WHAT in the background, SIGKILL it once WHEN
# (a pattern) is in its newest evidence's events, or for "pgbackrest" once
# the pgbackrest backup (restore, for a drill) of the stanza has begun;
# SEEN says whether it was.
# pgBackRest's own log: how many times COMMAND began (it handles SIGTERM
# from then on; a signal before its handlers are set kills it unlogged).
begins() { cat "$BR/log/two-$1.log" 2>/dev/null | grep -c "$1 command begin"; }
kill9() {
  local what=$1 when=$2 cmd=backup runs pid b0
  [ "${what%% *}" = drill ] && cmd=restore
  runs=$(ls "$WS/evidence" | wc -l)
  ls "$WS/evidence" | sort > "$WORK/ev.before"
  b0=$(begins $cmd)
  SEEN=0
  "$FFRUN" -q -c "$WS/ffrun.yaml" $what > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 1500); do
    if [ "$(ls "$WS/evidence" | wc -l)" -gt "$runs" ]; then
      case $when in
        pgbackrest) [ "$(begins $cmd)" -gt "$b0" ] && pgrep -f -- "--stanza=two (backup|restore)" > /dev/null &&
          SEEN=1 && break ;;
        *) grep -q "$when" "$(last_evidence "$WS")/events.jsonl" 2>/dev/null && SEEN=1 && break ;;
      esac
    fi
    sleep 0.01
  done
  kill -9 "$pid"; wait "$pid" 2>/dev/null
  # Its own evidence folder: the one that was not there before (a name
  # sort could put another run of the same second after it).
  KILLED_EV=$WS/evidence/$(ls "$WS/evidence" | sort | comm -13 "$WORK/ev.before" - | head -n 1)
}
# Gone within 10 s: a process matching $1.
gone() { for _ in $(seq 1 100); do pgrep -f -- "$1" > /dev/null || return 0; sleep 0.1; done; return 1; }
slots() { pg_sql src postgres "SELECT count(*) FROM pg_replication_slots"; }
noslot() { for _ in $(seq 1 50); do [ "$(slots)" = 0 ] && return 0; sleep 0.1; done; return 1; }
unsealed() { [ ! -e "$1/summary.json" ] || ! grep -q '"status":"PASS"' "$1/summary.json"; }
folders() { ls "$WS/backups" | grep -c '^[0-9]*-[0-9]*$'; }
# pgBackRest's own log says when SIGTERM ended it (what ffrun's death sends).
terms() { cat "$BR/log/two-$1.log" 2>/dev/null | grep -c 'terminated on signal \[SIGTERM\]'; }
# Enough data (some 250 MB, little of it compressible) that pgbackrest
# restore and backup are still running when ffrun is killed.
pg_sql src sample "CREATE TABLE ff_bulk AS SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS v
  FROM generate_series(1, 1500000) g" > /dev/null || nok "l: ff_bulk"
for when in pgbackrest logical_snapshot; do
  f0=$(folders) s0=$(two_sets) t0=$(terms backup)
  kill9 "backup type=full" "$when"
  check "l (backup, SIGKILL during $when): caught there" [ "$SEEN" = 1 ]
  check "l (backup, SIGKILL during $when): pgBackRest stopped with it (no pgbackrest backup left running)" gone "--stanza=two backup"
  if [ "$when" = pgbackrest ]; then
    l_term() { [ "$(terms backup)" -gt "$t0" ] && [ "$(two_sets)" = "$s0" ]; }
    check "l (backup, SIGKILL during pgbackrest backup): pgBackRest ended on the SIGTERM ffrun's death sent, no set made" l_term
  fi
  check "l (backup, SIGKILL during $when): no replication slot left on the source" noslot
  check "l (backup, SIGKILL during $when): the backups lock is free" flock -n "$WS/backups/.ffrun.lock" true
  l_none() { [ "$(folders)" = "$f0" ] && unsealed "$KILLED_EV"; }
  check "l (backup, SIGKILL during $when): no complete-looking folder from it ($f0 before, $(folders) after), and no PASS in its evidence ($(basename "$KILLED_EV"))" l_none
  ff backup type=full > "$WORK/l.out" 2> "$WORK/l.err"; rc=$?
  check "l (backup, SIGKILL during $when): the next backup passes and removes the .partial ($(why "$WORK/l.err"))" \
    bash -c "[ $rc = 0 ] && ! ls -d '$WS'/backups/*.partial > /dev/null 2>&1"
done
for when in pgbackrest '"step":"restore"'; do
  name=$([ "$when" = pgbackrest ] && echo "pgbackrest restore" || echo "the restored server's start")
  base=$(ls -d /tmp/ffrun-drill-* 2>/dev/null | wc -l) t0=$(terms restore)
  kill9 drill "$when"
  check "l (drill, SIGKILL after $name): caught there ($(basename "$KILLED_EV"))" [ "$SEEN" = 1 ]
  check "l (drill, SIGKILL after $name): pgbackrest restore stopped with it" gone "--stanza=two restore"
  if [ "$when" = pgbackrest ]; then
    check "l (drill, SIGKILL during pgbackrest restore): pgBackRest ended on the SIGTERM ffrun's death sent" \
      bash -c "[ \"\$(cat '$BR/log/two-restore.log' | grep -c 'terminated on signal \[SIGTERM\]')\" -gt '$t0' ]"
  fi
  check "l (drill, SIGKILL after $name): no PASS in its evidence" unsealed "$KILLED_EV"
  ff drill > "$WORK/l.out" 2> "$WORK/l.err"; rc=$?
  # (pgrep in this shell: a bash -c would match its own argv.)
  l_reaped() { [ "$rc" = 0 ] && [ "$(ls -d /tmp/ffrun-drill-* 2>/dev/null | wc -l)" -le "$base" ] && ! pgrep -f -- "/tmp/ffrun-drill-[^ ]*/data" > /dev/null; }
  check "l (drill, SIGKILL after $name): the next drill passes and reaps the dead run's instance ($(why "$WORK/l.err"))" l_reaped
done
pg_sql src sample "DROP TABLE ff_bulk" > /dev/null || nok "l: ff_bulk dropped"
WS=$WORK/ws

# ---- m. a repository whose cipher passphrase is in the environment ----------
# Not in pgbackrest.conf: PGBACKREST_REPO1_CIPHER_PASS in ffrun's
# environment reaches pgbackrest, and the drill's restored server, whose
# archive-get fetches the WAL to L.
ENV_PASS="ffrun-env-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$BR/repo_envenc"; if _pg_is_root; then chown -R "$PG_OS_USER:" "$BR/repo_envenc"; fi
conf "$BR/envenc.conf" envenc "$BR/repo_envenc" "repo1-cipher-type=aes-256-cbc"
pg_sql src postgres "ALTER SYSTEM SET archive_command = 'PGBACKREST_REPO1_CIPHER_PASS=$ENV_PASS pgbackrest --config=$BR/envenc.conf --stanza=envenc archive-push %p'" &&
  pg_sql src postgres "SELECT pg_reload_conf()" > /dev/null || nok "m: archive_command to the env-encrypted stanza"
as_pg env "PGBACKREST_REPO1_CIPHER_PASS=$ENV_PASS" pgbackrest --config="$BR/envenc.conf" --stanza=envenc stanza-create > "$WORK/stanza-envenc.log" 2>&1 ||
  nok "m: stanza-create (env passphrase): $(tail -n 3 "$WORK/stanza-envenc.log")"
WS=$WORK/ws-envenc
config "$WS" "$BR/envenc.conf" envenc
PGBACKREST_REPO1_CIPHER_PASS=$ENV_PASS ff backup type=full > "$WORK/m1.out" 2> "$WORK/m1.err"; rc=$?
check "m: backup with the passphrase only in ffrun's environment: exit 0, the repository encrypted ($(why "$WORK/m1.err"))" \
  bash -c "[ $rc = 0 ] && grep -q '\"cipher\":\"aes-256-cbc\"' '$WS/backups/$(newest)/pgbackrest_info.json'"
PGBACKREST_REPO1_CIPHER_PASS=$ENV_PASS ff drill > "$WORK/m2.out" 2> "$WORK/m2.err"; rc=$?
check "m: drill: PASS, exact (the restored server's archive-get had the passphrase for the WAL to L) ($(why "$WORK/m2.err"))" \
  jcheck "$(last_drill)/summary.json" "assert($rc == 0 and j.status == 'PASS' and j.proof_level == 'exact', 'status')"
check "m: the environment's passphrase appears in no ffrun output, log, backup or evidence file" \
  bash -c "! grep -rqF '$ENV_PASS' '$WS' '$WORK/m1.out' '$WORK/m1.err' '$WORK/m2.out' '$WORK/m2.err'"
WS=$WORK/ws

# ---- d. an encrypted repository ---------------------------------------------
archive_to "$BR/enc.conf" enc || nok "d: archive_command to the encrypted stanza"
if ! as_pg pgbackrest --config="$BR/enc.conf" --stanza=enc stanza-create > "$WORK/stanza-enc.log" 2>&1; then
  nok "d: stanza-create (encrypted): $(tail -n 3 "$WORK/stanza-enc.log")"
fi
WS=$WORK/ws-enc
config "$WS" "$BR/enc.conf" enc \
  "smoke:" \
  "  - { name: first seen, sql: \"select count(*) = 1 from ff_marks where tag = 'first'\" }" \
  "  - { name: second not seen, sql: \"select count(*) = 0 from ff_marks where tag = 'second'\" }"
pg_sql src sample "CREATE TABLE ff_marks (tag text, at timestamptz DEFAULT clock_timestamp())" || nok "ff_marks"
ff backup > "$WORK/d.out" 2> "$WORK/d.err"; rc=$?
check "d: backup to the encrypted repository: exit 0 ($(why "$WORK/d.err"))" [ "$rc" = 0 ]
check "d: the repository is encrypted (pgbackrest info says aes-256-cbc)" \
  grep -q '"cipher":"aes-256-cbc"' "$WS/backups/$(newest)/pgbackrest_info.json"

# ---- e. a drill to a time between two commits -------------------------------
pg_sql src sample "INSERT INTO ff_marks VALUES ('first')" || nok "e: first commit"
sleep 1.2
T=$(pg_sql src sample "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1.2
pg_sql src sample "INSERT INTO ff_marks VALUES ('second'); SELECT pg_switch_wal()" > /dev/null || nok "e: second commit"
seg=$(pg_sql src sample "SELECT pg_walfile_name(pg_current_wal_lsn())")
for _ in $(seq 1 100); do
  a=$(pg_sql src sample "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
  [[ "$a" < "$seg" ]] || break
  sleep 0.2
done
ff drill "target_time=tomorrow --delta" > /dev/null 2> "$WORK/e0.err"; rc=$?
check "e: a target_time that is not a time is a usage error (exit 2), before anything runs" \
  bash -c "[ $rc = 2 ] && grep -q 'must be a time' '$WORK/e0.err'"
ff drill "target_time=$T" > "$WORK/e.out" 2> "$WORK/e.err"; rc=$?
EV=$(last_drill)
check "e: drill to $T (between the commits): exit 0 ($(why "$WORK/e.err"))" [ "$rc" = 0 ]
check "e: it saw the first commit and not the second (smoke), proof level integrity said" jcheck "$EV/summary.json" "
local c = {}
for _, x in ipairs(j.smoke.checks) do c[#c + 1] = x.name .. '=' .. tostring(x.ok) end
assert(j.status == 'PASS' and table.concat(c, ',') == 'first seen=true,second not seen=true', table.concat(c, ','))
assert(j.proof_level == 'integrity' and j.restore.type == 'time', 'proof level, restore type')"



# ---- f. SIGTERM during a drill ----------------------------------------------
# sigterm WHEN FILE: start a drill, SIGTERM it once its instance has FILE
# (ffrun.owner: during pgbackrest restore; data/postmaster.pid: the
# restored server runs), then check what is left.
sigterm() {
  local when=$1 file=$2 run inst="" d rc left
  "$FFRUN" -c "$WS/ffrun.yaml" drill > "$WORK/f.out" 2> "$WORK/f.err" &
  run=$!
  for _ in $(seq 1 400); do
    for d in /tmp/ffrun-drill-*; do
      [ -e "$d/ffrun.owner" ] && [ "$(cut -d' ' -f1 "$d/ffrun.owner" 2>/dev/null)" = "$run" ] && inst=$d
    done
    [ -n "$inst" ] && [ -e "$inst/$file" ] && break
    sleep 0.02
  done
  kill -TERM "$run" 2>/dev/null
  wait "$run"; rc=$?
  local ev
  ev=$(last_drill)
  left=$(pgrep -f -- "$inst/data" | wc -l)
  check "f ($when): the drill was caught mid-way (its instance $inst seen)" [ -n "$inst" ]
  check "f ($when): SIGTERM: non-zero exit ($rc), the error says so ($(why "$WORK/f.err")), evidence FAIL and sealed" \
    bash -c "[ $rc != 0 ] && grep -q SIGTERM '$WORK/f.err' && [ \"\$(grep -o '\"status\":\"[A-Z]*\"' '$ev/summary.json' | head -n 1)\" = '\"status\":\"FAIL\"' ] && cd '$ev' && sha256sum --quiet -c DIGEST"
  check "f ($when): no instance left: folder gone, no server on it" \
    bash -c "[ -n '$inst' ] && [ ! -e '$inst' ] && [ '$left' = 0 ]"
}
sigterm "during pgbackrest restore" ffrun.owner
sigterm "once the restored server runs" data/postmaster.pid

# ---- g. without logical WAL: a restore point, proof level integrity --------
pg_sql src postgres "ALTER SYSTEM SET wal_level = replica" &&
  as_pg "$PG_BINDIR/pg_ctl" -D "$DATA" -l "$(pg_log src)" -w -t 60 restart > "$WORK/restart.log" 2>&1 ||
  nok "g: server restarts with wal_level replica"
WS=$WORK/ws-int
config "$WS" "$BR/enc.conf" enc
ff backup > "$WORK/g.out" 2> "$WORK/g.err"; rc=$?
check "g: backup with wal_level replica: exit 0, integrity said plainly ($(why "$WORK/g.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'not logical: restore point ffrun_.*proof level integrity' '$WORK/g.err'"
check "g: the manifest says proof level integrity, a restore point, nothing proved" jcheck "$WS/backups/$(newest)/manifest.json" "
assert(j.proof.level == 'integrity' and j.proof.restore_point:match('^ffrun_') and j.verify == 'none', 'proof')"
check "g: the backup's summary says proof level integrity" \
  jcheck "$(ls -1d "$WS"/evidence/*-backup* | sort -V | tail -n 1)/summary.json" "
assert(j.backup.proof_level == 'integrity' and j.proof_note:find('integrity'), 'summary')"
ff drill > "$WORK/g2.out" 2> "$WORK/g2.err"; rc=$?
EV=$(last_drill)
check "g: drill to the restore point: exit 0, proof level integrity, amcheck and built-in smoke only ($(why "$WORK/g2.err"))" \
  jcheck "$EV/summary.json" "
assert($rc == 0 and j.status == 'PASS' and j.proof_level == 'integrity' and j.restore.type == 'name', 'status')
assert(j.verification.level == 'integrity' and j.smoke.builtin and j.amcheck.ok, 'integrity checks')"

# ---- another server's stanza: refused before any backup ------------------
# A second cluster with a stanza of its own, in its own repository; a target
# that names it while its conninfo is src's must not back up.
if pg_start other; then
  conf "$BR/other.conf" other "$BR/repo_other"
  sed -i "s|^pg1-path=.*|pg1-path=$(pg_data other)|; s|^pg1-socket-path=.*|pg1-socket-path=$(pg_host other)|; s|^pg1-port=.*|pg1-port=$(pg_port other)|" "$BR/other.conf"
  mkdir -p "$BR/repo_other"; if _pg_is_root; then chown -R "$PG_OS_USER:" "$BR/repo_other"; fi
  if as_pg pgbackrest --config="$BR/other.conf" --stanza=other stanza-create > "$WORK/other.log" 2>&1; then
    pg_use src
    WS=$WORK/ws-other
    config "$WS" "$BR/other.conf" other
    sets_before=$(as_pg pgbackrest --config="$BR/other.conf" --stanza=other info --output=json | grep -o '"label"' | wc -l)
    ff backup > "$WORK/other.out" 2> "$WORK/other.err"; rc=$?
    sets_after=$(as_pg pgbackrest --config="$BR/other.conf" --stanza=other info --output=json | grep -o '"label"' | wc -l)
    check "another server's stanza: exit 1 naming it and the source's system-id ($(why "$WORK/other.err"))" \
      bash -c "[ $rc = 1 ] && grep -q 'stanza other is not this server.s: none of its databases has system-id' '$WORK/other.err'"
    check "another server's stanza: no backup set was made ($sets_before before, $sets_after after)" [ "$sets_after" = "$sets_before" ]
  else
    nok "stanza-create for the second cluster: $(tail -n 3 "$WORK/other.log")"
  fi
else
  nok "a second cluster starts"
fi

# The passphrase is nowhere ffrun wrote or said (and the search would see
# it: it is in pgbackrest.conf).
check "d: the passphrase is in pgbackrest.conf (the search below can find it)" grep -qF "$PASS_PHRASE" "$BR/enc.conf"
check "d: the passphrase appears in no ffrun output, log, backup or evidence file" \
  bash -c "! grep -rqF '$PASS_PHRASE' '$WORK/ws-enc' '$WORK/d.out' '$WORK/d.err' '$WORK/e.out' '$WORK/e.err' '$WORK/f.out' '$WORK/f.err' '$WORK/ws-int' '$WORK/g.err' '$WORK/g2.err'"

finish
