#!/usr/bin/env bash
# The multi-process set-up on one machine, on loopback (deploy/README.md):
# PostgreSQL (conversations), Redis (conversation locks), the action server,
# N Rasa server processes and nginx in front, routing each conversation to
# one Rasa process.
#
#   deploy/scale-out.sh start    start whatever is not running (idempotent), wait
#                                until it answers, print the nginx URL; with a
#                                different SCALEOUT_RASA_PROCESSES it starts or
#                                stops Rasa processes and reloads nginx
#   deploy/scale-out.sh stop     stop everything this script started
#   deploy/scale-out.sh status   what runs (exit 0 when all does, 3 otherwise)
#
# Settings (environment; defaults in brackets):
#   SCALEOUT_DIR              state, data and logs [var/scaleout]
#   SCALEOUT_RASA_PROCESSES   Rasa server processes [2]
#   SCALEOUT_NGINX_PORT       nginx, the URL clients use [5080]
#   SCALEOUT_RASA_BASE_PORT   Rasa process i listens on base + i [5100]
#   SCALEOUT_ACTION_PORT      action server [5155]
#   SCALEOUT_PG_PORT          PostgreSQL [5439]
#   SCALEOUT_REDIS_PORT       Redis [6389]
#   SCALEOUT_PG_MAX_CONNECTIONS  PostgreSQL's max_connections [40]
#   SQL_POOL_SIZE, SQL_MAX_OVERFLOW  connection pool per Rasa process [2, 3]
#   TICKET_LOCK_LIFETIME      seconds a conversation's lock lives [10]
#   SESSION_SECRET, SCALEOUT_PG_PASSWORD, SCALEOUT_REDIS_PASSWORD
#                             generated once into $SCALEOUT_DIR/secrets.env
#                             (mode 600) when not set; never committed
# Every service listens on 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
umask 022  # nginx's workers and PostgreSQL run as other users; secrets get 600 explicitly

DIR=$(realpath -m "${SCALEOUT_DIR:-var/scaleout}")
PROCESSES=${SCALEOUT_RASA_PROCESSES:-2}
NGINX_PORT=${SCALEOUT_NGINX_PORT:-5080}
RASA_BASE_PORT=${SCALEOUT_RASA_BASE_PORT:-5100}
ACTION_PORT=${SCALEOUT_ACTION_PORT:-5155}
PG_PORT=${SCALEOUT_PG_PORT:-5439}
REDIS_PORT=${SCALEOUT_REDIS_PORT:-6389}
PG_MAX_CONNECTIONS=${SCALEOUT_PG_MAX_CONNECTIONS:-40}
PG_DB=${SCALEOUT_PG_DB:-rasa}
PG_USER=${SCALEOUT_PG_USER:-rasa}
# connections kept free for psql, backups, the retention command, the tests;
# PostgreSQL's superuser_reserved_connections (3) come on top of this
PG_ADMIN_HEADROOM=${SCALEOUT_PG_ADMIN_HEADROOM:-7}
PG_SUPERUSER_RESERVED=3
export SQL_POOL_SIZE=${SQL_POOL_SIZE:-2}
export SQL_MAX_OVERFLOW=${SQL_MAX_OVERFLOW:-3}
export TICKET_LOCK_LIFETIME=${TICKET_LOCK_LIFETIME:-10}
MODEL=${SCALEOUT_MODEL:-models/current.tar.gz}
CREDENTIALS=${SCALEOUT_CREDENTIALS:-credentials.yml}
PY=$ROOT/.venv/bin/python

RUN=$DIR/run
LOGS=$DIR/logs
NGINX_PREFIX=$DIR/nginx
NGINX_CONF=$NGINX_PREFIX/nginx.conf
PG_HOME=$DIR/postgres
PG_DATA=$PG_HOME/data
PG_SOCKET=$PG_HOME/socket
REDIS_HOME=$DIR/redis
SECRETS=$DIR/secrets.env
STATE=$DIR/state.json

say() { echo "scale-out: $*"; }
die() { echo "scale-out: $*" >&2; exit 1; }

# --- processes ---------------------------------------------------------------------

