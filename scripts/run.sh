#!/usr/bin/env bash
# One command: install the pinned requirements and start the app on the embedded offline default (no key).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${PYTHON:-python3}" -m streamlit run streamlit_app.py --browser.gatherUsageStats false "$@"
