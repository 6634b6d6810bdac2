"""`bugline connector add|list|remove|check`: scripted set-up of where reports go."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bugline.connectors import configs, registry
from bugline.connectors.base import Delivered
from bugline.db.engine import make_sync_engine
from bugline.db.models import Project
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
        cls = registry.get(row.kind)

        async def check() -> str:
            async with httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)) as http:
                result = await cls(cls.validate(row.config), http).check()
            return (
                "ok" if isinstance(result, Delivered) else f"{type(result).__name__.lower()}: {result.reason}"
            )

        outcome = asyncio.run(check())
        print(f"{row.name}: {outcome}")
        return 0 if outcome == "ok" else 1
    finally:
        engine.dispose()
