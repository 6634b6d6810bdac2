"""The agent dashboard in real headless Chromium (Debian's, driven by Playwright) against a real
Bugline server: uvicorn on a free loopback port, SQLite, the real SeaweedFS S3, a webhook
receiver on loopback for forwarding, and reports that came in through the public API with a
real screenshot and a real recording (a WebM made by Chromium's own MediaRecorder).

Agents are created in the database (as `bugline create-user` does) and sign in through the
real /login form. Screenshots of each page go to var/screenshots/dashboard/ (gitignored) for
a person to look at. A missing Chromium or axe-core fails: nothing here skips.
"""

from __future__ import annotations

import base64
import http.server
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import make_settings, run_async, s3_store
from tests.dashboard import xss_payloads as xss
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.media import png, upload, upload_parts
from tests.support.ports import free_ports
from tests.support.seaweed import SeaweedServer

from bugline.app import create_app
from bugline.connectors import configs
from bugline.db.engine import make_sync_engine
from bugline.db.migrate import upgrade
from bugline.db.models import Membership, Project, Report, ReportEvent, User
from bugline.tokens import hash_password, public_key

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "var" / "screenshots" / "dashboard"
AXE = REPO / "widget" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 15_000
PASSWORD = "correct horse battery staple"
HOST_APP = "https://app.acme.test"  # the origin the project's widget lives on

