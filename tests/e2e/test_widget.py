"""The widget in real headless Chromium (Debian's, driven by Playwright) against a real Bugline
server (uvicorn on a free port, SQLite, SeaweedFS S3), embedded with the snippet in a host page
served from another origin. A missing Chromium fails these tests: nothing here skips."""

from __future__ import annotations

import http.server
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import make_settings, run_async, s3_store
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.media import png
from tests.support.ports import free_ports
from tests.support.seaweed import SeaweedServer

from bugline.app import create_app
from bugline.cli import create_project
from bugline.db.engine import make_sync_engine
from bugline.db.migrate import upgrade
from bugline.db.models import Attachment, Report, Reporter

TIMEOUT_MS = 15_000
STUB = (
    "(function(w){var b=w.Bugline=w.Bugline||function(){(b.q=b.q||[]).push(arguments)};"
    '"open close identify setContext on".split(" ").forEach(function(m){b[m]=b[m]||function(){'
    "b.apply(null,[m].concat([].slice.call(arguments)))}})})(window);"
)


class HostPages(http.server.ThreadingHTTPServer):
    """The customer's app on its own origin: pages registered by path, and an endpoint that fails."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        self.pages: dict[str, tuple[str, dict[str, str]]] = {}
        super().__init__(("127.0.0.1", port), HostHandler)


class HostHandler(http.server.BaseHTTPRequestHandler):
    server: HostPages

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/fail":
            self.answer(500, b'{"error":"database is down"}', {"Content-Type": "application/json"})
        elif path in self.server.pages:
            html, headers = self.server.pages[path]
            self.answer(200, html.encode(), {"Content-Type": "text/html; charset=utf-8", **headers})
        else:
            self.answer(404, b"not found", {"Content-Type": "text/plain"})

    def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Stack:
    api: str
    host: str
    key: str
    db_url: str
    bucket: str
    seaweed: SeaweedServer
    pages: HostPages
    seq: list[int] = field(default_factory=lambda: [0])

    def page(self, body: str = "", *, head: str = "", attrs: str = "", csp: str | None = None) -> str:
        """Register a host page embedding the snippet; returns its URL."""
        nonce = secrets.token_urlsafe(12)
        n = f' nonce="{nonce}"'
        html = (
            f"<!doctype html><html><head><meta charset=utf-8><title>Acme</title>"
            f"<script{n}>{STUB}</script>{head.replace('NONCE', nonce)}"
            f'<script{n} async src="{self.api}/widget/loader.js" data-bugline-key="{self.key}" {attrs}></script>'
            f"</head><body><h1>Acme invoices</h1><button id=before>Save</button>"
            f"{body.replace('NONCE', nonce)}</body></html>"
        )
        headers = {"Content-Security-Policy": csp.replace("NONCE", nonce)} if csp else {}
        self.seq[0] += 1
        path = f"/page{self.seq[0]}"
        self.pages.pages[path] = (html, headers)
        return self.host + path

    def reports(self) -> list[tuple[Report, Reporter | None, list[Attachment]]]:
        engine = make_sync_engine(self.db_url)
        try:
            with Session(engine) as s:
                out = []
                for r in s.execute(select(Report).order_by(Report.number)).scalars():
                    who = s.get(Reporter, r.reporter_id) if r.reporter_id else None
                    files = list(s.execute(select(Attachment).where(Attachment.report_id == r.id)).scalars())
                    out.append((r, who, files))
                return out
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def stack(seaweed: SeaweedServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data: Path = tmp_path_factory.mktemp("widget-e2e")
    db_url = f"sqlite:///{data / 'bugline.db'}"
    upgrade(db_url)
    api_port, host_port = free_ports(2)
    api, host = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{host_port}"
    bucket = f"bugline-widget-{uuid.uuid4().hex[:8]}"
    run_async(s3_store(seaweed, bucket).ensure_bucket([host, api]))
    settings = make_settings(db_url, data, public_url=api, s3_bucket=bucket, s3_endpoint_url=seaweed.endpoint_url)
    project = create_project(settings, "Widget e2e", [host])
    app = create_app(settings, store=s3_store(seaweed, bucket))
    if not any(getattr(r, "path", "").startswith("/widget/") for r in app.routes):
        pytest.fail("the app does not serve /widget/{name}: add bugline.routes.widget to app.py")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    pages = HostPages(host_port)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    try:
        yield Stack(api, host, project.public_key, db_url, bucket, seaweed, pages)
    finally:
        pages.shutdown()
        server.should_exit = True
        thread.join(15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    contexts = []

    def make(locale: str = "en-US") -> Page:
        ctx = browser.new_context(locale=locale)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def loaded(page: Page) -> None:
    page.wait_for_function("window.Bugline && window.Bugline.loaded === true", timeout=TIMEOUT_MS)


def focused(page: Page) -> str:
    """What has focus, looking inside the widget's shadow root."""
    return page.evaluate(
        """() => { const a = document.activeElement;
        if (a && a.shadowRoot && a.shadowRoot.activeElement) {
          const e = a.shadowRoot.activeElement;
          return "widget:" + (e.getAttribute("aria-label") || e.getAttribute("name") || e.textContent.trim());
        }
        return a ? a.tagName.toLowerCase() + "#" + a.id : ""; }"""
    )


