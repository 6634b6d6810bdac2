"""`bugline connector add|list|remove|check`, `bugline route show|dry-run|set` and `bugline delivery
list|retry`: scripted set-up of where reports go, and the hand on failed deliveries."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tomllib
from pathlib import Path

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bugline.connectors import configs
from bugline.connectors.base import Delivered
from bugline.db.engine import make_sync_engine
from bugline.db.models import Project, Report, utcnow
from bugline.outbox import queue
from bugline.outbox.plan import Subject, connectors_of, facts_of, plan_for
from bugline.routing import Connection as Destination
from bugline.routing import RoutingError, RoutingSettings, explain, lint, load_rules
from bugline.settings import Settings


def find_project(s: Session, ref: str) -> Project:
    project = s.execute(
        select(Project).where(or_(Project.id == ref, Project.public_key == ref, Project.name == ref))
    ).scalar_one_or_none()
    if project is None:
        raise SystemExit(f"bugline: no project with the id, key or name {ref!r}")
    return project


def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_sync_engine(settings.effective_database_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            project = find_project(s, args.project)
            if args.action == "add":
                try:
                    pairs = configs.parse_pairs(args.settings)
                    name = pairs.pop("name", None)
                    roles = pairs.pop("roles", None)
                    enabled = pairs.pop("enabled", "true").lower() not in ("false", "0", "no")
                    row = configs.add(
                        s, project.id, args.kind, pairs, name=name, roles=roles, enabled=enabled
                    )
                except configs.ConfigError as exc:
                    for key, message in exc.errors.items():
                        print(f"bugline: {key}: {message}", file=sys.stderr)
                    return 2
                print(json.dumps(configs.shown(row), indent=2))
                return 0
            if args.action == "list":
                for row in configs.listing(s, project.id):
                    print(json.dumps(configs.shown(row)))
                return 0
            row_or_none = configs.find(s, project.id, args.name)
            if row_or_none is None:
                print(f"bugline: project {project.name!r} has no connector {args.name!r}", file=sys.stderr)
                return 2
            if args.action == "remove":
                s.delete(row_or_none)
                print(f"removed {row_or_none.name}")
                return 0
            row = row_or_none

        # check: outside the transaction, it waits on the vendor
        async def check() -> str:
            async with httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)) as http:
                result = await configs.instance(row, http).check()
            return (
                "ok" if isinstance(result, Delivered) else f"{type(result).__name__.lower()}: {result.reason}"
            )

        outcome = asyncio.run(check())
        print(f"{row.name}: {outcome}")
        return 0 if outcome == "ok" else 1
    finally:
        engine.dispose()


def route(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_sync_engine(settings.effective_database_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            project = find_project(s, args.project)
            if args.action == "show":
                try:
                    rules = load_rules((project.settings or {}).get("routing"))
                except RoutingError as exc:
                    print(f"bugline: the saved rules do not load: {exc}", file=sys.stderr)
                    return 2
                print(json.dumps(rules.to_json(), indent=2))
                return 0
            if args.action == "set":
                try:
                    parsed = RoutingSettings.from_json(_read_rules(args.file))
                    effective = parsed.effective()
                except (RoutingError, OSError, ValueError) as exc:
                    print(f"bugline: {exc}", file=sys.stderr)
                    return 2
                project.settings = {**(project.settings or {}), "routing": parsed.to_json()}
                for warning in lint(effective, _destinations(s, project.id)):
                    print(f"warning: {warning}", file=sys.stderr)
                print(f"routing rules of {project.name!r} saved")
                return 0
            ref = args.report.lstrip("#")
            query = select(Report).where(Report.project_id == project.id)
            query = query.where(Report.number == int(ref)) if ref.isdigit() else query.where(Report.id == ref)
            report = s.execute(query).scalar_one_or_none()
            if report is None:
                print(f"bugline: project {project.name!r} has no report {args.report!r}", file=sys.stderr)
                return 2
            if report.triage is None:
                print("bugline: the report has not been triaged yet", file=sys.stderr)
                return 2
            facts = facts_of(
                Subject.of_report(s, report), report.status, connectors_of(s.connection(), project.id)
            )
            print(explain(plan_for(project.settings or {}, facts)))
            return 0
    finally:
        engine.dispose()


def _read_rules(path: str) -> object:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".toml"):
        return tomllib.loads(text)
    return json.loads(text)


def _destinations(s: Session, project_id: str) -> tuple[Destination, ...]:
    return tuple(Destination(n, k, r, e) for _, n, k, r, e in connectors_of(s.connection(), project_id))


def delivery(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_sync_engine(settings.effective_database_url)
    try:
        with Session(engine) as s, s.begin():
            project = find_project(s, args.project)
            if args.action == "list":
                limit = max(1, min(500, args.limit))
                for row in queue.listing(
                    s.connection(), project_id=project.id, state=args.state, limit=limit
                ):
                    print(json.dumps(row))
                return 0
            count = queue.restart(s.connection(), project_id=project.id, now=utcnow(), ids=args.ids or None)
            print(f"{count} failed deliver{'y' if count == 1 else 'ies'} queued again")
            return 0
    finally:
        engine.dispose()
