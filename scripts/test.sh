#!/usr/bin/env bash
# Every test: data validation, unit and action tests, conversation tests,
# NLU thresholds, end-to-end over REST. Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS="ignore::DeprecationWarning"
exec .venv/bin/python -m pytest "$@"
