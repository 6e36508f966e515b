#!/usr/bin/env bash
# Install what the terminal needs: Debian packages (apt-get) and the Python venv.
# Usage: packaging/install-deps.sh [runtime|test]
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-runtime}"

lists="packaging/system-packages.txt packaging/system-packages-build.txt"
[ "$extra" = "test" ] && lists="$lists packaging/system-packages-test.txt"
# shellcheck disable=SC2086
pkgs=$(cat $lists | grep -v '^\s*#' | grep -v '^\s*$' | tr '\n' ' ')
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends $missing
fi

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for c in python3.11 python3.12 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then PY="$c"; break; fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.11 or newer is required" >&2; exit 1; }

stamp=".venv/.installed-$extra"
# The lock files pin every package a terminal installs (make lock regenerates them).
lock="packaging/requirements.lock"
[ "$extra" = "test" ] && lock="packaging/requirements-test.lock"
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$lock"
  # the project itself (editable); its dependencies are already satisfied by the lock
  if [ "$extra" = "test" ]; then .venv/bin/pip install -q -e ".[test]"; else .venv/bin/pip install -q -e .; fi
  # mediapipe's metadata asks for opencv-contrib-python (clashes with the headless OpenCV and
  # PySide6) and jax; the modules it really imports are in pyproject.toml.
  # No aarch64 wheel: there the face check runs on YuNet alone (docs/installation.md, arm64).
  if [ "$(uname -m)" = x86_64 ]; then .venv/bin/pip install -q --no-deps "mediapipe==0.10.21"; fi
  touch "$stamp"
fi
