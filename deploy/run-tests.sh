#!/usr/bin/env bash
# The scale-out tests (tests/scaleout/test_scale_out.py), as `make test` runs
# them: install the services if they are missing, start the set-up with 2 Rasa
# processes in its own directory and ports, run the tests through nginx, stop.
#
# Exit code: the tests' result. Exits 0 without testing only when PostgreSQL,
# Redis or nginx cannot be installed on this machine (it says why).
# A few minutes at most: about 20 s to start, under 2 minutes of tests.
set -uo pipefail
cd "$(dirname "$0")/.."

install_log=$(mktemp)
deploy/install.sh >"$install_log" 2>&1
installed=$?
cat "$install_log"
rm -f "$install_log"
if [ "$installed" = 1 ]; then
  echo "scale-out tests: SKIPPED: the services could not be installed (see above)"
  exit 0
elif [ "$installed" != 0 ]; then
  echo "scale-out tests: FAILED: set-up incomplete (see above)"
  exit 1
fi

# Its own instance, apart from one started by hand (var/scaleout, port 5080).
export SCALEOUT_DIR=${SCALEOUT_TEST_DIR:-var/scaleout-test}
export SCALEOUT_RASA_PROCESSES=2

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
# pick DEFAULT [COUNT]: DEFAULT if DEFAULT..DEFAULT+COUNT-1 are free, else a free random range
pick() {
  local port=$1 count=${2:-1} i tries=0
  while :; do
    local free=true
    for ((i = 0; i < count; i++)); do port_busy $((port + i)) && free=false; done
    $free && { echo "$port"; return; }
    tries=$((tries + 1)); [ $tries -lt 50 ] || { echo "$1"; return; }
    port=$((20000 + RANDOM % 10000))
  done
}

deploy/scale-out.sh stop >/dev/null 2>&1 || true   # a leftover of an interrupted run
rm -rf "$SCALEOUT_DIR"
export SCALEOUT_NGINX_PORT=$(pick 5180)
base=$(pick 5111 2)
export SCALEOUT_RASA_BASE_PORT=$((base - 1))
export SCALEOUT_ACTION_PORT=$(pick 5156)
export SCALEOUT_PG_PORT=$(pick 5440)
export SCALEOUT_REDIS_PORT=$(pick 6390)

stop() { deploy/scale-out.sh stop >/dev/null 2>&1 || true; }
trap stop EXIT INT TERM

echo "scale-out tests: starting PostgreSQL, Redis, the action server, 2 Rasa processes and nginx ($SCALEOUT_DIR)"
if ! deploy/scale-out.sh start; then
  echo "scale-out tests: FAILED: the set-up did not start (logs in $SCALEOUT_DIR)"
  exit 1
fi

SCALEOUT_RUN_TESTS=1 PYTHONWARNINGS="ignore::DeprecationWarning" timeout 900 \
  .venv/bin/python -m pytest tests/scaleout -q -s -p no:cacheprovider
result=$?
if [ $result = 0 ]; then
  echo "scale-out tests: passed (figures: $SCALEOUT_DIR/test-results.json)"
else
  echo "scale-out tests: FAILED (logs: $SCALEOUT_DIR/logs, $SCALEOUT_DIR/nginx/logs)"
fi
exit $result
