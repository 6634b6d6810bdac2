#!/usr/bin/env bash
# The real django-helpdesk for the connector tests, in a venv of its own (var/helpdesk-venv), so its
# Django and REST framework never meet Bugline's dependencies. Idempotent: a marker named after the
# hash of infra/helpdesk/requirements.txt makes a second run a no-op; a changed pin reinstalls.
# Tests start it from that venv (tests/support/helpdesk.py); docs/helpdesk.md says why.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
requirements="$root/infra/helpdesk/requirements.txt"
venv="${BUGLINE_HELPDESK_VENV:-$root/var/helpdesk-venv}"
python="${PYTHON:-python3}"
hash="$(sha256sum "$requirements" | cut -c1-16)"
marker="$venv/.installed-$hash"
if [ -f "$marker" ] && "$venv/bin/python" -c "import helpdesk" 2>/dev/null; then
  exit 0
fi
echo "installing django-helpdesk into $venv" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
# --no-deps with a fully pinned list: the same versions on every machine, whatever was released since.
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$requirements"
"$venv/bin/pip" check >/dev/null
touch "$marker"
