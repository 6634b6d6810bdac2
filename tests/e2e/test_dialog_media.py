"""Screenshots and recordings through the widget's dialog, in real Chromium against
a real Bugline server (the `stack` of test_widget.py: uvicorn, SQLite, SeaweedFS S3).

The recording test runs headed Chromium on a private Xvfb display, which shares its own tab
without a prompt: it checks that the report is created and its multipart upload opened while
the user is still recording (upload while recording), then that Send patches the words in and
stores the video. A missing Chromium or Xvfb fails these tests: nothing here skips."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, Request, expect
from tests.e2e import media_fixtures
from tests.e2e import test_widget as widget_tests
from tests.e2e.test_widget import TIMEOUT_MS, Stack, loaded

# Module-scoped fixtures reused from the other widget tests (a sync Playwright must not outlive
# the module: a session-scoped one keeps an event loop running that breaks later async tests).
stack = widget_tests.stack
playwright_instance = media_fixtures.playwright_instance
headless_browser = media_fixtures.headless_browser
xvfb_display = media_fixtures.xvfb_display
headed_browser = media_fixtures.headed_browser

SECRET = "hunter2-secret"
BLOB_WATCH = """(() => {
  window.__blobs = [];
  const secret = new TextEncoder().encode("SECRET");
  const scan = async (body) => {
    const parts = body instanceof FormData ? [...body.values()] : [body];
    for (const p of parts) {
      if (!(p instanceof Blob)) continue;
      const bytes = new Uint8Array(await p.arrayBuffer());
      let leak = false;
      outer: for (let i = 0; i + secret.length <= bytes.length; i++) {
        for (let j = 0; j < secret.length; j++) if (bytes[i + j] !== secret[j]) continue outer;
        leak = true; break;
      }
      window.__blobs.push({size: bytes.length, png: bytes[0] === 0x89 && bytes[1] === 0x50, leak});
    }
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (body) { if (body) scan(body); return send.call(this, body); };
  const f = window.fetch;
  window.fetch = function (input, init) { if (init && init.body) scan(init.body); return f.apply(this, arguments); };
})();""".replace("SECRET", SECRET)


def s3_client(stack: Stack) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=stack.seaweed.endpoint_url,
        aws_access_key_id=stack.seaweed.access_key,
        aws_secret_access_key=stack.seaweed.secret_key,
        region_name="us-east-1",
    )


def by_number(stack: Stack, number: int) -> Any:
    """The report once the server's triage loop has given its verdict (milliseconds after intake)."""
    deadline = time.monotonic() + 15
    while True:
        found = next(r for r in stack.reports() if r[0].number == number)
        if found[0].triaged_at is not None or found[0].status != "received" or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.fixture
def pages(headless_browser: Browser) -> Iterator[Any]:
    contexts = []

    def make(locale: str = "en-US", browser: Browser | None = None) -> Page:
        ctx = (browser or headless_browser).new_context(
            locale=locale, viewport={"width": 1000, "height": 700}
        )
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def open_dialog(page: Page, name: str = "Report a bug") -> Any:
    page.get_by_role("button", name=name).click()
    dialog = page.get_by_role("dialog", name=name)
    expect(dialog).to_be_visible()
    return dialog


def test_screenshot_annotated_and_sent_without_the_password(stack: Stack, pages: Any) -> None:
    page = pages()
    bodies: list[bytes] = []

    def keep(request: Request) -> None:
        try:
            body = request.post_data_buffer
        except Exception:  # a body Playwright cannot read: the uploads are checked below
            body = None
        if body:
            bodies.append(body)

    page.on("request", keep)
    # Playwright does not expose Blob bodies (the uploads): look into them from inside the page.
    page.add_init_script(BLOB_WATCH)
    page.goto(stack.page("<label>Password <input type=password id=pw autocomplete=off></label>"))
    loaded(page)
    page.locator("#pw").fill(SECRET)
    dialog = open_dialog(page)
    dialog.get_by_label("What happened instead?").fill("The totals are wrong on the invoice page")

    dialog.get_by_role("button", name="Take screenshot").click()
    editor = page.locator(".bl-ann")
    canvas = editor.locator("canvas")
    canvas.wait_for()
    editor.get_by_role("button", name="Hide").click()
    box = canvas.bounding_box()
    assert box is not None
    x0, y0 = box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1
    x1, y1 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(x0 + (x1 - x0) * i / 5, y0 + (y1 - y0) * i / 5)
    page.mouse.up()
    editor.get_by_role("button", name="Use screenshot").click()
    expect(editor).to_have_count(0)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("screenshot.png", exact=True)).to_be_visible()

    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"))
    number = int(dialog.get_by_role("status").inner_text().rsplit("#", 1)[1])

    report, _who, files = by_number(stack, number)
    # Accepted; one sentence lacks the checklist facts, so triage sends it back for them.
    assert report.status == "needs_info" and report.actual == "The totals are wrong on the invoice page"
    shots = [a for a in files if a.kind == "screenshot"]
    assert len(shots) == 1, files
    shot = shots[0]
    assert (shot.state, shot.content_type, shot.filename) == ("stored", "image/png", "screenshot.png")
    stored = s3_client(stack).get_object(Bucket=stack.bucket, Key=shot.storage_key)
    data = stored["Body"].read()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and stored["ContentType"] == "image/png"
    assert SECRET.encode() not in data

    # Nothing the page sent carried the password: not the report, not the upload, not a log.
    assert any(b"The totals are wrong" in b for b in bodies), "request bodies were not captured"
    blobs = page.evaluate("window.__blobs")
    assert any(b["png"] for b in blobs), f"the screenshot upload was not seen: {blobs}"
    assert not [b for b in blobs if b["leak"]], blobs
    leaks = [b[:200] for b in bodies if SECRET.encode() in b]
    assert not leaks, leaks


