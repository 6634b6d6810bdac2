#!/usr/bin/env python3
"""Wait until the database schema is at this image's newest migration, then exit 0.

Kubernetes runs migrations as a Job (`bugline migrate`) while the new app and worker pods
start: this init container holds them back until the Job has finished, so new code never
runs against an old schema. The old pods keep serving meanwhile (a rolling update replaces
them only once the new ones are ready).

Exit codes: 0 the schema is current; 1 still behind after --timeout seconds; 2 the database
is at a revision this image does not know (it was migrated by a newer release: roll forward,
or downgrade with the newer image first), or the settings are wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bugline.db.engine import make_sync_engine
from bugline.db.migrate import alembic_config
from bugline.settings import Settings, SettingsError


def schema_state(url: str) -> tuple[str, set[str]]:
    """("current" | "behind" | "unknown", the database's revisions)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    wanted = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    if current == wanted:
        return "current", current
    if current - known:
        return "unknown", current
    return "behind", current


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bugline-wait-for-schema", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait (default 600)")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between checks (default 3)")
    args = parser.parse_args(argv)
    try:
        url = Settings.from_env(os.environ).effective_database_url
    except SettingsError as exc:
        print(f"bugline-wait-for-schema: {exc}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            state, revisions = schema_state(url)
        except SQLAlchemyError as exc:
            # The database may still be starting: keep waiting, but say why.
            state, revisions = "unreachable", set()
            reason = str(exc).splitlines()[0][:200] if str(exc) else ""
            print(
                f"bugline-wait-for-schema: database not reachable yet: {type(exc).__name__}: {reason}",
                file=sys.stderr,
            )
        if state == "current":
            print(f"schema is current ({', '.join(sorted(revisions))})")
            return 0
        if state == "unknown":
            print(
                f"bugline-wait-for-schema: the database is at {', '.join(sorted(revisions))}, "
                "a revision this image does not know: a newer release migrated it. Deploy that release "
                "again; rolling back past a migration is described in docs/deploy.md (Upgrades).",
                file=sys.stderr,
            )
            return 2
        if time.monotonic() >= deadline:
            behind = ", ".join(sorted(revisions)) or "no schema at all"
            print(
                f"bugline-wait-for-schema: still behind after {args.timeout:.0f} s (database at {behind}); "
                "has the migration job run? `kubectl logs job/bugline-migrate`",
                file=sys.stderr,
            )
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