def test_report_with_checklist_capture_and_attachment(stack: Stack, new_page: Any) -> None:
    url = stack.page(
        # Calls made before the loader arrives are queued by the stub and replayed.
        head="<script nonce=NONCE>Bugline.setContext({plan_tier: 'gold', build: 42});"
        "Bugline.on('submitted', function (r) { window.submitted = r; });</script>"
    )
    page = new_page()
    page.goto(url)
    loaded(page)
    page.evaluate(
        """async () => {
          console.error(new Error("Invoice total is NaN"));
          console.log("user opened invoice", {id: 1042});
          await fetch("/fail?token=abc");
        }"""
    )
    page.get_by_role("button", name="Report a bug").click()
    dialog = page.get_by_role("dialog", name="Report a bug")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("Console errors: 1")).to_be_visible()
    expect(dialog.get_by_text("Failed requests: 1")).to_be_visible()
    expect(dialog.get_by_text("Adding what you expected helps us fix it faster.")).to_be_visible()

    dialog.get_by_label("What were you trying to do?").fill("Export last month's invoices")
    dialog.get_by_label("What did you expect to happen?").fill("A CSV download")
    dialog.get_by_label("What happened instead?").fill("The page shows a spinner forever")
    dialog.get_by_label("The exact error message, if there was one").fill("Invoice total is NaN")
    dialog.get_by_label("Steps to get there (optional)").fill("1. Open invoices\n2. Click Export")
    dialog.get_by_role("radio", name="Every time").check()
    dialog.get_by_role("radio", name="Just me").check()
    dialog.get_by_label("Your email").fill("Customer@Example.com")
    expect(dialog.get_by_text("Adding what you expected helps us fix it faster.")).to_be_hidden()
    image = png(40, 30, seed=7)
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "invoice.png", "mimeType": "image/png", "buffer": image}]
    )
    expect(dialog.get_by_text("invoice.png", exact=True)).to_be_visible()
    expect(dialog.get_by_role("status")).to_have_text("Attached invoice.png")
    dialog.get_by_role("button", name="Send report").click()

    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"))
    # The reporter's status page, {public_url}/s/{status token}.
    follow = re.compile("^" + re.escape(stack.api) + r"/s/[\w-]{43}$")
    expect(dialog.get_by_role("link", name="Follow its progress")).to_have_attribute("href", follow)
    submitted = page.evaluate("window.submitted")
    assert submitted["number"] >= 1

    report, reporter, files = next(r for r in stack.reports() if r[0].number == submitted["number"])
    assert report.trying_to_do == "Export last month's invoices"
    assert report.expected == "A CSV download"
    assert report.actual == "The page shows a spinner forever"
    assert report.error_text == "Invoice total is NaN"
    assert report.steps == "1. Open invoices\n2. Click Export"
    assert report.frequency == "always"
    assert report.people_affected == "just_me"
    assert report.status == "received"
    assert "Chrom" in (report.browser_name or "") and report.os_name == "Linux"
    assert report.metadata_ == {"plan_tier": "gold", "build": 42}
    assert reporter is not None and reporter.email == "customer@example.com"
    errors = [e for e in report.console if e["level"] == "error"]
    assert any("Invoice total is NaN" in e["message"] and e.get("stack") for e in errors), report.console
    assert any(e["level"] == "log" and "id: 1042" in e["message"] for e in report.console)
    failed = [n for n in report.network if n["url"].startswith(stack.host + "/fail")]
    assert failed and failed[0]["status"] == 500 and failed[0]["method"] == "GET"
    assert "abc" not in failed[0]["url"], "secret-looking query parameters are redacted"
    assert not any("/api/v1/" in n["url"] for n in report.network), "the widget's own calls are not logged"

    assert len(files) == 1
    att = files[0]
    assert (att.kind, att.filename, att.state, att.content_type) == ("file", "invoice.png", "stored", "image/png")
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.seaweed.endpoint_url,
        aws_access_key_id=stack.seaweed.access_key,
        aws_secret_access_key=stack.seaweed.secret_key,
        region_name="us-east-1",
    )
    obj = s3.get_object(Bucket=stack.bucket, Key=att.storage_key)
    assert obj["ContentType"] == "image/png"
    assert obj["Body"].read() == image


