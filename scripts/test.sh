#!/usr/bin/env bash
# One command: install what the tests need (dev requirements, Debian's chromium, the training stack) into the
# project's virtual environment, check lint, format and the core's types, then run the whole suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"` for the quick tier).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev || exit 1
if [ -n "${VIRTUAL_ENV:-}" ]; then PY="$VIRTUAL_ENV/bin/python"; else PY="$PWD/.venv/bin/python"; fi
export ANONYMIZED_TELEMETRY=False
export PATH="$(dirname "$PY"):$PATH"  # the environment's commands (chroma, streamlit) first
"$PY" -m ruff check . || { echo "ruff check failed" >&2; exit 1; }
"$PY" -m ruff format --check . >/dev/null || { "$PY" -m ruff format --diff . | head -40; echo "ruff format: files need formatting (run: ruff format .)" >&2; exit 1; }
"$PY" -m mypy || { echo "mypy failed (ragft/, session/, components/, pages/)" >&2; exit 1; }
"$PY" -m pytest -q -p no:cacheprovider --timeout=900 tests "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$rc"
