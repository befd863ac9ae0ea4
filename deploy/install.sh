#!/usr/bin/env bash
# Install what the scale-out set-up needs, from Debian's packages, when it is
# missing: PostgreSQL, Redis, nginx and nginx's JavaScript module (njs).
#
#   deploy/install.sh          install what is missing; exit 0 when all is there
#
# Exits non-zero with a one-line reason ("scale-out: cannot install: ...") when
# the packages are missing and cannot be installed (not root and no sudo, no
# apt-get, the package index unreachable). deploy/run-tests.sh skips the
# scale-out tests in that case only.
#
# Debian starts a service when its package is installed (a system-wide nginx
# on port 80, Redis on 6379, PostgreSQL's "main" cluster on 5432). The
# scale-out runs its own instances on other ports and needs none of those, so
# while installing, a policy-rc.d that forbids starting services is put in
# place if the machine has none (and removed afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(postgresql redis-server nginx libnginx-mod-http-js)

fail() { echo "scale-out: cannot install: $*" >&2; exit 1; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing() {
  local what=()
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] && [ -x "$(pg_bin)/pg_ctl" ] || what+=(postgresql)
  command -v psql >/dev/null 2>&1 || what+=(postgresql)
  getent passwd postgres >/dev/null 2>&1 || what+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || what+=(redis-server)
  command -v nginx >/dev/null 2>&1 || what+=(nginx)
  js_module >/dev/null || what+=(libnginx-mod-http-js)
  printf '%s\n' "${what[@]}" | sort -u | grep -v '^$' || true
}

# The njs module's shared object, from the package's file list.
js_module() {
  local so
  so=$(dpkg -L libnginx-mod-http-js 2>/dev/null | grep '/ngx_http_js_module\.so$' | head -n 1 || true)
  [ -n "$so" ] || so=$(ls /usr/lib/nginx/modules/ngx_http_js_module.so 2>/dev/null || true)
  [ -n "$so" ] && [ -f "$so" ] && { echo "$so"; return 0; }
  return 1
}

if [ "${1:-}" = "--js-module" ]; then js_module; exit $?; fi
if [ "${1:-}" = "--pg-bin" ]; then pg_bin; exit 0; fi

# The project's venv must have the PostgreSQL and Redis clients (pinned in constraints.txt).
if ! .venv/bin/python -c "import psycopg2, redis, aiohttp" 2>/dev/null; then
  echo "scale-out: the project's .venv lacks psycopg2, redis or aiohttp (run make setup)" >&2
  exit 2
fi

todo=$(missing | tr '\n' ' ')
if [ -z "${todo// /}" ]; then
  exit 0
fi
echo "scale-out: installing Debian packages: $todo"

command -v apt-get >/dev/null 2>&1 || fail "no apt-get on this machine (install $todo by hand)"
SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    fail "not root and no password-less sudo (install $todo by hand)"
  fi
fi

policy=/usr/sbin/policy-rc.d
placed_policy=false
if [ ! -e "$policy" ]; then
  # shellcheck disable=SC2016
  "${SUDO[@]}" sh -c 'printf "#!/bin/sh\n# placed by deploy/install.sh while installing; do not start services\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d' \
    && placed_policy=true
fi
cleanup() { if $placed_policy; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}" >"$log" 2>&1; then
  if ! { "${SUDO[@]}" apt-get update >>"$log" 2>&1 \
         && "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$log" 2>&1; }; then
    tail -n 5 "$log" >&2
    rm -f "$log"
    fail "apt-get install ${PACKAGES[*]} failed (see the lines above)"
  fi
fi
rm -f "$log"

todo=$(missing | tr '\n' ' ')
[ -z "${todo// /}" ] || fail "still missing after apt-get install: $todo"
echo "scale-out: installed PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}'), $(redis-server --version | awk '{print $3}'), $(nginx -v 2>&1 | sed 's/.*: //'), njs module $(js_module)"