def test_keyboard_only(stack: Stack, new_page: Any) -> None:
    page = new_page()
    page.goto(stack.page())
    loaded(page)
    page.locator("#before").focus()
    page.keyboard.press("Tab")
    assert focused(page) == "widget:Report a bug"
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Report a bug")
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("aria-modal") == "true"
    page.wait_for_function(
        "document.querySelector('bugline-widget').shadowRoot.activeElement?.name === 'trying_to_do'"
    )
    page.keyboard.type("Find an invoice")
    # Focus stays inside the dialog however far one tabs, both ways.
    for key in ["Tab"] * 40 + ["Shift+Tab"] * 40:
        page.keyboard.press(key)
        inside = page.evaluate(
            "() => { const r = document.querySelector('bugline-widget').shadowRoot;"
            " return !!(r.activeElement && r.activeElement.closest('dialog')); }"
        )
        assert inside, f"focus left the dialog after {key}: {focused(page)}"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page) == "widget:Report a bug", "focus returns to the launcher"
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("What were you trying to do?")).to_have_value("Find an invoice")
    # A live region announces status changes; the send button says what it does.
    expect(dialog.get_by_role("status")).to_have_count(1)
    dialog.get_by_role("button", name="Close").first.press("Enter")
    expect(dialog).to_be_hidden()


def test_strict_csp_with_a_nonce(stack: Stack, new_page: Any) -> None:
    csp = (
        "default-src 'none'; script-src 'nonce-NONCE' 'strict-dynamic'; style-src 'nonce-NONCE'; "
        f"connect-src 'self' {stack.api} {stack.seaweed.endpoint_url}; img-src 'self' data: blob:"
    )
    url = stack.page(
        head="<script nonce=NONCE>window.violations = [];"
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " window.violations.push(e.violatedDirective + ' ' + e.blockedURI); });"
        "Bugline.identify({id: 'u-7', email: 'ada@example.com', name: 'Ada'});</script>",
        csp=csp,
    )
    page = new_page()
    page.goto(url)
    loaded(page)
    launcher = page.get_by_role("button", name="Report a bug")
    # Styled (so the shadow root's styles were accepted) and themed through the CSS variables.
    expect(launcher).to_have_css("background-color", "rgb(79, 70, 229)")
    launcher.click()
    dialog = page.get_by_role("dialog", name="Report a bug")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Your email")).to_be_hidden()  # the host identified the user
    dialog.get_by_label("What happened instead?").fill("Under CSP")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"))
    assert page.evaluate("window.violations") == []
    _report, reporter, _ = next(r for r in stack.reports() if r[0].actual == "Under CSP")
    assert reporter is not None and (reporter.external_id, reporter.email) == ("u-7", "ada@example.com")
    # Nobody chose a language (the browser's is in the context): the reporter has none, so the
    # mails may follow the language the report is written in.
    assert reporter.locale is None


def test_a_language_the_host_chose_is_the_reporters(stack: Stack, new_page: Any) -> None:
    url = stack.page(
        head="<script>Bugline.identify({id: 'u-8', email: 'lea@example.com'});</script>",
        attrs='data-bugline-locale="de"',
    )
    page = new_page()  # an English browser
    page.goto(url)
    loaded(page)
    page.get_by_role("button", name="Fehler melden").click()
    dialog = page.get_by_role("dialog", name="Fehler melden")
    dialog.get_by_label("Was ist stattdessen passiert?").fill("Host chose German")
    dialog.get_by_role("button", name="Meldung senden").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"#\d+"))
    _report, reporter, _ = next(r for r in stack.reports() if r[0].actual == "Host chose German")
    assert reporter is not None and reporter.locale == "de"


def test_french_locale_from_the_browser(stack: Stack, new_page: Any) -> None:
    page = new_page("fr-FR")
    page.goto(stack.page())
    loaded(page)
    page.get_by_role("button", name="Signaler un bug").click()
    dialog = page.get_by_role("dialog", name="Signaler un bug")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Qu'essayiez-vous de faire ?")).to_be_visible()
    expect(dialog.get_by_role("button", name="Envoyer")).to_be_visible()
    assert dialog.get_attribute("lang") == "fr" and dialog.get_attribute("dir") == "ltr"


def test_german_locale_from_the_browser(stack: Stack, new_page: Any) -> None:
    page = new_page("de-AT")
    page.goto(stack.page())
    loaded(page)
    page.get_by_role("button", name="Fehler melden").click()
    dialog = page.get_by_role("dialog", name="Fehler melden")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Was wollten Sie gerade tun?")).to_be_visible()
    expect(dialog.get_by_role("button", name="Meldung senden")).to_be_visible()
    assert dialog.get_attribute("lang") == "de" and dialog.get_attribute("dir") == "ltr"


def test_arabic_is_right_to_left(stack: Stack, new_page: Any) -> None:
    page = new_page()
    page.goto(stack.page(attrs='data-bugline-locale="ar"'))
    loaded(page)
    page.get_by_role("button", name="الإبلاغ عن خطأ").click()
    dialog = page.get_by_role("dialog", name="الإبلاغ عن خطأ")
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("dir") == "rtl"
    assert dialog.evaluate("d => getComputedStyle(d).direction") == "rtl"
    expect(dialog.get_by_label("ماذا حدث بدلًا من ذلك؟")).to_be_visible()
