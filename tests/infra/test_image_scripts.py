"""The two helper commands the image installs, run for real: the HEALTHCHECK command against
a live HTTP server, and the init containers' schema wait against a real (SQLite) database."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from bugline.db.migrate import upgrade
from tests.infra.files import INFRA

HEALTHCHECK = INFRA / "docker" / "healthcheck.py"
WAIT = INFRA / "docker" / "wait_for_schema.py"


def run(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_") and k != "PORT"}
    return subprocess.run(
        [sys.executable, str(script), *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def web() -> Iterator[tuple[int, dict[str, int]]]:
    """A server answering GET /healthz with the status in ``answer['status']``."""
    answer = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answer["status"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], answer
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_passes_only_when_healthz_answers_200(web: tuple[int, dict[str, int]]) -> None:
    port, answer = web
    assert run(HEALTHCHECK, {"PORT": str(port)}).returncode == 0
    answer["status"] = 503
    assert run(HEALTHCHECK, {"PORT": str(port)}).returncode == 1


def test_healthcheck_fails_when_nothing_listens(web: tuple[int, dict[str, int]]) -> None:
    # Port 1 has no server (the fixture's server proves the same call passes on a live port).
    done = run(HEALTHCHECK, {"PORT": "1"})
    assert done.returncode == 1 and "healthz" in done.stderr


def load_wait() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wait_for_schema", WAIT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """Run the init container's command in this process (it reads only the environment):
    returns (exit code, what it printed)."""
    for key in list(os.environ):
        if key.startswith("BUGLINE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BUGLINE_DATA_DIR", str(tmp_path))
    main = load_wait().main

    def call(*args: str) -> tuple[int, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out + out.err

    return call


def test_wait_gives_up_on_a_database_that_was_never_migrated(wait: Callable[..., tuple[int, str]]) -> None:
    code, said = wait("--timeout", "0.3", "--interval", "0.1")
    assert code == 1
    assert "still behind" in said and "migrate" in said


def test_wait_passes_once_migrated_and_not_before(
    wait: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bugline.db'}"
    upgrade(url, "0001")
    code, said = wait("--timeout", "0.3", "--interval", "0.1")
    assert code == 1 and "database at 0001" in said
    upgrade(url)
    code, said = wait("--timeout", "5")
    assert code == 0, said
    assert "schema is current" in said


def test_wait_refuses_a_database_migrated_by_a_newer_release(
    wait: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    upgrade(f"sqlite:///{tmp_path / 'bugline.db'}")
    with sqlite3.connect(tmp_path / "bugline.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    code, said = wait("--timeout", "30")
    assert code == 2, "no point waiting: this image can never reach that revision"
    assert "9999_from_the_future" in said and "newer release" in said


def test_wait_reports_bad_settings(
    wait: Callable[..., tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUGLINE_DATABASE_URL", "mysql://db/bugline")
    code, said = wait()
    assert code == 2 and "BUGLINE_DATABASE_URL" in said
