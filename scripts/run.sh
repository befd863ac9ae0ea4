#!/usr/bin/env bash
# Start the action server, the Rasa server and the clinic web page together,
# logs to this terminal; Ctrl-C stops them all. Called by `make run` after
# set-up and training.
set -euo pipefail
cd "$(dirname "$0")/.."

export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=3
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="ignore::DeprecationWarning"
RASA_PORT=${RASA_PORT:-5005}
ACTION_SERVER_PORT=${ACTION_SERVER_PORT:-5055}
export ACTION_SERVER_PORT

mkdir -p var
pids=()
stop() {
  trap - INT TERM EXIT
  echo "run: stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

prefix() { local tag=$1; while IFS= read -r line; do printf '%s %s\n' "$tag" "$line"; done; }

.venv/bin/python -m actions.server --port "$ACTION_SERVER_PORT" > >(prefix "[actions]") 2>&1 &
pids+=($!)

.venv/bin/python -m server --model models/current.tar.gz --port "$RASA_PORT" \
  --endpoints endpoints.yml --credentials credentials.yml \
  > >(prefix "[rasa]   ") 2>&1 &
pids+=($!)

.venv/bin/python -m server.web --port "${WEB_PORT:-8080}" --rasa-url "${RASA_PUBLIC_URL:-http://localhost:$RASA_PORT}" \
  > >(prefix "[web]    ") 2>&1 &
pids+=($!)

echo "run: action server on http://127.0.0.1:$ACTION_SERVER_PORT, Rasa on http://localhost:$RASA_PORT (REST: /webhooks/rest/webhook). clinic page with the chat on http://localhost:${WEB_PORT:-8080}/. Ctrl-C stops all."
# Stop everything as soon as any server exits.
wait -n "${pids[@]}"
