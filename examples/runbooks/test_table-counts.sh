#!/usr/bin/env bash
# Test of examples/runbooks/table-counts.lua against a real, throwaway
# PostgreSQL, with the project's harness (docs/runbook-guide.md):
#   FFRUN=$PWD/build/ffrun bash examples/runbooks/test_table-counts.sh
source "$(dirname "$0")/../../tests/harness/lib.sh"
source "$(dirname "$0")/../../tests/harness/pg.sh"
RB=$FF_SRC/examples/runbooks/table-counts.lua

pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
make_config "$WORK/ws" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }"
ff() { "$FFRUN" -c "$WORK/ws/ffrun.yaml" "$@"; }

check "--check loads it and validates params" ff -q --check "$RB"
check "--describe lists min_tables" bash -c "'$FFRUN' --describe '$RB' | grep -q min_tables"
ff -q --dry-run "$RB" min_tables=x 2>/dev/null; code=$?
check "a non-integer param is a usage error (exit 2, got $code)" [ $code = 2 ]
ff -q "$RB" target=drill 2>/dev/null; code=$?
check "ff.usage on an ephemeral target exits 2 (got $code)" [ $code = 2 ]

ff -q --dry-run "$RB" 2> "$WORK/err"; code=$?
check "dry-run passes ($code: $(tail -n 1 "$WORK/err"))" [ $code = 0 ]

# The last stdout line names the run's evidence folder (several runs in
# one second get -2, -3... suffixes: do not guess it from the listing).
ff "$RB" > "$WORK/out" 2> "$WORK/err"; code=$?
ev=$(sed -n 's/^evidence: //p' "$WORK/out")
check "run passes ($code: $(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "summary is PASS" [ "$(json_status "$ev")" = PASS ]
check "counts.txt in raw/" [ -s "$ev/raw/counts.txt" ]
# The harness computes the truth without ffrun: compare one table.
want=$(pg_sql src app "select count(*) from orders")
check "orders counted right ($want)" grep -Eq "^public\.orders +$want\$" "$ev/raw/counts.txt"
check "sha256sum -c DIGEST" bash -c "cd '$ev' && sha256sum --quiet -c DIGEST"
check "ffrun verify on the evidence" ff -q verify path="$ev"

ff -q "$RB" min_tables=1000 2>/dev/null; code=$?
check "too few tables is a FAIL (exit 1, got $code)" [ $code = 1 ]
finish
