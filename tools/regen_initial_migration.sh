#!/usr/bin/env bash
# Regenerate the initial schema revision from the models (only while nothing is released).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_0001_initial_schema.py
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $(pwd)/migrations
file_template = 20261123_%%(rev)s_%%(slug)s
INI
DATABASE_URL="sqlite:///$tmp/regen.db" .venv/bin/alembic -c "$tmp/alembic.ini" revision \
  --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
f=$(ls migrations/versions/*_0001_initial_schema.py)
.venv/bin/ruff format -q "$f" && .venv/bin/ruff check -q --fix "$f" || true
rm -rf "$tmp"
echo "wrote $f"
