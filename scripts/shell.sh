#!/usr/bin/env bash
# Chat with the bot in the terminal (`rasa shell`), with the action server
# running in the background. Called by `make shell`.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="ignore::DeprecationWarning"
ACTION_SERVER_PORT=${ACTION_SERVER_PORT:-5055}
mkdir -p var
.venv/bin/python -m actions.server --port "$ACTION_SERVER_PORT" > var/action-server.log 2>&1 &
actions=$!
trap 'kill $actions 2>/dev/null || true' EXIT INT TERM
.venv/bin/rasa shell --model models/current.tar.gz --endpoints endpoints.yml --port "${RASA_SHELL_PORT:-5006}"
