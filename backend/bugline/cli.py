"""The `bugline` command: serve, worker, migrate, create-project, create-user, create-token, demo,
settings, triage, connector."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bugline.db.engine import make_sync_engine
from bugline.db.models import Membership, Project, User
from bugline.origins import OriginError, normalize_origin
from bugline.settings import Settings, SettingsError, describe
from bugline.tokens import hash_password, public_key

DEMO_ADMIN = "admin@example.com"


def load_settings() -> Settings:
    # The one place the environment is read.
    return Settings.from_env(os.environ).with_secret()


# The queue stub of the embed snippet, exactly as widget/ARCHITECTURE.md documents it: calls
# made before loader.js arrives (Bugline.open(), identify(), ...) are queued and replayed.
SNIPPET_STUB = (
    "<script>(function(w){var b=w.Bugline=w.Bugline||function(){(b.q=b.q||[]).push(arguments)};\n"
    '"open close identify setContext on".split(" ").forEach(function(m){b[m]=b[m]||function(){\n'
    "b.apply(null,[m].concat([].slice.call(arguments)))}})})(window);</script>"
)


def snippet(settings: Settings, key: str) -> str:
    """The copy-paste embed snippet: the queue stub, then the loader (its origin is the API's)."""
    base = settings.effective_public_url
    return f'{SNIPPET_STUB}\n<script async src="{base}/widget/loader.js" data-bugline-key="{key}"></script>'


def create_project(settings: Settings, name: str, origins: list[str], *, demo: bool = False) -> Project:
    normalized = []
    for origin in origins:
        try:
            normalized.append(normalize_origin(origin))
        except OriginError as exc:
            raise SystemExit(f"bugline: {exc}") from None
    engine = make_sync_engine(settings.effective_database_url)
    from sqlalchemy.orm import Session

    with Session(engine, expire_on_commit=False) as session, session.begin():
        project = Project(
            name=name,
            public_key=public_key(),
            allowed_origins=sorted(set(normalized)),
            settings={"demo": True} if demo else {},
        )
        session.add(project)
    engine.dispose()
    return project


def create_user(settings: Settings, email: str, password: str, *, admin: bool, name: str = "") -> User:
    engine = make_sync_engine(settings.effective_database_url)
    from sqlalchemy.orm import Session

    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            user = User(email=email.lower(), name=name, password_hash=hash_password(password), is_admin=admin)
            session.add(user)
            session.flush()
            if admin:
                for project in session.execute(select(Project)).scalars():
                    session.add(Membership(project_id=project.id, user_id=user.id, role="admin"))
    except IntegrityError:
        raise SystemExit(f"bugline: a user with the email {email} already exists") from None
    finally:
        engine.dispose()
    return user


def ensure_demo(settings: Settings) -> None:
    """Create the demo project and an admin account unless they exist; print how to use them."""
    import secrets

    from sqlalchemy.orm import Session

    engine = make_sync_engine(settings.effective_database_url)
    with Session(engine) as session:
        projects = session.execute(select(Project)).scalars().all()
        demo = next((p for p in projects if p.settings.get("demo")), None)
        has_users = session.execute(select(User.id).limit(1)).first() is not None
    engine.dispose()
    base = settings.effective_public_url
    if demo is None:
        demo = create_project(settings, "Demo", [base], demo=True)
        sync_bucket(settings)
    if not has_users:
        password = secrets.token_urlsafe(12)
        create_user(settings, DEMO_ADMIN, password, admin=True, name="Admin")
        print(f"Admin account: {DEMO_ADMIN} / {password}  (shown once; change it on {base}/account)")
    print(f"Agents' dashboard: {base}/login  (inbox at {base}/reports, monthly review at {base}/review)")
    print(f"Demo project key: {demo.public_key}")
    print(f"Demo page: {base}/demo")
    print(f"Widget snippet (paste it into your pages' <head>):\n{snippet(settings, demo.public_key)}")
    print("Send a report with a screenshot from the shell:")
    print(
        f"  curl -F actual='The Save button does nothing' -F email=you@example.com "
        f"-F screenshot=@screenshot.png -H 'X-Bugline-Key: {demo.public_key}' {base}/api/v1/reports/form"
    )


def sync_bucket(settings: Settings) -> None:
    """With S3: create the bucket if missing and let every project's origins upload to it.

    Browsers upload straight to S3, so the bucket's CORS rules must list the same origins
    as the projects' allowlists (and Bugline's own, for the demo page).
    """
    if not settings.s3_bucket:
        return
    import asyncio

    from sqlalchemy.orm import Session

    from bugline.storage.s3 import S3Store

    engine = make_sync_engine(settings.effective_database_url)
    with Session(engine) as session:
        origins = {o for p in session.execute(select(Project)).scalars() for o in p.allowed_origins}
    engine.dispose()
    origins.add(normalize_origin(settings.effective_public_url))
    store = S3Store(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url or None,
        public_endpoint_url=settings.s3_public_endpoint_url or None,
        region=settings.s3_region,
    )
    asyncio.run(store.ensure_bucket(sorted(origins)))
    print(f"S3 bucket {settings.s3_bucket} ready for uploads from {len(origins)} origin(s)")


def serve(settings: Settings) -> None:
    import uvicorn

    from bugline.app import create_app
    from bugline.observe import logs

    logs.configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # keep logs.configure's handler: one format (json or text) for every line
        proxy_headers=False,
        server_header=False,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bugline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the web server (HOST/PORT from settings)")
    sub.add_parser("migrate", help="apply database migrations up to the newest")
    sub.add_parser(
        "worker",
        help="triage accepted reports in this process (run several; pair with BUGLINE_TRIAGE_IN_WEB=false)",
    )
    sub.add_parser("demo", help="create the demo project and an admin if missing, and print how to use them")
    sub.add_parser("settings", help="list every setting with its default and help")
    cp = sub.add_parser("create-project", help="create a project and print its key and embed snippet")
    cp.add_argument("name")
    cp.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="URL",
        help="an origin allowed to embed the widget, like https://app.example.com (repeatable)",
    )
    tr = sub.add_parser(
        "triage",
        help="score a JSON-lines file of reports (completeness, severity, kind); needs no database",
    )
    tr.add_argument(
        "--in", dest="in_path", required=True, metavar="FILE", help="reports, one JSON per line (- = stdin)"
    )
    tr.add_argument("--out", dest="out_path", metavar="FILE", help="verdicts, one JSON per line (- = stdout)")
    tr.add_argument(
        "--rules", metavar="FILE.toml", help="rule overrides, shaped like a project's triage settings"
    )
    co = sub.add_parser("connector", help="the helpdesks and trackers a project forwards reports to")
    cosub = co.add_subparsers(dest="action", required=True)
    cosub.add_parser("kinds", help="print the connector kinds this version ships, one per line")
    ca = cosub.add_parser("add", help="add a connector to a project, validating its settings")
    ca.add_argument("project", help="project id, name or public key")
    ca.add_argument("kind", help="one of `bugline connector kinds`")
    ca.add_argument(
        "settings",
        nargs="*",
        metavar="key=value",
        help="the kind's settings; also name=..., roles=a,b (default helpdesk), enabled=false",
    )
    cl = cosub.add_parser("list", help="a project's connectors, secrets masked")
    cl.add_argument("project")
    cr = cosub.add_parser("remove", help="remove a connector (pending deliveries to it are dropped)")
    cr.add_argument("project")
    cr.add_argument("name")
    ct = cosub.add_parser("check", help="check a connector's connection and credentials")
    ct.add_argument("project")
    ct.add_argument("name")
    de = sub.add_parser("delivery", help="what the outbox sent, is sending, or gave up on")
    desub = de.add_subparsers(dest="action", required=True)
    dl = desub.add_parser("list", help="a project's deliveries, newest first, one JSON per line")
    dl.add_argument("project")
    dl.add_argument("--state", choices=("pending", "done", "failed"))
    dl.add_argument("--limit", type=int, default=50)
    dr = desub.add_parser(
        "retry", help="start failed deliveries again (all of the project's, or the ids given)"
    )
    dr.add_argument("project")
    dr.add_argument("ids", nargs="*")
    ro = sub.add_parser("route", help="routing rules: show them, or dry-run a report through them")
    rosub = ro.add_subparsers(dest="action", required=True)
    rs = rosub.add_parser("show", help="the project's effective rules (its own, then the defaults) as JSON")
    rs.add_argument("project")
    rd = rosub.add_parser("dry-run", help="where a stored report would go, and why (nothing is sent)")
    rd.add_argument("project")
    rd.add_argument("report", help="the report's number (#42 or 42) or id")
    rset = rosub.add_parser("set", help="replace the project's rules with a JSON or TOML file")
    rset.add_argument("project")
    rset.add_argument("file", help='{"rules": [...], "replace_defaults": false} (docs/routing.md)')
    tk = sub.add_parser("create-token", help="create a personal API token for the agent API")
    tk.add_argument("email")
    tk.add_argument("--name", default="cli", help="what the token is for")
    er = sub.add_parser(
        "erase", help="erase a reporter's personal data, reports' words and files (an erasure request)"
    )
    er.add_argument("--project", required=True, help="the project's id")
    er.add_argument("subject", help="the reporter's email address or the host app's user id")
    er.add_argument("--by", default="bugline erase", help="who asked or acted, for the record")
    sub.add_parser("retention", help="expire media and personal data past each project's policy, now")
    cu = sub.add_parser("create-user", help="create a dashboard user")
    cu.add_argument("email")
    cu.add_argument("--name", default="")
    cu.add_argument("--admin", action="store_true", help="admin of every project")
    cu.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "triage":
        from bugline import batch

        return batch.main(args.in_path, args.out_path or batch.default_out(args.in_path), args.rules)
    if args.command == "connector" and args.action == "kinds":
        from bugline.connectors import registry

        print("\n".join(registry.kinds()))
        return 0
    if args.command == "settings":
        for env, default, help_text in describe():
            print(f"{env}\n    {help_text}\n    default: {default!r}")
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"bugline: {exc}", file=sys.stderr)
        return 2
    from bugline.db.migrate import upgrade

    if args.command == "migrate":
        upgrade(settings.effective_database_url)
        print("database is up to date")
        sync_bucket(settings)
    elif args.command == "serve":
        serve(settings)
    elif args.command == "worker":
        from bugline.worker import run_worker

        asyncio.run(run_worker(settings))
        # Stopped in order; now leave even if a thread is still blocked in a vendor call (an
        # SMTP connect, a storage read): its delivery's lease brings it back to another worker,
        # and a worker that lingers past SIGTERM only gets killed by its supervisor later.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    elif args.command == "demo":
        ensure_demo(settings)
    elif args.command == "create-project":
        project = create_project(settings, args.name, args.origin)
        sync_bucket(settings)
        print(f"Project {project.name!r} created.")
        print(f"Public key: {project.public_key}")
        print(f"Allowed origins: {', '.join(project.allowed_origins) or '(none: only server-side calls)'}")
        print(f"Embed snippet (paste it into your pages' <head>):\n{snippet(settings, project.public_key)}")
    elif args.command == "connector":
        from bugline import connectorcli

        return connectorcli.run(settings, args)
    elif args.command == "delivery":
        from bugline import connectorcli

        return connectorcli.delivery(settings, args)
    elif args.command == "route":
        from bugline import connectorcli

        return connectorcli.route(settings, args)
    elif args.command == "create-token":
        from bugline import apitokens

        token = apitokens.create_for_email(settings, args.email, args.name)
        print(token)
    elif args.command in ("erase", "retention"):
        from bugline.retention import command

        if args.command == "erase":
            return asyncio.run(command.erase(settings, args.project, args.subject, args.by))
        return asyncio.run(command.sweep(settings))
    elif args.command == "create-user":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
        if len(password) < 10:
            print("bugline: the password must be at least 10 characters", file=sys.stderr)
            return 2
        user = create_user(settings, args.email, password, admin=args.admin, name=args.name)
        print(f"User {user.email} created{' (admin)' if user.is_admin else ''}.")
    return 0
