#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432: use the running one, start it if
# stopped, install it from Debian's packages if missing. CI and people run the same script.
set -euo pipefail
PGHOST=127.0.0.1
PGPORT=${BUGLINE_TEST_PG_PORT:-5432}

ready() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then exit 0; fi
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "PostgreSQL is not installed: installing it (Debian package postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  # A fresh install asks for passwords over TCP; the tests connect from loopback as postgres
  # without one, as on the machines this project runs on. Loopback only.
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "/etc/postgresql/$version/main/pg_hba.conf"
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  if ready; then exit 0; fi
  sleep 1
done
echo "PostgreSQL did not become ready on $PGHOST:$PGPORT" >&2
exit 1
