#!/usr/bin/env bash
# migrate.sh - run a schema migration only when ffrun's gate says a backup
# of the database, younger than the RPO (or GATE_MAX_AGE seconds), was
# proved by a real restore drill. Usage: migrate.sh COMMAND [ARGS...]
#   FFRUN_CONFIG=/etc/ffrun.yaml ./migrate.sh alembic upgrade head
#   GATE_FRESH=true ./migrate.sh ./manage.py migrate   # back up + drill first
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
args=()
[ -n "${GATE_MAX_AGE:-}" ] && args+=("max_age=$GATE_MAX_AGE")
[ -n "${GATE_FRESH:-}" ] && args+=("fresh=$GATE_FRESH")
# Exit 1: no proved backup (the line on stderr says what is missing);
# 2: usage or configuration; 3, 4, 70: see `ffrun --help`. Any of them
# stops the migration.
if ! ffrun -q gate "${args[@]}"; then
  echo "migrate.sh: the gate refused: not migrating (see the ffrun: line above)" >&2
  exit 1
fi
exec "$@"
