#!/bin/bash
# Starts a throw-away PostgreSQL for the Delivery Service tests on 127.0.0.1:55432 (trust
# authentication, loopback only) and prints the connection string. Installs the Debian
# package if it is missing. Usage: eval "$(.ci/postgres.sh)"
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql) >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DATA=${CANOPY_PG_DATA:-/tmp/canopy-pg}
PORT=${CANOPY_PG_PORT:-55432}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -f "$DATA/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$DATA" stop -m fast >&2 || true; fi
rm -rf "$DATA"; mkdir -p "$DATA"
if [ "$(id -u)" = 0 ]; then chown postgres "$DATA"; fi
as_pg "$PGBIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >&2
echo "export CANOPY_TEST_POSTGRES='host=127.0.0.1 port=$PORT user=postgres dbname=postgres'"
