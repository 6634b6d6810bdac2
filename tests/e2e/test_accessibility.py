"""Accessibility of the widget in real headless Chromium against a real Bugline server (see
test_widget.py's `stack`): axe-core on the open dialog in both themes, a phone-sized viewport
with touch, and files dropped or pasted onto the dialog.

axe-core comes from widget/node_modules (a devDependency: `npm ci` in widget/). A missing
Chromium or axe-core fails these tests: nothing here skips."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, FloatRect, Locator, Page, expect
from tests.e2e import test_widget
from tests.e2e.test_widget import TIMEOUT_MS, Stack, loaded
from tests.support.media import png

AXE = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"
MOBILE = {"width": 375, "height": 667}
MIN_TAP = 44

# test_widget.py's real server and Chromium (module-scoped: one of each for this module).
stack = test_widget.stack
browser = test_widget.browser


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Any]:
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        ctx = browser.new_context(locale="en-US", **options)
        ctx.set_default_timeout(TIMEOUT_MS)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def open_dialog(page: Page, *, tap: bool = False) -> Locator:
    launcher = page.get_by_role("button", name="Report a bug")
    launcher.tap() if tap else launcher.click()
    dialog = page.get_by_role("dialog", name="Report a bug")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(re.compile("^Page address: "))).to_be_visible()
    return dialog


# -- axe-core -------------------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci` in widget/")
    page.add_script_tag(path=str(AXE))
    # The widget's host element: axe walks into its open shadow root.
    result = page.evaluate(
        """async () => {
          const r = await axe.run({ include: [["bugline-widget"]] }, { resultTypes: ["violations"] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })) }));
        }"""
    )
    return list(result)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_open_dialog_has_no_serious_axe_violations(stack: Stack, contexts: Any, theme: str) -> None:
    page = contexts(color_scheme=theme).new_page()
    page.goto(stack.page(attrs=f'data-bugline-theme="{theme}"'))
    loaded(page)
    dialog = open_dialog(page)
    # Show the states a user meets: a completeness hint, a validation error, an attached file.
    dialog.get_by_label("Your email").fill("not an email")
    dialog.get_by_label("What happened instead?").fill("The export button does nothing")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_text("This doesn't look like an email address", exact=False)).to_be_visible()
    notes: FilePayload = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"steps"}
    dialog.locator("input[type=file]").set_input_files(files=[notes])
    expect(dialog.get_by_text("notes.txt", exact=True)).to_be_visible()
    assert page.evaluate("document.querySelector('bugline-widget').dataset.theme") == theme
    violations = axe_violations(page)
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{theme} theme:\n" + json.dumps(bad, indent=2)


# -- a phone --------------------------------------------------------------------------------------


def box(locator: Locator) -> FloatRect:
    b = locator.bounding_box()
    assert b is not None, f"{locator} is not rendered"
    return b


def test_mobile_dialog_fits_and_its_buttons_are_reachable(stack: Stack, contexts: Any) -> None:
    ctx = contexts(viewport=MOBILE, has_touch=True, is_mobile=True, device_scale_factor=2)
    page = ctx.new_page()
    # A mobile-ready host page: without this, phones lay the page out 980 px wide and zoom out.
    page.goto(stack.page(head='<meta name="viewport" content="width=device-width, initial-scale=1">'))
    loaded(page)
    assert page.evaluate("innerWidth") == MOBILE["width"]
    launcher = page.get_by_role("button", name="Report a bug")
    expect(launcher).to_be_visible()
    b = box(launcher)
    assert b["width"] >= MIN_TAP and b["height"] >= MIN_TAP, f"launcher tap target {b}"
    assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= MOBILE["width"]
    assert b["y"] + b["height"] <= MOBILE["height"]

    dialog = open_dialog(page, tap=True)
    dialog.evaluate("d => Promise.all(d.getAnimations().map((a) => a.finished))")  # the opening slide-in
    d = box(dialog)
    assert d["x"] >= -0.5 and d["y"] >= -0.5, d
    assert d["x"] + d["width"] <= MOBILE["width"] + 0.5, f"dialog wider than the viewport: {d}"
    assert d["y"] + d["height"] <= MOBILE["height"] + 0.5, f"dialog taller than the viewport: {d}"
    # The page itself does not scroll sideways because of the widget.
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]

    send = dialog.get_by_role("button", name="Send report")
    dialog.get_by_label("What happened instead?").fill("Checkout button is hidden on my phone")
    send.scroll_into_view_if_needed()
    s = box(send)
    assert s["y"] >= 0 and s["y"] + s["height"] <= MOBILE["height"], f"Send is off screen: {s}"
    assert s["x"] >= 0 and s["x"] + s["width"] <= MOBILE["width"], f"Send is off screen: {s}"
    # Nothing covers it: the element at its centre is the button itself.
    hit = page.evaluate(
        """([x, y]) => { const e = document.querySelector('bugline-widget').shadowRoot.elementFromPoint(x, y);
                 return e ? e.textContent : null; }""",
        [s["x"] + s["width"] / 2, s["y"] + s["height"] / 2],
    )
    assert hit == "Send report", hit
    small = []
    for name in ["Send report", "Cancel", "Close", "Take screenshot", "Attach files"]:
        button = dialog.get_by_role("button", name=name, exact=True).first
        if not button.is_visible():
            continue
        button.scroll_into_view_if_needed()
        bb = box(button)
        if bb["width"] < MIN_TAP or bb["height"] < MIN_TAP:
            small.append(f"{name}: {bb['width']:.0f}x{bb['height']:.0f}")
    send.scroll_into_view_if_needed()
    send.tap()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"))
    assert not small, f"tap targets under {MIN_TAP}x{MIN_TAP} CSS px: {small}"


# -- drop and paste -------------------------------------------------------------------------------


DROP_AND_PASTE = """async ([dropName, dropText, pasteName, pasteB64]) => {
  const dlg = document.querySelector('bugline-widget').shadowRoot.querySelector('dialog');
  const target = dlg.querySelector('textarea[name=steps]');
  const drop = new DataTransfer();
  drop.items.add(new File([dropText], dropName, { type: "text/plain" }));
  const over = new DragEvent("dragover", { dataTransfer: drop, bubbles: true, cancelable: true, composed: true });
  target.dispatchEvent(over);
  const dropped = new DragEvent("drop", { dataTransfer: drop, bubbles: true, cancelable: true, composed: true });
  target.dispatchEvent(dropped);
  const bytes = Uint8Array.from(atob(pasteB64), (c) => c.charCodeAt(0));
  const clip = new DataTransfer();
  clip.items.add(new File([bytes], pasteName, { type: "image/png" }));
  target.focus();
  const paste = new ClipboardEvent("paste", { clipboardData: clip, bubbles: true, cancelable: true, composed: true });
  target.dispatchEvent(paste);
  return { overHandled: over.defaultPrevented, dropHandled: dropped.defaultPrevented, pasteHandled: paste.defaultPrevented };
}"""


def test_dropped_and_pasted_files_are_attached_and_uploaded(stack: Stack, contexts: Any) -> None:
    page = contexts().new_page()
    page.goto(stack.page())
    loaded(page)
    dialog = open_dialog(page)
    words = f"Dropped and pasted {uuid.uuid4().hex[:8]}"
    dialog.get_by_label("What happened instead?").fill(words)
    text = b"1. Open invoices\n2. Click Export\n"
    image = png(32, 24, seed=3)
    handled = page.evaluate(
        DROP_AND_PASTE, ["steps.txt", text.decode(), "clip.png", base64.b64encode(image).decode()]
    )
    assert handled == {"overHandled": True, "dropHandled": True, "pasteHandled": True}, handled
    expect(dialog.get_by_text("steps.txt", exact=True)).to_be_visible()
    expect(dialog.get_by_text("clip.png", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Remove steps.txt")).to_be_visible()
    expect(dialog.get_by_role("status")).to_have_text("Attached clip.png")
    # Neither file's bytes went into the text field.
    expect(dialog.get_by_label("Steps to get there (optional)")).to_have_value("")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text(re.compile(r"^Sent: report #\d+$"))

    (_report, _who, files), *more = [r for r in stack.reports() if r[0].actual == words]
    assert not more
    got = {f.filename: f for f in files}
    assert set(got) == {"steps.txt", "clip.png"}, got
    assert all(f.state == "stored" for f in files), [(f.filename, f.state) for f in files]
    assert got["steps.txt"].kind == "file" and got["clip.png"].kind == "screenshot"
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.seaweed.endpoint_url,
        aws_access_key_id=stack.seaweed.access_key,
        aws_secret_access_key=stack.seaweed.secret_key,
        region_name="us-east-1",
    )
    assert s3.get_object(Bucket=stack.bucket, Key=got["steps.txt"].storage_key)["Body"].read() == text
    assert s3.get_object(Bucket=stack.bucket, Key=got["clip.png"].storage_key)["Body"].read() == image
