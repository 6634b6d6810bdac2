"""The widget when things go wrong, in real headless Chromium against a real Bugline server
(uvicorn, SQLite, SeaweedFS S3; see test_widget.py's `stack`): offline, a server that fails for
a while, a project key that will never work, secrets on the host page, and a host page whose
own console, fetch and XHR must behave exactly as without the widget.

A missing Chromium fails these tests: nothing here skips."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    Request,
    Route,
    expect,
)
from tests.e2e import test_widget
from tests.e2e.test_widget import TIMEOUT_MS, Stack, loaded
from tests.support.ports import refusing_port

QUEUED = "Saved, will send when you're back online."
QUEUED_RETRY = "Saved: Bugline is not answering right now. Your report will be sent automatically."
PENDING = "bugline:pending"
PASSWORD = "hunter2-secret"
MASKED = "TOP-SECRET-TEXT-4242"
CUSTOM = "custom-pii-9999"

# test_widget.py's real server and Chromium (module-scoped: one of each for this module).
stack = test_widget.stack
browser = test_widget.browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="en-US")
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


def open_dialog(page: Page) -> Locator:
    """Open the dialog from the launcher and wait until dialog.js and capture.js have loaded."""
    with page.expect_response(lambda r: r.url.endswith("/widget/capture.js")):
        page.get_by_role("button", name="Report a bug").click()
    dialog = page.get_by_role("dialog", name="Report a bug")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(re.compile("^Page address: "))).to_be_visible()
    return dialog


def with_words(stack: Stack, words: str) -> list[Any]:
    return [r for r in stack.reports() if r[0].actual == words]


def wait_for_report(stack: Stack, words: str, timeout: float = 20.0, page: Page | None = None) -> list[Any]:
    """Poll the database until a report with these words is stored (the fake clock, if any, is
    moved forward meanwhile so the outbox's timers fire)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = with_words(stack, words)
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"no report with {words!r} within {timeout} s")


def pending(page: Page) -> str | None:
    value: str | None = page.evaluate(f"localStorage.getItem({json.dumps(PENDING)})")
    return value


def outbox(page: Page) -> list[str]:
    """The idempotency keys waiting in the IndexedDB outbox (bugline / outbox)."""
    keys: list[str] = page.evaluate(
        """() => new Promise((res) => {
          const r = indexedDB.open("bugline", 1);
          r.onupgradeneeded = () => r.result.createObjectStore("outbox", { keyPath: "key" });
          r.onerror = () => res(["<indexedDB error>"]);
          r.onsuccess = () => {
            const q = r.result.transaction("outbox").objectStore("outbox").getAllKeys();
            q.onsuccess = () => { r.result.close(); res(q.result.map(String)); };
            q.onerror = () => res(["<read error>"]);
          };
        })"""
    )
    return keys


def settle_once(stack: Stack, page: Page, words: str) -> None:
    """The report arrived: it stays one report, and the outbox and its flag are emptied."""
    page.wait_for_function(f"localStorage.getItem({json.dumps(PENDING)}) === null", timeout=10_000)
    assert outbox(page) == []
    time.sleep(1.0)  # nothing else is on its way
    assert len(with_words(stack, words)) == 1


# -- offline ------------------------------------------------------------------------------------


