#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies.
# Idempotent: the Makefile calls it only when requirements or constraints change.
set -euo pipefail
cd "$(dirname "$0")/.."

# This machine's pip configuration names local wheel folders that may not
# exist; pip warns about each one. Keep the set-up output readable.
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

python=$(scripts/find-python.sh)
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "setup: creating .venv with $python"
  rm -rf .venv
  "$python" -m venv .venv
fi
quiet_pip .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.3.1" "setuptools==70.3.0" "wheel==0.45.1"
echo "setup: installing pinned dependencies (first run takes a minute or two)"
quiet_pip .venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -r requirements.txt -c constraints.txt
