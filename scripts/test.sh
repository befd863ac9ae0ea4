#!/usr/bin/env bash
# Every test: lint and types, data validation, unit and action tests, conversation tests,
# NLU thresholds, end to end over REST, the browser and channel tests,
# reliability; then the scale-out test where its services install.
# Called by `make test` (after set-up and training).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS="ignore::DeprecationWarning"

# The browser test drives Debian's Chromium (no browser download).
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "test: installing Debian's chromium for the browser test"
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
      || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null; }
  else
    sudo apt-get install -y --no-install-recommends chromium >/dev/null
  fi
fi

if [ $# -eq 0 ]; then
  echo "test: lint (ruff) and types (mypy)"
  .venv/bin/ruff check --quiet .
  .venv/bin/ruff format --check --quiet .
  .venv/bin/mypy
fi

.venv/bin/python -m pytest "$@"

if [ -x deploy/run-tests.sh ] && [ $# -eq 0 ]; then
  deploy/run-tests.sh
fi
