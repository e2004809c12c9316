#!/usr/bin/env bash
# One command: install the pinned requirements and start the app on the embedded offline default (no key).
# The server's own upload limit (server.maxUploadSize) is set to RAGFT_MAX_UPLOAD_MB (environment, else the flat
# key in .streamlit/secrets.toml), so Streamlit refuses a larger file before any of it reaches the app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${VIRTUAL_ENV:-}" ]; then PY="$VIRTUAL_ENV/bin/python"; else PY="$PWD/.venv/bin/python"; fi
UPLOAD_MB=$("$PY" -c '
import sys
from pathlib import Path
from ragft.errors import ConfigError
from ragft.settings import upload_limit_mb
try:
    print(upload_limit_mb(secrets_file=Path(".streamlit/secrets.toml")))
except ConfigError as exc:
    sys.exit(f"Cannot start: {exc.message}")
')
# Streamlit's server (uvicorn) would take X-Forwarded-For from any loopback peer before the app sees the request;
# trust nobody there, so the app's RAGFT_TRUSTED_PROXIES alone decides (ragft/net/forwarded.py).
export FORWARDED_ALLOW_IPS="${FORWARDED_ALLOW_IPS:-none}"
exec "$PY" -m streamlit run streamlit_app.py --browser.gatherUsageStats false \
  --server.maxUploadSize "$UPLOAD_MB" "$@"
