#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, the only version this project
# supports (rasa 3.6.21 runs on 3.8-3.10; the pins are resolved for 3.10).
# Looks at $PYTHON, then python3.10 on PATH, then pyenv. Exits 1 with a clear
# message when none is found.
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

if [ -n "${PYTHON:-}" ]; then
  if is_310 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a working Python 3.10 interpreter." >&2
  exit 1
fi

for candidate in python3.10 python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && is_310 "$(command -v "$candidate")"; then
    command -v "$candidate"; exit 0
  fi
done

if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
    prefix=$(pyenv prefix "$version" 2>/dev/null) || continue
    if is_310 "$prefix/bin/python"; then echo "$prefix/bin/python"; exit 0; fi
  done
fi

cat >&2 <<'MSG'
error: Python 3.10 was not found (rasa 3.6.21 supports Python 3.8-3.10 only; this
project's pinned dependencies are resolved for 3.10).
Install it, then run make again, with one of:
  pyenv install 3.10.13                 # if you use pyenv
  sudo apt install python3.10 python3.10-venv   # Debian/Ubuntu with 3.10 packages
or point the set-up at an interpreter:  make run PYTHON=/path/to/python3.10
MSG
exit 1
