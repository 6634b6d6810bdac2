"""docs/deploy.md names only files, settings and commands that exist, so following it works."""

from __future__ import annotations

import re

from bugline.cli import parser
from bugline.settings import describe
from tests.infra.files import REPO

DOC = (REPO / "docs" / "deploy.md").read_text()


def test_every_path_it_names_exists() -> None:
    paths = set(re.findall(r"(?<![\w/.-])((?:infra|backend|docs)/[\w./-]*[\w/])", DOC))
    assert len(paths) > 10
    created_by_the_operator = {"infra/compose/.env"}
    missing = sorted(p for p in paths - created_by_the_operator if not (REPO / p).exists())
    assert not missing, f"docs/deploy.md names {missing}, which do not exist"


def test_every_setting_it_names_is_real() -> None:
    known = {name for name, _, _ in describe()}
    named = set(re.findall(r"\bBUGLINE_[A-Z0-9_]+[A-Z0-9]\b", DOC))
    unknown = sorted(named - known)
    assert not unknown, f"docs/deploy.md names settings that do not exist: {unknown}"


def test_every_bugline_command_it_names_exists() -> None:
    commands = set(parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    named = set(re.findall(r"`bugline ([a-z-]+)", DOC)) | set(
        re.findall(r"\bexec app bugline ([a-z-]+)", DOC)
    )
    assert {"serve", "worker", "migrate"} <= named
    assert named <= commands, f"unknown commands: {sorted(named - commands)}"


def test_every_s3_document_is_explained() -> None:
    for path in (REPO / "infra" / "s3").glob("*.json"):
        assert f"`{path.name}`" in DOC, f"explain infra/s3/{path.name} in docs/deploy.md"
