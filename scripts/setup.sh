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
T0=$SECONDS
step() { echo "[setup] $1: $((SECONDS - T0)) s" >&2; T0=$SECONDS; }

# llama-cpp-python compiles from source (PyPI has no Linux wheel). Built lean: without the multimodal library
# (LLAVA_BUILD=OFF) and without llama.cpp's common/ and cpp-httplib (scripts/llama_cpp_lean.cmake): the Python
# bindings load neither. Measured in README ("A faster first install"). The sdist is fetched once and kept with
# the wheel in $RAGFT_BUILD_CACHE (default ~/.cache/ragft), so a fresh clone or venv reuses both and the GGUF
# converter (--train) is taken from the same file. The build runs in the background while pip installs the rest.
LLAMA_VERSION=$(sed -n 's/^llama-cpp-python==\([0-9.]*\).*/\1/p' requirements.txt)
BUILD_CACHE=${RAGFT_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ragft}
LLAMA_FLAGS="-DLLAVA_BUILD=OFF -DCMAKE_PROJECT_INCLUDE_BEFORE=$PWD/scripts/llama_cpp_lean.cmake"
# Without Intel AMX on x86-64: with -march=native on a CPU that has it (Sapphire Rapids and newer), ggml's AMX
# matrix multiply segfaults at the first token (llama.cpp issue 20824, open); explicit -mno-amx-* flags win over
# -march=native whatever their order. The AVX-512/AVX2 kernels serve the CPU instead.
LLAMA_CFLAGS=""
if [ "$(uname -m)" = x86_64 ] && echo 'int main(void){return 0;}' | cc -mno-amx-tile -x c -o /dev/null - 2>/dev/null; then
  LLAMA_CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi
# The wheel is built for this CPU (-march=native): the cache key holds the flags, the CPU model and its features.
LLAMA_TAG=$(printf '%s' "$LLAMA_FLAGS $LLAMA_CFLAGS $(cat scripts/llama_cpp_lean.cmake) $(uname -m)
$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null) $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)" \
  | sed "s|$PWD||g" | cksum | cut -d' ' -f1)
LLAMA_SDIST="$BUILD_CACHE/sdist/llama_cpp_python-$LLAMA_VERSION.tar.gz"
LLAMA_WHEELS="$BUILD_CACHE/wheels/llama-cpp-python-$LLAMA_VERSION-$LLAMA_TAG"
# The environment records which build it holds: a wheel of other flags (or another CPU's) is replaced.
LLAMA_MARK="$("$PY" -c 'import sys; print(sys.prefix)')/ragft-llama-build"
have_llama() {
  [ "$("$PY" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null)" = "$LLAMA_VERSION" ] \
    && [ "$(cat "$LLAMA_MARK" 2>/dev/null)" = "$LLAMA_TAG" ]
}
fetch_llama_sdist() {
  [ -f "$LLAMA_SDIST" ] && return 0
  mkdir -p "$BUILD_CACHE/sdist"
  local tmp; tmp=$(mktemp -d "$BUILD_CACHE/sdist/.dl-XXXXXX")
  "$PY" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$tmp" \
    && mv "$tmp"/llama_cpp_python-*.tar.gz "$LLAMA_SDIST"
  local rc=$?; rm -rf "$tmp"; return $rc
}
BUILD_PID=""
if ! have_llama && ! ls "$LLAMA_WHEELS"/*.whl >/dev/null 2>&1; then
  fetch_llama_sdist || { echo "could not download llama-cpp-python $LLAMA_VERSION" >&2; exit 1; }
  step "llama-cpp-python sdist downloaded"
  mkdir -p "$BUILD_CACHE/wheels"
  BUILD_LOG="$BUILD_CACHE/wheels/build-$LLAMA_VERSION.log"
  echo "[setup] building llama-cpp-python $LLAMA_VERSION in the background (log: $BUILD_LOG)" >&2
  ( tmp=$(mktemp -d "$BUILD_CACHE/wheels/.build-XXXXXX") \
    && CMAKE_ARGS="$LLAMA_FLAGS ${CMAKE_ARGS:-}" CFLAGS="${CFLAGS:-} $LLAMA_CFLAGS" \
      CXXFLAGS="${CXXFLAGS:-} $LLAMA_CFLAGS" "$PY" -m pip wheel -q --no-deps -w "$tmp" "$LLAMA_SDIST" \
    && rm -rf "$LLAMA_WHEELS" && mv "$tmp" "$LLAMA_WHEELS" ) >"$BUILD_LOG" 2>&1 &
  BUILD_PID=$!
  LLAMA_BUILD_START=$SECONDS
fi
# OCR for PDF pages without text: Debian's Tesseract with English data (no Python wheel ships the engine).
APT_PID=""
if ! command -v tesseract >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  ( $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      tesseract-ocr tesseract-ocr-eng >/dev/null ) &
  APT_PID=$!
fi
grep -v '^llama-cpp-python' requirements.txt > "${TMPDIR:-/tmp}/ragft-req-$$.txt"
"$PY" -m pip install -q -r "${TMPDIR:-/tmp}/ragft-req-$$.txt"
rm -f "${TMPDIR:-/tmp}/ragft-req-$$.txt"
"$PY" -m pip install -q --no-deps -r requirements-models.txt
step "requirements installed (without llama-cpp-python)"
if [ -n "$BUILD_PID" ]; then
  if ! wait "$BUILD_PID"; then
    tail -30 "$BUILD_LOG" >&2; echo "building llama-cpp-python failed (log: $BUILD_LOG)" >&2; exit 1
  fi
  echo "[setup] llama-cpp-python built in $((SECONDS - LLAMA_BUILD_START)) s" >&2
fi
if ! have_llama; then
  "$PY" -m pip uninstall -y -q llama-cpp-python 2>/dev/null || true
  "$PY" -m pip install -q "$LLAMA_WHEELS"/llama_cpp_python-*.whl
  printf '%s\n' "$LLAMA_TAG" > "$LLAMA_MARK"
fi
step "llama-cpp-python installed"
if [ -n "$APT_PID" ]; then
  wait "$APT_PID" || { echo "installing Debian's tesseract-ocr failed" >&2; exit 1; }
  step "tesseract installed"
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
  # promptfoo for the export test (npm registry, pinned; ~/.cache/ragft-promptfoo, a no-op once installed).
  "$PY" -m tests.promptfoo_tool >/dev/null
  step "test tools installed (dev requirements, postgresql, chromium, axe-core, promptfoo)"
fi
# Training (the Fine-tune page, scripts/train_adapter.py): torch CPU first and alone (so nothing pulls another
# build), then transformers/peft/gguf, then llama.cpp's GGUF converter from the llama-cpp-python sdist (PyPI).
# Not part of the app's own install: +1.1 GB and ~3 minutes (README, "Fine-tune studio"). --dev installs it so
# the tests train for real; --train installs only this.
if [ "${1:-}" = "--dev" ] || [ "${1:-}" = "--train" ]; then
  "$PY" -m pip install -q torch==2.13.0
  "$PY" -m pip install -q -r requirements-train.txt
  if [ ! -f "$("$PY" -c 'import sys; print(sys.prefix)')/share/ragft/llama.cpp/convert_lora_to_gguf.py" ]; then
    fetch_llama_sdist || { echo "could not download llama-cpp-python $LLAMA_VERSION" >&2; exit 1; }
    "$PY" -m ragft.training.converter --install --sdist "$LLAMA_SDIST"
  fi
  step "training stack installed"
fi