def test_recording_uploads_while_recording(stack: Stack, pages: Any, headed_browser: Browser) -> None:
    page = pages(browser=headed_browser)
    page.goto(
        stack.page(
            head="<script nonce=NONCE>Bugline.on('submitted', function (r) { window.submitted = r; });</script>"
        )
    )
    loaded(page)
    before = {r.id for r, _, _ in stack.reports()}
    dialog = open_dialog(page)
    dialog.get_by_label("What were you trying to do?").fill("Reproduce the broken export")
    dialog.get_by_role("button", name="Record screen").click()
    stop = page.get_by_role("button", name=re.compile(r"^Stop recording"))
    expect(stop).to_be_visible()
    # Something moving on the page, so the video has frames to encode.
    page.evaluate(
        """() => { let n = 0; const h = document.querySelector('h1');
                   window.tick = setInterval(() => { h.textContent = 'Acme invoices ' + (++n); }, 50); }"""
    )

    # While still recording: the draft report exists, with its recording slot's multipart upload open.
    deadline = time.monotonic() + 10
    drafts: list[Any] = []
    while time.monotonic() < deadline:
        drafts = [r for r in stack.reports() if r[0].id not in before]
        if drafts and any(a.upload_id for a in drafts[0][2]):
            break
        time.sleep(0.2)
    assert len(drafts) == 1, f"no draft report while recording: {drafts}"
    draft, _who, slots = drafts[0]
    assert draft.status == "awaiting_media"
    assert (draft.actual, draft.trying_to_do) == ("", ""), "the draft carries no words until Send"
    assert [(a.kind, a.declared_type) for a in slots] == [("recording", "video/webm")]
    assert slots[0].upload_id, "the multipart upload was not started while recording"
    page.wait_for_timeout(3000)
    expect(stop).to_be_visible()  # still recording at this point

    stop.click()
    expect(dialog).to_be_visible(timeout=20_000)
    expect(dialog.get_by_text("recording.webm", exact=True)).to_be_visible()
    dialog.get_by_label("What happened instead?").fill("The export button spins forever")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"), timeout=30_000)
    submitted = page.evaluate("window.submitted")

    # The draft became the report (no second report from a fallback), words patched in.
    assert submitted["id"] == draft.id and submitted["number"] == draft.number
    assert [r.id for r, _, _ in stack.reports() if r.id not in before] == [draft.id]
    report, _who, files = by_number(stack, draft.number)
    assert report.status == "needs_info"  # accepted; no expected behaviour or steps yet
    assert report.trying_to_do == "Reproduce the broken export"
    assert report.actual == "The export button spins forever"
    videos = [a for a in files if a.kind == "recording"]
    assert len(videos) == 1, files
    video = videos[0]
    assert (video.state, video.content_type) == ("stored", "video/webm"), (video.state, video.error)
    assert video.size and video.size > 10_000, video.size
    obj = s3_client(stack).get_object(Bucket=stack.bucket, Key=video.storage_key)
    body = obj["Body"].read()
    assert len(body) == video.size and body[:4] == bytes.fromhex("1A45DFA3")


