"""Start a real django-helpdesk on a fresh loopback port, for the django-helpdesk connector tests.

django-helpdesk (a real open-source helpdesk) runs from its own venv (var/helpdesk-venv, made by
infra/scripts/ensure-helpdesk.sh, which this module runs too: it is a no-op once installed) with
the small Django site in infra/helpdesk. Every start gets a fresh SQLite database, an admin user,
its API token and a queue (slug ``bugs``). A helpdesk that cannot be installed or started is a test
failure carrying its output, never a skip.

Its webhooks need a receiver that is up: when a webhook target refuses the connection, the
helpdesk answers 500 although it saved the ticket (see /work/shared/notes/real-services.md).
``WebhookReceiver`` records what it receives and can be taken down and brought back on the same
port, so tests can provoke exactly that.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "infra" / "helpdesk"
ENSURE = ROOT / "infra" / "scripts" / "ensure-helpdesk.sh"
VENV = Path(os.environ.get("BUGLINE_HELPDESK_VENV", ROOT / "var" / "helpdesk-venv"))
STARTUP_TIMEOUT = 60.0
QUEUE_SLUG = "bugs"
USERNAME = "admin"


class HelpdeskError(RuntimeError):
    """django-helpdesk could not be installed or did not start; the message carries its output."""


@dataclass
class Helpdesk:
    """A running django-helpdesk. ``url`` is where its URLs are mounted (``…/helpdesk``), which is
    what the connector's ``url`` setting takes."""

    process: subprocess.Popen[bytes]
    url: str
    token: str
    queue_id: int
    queue_slug: str
    username: str
    password: str
    data_dir: Path
    log_path: Path
    startup_seconds: float = 0.0
    stopped: bool = field(default=False)

    @property
    def origin(self) -> str:
        return self.url.rsplit("/helpdesk", 1)[0]

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Token {token or self.token}"},
            timeout=30.0,
        )

    def get_ticket(self, ticket_id: int | str) -> dict[str, Any]:
        """The ticket as its API shows it; attachments under
        ``followup_set[].followupattachment_set[]``."""
        with self.client() as http:
            response = http.get(f"/api/tickets/{ticket_id}/")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def tickets(self) -> list[dict[str, Any]]:
        """Every ticket, oldest first (the API pages 25 at a time by default)."""
        found: list[dict[str, Any]] = []
        with self.client() as http:
            page = 1
            while True:
                response = http.get("/api/tickets/", params={"page": page, "page_size": 100})
                response.raise_for_status()
                body = response.json()
                found.extend(body["results"])
                if not body["next"]:
                    return found
                page += 1

    def attachments(self, ticket_id: int | str) -> list[dict[str, Any]]:
        """Every attachment on the ticket, in follow-up order."""
        ticket = self.get_ticket(ticket_id)
        return [a for f in ticket["followup_set"] for a in f["followupattachment_set"]]

    def download(self, file_url: str) -> bytes:
        """The bytes of an attachment, from the ``file`` URL its API gives."""
        response = httpx.get(file_url, timeout=30.0)
        response.raise_for_status()
        return response.content

    def resolve(self, ticket_id: int | str, comment: str) -> dict[str, Any]:
        """Resolve the ticket the way an agent does: a public follow-up with status 3 (Resolved).

        No ``title``: a follow-up's title renames the ticket (helpdesk/update_ticket.py)."""
        with self.client() as http:
            response = http.post(
                "/api/followups/",
                json={
                    "ticket": int(ticket_id),
                    "comment": comment,
                    "public": True,
                    "new_status": 3,
                },
            )
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server; its port refuses connections afterwards."""
        self.stopped = True
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def ensure_installed() -> Path:
    """Run infra/scripts/ensure-helpdesk.sh (fast when installed); the venv's python."""
    result = subprocess.run(
        ["bash", str(ENSURE)],
        capture_output=True,
        text=True,
        env={**os.environ, "BUGLINE_HELPDESK_VENV": str(VENV)},
        check=False,
    )
    python = VENV / "bin" / "python"
    if result.returncode != 0 or not python.exists():
        raise HelpdeskError(
            f"{ENSURE.name} failed with {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return python


def start_helpdesk(
    tmp_dir: Path, *, new_ticket_webhooks: list[str], followup_webhooks: list[str]
) -> Helpdesk:
    """A fresh django-helpdesk on 127.0.0.1:<free port>, its data and log in ``tmp_dir``."""
    python = ensure_installed()
    started = time.monotonic()
    tmp_dir.mkdir(parents=True, exist_ok=True)
    data_dir = tmp_dir / "data"
    data_dir.mkdir(exist_ok=True)
    password = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_SETTINGS_MODULE": "desk.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("HELPDESK_NEW_TICKET_WEBHOOK_URLS", "HELPDESK_FOLLOWUP_WEBHOOK_URLS", "VIRTUAL_ENV"):
        env.pop(name, None)
    # django-helpdesk 2.6.1 splits the two lists differently (helpdesk/settings.py): new-ticket URLs
    # on ",", follow-up URLs on a comma with whitespace either side.
    if new_ticket_webhooks:
        env["HELPDESK_NEW_TICKET_WEBHOOK_URLS"] = ",".join(new_ticket_webhooks)
    if followup_webhooks:
        env["HELPDESK_FOLLOWUP_WEBHOOK_URLS"] = " , ".join(followup_webhooks)

    # One process migrates and creates the admin, its token and the queue (infra/helpdesk/bootstrap.py).
    boot = subprocess.run(
        [str(python), "bootstrap.py", USERNAME, password, QUEUE_SLUG],
        cwd=SITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
        check=False,
    )
    if boot.returncode != 0:
        raise HelpdeskError(
            f"django-helpdesk bootstrap failed with {boot.returncode}:\n{boot.stdout[-3000:]}\n"
            f"{boot.stderr[-5000:]}"
        )
    try:
        made = json.loads(boot.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise HelpdeskError(
            f"django-helpdesk bootstrap printed no JSON:\n{boot.stdout}\n{boot.stderr}"
        ) from None

    port = free_port()
    log_path = tmp_dir / "helpdesk.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=SITE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so stop() reaches all of it
        )
    desk = Helpdesk(
        process=process,
        url=f"http://127.0.0.1:{port}/helpdesk",
        token=made["token"],
        queue_id=int(made["queue_id"]),
        queue_slug=made["queue_slug"],
        username=USERNAME,
        password=password,
        data_dir=data_dir,
        log_path=log_path,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HelpdeskError(
                f"django-helpdesk exited with {process.returncode} during start; log:\n{desk.log_tail()}"
            )
        if _ready(desk):
            desk.startup_seconds = time.monotonic() - started
            return desk
        time.sleep(0.1)
    desk.stop()
    raise HelpdeskError(
        f"django-helpdesk did not answer within {STARTUP_TIMEOUT:.0f}s; log:\n{desk.log_tail()}"
    )


def _ready(desk: Helpdesk) -> bool:
    """Its API answers an authenticated request: the server is up and the token works."""
    try:
        with desk.client() as http:
            return http.get("/api/tickets/", params={"page_size": 1}, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


# ---- a webhook receiver that can be taken down ---------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    path: str
    body: dict[str, Any]


class WebhookReceiver:
    """Records the helpdesk's webhooks (``received``); ``down()`` closes its port, ``up()`` opens
    the same port again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[Webhook] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.up()

    def up(self) -> None:
        if self._server is not None:
            return
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                with receiver._lock:
                    receiver.received.append(Webhook(self.path, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)  # reuses the address
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def paths(self) -> list[str]:
        with self._lock:
            return [w.path for w in self.received]
