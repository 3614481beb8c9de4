#!/usr/bin/env bash
# demo.sh - the whole idea in one run, on a throwaway PostgreSQL:
#   install what is missing and build; start a "production" server with the
#   FoxProFlow sample data; rehearse a backup as a dry-run, back up, verify;
#   run a restore drill in a separate throwaway instance; report; show
#   where the evidence is.
# Nothing outside ./demo-run (kept, to look at) and a temporary folder
# (removed, server included) is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
FFRUN=$PWD/build/ffrun
export FFRUN_HOME=$PWD

OUT=$PWD/demo-run
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ffrun-demo-XXXXXX")
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
source tests/harness/pg.sh            # chains pg_stop_all into the trap

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A throwaway production: PostgreSQL with the FoxProFlow sample"
pg_start prod >/dev/null
pg_createdb prod foxproflow >/dev/null
pg_load_file prod foxproflow examples/foxproflow/schema.sql >/dev/null
pg_sql prod foxproflow "select 'orders: ' || count(*) from orders"

mkdir -p "$OUT"
cat > "$OUT/ffrun.yaml" <<YAML
targets:
  prod:
    conninfo: "$(pg_conninfo prod foxproflow)"
  drill:
    ephemeral: true
paths:
  backups: $OUT/ops/_backups
  evidence: $OUT/ops/_local/evidence
backup:
  verify: content
smoke:
  - { name: orders exist, sql: "select count(*) > 0 from orders" }
YAML

say "What the backup runbook does (ffrun --describe backup)"
"$FFRUN" -c "$OUT/ffrun.yaml" --describe backup

say "Rehearse it first: a dry-run plans every write and does none"
"$FFRUN" -c "$OUT/ffrun.yaml" --dry-run backup

say "Back up: consistent dump, globals, fingerprints, manifest, DIGEST"
"$FFRUN" -c "$OUT/ffrun.yaml" backup
latest=$(ls -1d "$OUT"/ops/_backups/*/ | grep -v partial | tail -n 1)

say "Trust evidence, not words: verify the backup (DIGEST, manifest, the whole archive)"
"$FFRUN" -c "$OUT/ffrun.yaml" verify path="$latest"
(cd "$latest" && sha256sum -c DIGEST)

say "Restore drill: a separate throwaway instance, proof, RTO/RPO, teardown"
"$FFRUN" -c "$OUT/ffrun.yaml" drill

say "Report: backups and runs, from the folders alone"
"$FFRUN" -q -c "$OUT/ffrun.yaml" report

say "The evidence"
ls -l "$latest"
ls -1d "$OUT"/ops/_local/evidence/*/
echo
echo "Every run left a folder above: summary.json, events.jsonl (a hash chain),"
echo "raw/ (what the tools printed) and a DIGEST that sha256sum -c checks."
echo "Backups are in $OUT/ops/_backups, evidence in $OUT/ops/_local/evidence."