def test_offline_report_is_saved_then_sent_once_back_online(stack: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(stack.page())
    loaded(page)
    dialog = open_dialog(page)
    words = f"Offline report {uuid.uuid4().hex[:8]}"
    context.set_offline(True)
    dialog.get_by_label("What were you trying to do?").fill("Pay an invoice on the train")
    dialog.get_by_label("What happened instead?").fill(words)
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(QUEUED)
    expect(dialog.get_by_text(QUEUED).first).to_be_visible()
    assert pending(page) == "1"
    assert len(outbox(page)) == 1
    assert with_words(stack, words) == []
    context.set_offline(False)
    (report, _who, _files), *more = wait_for_report(stack, words)
    assert not more
    assert report.trying_to_do == "Pay an invoice on the train"
    settle_once(stack, page, words)


def test_offline_report_survives_a_reload(stack: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    url = stack.page()
    page.goto(url)
    loaded(page)
    dialog = open_dialog(page)
    words = f"Sent before a reload {uuid.uuid4().hex[:8]}"
    context.set_offline(True)
    dialog.get_by_label("What happened instead?").fill(words)
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(QUEUED)
    key = outbox(page)
    assert len(key) == 1
    # Reload while still offline: the browser shows its error page, so the first document (and
    # the retry timer it armed) is gone for good. Only the outbox in IndexedDB is left.
    with pytest.raises(Error):
        page.reload()
    assert with_words(stack, words) == []
    context.set_offline(False)
    page.goto(url)
    loaded(page)
    # The loader saw localStorage["bugline:pending"] and resumed the outbox at idle, without
    # anyone opening the dialog.
    (report, _who, _files), *more = wait_for_report(stack, words)
    assert not more and report.actual == words
    settle_once(stack, page, words)


# -- a server that fails for a while --------------------------------------------------------------


def fail_then_pass(page: Page, stack: Stack, status: int, times: int) -> list[str | None]:
    """Answer the first `times` report creations with `status` (Retry-After: 1), then let them
    through. Returns the Idempotency-Key of every creation attempt, in order."""
    keys: list[str | None] = []

    def handle(route: Route, request: Request) -> None:
        if request.method != "POST":
            route.fallback()
            return
        keys.append(request.header_value("idempotency-key"))
        if len(keys) <= times:
            route.fulfill(
                status=status,
                headers={
                    "Content-Type": "application/json",
                    "Retry-After": "1",
                    "Access-Control-Allow-Origin": stack.host,
                    "Access-Control-Expose-Headers": "Retry-After",
                    "Vary": "Origin",
                },
                body=json.dumps({"error": {"code": "unavailable", "message": "Bugline is restarting"}}),
            )
        else:
            route.fallback()

    page.route("**/api/v1/reports?*", handle)
    return keys


@pytest.mark.parametrize(("status", "times"), [(503, 2), (429, 1)])
def test_server_failures_are_retried_with_the_same_key(
    stack: Stack, context: BrowserContext, status: int, times: int
) -> None:
    page = context.new_page()
    # A fake clock (flowing with real time) lets the test jump over the outbox's backoff
    # (5 s, then 30 s, +-20%) instead of waiting it out.
    page.clock.install()
    keys = fail_then_pass(page, stack, status, times)
    page.goto(stack.page())
    loaded(page)
    dialog = open_dialog(page)
    words = f"Server said {status} {uuid.uuid4().hex[:8]}"
    dialog.get_by_label("What happened instead?").fill(words)
    dialog.get_by_role("button", name="Send report").click()
    status_line = dialog.get_by_role("status")
    # Honest: saved and to be sent automatically, without claiming the user is offline.
    expect(status_line).to_have_text(re.compile(r"^Saved\b"))
    shown = status_line.text_content() or ""
    assert pending(page) == "1"
    deadline = time.monotonic() + 30
    while not with_words(stack, words):
        assert time.monotonic() < deadline, f"not sent; creation attempts: {keys}"
        page.clock.run_for(10_000)  # timers due in the next 10 s fire now
        time.sleep(0.3)
    assert len(keys) == times + 1, keys
    assert keys[0] and re.fullmatch(r"[0-9a-f-]{36}", keys[0]), keys
    assert len(set(keys)) == 1, f"every attempt carries the same Idempotency-Key: {keys}"
    settle_once(stack, page, words)
    # Checked last so that the retry itself is verified whatever the wording.
    assert shown == QUEUED_RETRY, f"after HTTP {status} (the user is online) the dialog said: {shown!r}"


# -- a key that will never work -------------------------------------------------------------------


def test_wrong_project_key_fails_clearly_and_is_not_queued(stack: Stack, context: BrowserContext) -> None:
    url = stack.page()
    path = url[len(stack.host) :]
    html, headers = stack.pages.pages[path]
    wrong = "pk_" + "0" * 24
    stack.pages.pages[path] = (
        html.replace(f'data-bugline-key="{stack.key}"', f'data-bugline-key="{wrong}"'),
        headers,
    )
    page = context.new_page()
    creations: list[str] = []
    page.on(
        "request",
        lambda r: creations.append(r.url) if "/api/v1/reports?" in r.url and r.method == "POST" else None,
    )
    page.goto(url)
    loaded(page)
    dialog = open_dialog(page)
    words = f"Wrong key {uuid.uuid4().hex[:8]}"
    dialog.get_by_label("What happened instead?").fill(words)
    dialog.get_by_role("button", name="Send report").click()
    status_line = dialog.get_by_role("status")
    expect(status_line).to_have_text(re.compile(r"^Not sent: .*no project has this key"))
    # The form stays, with the words, for the user (or a support person) to act on.
    expect(dialog.get_by_label("What happened instead?")).to_have_value(words)
    assert pending(page) is None
    assert outbox(page) == []
    time.sleep(1.5)  # nothing is retried later either
    assert len(creations) == 1, creations
    assert with_words(stack, words) == []


# -- secrets on the host page ---------------------------------------------------------------------


MASK_PAGE = f"""
<label>Password <input id=pw type=password autocomplete=off></label>
<div data-bugline-mask id=secret>{MASKED}</div>
<p class=pii>{CUSTOM}</p>
<p>Invoice 1042 is overdue.</p>
"""


def s3_objects(stack: Stack) -> dict[str, bytes]:
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.seaweed.endpoint_url,
        aws_access_key_id=stack.seaweed.access_key,
        aws_secret_access_key=stack.seaweed.secret_key,
        region_name="us-east-1",
    )
    out: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read()
    return out


def test_masked_text_and_passwords_never_leave_the_page(stack: Stack, context: BrowserContext) -> None:
    page = context.new_page()
    bodies: list[tuple[str, bytes]] = []

    def keep(request: Request) -> None:
        try:
            body = request.post_data_buffer
        except Error:
            body = None
        if body is not None:
            bodies.append((request.url, body))

    page.on("request", keep)
    page.goto(stack.page(MASK_PAGE, attrs='data-bugline-mask=".pii"'))
    loaded(page)
    page.locator("#pw").fill(PASSWORD)
    page.evaluate("() => console.log('checked out', document.querySelector('.pii').className)")
    dialog = open_dialog(page)
    words = f"Masked {uuid.uuid4().hex[:8]}"
    dialog.get_by_label("What happened instead?").fill(words)
    dialog.get_by_role("button", name="Take screenshot").click()
    editor_done = page.get_by_role("button", name="Use screenshot")
    editor_done.click()
    expect(dialog.get_by_text(re.compile(r"^screenshot\.(png|jpg)$"))).to_be_visible()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"))

    (report, _who, files), *_ = with_words(stack, words)
    assert [f.kind for f in files] == ["screenshot"] and files[0].state == "stored"
    sent = [(url, body) for url, body in bodies if stack.api in url or stack.seaweed.endpoint_url in url]
    assert any(len(body) > 1000 for _url, body in sent), "the screenshot upload was seen"
    for secret in (PASSWORD, MASKED, CUSTOM):
        for url, body in bodies:
            assert secret.encode() not in body, f"{secret!r} was sent to {url}"
        stored = json.dumps(
            [report.console, report.network, report.environment, report.metadata_], default=str
        )
        assert secret not in stored
    objects = s3_objects(stack)
    assert files[0].storage_key in objects
    for key, data in objects.items():
        for secret in (PASSWORD, MASKED, CUSTOM):
            assert secret.encode() not in data, f"{secret!r} is in the stored object {key}"


# -- the host page behaves as without the widget --------------------------------------------------


HOST_CALLS = """async (DOWN) => {
  const out = {};
  try { await fetch(`http://127.0.0.1:${DOWN}/unreachable`); out.fetchDown = "resolved"; }
  catch (e) { out.fetchDown = e.constructor.name + ": " + (e instanceof TypeError); }
  const r = await fetch("/fail?token=abc");
  out.fetchFail = [r.status, r.ok, await r.text()];
  const unbound = fetch;
  out.unbound = (await unbound(new Request("/fail", { method: "GET" }))).status;
  try { await fetch("/fail", { method: "GET", signal: AbortSignal.abort() }); out.aborted = "resolved"; }
  catch (e) { out.aborted = e.name; }
  out.xhr = await new Promise((res) => {
    const x = new XMLHttpRequest();
    x.open("GET", "/fail");
    x.onload = () => res(["onload", x.status, x.responseText]);
    x.onerror = () => res(["onerror"]);
    x.send();
  });
  out.xhrListener = await new Promise((res) => {
    const x = new XMLHttpRequest();
    x.addEventListener("load", () => res(["load", x.status]));
    x.open("GET", location.pathname);
    x.send();
  });
  out.xhrDown = await new Promise((res) => {
    const x = new XMLHttpRequest();
    x.open("GET", `http://127.0.0.1:${DOWN}/unreachable`);
    x.onload = () => res(["onload"]);
    x.onerror = () => res(["onerror", x.status]);
    x.send();
  });
  out.consoleReturns = [console.log("host log 1"), console.error("host error 77", { id: 7 })];
  console.warn("host warning %s", "formatted");
  return out;
}"""


def _host_calls(
    stack: Stack, context: BrowserContext, down: int, results: dict[bool, Any], printed: dict[bool, Any]
) -> None:
    """The host page's own calls, without the widget and with it, while ``down`` refuses."""
    for widget in (False, True):
        page = context.new_page()
        messages: list[tuple[str, str]] = []

        def printed_to(m: ConsoleMessage, messages: list[tuple[str, str]] = messages) -> None:
            messages.append((m.type, m.text))

        page.on("console", printed_to)
        url = stack.page()
        if not widget:
            path = url[len(stack.host) :]
            html, headers = stack.pages.pages[path]
            stack.pages.pages[path] = (re.sub(r"<script[^>]*loader\.js[^>]*></script>", "", html), headers)
        page.goto(url)
        if widget:
            loaded(page)
        else:
            page.wait_for_load_state("load")
        results[widget] = page.evaluate(HOST_CALLS, down)
        # console.* still prints, with its arguments and formatting, as its original type.
        wanted = [("log", "host log 1"), ("error", "host error 77"), ("warning", "host warning")]
        deadline = time.monotonic() + 5
        while not all(any(t == w[0] and m.startswith(w[1]) for t, m in messages) for w in wanted):
            assert time.monotonic() < deadline, (widget, [m for m in messages if "host" in m[1]])
            page.wait_for_timeout(50)
        printed[widget] = [m for m in messages if m[1].startswith("host ")]
        if widget:
            got = page.evaluate(
                "() => ({c: window.__buglineBuffers.console().map(e => e.level + ' ' + e.message),"
                " n: window.__buglineBuffers.network().map(e => e.method + ' ' + e.status + ' ' + e.url)})"
            )
            assert "error host error 77 {id: 7}" in got["c"], got
            assert any(n.startswith("GET 500 /fail") for n in got["n"]), got
            assert any(n.startswith(f"GET 0 http://127.0.0.1:{down}/") for n in got["n"]), got
        page.close()


def test_capture_does_not_change_host_behaviour(stack: Stack, context: BrowserContext) -> None:
    results, printed = {}, {}
    with refusing_port() as down:  # bound, never listening: connections are refused
        _host_calls(stack, context, down, results, printed)
    assert results[True] == results[False], f"with the widget: {results[True]}\nwithout: {results[False]}"
    assert printed[True] == printed[False], f"with the widget: {printed[True]}\nwithout: {printed[False]}"
    assert results[True]["fetchDown"] == "TypeError: true"
    assert results[True]["fetchFail"] == [500, False, '{"error":"database is down"}']
    assert results[True]["xhr"] == ["onload", 500, '{"error":"database is down"}']
    assert results[True]["xhrDown"] == ["onerror", 0]
    assert results[True]["aborted"] == "AbortError"