# pid_alive PIDFILE PATTERN: the pid in PIDFILE runs and its command line has PATTERN
# (so a recycled pid is never taken for ours).
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(head -n 1 "$1" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# stop_pid NAME PIDFILE PATTERN: TERM, then KILL after 20 s; only a process we started.
stop_pid() {
  local name=$1 file=$2 pattern=$3 pid
  if pid_alive "$file" "$pattern"; then
    pid=$(head -n 1 "$file" 2>/dev/null)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

need_free_port() {
  if port_busy "$1"; then
    die "port $1 ($2) is already in use by another program; choose another with $3"
  fi
}

# wait_for NAME SECONDS PIDFILE PATTERN COMMAND...: until COMMAND succeeds,
# failing early when the process exits.
wait_for() {
  local name=$1 seconds=$2 file=$3 pattern=$4 log=$5
  shift 5
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$file" ] && ! pid_alive "$file" "$pattern"; then
      [ -f "$log" ] && tail -n 30 "$log" >&2
      die "$name exited while starting; log: $log"
    fi
    [ $SECONDS -lt $deadline ] || { [ -f "$log" ] && tail -n 30 "$log" >&2; die "$name did not answer within ${seconds}s; log: $log"; }
    sleep 0.5
  done
}

http_ok() { curl -sf -o /dev/null --max-time 3 "$1"; }

# --- secrets -------------------------------------------------------------------------

new_secret() { "$PY" -c 'import secrets; print(secrets.token_hex(24))'; }

load_secrets() {
  local key value
  if [ -f "$SECRETS" ]; then
    while IFS='=' read -r key value; do
      case "$key" in
        SESSION_SECRET|SCALEOUT_PG_PASSWORD|SCALEOUT_REDIS_PASSWORD)
          if [ -z "${!key:-}" ]; then export "$key=$value"; fi ;;
      esac
    done < "$SECRETS"
  fi
  for key in SESSION_SECRET SCALEOUT_PG_PASSWORD SCALEOUT_REDIS_PASSWORD; do
    if [ -z "${!key:-}" ]; then export "$key=$(new_secret)"; fi
  done
  (umask 077 && printf 'SESSION_SECRET=%s\nSCALEOUT_PG_PASSWORD=%s\nSCALEOUT_REDIS_PASSWORD=%s\n' \
    "$SESSION_SECRET" "$SCALEOUT_PG_PASSWORD" "$SCALEOUT_REDIS_PASSWORD" > "$SECRETS.new" && mv "$SECRETS.new" "$SECRETS")
}

# --- templates -----------------------------------------------------------------------

# render TEMPLATE OUTPUT KEY=VALUE...: replace @KEY@ placeholders; every one must be given.
render() {
  "$PY" - "$@" <<'EOF'
import re, sys
template, output, *pairs = sys.argv[1:]
values = dict(pair.split("=", 1) for pair in pairs)
text = open(template, encoding="utf-8").read()
def sub(match):
    key = match.group(1)
    if key not in values:
        sys.exit(f"scale-out: no value for @{key}@ in {template}")
    return values[key]
text = re.sub(r"@([A-Z_]+)@", sub, text)
open(output, "w", encoding="utf-8").write(text)
EOF
}

# --- PostgreSQL ------------------------------------------------------------------------

PG_BIN=""
as_pg() {
  # PostgreSQL refuses to run as root: as root, its commands run as the
  # postgres user; otherwise as the current user.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@" 9>&-); else (cd / && "$@" 9>&-); fi
}

pg_running() { [ -s "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_start() {
  if pg_running; then return 0; fi
  need_free_port "$PG_PORT" PostgreSQL SCALEOUT_PG_PORT
  mkdir -p "$PG_HOME" "$PG_SOCKET"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_HOME" "$PG_SOCKET"
    chmod 700 "$PG_HOME" "$PG_SOCKET"
    runuser -u postgres -- test -x "$PG_HOME" \
      || die "the postgres user cannot reach $PG_HOME (a parent directory is not searchable); set SCALEOUT_DIR elsewhere"
  fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $PG_DATA"
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 > "$PG_HOME/initdb.log" 2>&1 \
      || { tail -n 20 "$PG_HOME/initdb.log" >&2; die "initdb failed"; }
    echo "include 'scaleout.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  # Rewritten at every start, so the ports and limits follow the settings.
  # The Unix socket is in a directory only the cluster's owner can open (local
  # connections are trusted); TCP on 127.0.0.1 needs the password.
  cat <<EOF | as_pg tee "$PG_DATA/scaleout.conf" >/dev/null
# written by deploy/scale-out.sh at every start
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET'
unix_socket_permissions = 0700
max_connections = $PG_MAX_CONNECTIONS
superuser_reserved_connections = $PG_SUPERUSER_RESERVED
shared_buffers = 64MB
password_encryption = scram-sha-256
EOF
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/postgres.log" -w -t 60 start >/dev/null \
    || { tail -n 20 "$PG_HOME/postgres.log" >&2; die "PostgreSQL did not start; log: $PG_HOME/postgres.log"; }
  say "PostgreSQL on 127.0.0.1:$PG_PORT"
}

pg_ensure_database() {
  local password=${SCALEOUT_PG_PASSWORD//\'/\'\'}
  # the password goes through stdin, never on a command line
  as_pg "$PG_BIN/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1 >/dev/null <<EOF
SELECT 'CREATE ROLE "$PG_USER" LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER')\gexec
ALTER ROLE "$PG_USER" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$password';
SELECT 'CREATE DATABASE "$PG_DB" OWNER "$PG_USER"' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
EOF
}

pg_stop() {
  if pg_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null && say "stopped PostgreSQL"
  fi
}

# --- Redis -------------------------------------------------------------------------------

redis_ping() { REDISCLI_AUTH="$SCALEOUT_REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG; }

redis_start() {
  if pid_alive "$REDIS_HOME/redis.pid" redis-server; then return 0; fi
  need_free_port "$REDIS_PORT" Redis SCALEOUT_REDIS_PORT
  mkdir -p "$REDIS_HOME"
  # Locks only: nothing to keep across a restart (a lock lives seconds).
  (umask 077 && cat > "$REDIS_HOME/redis.conf" <<EOF
# written by deploy/scale-out.sh
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_HOME/redis.pid
logfile $REDIS_HOME/redis.log
dir $REDIS_HOME
save ""
appendonly no
requirepass $SCALEOUT_REDIS_PASSWORD
EOF
)
  redis-server "$REDIS_HOME/redis.conf" >/dev/null 9>&-
  wait_for Redis 30 "" "" "$REDIS_HOME/redis.log" redis_ping
  say "Redis on 127.0.0.1:$REDIS_PORT"
}

redis_stop() { stop_pid Redis "$REDIS_HOME/redis.pid" redis-server; }

# --- action server and Rasa processes --------------------------------------------------

# the environment of the servers (a command, not a function, so that $! of a
# background start is the server's own pid)
SERVER_ENV=(RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1
            PYTHONWARNINGS=ignore TRUSTED_PROXIES=127.0.0.1)

action_start() {
  local pidfile=$RUN/actions.pid log=$LOGS/actions.log
  if ! pid_alive "$pidfile" "actions.server"; then
    need_free_port "$ACTION_PORT" "action server" SCALEOUT_ACTION_PORT
    # the action server needs none of the secrets
    env -u SESSION_SECRET -u SCALEOUT_PG_PASSWORD -u SCALEOUT_REDIS_PASSWORD "${SERVER_ENV[@]}" \
      setsid "$PY" -m actions.server --port "$ACTION_PORT" >> "$log" 2>&1 < /dev/null 9>&- &
    echo $! > "$pidfile"
  fi
}

rasa_start() {
  local i=$1 port=$((RASA_BASE_PORT + $1)) pidfile=$RUN/rasa-$1.pid log=$LOGS/rasa-$1.log
  if ! pid_alive "$pidfile" "-m server"; then
    need_free_port "$port" "Rasa process $i" SCALEOUT_RASA_BASE_PORT
    env "${SERVER_ENV[@]}" setsid "$PY" -m server --model "$MODEL" --port "$port" \
      --endpoints "$DIR/endpoints.yml" --credentials "$CREDENTIALS" >> "$log" 2>&1 < /dev/null 9>&- &
    echo $! > "$pidfile"
  fi
}

rasa_stop() { stop_pid "Rasa process $1" "$RUN/rasa-$1.pid" "-m server"; }

# --- nginx ---------------------------------------------------------------------------------

# (fd 9 holds this script's lock: no daemon may inherit it)
nginx_cmd() { nginx -p "$NGINX_PREFIX/" -c "$NGINX_CONF" -e "$NGINX_PREFIX/logs/error.log" "$@" 9>&-; }

nginx_start() {
  local module servers="" user_directive i
  module=$(deploy/install.sh --js-module) || die "nginx's js module (libnginx-mod-http-js) is not installed: run deploy/install.sh"
  for i in $(seq 1 "$PROCESSES"); do
    servers+="        server 127.0.0.1:$((RASA_BASE_PORT + i)) max_fails=1 fail_timeout=10s;"$'\n'
  done
  servers=${servers%$'\n'}
  if [ "$(id -u)" = 0 ]; then
    user_directive=www-data
    getent passwd www-data >/dev/null || user_directive=nobody
  else
    user_directive=$(id -un)
  fi
  mkdir -p "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
  render deploy/nginx/nginx.conf.template "$NGINX_CONF.new" \
    "JS_MODULE=$module" "USER=$user_directive" "PREFIX=$NGINX_PREFIX" "JS_DIR=$ROOT/deploy/nginx" \
    "NGINX_PORT=$NGINX_PORT" "RASA_SERVERS=$servers"
  if [ "$(id -u)" != 0 ]; then sed -i 's/^user .*;$/# not root: nginx runs as the current user/' "$NGINX_CONF.new"; fi
  mv "$NGINX_CONF.new" "$NGINX_CONF"
  nginx_cmd -t -q || die "nginx rejected $NGINX_CONF"
  if pid_alive "$NGINX_PREFIX/nginx.pid" nginx; then
    nginx_cmd -s reload
    sleep 1  # the old workers finish their requests; new ones use the new list
  else
    need_free_port "$NGINX_PORT" nginx SCALEOUT_NGINX_PORT
    nginx_cmd -g 'daemon on;'
  fi
  wait_for nginx 30 "" "" "$NGINX_PREFIX/logs/error.log" http_ok "http://127.0.0.1:$NGINX_PORT/nginx-health"
}

nginx_stop() {
  if pid_alive "$NGINX_PREFIX/nginx.pid" nginx; then
    nginx_cmd -s stop 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$NGINX_PREFIX/nginx.pid" nginx || break; sleep 0.2; done
    say "stopped nginx"
  fi
  stop_pid nginx "$NGINX_PREFIX/nginx.pid" nginx
}

# --- the whole set -----------------------------------------------------------------------

check_pool_sizing() {
  local per_process=$((SQL_POOL_SIZE + SQL_MAX_OVERFLOW))
  local needed=$((PROCESSES * per_process + PG_ADMIN_HEADROOM))
  local available=$((PG_MAX_CONNECTIONS - PG_SUPERUSER_RESERVED))
  if [ "$needed" -gt "$available" ]; then
    die "SQL pools too big for PostgreSQL: $PROCESSES processes x (SQL_POOL_SIZE $SQL_POOL_SIZE + SQL_MAX_OVERFLOW $SQL_MAX_OVERFLOW) + $PG_ADMIN_HEADROOM for admin = $needed > max_connections $PG_MAX_CONNECTIONS - $PG_SUPERUSER_RESERVED reserved; lower the pool or raise SCALEOUT_PG_MAX_CONNECTIONS"
  fi
}

write_state() {
  "$PY" - "$STATE" <<EOF
import json, os, sys
processes = [
    {"name": f"rasa-{i}", "port": $RASA_BASE_PORT + i, "pid_file": "$RUN/rasa-%d.pid" % i, "log": "$LOGS/rasa-%d.log" % i}
    for i in range(1, $PROCESSES + 1)
]
state = {
    "dir": "$DIR",
    "nginx_url": "http://127.0.0.1:$NGINX_PORT",
    "rest_url": "http://127.0.0.1:$NGINX_PORT/webhooks/rest/webhook",
    "nginx_access_log": "$NGINX_PREFIX/logs/access.log",
    "rasa": processes,
    "action_server": {"port": $ACTION_PORT, "pid_file": "$RUN/actions.pid", "log": "$LOGS/actions.log"},
    "postgres": {"host": "127.0.0.1", "port": $PG_PORT, "db": "$PG_DB", "user": "$PG_USER",
                 "max_connections": $PG_MAX_CONNECTIONS},
    "redis": {"host": "127.0.0.1", "port": $REDIS_PORT, "db": 1, "key_prefix": "clinic:lock:"},
    "sql_pool_size": $SQL_POOL_SIZE, "sql_max_overflow": $SQL_MAX_OVERFLOW,
    "ticket_lock_lifetime": $TICKET_LOCK_LIFETIME,
    "secrets_file": "$SECRETS",
}
os.umask(0o077)
with open(sys.argv[1], "w") as f:
    json.dump(state, f, indent=2)
EOF
}

start() {
  [ -f "$MODEL" ] || die "no trained model at $MODEL (run make train)"
  [ "$PROCESSES" -ge 1 ] 2>/dev/null || die "SCALEOUT_RASA_PROCESSES must be 1 or more"
  PG_BIN=$(deploy/install.sh --pg-bin)
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL is not installed: run deploy/install.sh"
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || die "Redis is not installed: run deploy/install.sh"
  command -v nginx >/dev/null || die "nginx is not installed: run deploy/install.sh"
  check_pool_sizing
  mkdir -p "$DIR" "$RUN" "$LOGS"
  # PostgreSQL (as postgres) and nginx's workers (as www-data) must be able to
  # reach their directories: the ones from the project down to $DIR searchable
  local d=$DIR
  chmod a+x "$d"
  case "$DIR" in
    "$ROOT"/*) while d=$(dirname "$d") && [ "$d" != "$ROOT" ]; do chmod a+x "$d"; done ;;
  esac
  exec 9> "$DIR/.lock"
  flock -w 600 9 || die "another scale-out.sh is running"
  load_secrets

  render deploy/endpoints.template.yml "$DIR/endpoints.yml" \
    "ACTION_PORT=$ACTION_PORT" "PG_PORT=$PG_PORT" "PG_DB=$PG_DB" "PG_USER=$PG_USER" "REDIS_PORT=$REDIS_PORT"

  pg_start
  pg_ensure_database
  redis_start
  action_start
  local i
  for i in $(seq 1 "$PROCESSES"); do rasa_start "$i"; done
  # more processes than wanted (SCALEOUT_RASA_PROCESSES lowered): stopped
  # after nginx no longer sends them anything
  wait_for "action server" 120 "$RUN/actions.pid" actions.server "$LOGS/actions.log" \
    http_ok "http://127.0.0.1:$ACTION_PORT/health"
  for i in $(seq 1 "$PROCESSES"); do
    wait_for "Rasa process $i" 300 "$RUN/rasa-$i.pid" "-m server" "$LOGS/rasa-$i.log" \
      http_ok "http://127.0.0.1:$((RASA_BASE_PORT + i))/webhooks/rest/"
  done
  nginx_start
  for pidfile in "$RUN"/rasa-*.pid; do
    [ -e "$pidfile" ] || continue
    i=$(basename "$pidfile" .pid); i=${i#rasa-}
    if [ "$i" -gt "$PROCESSES" ]; then rasa_stop "$i"; fi
  done
  write_state
  say "$PROCESSES Rasa process(es) on 127.0.0.1:$((RASA_BASE_PORT + 1))-$((RASA_BASE_PORT + PROCESSES)), action server on :$ACTION_PORT, PostgreSQL on :$PG_PORT, Redis on :$REDIS_PORT"
  say "up: http://127.0.0.1:$NGINX_PORT (REST: http://127.0.0.1:$NGINX_PORT/webhooks/rest/webhook)"
}

stop() {
  mkdir -p "$DIR"
  exec 9> "$DIR/.lock"
  flock -w 600 9 || die "another scale-out.sh is running"
  PG_BIN=$(deploy/install.sh --pg-bin 2>/dev/null || true)
  nginx_stop
  local pidfile i
  for pidfile in "$RUN"/rasa-*.pid; do
    [ -e "$pidfile" ] || continue
    i=$(basename "$pidfile" .pid); i=${i#rasa-}
    rasa_stop "$i"
  done
  stop_pid "action server" "$RUN/actions.pid" actions.server
  redis_stop
  if [ -n "$PG_BIN" ]; then pg_stop; fi
  rm -f "$STATE"
}

status() {
  local all=0 pidfile i
  if [ -z "${SCALEOUT_RASA_PROCESSES:-}" ] && [ -f "$STATE" ]; then
    PROCESSES=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["rasa"]))' "$STATE")
  fi
  PG_BIN=$(deploy/install.sh --pg-bin 2>/dev/null || true)
  line() { printf '  %-16s %s\n' "$1" "$2"; }
  if [ -n "$PG_BIN" ] && pg_running; then line PostgreSQL "running on 127.0.0.1:$PG_PORT"; else line PostgreSQL stopped; all=3; fi
  if pid_alive "$REDIS_HOME/redis.pid" redis-server; then line Redis "running on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_HOME/redis.pid"))"; else line Redis stopped; all=3; fi
  if pid_alive "$RUN/actions.pid" actions.server; then line "action server" "running on 127.0.0.1:$ACTION_PORT (pid $(cat "$RUN/actions.pid"))"; else line "action server" stopped; all=3; fi
  for i in $(seq 1 "$PROCESSES"); do
    pidfile=$RUN/rasa-$i.pid
    if pid_alive "$pidfile" "-m server"; then line "Rasa process $i" "running on 127.0.0.1:$((RASA_BASE_PORT + i)) (pid $(cat "$pidfile"))"
    else line "Rasa process $i" stopped; all=3; fi
  done
  if pid_alive "$NGINX_PREFIX/nginx.pid" nginx; then line nginx "running: http://127.0.0.1:$NGINX_PORT"; else line nginx stopped; all=3; fi
  return $all
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: deploy/scale-out.sh start|stop|status" >&2; exit 2 ;;
esac
