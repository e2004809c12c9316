#!/usr/bin/env bash
# One command: install what the tests need (dev requirements, Debian's chromium) and run the whole suite.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev || exit 1
export ANONYMIZED_TELEMETRY=False
"${PYTHON:-python3}" -m pytest -q -p no:cacheprovider --timeout=900 tests "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$rc"