# Chromium records two thirds of a second of an animated canvas: a real WebM that a <video>
# element can load, made on this machine (no binary fixture in the repository).
RECORD = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 160; canvas.height = 120;
  document.body.append(canvas);
  const g = canvas.getContext("2d");
  let frame = 0;
  const paint = () => { g.fillStyle = `hsl(${(frame++ * 12) % 360} 70% 50%)`; g.fillRect(0, 0, 160, 120); };
  paint();
  const timer = setInterval(paint, 40);
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(100);
  await new Promise((r) => setTimeout(r, 700));
  recorder.stop();
  await stopped;
  clearInterval(timer);
  const bytes = new Uint8Array(await new Blob(chunks, { type: "video/webm" }).arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}"""


class Receiver(http.server.ThreadingHTTPServer):
    """A helpdesk's webhook endpoint on loopback: keeps every JSON body it was sent."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        self.bodies: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", port), ReceiverHandler)


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size)
        try:
            self.server.bodies.append(json.loads(body))
        except ValueError:
            self.server.bodies.append({"raw": body.decode(errors="replace")})
        out = json.dumps({"id": f"hook-{len(self.server.bodies)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Person:
    email: str
    user_id: str
    password: str = PASSWORD


@dataclass
class Site:
    """The running dashboard and what was seeded into it."""

    url: str
    db_url: str
    bucket: str
    seaweed: SeaweedServer
    receiver: Receiver
    project: Project  # the agents' project ("Acme web")
    other: Project  # another tenant's project ("Globex")
    lead: Person
    agent: Person
    outsider: Person  # lead of the other project only
    connector_id: str  # the webhook connector of ``project``
    reports: dict[str, str] = field(default_factory=dict)  # name -> report id

    def db(self) -> Session:
        return Session(make_sync_engine(self.db_url), expire_on_commit=False)

    def report(self, name: str) -> Report:
        with self.db() as s:
            row = s.get(Report, self.reports[name])
            assert row is not None
            return row

    def events(self, name: str) -> list[ReportEvent]:
        with self.db() as s:
            return list(
                s.execute(
                    select(ReportEvent)
                    .where(ReportEvent.report_id == self.reports[name])
                    .order_by(ReportEvent.created_at)
                ).scalars()
            )


def _people(db_url: str, project: Project, other: Project) -> tuple[Person, Person, Person]:
    engine = make_sync_engine(db_url)
    made = []
    try:
        with Session(engine) as s, s.begin():
            for name, memberships in (
                ("lead", [(project.id, "lead")]),
                ("agent", [(project.id, "agent")]),
                ("outsider", [(other.id, "lead")]),
            ):
                user = User(
                    email=f"{name}-{secrets.token_hex(3)}@acme.test",
                    name=f"{name.title()} Person",
                    password_hash=hash_password(PASSWORD),
                )
                s.add(user)
                s.flush()
                for pid, role in memberships:
                    s.add(Membership(project_id=pid, user_id=user.id, role=role))
                made.append(Person(user.email, user.id))
    finally:
        engine.dispose()
    return made[0], made[1], made[2]


def _projects(db_url: str) -> tuple[Project, Project]:
    engine = make_sync_engine(db_url)
    try:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            a = Project(name="Acme web", public_key=public_key(), allowed_origins=[HOST_APP])
            b = Project(name="Globex", public_key=public_key(), allowed_origins=[HOST_APP])
            s.add_all([a, b])
    finally:
        engine.dispose()
    return a, b


def _webhook(db_url: str, project_id: str, url: str) -> str:
    """The project's helpdesk, a webhook, added after the seeded reports were triaged: they were
    never routed (no connector existed then), so they reach it only when an agent forwards them."""
    engine = make_sync_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            row = configs.add(
                s,
                project_id,
                "webhook",
                {"url": url, "secret": secrets.token_urlsafe(24)},
                name="helpdesk-hook",
            )
            return row.id
    finally:
        engine.dispose()


def report_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "trying_to_do": "Export March invoices as CSV",
        "expected": "A CSV download",
        "actual": "A spinner, then 'Export failed'",
        "error_text": "Error 500: export_timeout",
        "steps": ["Open Billing", "Pick March", "Click Export"],
        "frequency": "always",
        "people_affected": "some",
        "reporter": {"id": "u-42", "email": "ana@example.com", "name": "Ana", "account": "Acme"},
        "context": {
            "url": "https://app.acme.test/billing?month=3",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            "viewport": {"width": 1280, "height": 800},
            "console": [{"level": "error", "message": "TypeError: total is undefined"}],
            "network": [{"method": "POST", "url": "https://api.acme.test/export", "status": 500}],
        },
        "metadata": {"build": "2026.11.3"},
    }
    body.update(extra)
    return body


async def submit(
    client: httpx.AsyncClient,
    api: str,
    key: str,
    body: dict[str, Any],
    files: list[tuple[dict[str, Any], bytes]],
) -> str:
    """A report through the public API as the widget sends it: create, upload each file
    straight to S3 (a recording in parts), finalize. Returns the report's id."""
    headers = {"X-Bugline-Key": key, "Origin": HOST_APP}
    declared = [{**meta, "size": len(data)} for meta, data in files]
    res = await client.post(f"{api}/api/v1/reports", json={**body, "attachments": declared}, headers=headers)
    assert res.status_code == 201, res.text
    created = res.json()
    token = created["status_token"]
    for slot, (meta, data) in zip(created["attachments"], files, strict=True):
        if slot["upload"]["method"] == "MULTIPART":
            parts = await upload_parts(client, slot, data, key, token)
            done = await client.post(
                slot["upload"]["complete_url"],
                json={"parts": parts},
                headers={**headers, "X-Bugline-Report-Token": token},
            )
            assert done.status_code == 200, done.text
        else:
            up = await upload(client, slot, data)
            assert up.status_code in (200, 201, 204), (meta, up.text)
    fin = await client.post(
        created["finalize_url"], json={}, headers={**headers, "X-Bugline-Report-Token": token}
    )
    assert fin.status_code == 200, fin.text
    return str(created["id"])


def wait_triaged(site: Site, ids: list[str], timeout: float = 20) -> None:
    """The app's own triage loop runs right after intake; wait until it has judged each report."""
    deadline = time.monotonic() + timeout
    while True:
        with site.db() as s:
            rows = list(s.execute(select(Report).where(Report.id.in_(ids))).scalars())
        if rows and all(r.severity for r in rows) and len(rows) == len(ids):
            return
        assert time.monotonic() < deadline, [(r.number, r.status, r.severity) for r in rows]
        time.sleep(0.1)


def record_webm(browser: Browser) -> bytes:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.set_content("<!doctype html><title>recorder</title>")
        data = base64.b64decode(page.evaluate(RECORD))
    finally:
        ctx.close()
    assert data[:4] == bytes.fromhex("1a45dfa3") and len(data) > 1000, "Chromium did not record a WebM"
    return data


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield b
        finally:
            b.close()


class _ShotsSummary:
    """Says at the end of the run where the screenshots are, so a person looks at them."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        shots = sorted(SHOTS.glob("*.png")) if SHOTS.is_dir() else []
        if shots:
            terminalreporter.write_line(f"dashboard screenshots for review: {SHOTS} ({len(shots)} pages)")


@pytest.fixture(scope="module")
def site(
    seaweed: SeaweedServer,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Site]:
    if not request.config.pluginmanager.has_plugin("bugline-dashboard-shots"):
        request.config.pluginmanager.register(_ShotsSummary(), "bugline-dashboard-shots")
    data: Path = tmp_path_factory.mktemp("dashboard-e2e")
    db_url = f"sqlite:///{data / 'bugline.db'}"
    upgrade(db_url)
    api_port, hook_port = free_ports(2)
    api = f"http://127.0.0.1:{api_port}"
    bucket = f"bugline-dash-{uuid.uuid4().hex[:8]}"
    run_async(s3_store(seaweed, bucket).ensure_bucket([HOST_APP, api]))
    settings = make_settings(
        db_url, data, public_url=api, s3_bucket=bucket, s3_endpoint_url=seaweed.endpoint_url
    )
    project, other = _projects(db_url)
    lead, agent, outsider = _people(db_url, project, other)
    receiver = Receiver(hook_port)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    app = create_app(settings, store=s3_store(seaweed, bucket))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    site = Site(api, db_url, bucket, seaweed, receiver, project, other, lead, agent, outsider, "")
    try:
        seed(site, browser)
        site.connector_id = _webhook(db_url, project.id, f"http://127.0.0.1:{hook_port}/hook")
        yield site
    finally:
        receiver.shutdown()
        server.should_exit = True
        thread.join(15)


def seed(site: Site, browser: Browser) -> None:
    """Reports of both tenants: an outage with a screenshot and a recording, a cosmetic one, a
    hostile one (an attack in every customer field), and the other project's report that
    nobody in ``project`` may see."""
    recording = record_webm(browser)
    shot = png(64, 48, seed=5)

    async def go() -> dict[str, str]:
        async with httpx.AsyncClient(timeout=60) as client:
            outage = await submit(
                client,
                site.url,
                site.project.public_key,
                report_body(
                    title="Checkout is down for every customer",
                    actual="Nobody can pay: every checkout ends in 'Payment failed', production outage, "
                    "all customers affected, we are losing revenue",
                    people_affected="everyone",
                ),
                [
                    ({"name": "checkout.png", "type": "image/png", "kind": "screenshot"}, shot),
                    ({"name": "checkout.webm", "type": "video/webm", "kind": "recording"}, recording),
                ],
            )
            typo = await submit(
                client,
                site.url,
                site.project.public_key,
                report_body(
                    title="Typo on the settings page",
                    trying_to_do="Read the settings page",
                    expected="'Preferences'",
                    actual="The heading says 'Prefrences'",
                    error_text="",
                    frequency="always",
                    people_affected="just_me",
                    context={},
                ),
                [],
            )
            foreign = await submit(
                client,
                site.url,
                site.other.public_key,
                report_body(title="Globex private report"),
                [],
            )
            hostile = await submit(
                client,
                site.url,
                site.project.public_key,
                xss.hostile_report(),
                [
                    (
                        {"name": xss.FILE_NAMES[0], "type": "image/png", "kind": "screenshot"},
                        png(16, 12, seed=2),
                    ),
                    ({"name": xss.FILE_NAMES[1], "type": "text/plain"}, b"1. open\n2. click\n"),
                ],
            )
            return {"outage": outage, "typo": typo, "foreign": foreign, "hostile": hostile}

    site.reports.update(run_async(go()))
    wait_triaged(site, list(site.reports.values()))
    outage, typo = site.report("outage"), site.report("typo")
    assert outage.severity != typo.severity, (
        "the seeded outage and typo got the same severity; the filter test needs two: "
        f"{outage.severity} / {typo.severity}"
    )


# -- pages -----------------------------------------------------------------------------------------


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@dataclass
class Watched:
    """A page with everything that must not happen recorded: dialogs (an injected alert()),
    uncaught script errors, CSP violations reported on the console."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


def watched(ctx: BrowserContext) -> Watched:
    page = ctx.new_page()
    w = Watched(page)

    def on_dialog(dialog: Any) -> None:
        w.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: w.errors.append(str(exc)))
    page.on(
        "console", lambda msg: w.console.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None
    )
    return w


def sign_in(page: Page, site: Site, who: Person, next_path: str = "") -> None:
    """Through the real /login form, as a person does."""
    page.goto(f"{site.url}/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Email address").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in failed for {who.email}: {page.url}"


def screenshot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core run in the page. It is evaluated through the DevTools protocol, not added as a
    <script>: the dashboard's CSP (script-src 'self') rightly refuses inline scripts, and the
    test must not weaken the policy it is checking pages under."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci` in widget/")
    page.evaluate(AXE.read_text() + "\n;window.axe = axe; true")
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })) }));
        }"""
    )
    return list(result)


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


__all__ = [
    "PASSWORD",
    "SHOTS",
    "TIMEOUT_MS",
    "Person",
    "Site",
    "Watched",
    "axe_violations",
    "browser",
    "context",
    "expect",
    "screenshot",
    "serious",
    "sign_in",
    "site",
    "watched",
]
