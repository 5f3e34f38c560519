#!/usr/bin/env bash
# Runs every check CI runs: set-up, lint, type check, then the test suite.
# Services the tests need (pcscd, mosquitto, PostgreSQL, ...) are started by the test fixtures
# themselves and stopped by PID when the session ends.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy .
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test: pytest collected no tests" >&2
fi
exit "$status"