def test_the_whole_journey_screenshot_file_and_recording_in_one_report(
    stack: Stack, pages: Any, headed_browser: Browser
) -> None:
    """The issue's end-to-end story in one go, in a real window: a user opens the widget,
    fills the form, takes and annotates a screenshot, attaches a file, records a few seconds
    of the tab, and sends; every piece lands in the report and in S3 with the right type."""
    page = pages(browser=headed_browser)
    page.goto(stack.page())
    loaded(page)
    page.evaluate(
        """async () => { console.error(new Error("Chart data is undefined"));
                         await fetch("/fail?session=s3cr3t-value"); }"""
    )
    dialog = open_dialog(page)
    dialog.get_by_label("What were you trying to do?").fill("Compare this month with last month")
    dialog.get_by_label("What did you expect to happen?").fill("Two lines on the chart")
    dialog.get_by_label("What happened instead?").fill("The chart is empty and an error shows")
    dialog.get_by_label("Steps to get there (optional)").fill("1. Open the monthly chart\n2. Pick last month")
    dialog.get_by_role("radio", name="Every time").check()

    dialog.get_by_role("button", name="Take screenshot").click()
    editor = page.locator(".bl-ann")
    canvas = editor.locator("canvas")
    canvas.wait_for()
    editor.get_by_role("button", name="Hide").click()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 80, steps=5)
    page.mouse.up()
    editor.get_by_role("button", name="Use screenshot").click()
    expect(dialog.get_by_text("screenshot.png", exact=True)).to_be_visible()

    log = b"2026-11-23 10:00:01 ERROR chart: series[0] is undefined\n"
    dialog.locator("input[type=file]").set_input_files(
        files=[{"name": "console.log", "mimeType": "text/plain", "buffer": log}]
    )
    expect(dialog.get_by_text("console.log", exact=True)).to_be_visible()

    dialog.get_by_role("button", name="Record screen").click()
    stop = page.get_by_role("button", name=re.compile(r"^Stop recording"))
    expect(stop).to_be_visible()
    page.evaluate(
        """() => { let n = 0; const h = document.querySelector('h1');
                   window.tick = setInterval(() => { h.textContent = 'Acme invoices ' + (++n); }, 50); }"""
    )
    page.wait_for_timeout(3000)
    stop.click()
    expect(dialog.get_by_text("recording.webm", exact=True)).to_be_visible(timeout=20_000)

    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"), timeout=30_000)
    number = int(dialog.get_by_role("status").inner_text().rsplit("#", 1)[1])

    report, _who, files = by_number(stack, number)
    assert report.status == "received"
    assert (report.trying_to_do, report.expected, report.actual, report.frequency) == (
        "Compare this month with last month", "Two lines on the chart",
        "The chart is empty and an error shows", "always",
    )
    assert "Chrom" in (report.browser_name or "") and report.os_name == "Linux"
    assert any("Chart data is undefined" in e["message"] for e in report.console if e["level"] == "error")
    failed = [n for n in report.network if "/fail" in n["url"]]
    assert failed and failed[0]["status"] == 500
    assert "s3cr3t-value" not in failed[0]["url"]  # redacted in the browser
    kinds = {a.kind: a for a in files}
    expected = {"screenshot": "image/png", "file": "text/plain", "recording": "video/webm"}
    assert {k: (a.state, a.content_type) for k, a in kinds.items()} == {
        k: ("stored", t) for k, t in expected.items()
    }, [(a.kind, a.state, a.content_type, a.error) for a in files]
    s3 = s3_client(stack)
    for kind, ctype in expected.items():
        obj = s3.get_object(Bucket=stack.bucket, Key=kinds[kind].storage_key)
        assert obj["ContentType"] == ctype or obj["ContentType"].startswith(ctype), (kind, obj["ContentType"])
        assert obj["ContentLength"] == kinds[kind].size
    assert s3.get_object(Bucket=stack.bucket, Key=kinds["file"].storage_key)["Body"].read() == log
