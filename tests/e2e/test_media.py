"""Screenshot, annotation and recording chunks of the widget, in real Chromium.

The chunks are built from widget/src with esbuild (see media_fixtures) and loaded by
small test pages over a loopback HTTP server.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

try:  # works whether or not tests/e2e becomes a package
    from .media_fixtures import (
        headed_browser,
        headless_browser,
        media_server,
        media_site,
        playwright_instance,
        xvfb_display,
    )
except ImportError:
    from media_fixtures import (  # type: ignore[no-redef]  # noqa: F401
        headed_browser,
        headless_browser,
        media_server,
        media_site,
        playwright_instance,
        xvfb_display,
    )

PASSWORD = "hunter2-secret"
MASKED_TEXT = "TOP-SECRET-TEXT-4242"
CUSTOM_TEXT = "custom-pii-9999"
HOST_TEXT = "WIDGET-HOST-TEXT"
VISIBLE_TEXT = "Visible heading 7731"
VW, VH, DPR = 800, 600, 2

SHOT_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>shot</title>
<style>
  html, body {{ margin: 0; font: 16px/1.3 sans-serif; background: #ffffff; }}
  #band-top {{ height: 300px; background: #ff8800; }}
  #band-teal {{ height: 100px; background: #008080; color: #fff; }}
  #pw {{ position: absolute; left: 20px; top: 420px; width: 220px; height: 32px; font-size: 20px;
        background: #ffffe0; border: 2px solid #333; }}
  #secret {{ position: absolute; left: 300px; top: 420px; width: 220px; height: 40px; background: #22cc22;
            font-size: 18px; }}
  .pii {{ position: absolute; left: 560px; top: 420px; width: 200px; height: 40px; background: #cc22cc; }}
  #scroller {{ position: absolute; left: 20px; top: 500px; width: 300px; height: 200px; overflow: auto; }}
  .row {{ height: 40px; }}
  .red {{ background: #ff0000; }}
  .blue {{ background: #0000ff; color: #fff; }}
  #host {{ position: fixed; right: 10px; bottom: 10px; width: 200px; height: 150px; background: #ff00ff; }}
  #tall {{ height: 2000px; }}
</style></head>
<body>
  <div id="band-top">top band (scrolled away)</div>
  <div id="band-teal"><h1 style="margin:0;font-size:20px">{VISIBLE_TEXT}</h1></div>
  <input id="pw" type="password" autocomplete="off">
  <div id="secret" data-bugline-mask>{MASKED_TEXT}</div>
  <div class="pii">{CUSTOM_TEXT}</div>
  <div id="scroller">
    {"".join(f'<div class="row red">red {i}</div>' for i in range(10))}
    {"".join(f'<div class="row blue">blue {i}</div>' for i in range(10))}
  </div>
  <div id="tall"></div>
  <div id="host"></div>
  <script>
    const root = document.getElementById("host").attachShadow({{mode: "open"}});
    root.innerHTML = "<p>{HOST_TEXT}</p>";
  </script>
</body></html>
"""

ANNOTATE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>annotate</title></head>
<body style="margin:0">
  <div id="host"></div>
  <script type="module">
    import * as shot from "/screenshot.js";
    window.shot = shot;
    window.root = document.getElementById("host").attachShadow({mode: "open"});
    window.ready = true;
  </script>
</body></html>
"""

RECORD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>record</title>
<style>
  body { margin: 0; }
  #box { position: absolute; width: 200px; height: 200px; top: 100px; }
</style></head>
<body>
  <button id="go">record</button>
  <div id="box"></div>
  <script type="module">
    import * as rec from "/recorder.js";
    window.rec = rec;
    // Something that changes every frame, so the encoder has real work.
    const box = document.getElementById("box");
    let f = 0;
    (function frame() {
      f++;
      box.style.left = (f * 7 % 900) + "px";
      box.style.background = `hsl(${f * 5 % 360} 90% 50%)`;
      document.body.style.background = `hsl(${(f * 3 + 180) % 360} 40% 85%)`;
      requestAnimationFrame(frame);
    })();
    document.getElementById("go").addEventListener("click", async () => {
      const opts = JSON.parse(document.getElementById("go").dataset.opts);
      window.ticks = []; window.parts = []; window.ended = null; window.startError = null;
      try {
        window.handle = await rec.start({
          ...opts,
          onTick: (s, b) => window.ticks.push([s, b]),
          onEnd: (reason) => { window.ended = reason; },
          sink: opts.noSink ? undefined : async (part, n, last) => {
            const head = new Uint8Array(await part.slice(0, 4).arrayBuffer());
            window.parts.push({n, last, size: part.size, type: part.type, head: Array.from(head)});
          },
        });
      } catch (e) { window.startError = String(e); }
    });
    window.ready = true;
  </script>
</body></html>
"""

BLOB_TO_B64 = """async (blob) => {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}"""


def _write(site: Path, name: str, html: str) -> None:
    (site / name).write_text(html, encoding="utf-8")


def _region_pixels(img: Image.Image, box: dict[str, float], inset: int = 2) -> set[tuple[int, ...]]:
    """Distinct colours inside a CSS-pixel box (scaled by DPR), inset to skip edges."""
    x0, y0 = int(box["x"] * DPR) + inset, int(box["y"] * DPR) + inset
    x1, y1 = int((box["x"] + box["width"]) * DPR) - inset, int((box["y"] + box["height"]) * DPR) - inset
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, img.width), min(y1, img.height)
    assert x1 > x0 and y1 > y0, f"box {box} is outside the image"
    return {img.getpixel((x, y)) for x in range(x0, x1) for y in range(y0, y1)}  # type: ignore[misc]


def _near(c: tuple[int, ...], want: tuple[int, int, int], tol: int = 24) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(c[:3], want))


@pytest.fixture
def shot_page(headless_browser: Any, media_site: Path, media_server: str) -> Any:
    _write(media_site, "shot.html", SHOT_PAGE)
    ctx = headless_browser.new_context(viewport={"width": VW, "height": VH}, device_scale_factor=DPR)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{media_server}/shot.html")
    page.fill("#pw", PASSWORD)
    page.evaluate("() => { window.scrollTo(0, 300); document.getElementById('scroller').scrollTop = 400; }")
    yield page
    ctx.close()


def test_screenshot_masks_excludes_and_keeps_scroll(shot_page: Any) -> None:
    page = shot_page
    result = page.evaluate(
        """async (b64) => {
          const m = await import("/screenshot.js");
          let svg = "";
          const host = document.getElementById("host");
          const t0 = performance.now();
          const blob = await m.captureWithProbe({mask: [".pii", "::not-a-selector("], exclude: [host]},
                                                (s) => { svg += s; });
          const ms = performance.now() - t0;
          return {type: blob.type, size: blob.size, png: await (BLOB_TO_B64)(blob), svg, ms,
                  scrollY: window.scrollY, scrollTop: document.getElementById("scroller").scrollTop};
        }""".replace("BLOB_TO_B64", BLOB_TO_B64)
    )
    # The capture must not have moved anything on the page.
    assert result["scrollY"] == 300 and result["scrollTop"] == 400
    assert result["type"] == "image/png"
    raw = base64.b64decode(result["png"])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    assert img.size == (VW * DPR, VH * DPR)

    svg: str = result["svg"]
    assert VISIBLE_TEXT in svg, "the probe saw no SVG: the privacy assertions below would be vacuous"
    for secret in (PASSWORD, MASKED_TEXT, CUSTOM_TEXT, HOST_TEXT):
        assert secret not in svg, f"{secret!r} was read into the capture"
        assert secret.encode() not in raw

    boxes = page.evaluate(
        """() => Object.fromEntries(["#pw", "#secret", ".pii", "#host", "#scroller", "#band-teal"].map(
             (s) => { const r = document.querySelector(s).getBoundingClientRect();
                      return [s, {x: r.x, y: r.y, width: r.width, height: r.height}]; }))"""
    )
    # Private areas: one solid colour each (the password field is styled yellow, the
    # masked div green and .pii magenta-ish, so any leak of their own pixels would show).
    for sel in ("#pw", "#secret", ".pii"):
        colours = _region_pixels(img, boxes[sel], inset=0)
        assert len(colours) == 1, f"{sel} is not a solid box: {list(colours)[:5]}"
        assert _near(next(iter(colours)), (0, 0, 0), 0), f"{sel} is painted {colours}"

    # The widget host (fixed, magenta) is not in the picture at all.
    host_colours = _region_pixels(img, boxes["#host"])
    assert not any(_near(c, (255, 0, 255)) for c in host_colours), "widget host element is in the screenshot"

    # The page is scrolled by 300 px: the orange band is gone, the teal one is at the top.
    assert boxes["#band-teal"]["y"] == 0
    assert _near(img.getpixel((5 * DPR, 5 * DPR)), (0, 128, 128)), img.getpixel((5 * DPR, 5 * DPR))
    assert not any(_near(img.getpixel((x, 10)), (255, 136, 0)) for x in range(0, img.width, 50))

    # The scrolled container shows rows 10.. (blue), not its top rows (red).
    sc = boxes["#scroller"]
    visible = {
        "x": sc["x"],
        "y": sc["y"],
        "width": sc["width"] - 20,
        "height": min(sc["height"], VH - sc["y"]),
    }
    colours = _region_pixels(img, visible, inset=4)
    blue = sum(1 for c in colours if _near(c, (0, 0, 255)))
    red = sum(1 for c in colours if _near(c, (255, 0, 0)))
    assert blue > 0 and red == 0, f"scrolled container lost its scroll position (blue={blue}, red={red})"


def test_screenshot_engine_and_snapdom_fallback_both_mask(shot_page: Any) -> None:
    """The stylesheet engine draws a page it can reproduce; a page with shadow DOM it cannot
    (here: the host's open shadow root, when the host is not excluded) goes to snapdom. The
    private fields are black either way."""
    page = shot_page
    out = page.evaluate(
        """async () => {
          const m = await import("/screenshot.js");
          const host = document.getElementById("host");
          const runs = [];
          for (const exclude of [[host], []]) {
            const blob = await m.capture({mask: [], exclude});
            runs.push({renderer: m.renderer(), png: await (BLOB_TO_B64)(blob)});
          }
          const r = document.getElementById("pw").getBoundingClientRect();
          return {runs, pw: {x: r.x, y: r.y, width: r.width, height: r.height}};
        }""".replace("BLOB_TO_B64", BLOB_TO_B64)
    )
    engine, fallback = out["runs"]
    assert engine["renderer"] == "engine"
    assert fallback["renderer"] == "snapdom: shadow DOM"
    for run in (engine, fallback):
        img = Image.open(io.BytesIO(base64.b64decode(run["png"]))).convert("RGB")
        colours = _region_pixels(img, out["pw"], inset=0)
        assert colours and all(_near(c, (0, 0, 0), 0) for c in colours), (run["renderer"], list(colours)[:5])


def test_screenshot_is_viewport_sized_without_dpr_above_two(
    headless_browser: Any, media_site: Path, media_server: str
) -> None:
    """DPR 3 devices are captured at 2x (9x the pixels of 1x buys no legibility)."""
    _write(media_site, "shot.html", SHOT_PAGE)
    ctx = headless_browser.new_context(viewport={"width": 400, "height": 300}, device_scale_factor=3)
    try:
        page = ctx.new_page()
        page.goto(f"{media_server}/shot.html")
        out = page.evaluate(
            """async () => { const m = await import("/screenshot.js");
                 const blob = await m.capture({mask: [], exclude: []});
                 const bmp = await createImageBitmap(blob); return [blob.type, bmp.width, bmp.height]; }"""
        )
        assert out == ["image/png", 800, 600]
    finally:
        ctx.close()


NOISE_PAGE = """<!doctype html><html><body style="margin:0">
<canvas id="n" width="800" height="600" style="display:block"></canvas>
<script>
  // Random pixels do not compress: the PNG of this page is far over 2 MB.
  const g = document.getElementById("n").getContext("2d");
  const d = g.createImageData(800, 600);
  crypto.getRandomValues(d.data.subarray(0, 65536));
  for (let i = 0; i < d.data.length; i += 65536) crypto.getRandomValues(d.data.subarray(i, i + 65536));
  for (let i = 3; i < d.data.length; i += 4) d.data[i] = 255;
  g.putImageData(d, 0, 0);
</script></body></html>"""


def test_screenshot_large_png_becomes_jpeg(
    headless_browser: Any, media_site: Path, media_server: str
) -> None:
    _write(media_site, "noise.html", NOISE_PAGE)
    ctx = headless_browser.new_context(viewport={"width": VW, "height": VH}, device_scale_factor=DPR)
    try:
        page = ctx.new_page()
        page.goto(f"{media_server}/noise.html")
        out = page.evaluate(
            """async () => { const m = await import("/screenshot.js");
                 const blob = await m.capture({mask: [], exclude: []});
                 const bmp = await createImageBitmap(blob); return [blob.type, blob.size, bmp.width, bmp.height]; }"""
        )
        assert out[0] == "image/jpeg" and out[2:] == [VW * DPR, VH * DPR], out
    finally:
        ctx.close()


@pytest.fixture
def annotate_page(headless_browser: Any, media_site: Path, media_server: str) -> Any:
    _write(media_site, "annotate.html", ANNOTATE_PAGE)
    ctx = headless_browser.new_context(viewport={"width": 900, "height": 700})
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{media_server}/annotate.html")
    page.wait_for_function("window.ready === true")
    yield page
    ctx.close()


OPEN_EDITOR = """(strings) => {
  const c = document.createElement("canvas"); c.width = 400; c.height = 300;
  const g = c.getContext("2d"); g.fillStyle = "#ffffff"; g.fillRect(0, 0, 400, 300);
  window.annResult = undefined;
  c.toBlob((blob) => {
    window.shot.annotate(blob, window.root, strings).then(async (out) => {
      window.annResult = out ? {type: out.type, b64: await (BLOB_TO_B64)(out)} : null;
    }, (e) => { window.annResult = {error: String(e)}; });
  }, "image/png");
}""".replace("BLOB_TO_B64", BLOB_TO_B64)


def _drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(start[0] + (end[0] - start[0]) * i / 5, start[1] + (end[1] - start[1]) * i / 5)
    page.mouse.up()


def test_annotate_hide_draw_undo_done(annotate_page: Any) -> None:
    page = annotate_page
    page.evaluate(OPEN_EDITOR, {"annotate.done": "Fertig", "annotate.title": "Markieren"})
    canvas = page.locator(".bl-ann canvas")
    canvas.wait_for()
    # Labels from `strings`, English for keys it lacks; buttons are real, focusable buttons.
    assert page.locator(".bl-ann h2").inner_text() == "Markieren"
    labels = page.locator(".bl-ann button").all_inner_texts()
    assert labels == ["Draw", "Highlight", "Hide", "Undo", "Cancel", "Fertig"]
    assert page.evaluate("() => window.root.activeElement?.textContent") == "Draw"
    # The editor is styled from the shadow root, with no style attributes.
    assert page.evaluate("() => window.root.querySelectorAll('[style]').length") == 0

    box = canvas.bounding_box()
    assert box is not None
    sx, sy = box["width"] / 400, box["height"] / 300

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * sx, box["y"] + y * sy

    # A red pen stroke, then undone with the keyboard.
    _drag(page, at(20, 250), at(380, 250))
    page.keyboard.press("Control+z")
    # Hide: a black rectangle from (50,40) to (200,140), via the keyboard-pressed button.
    page.locator(".bl-ann button", has_text="Hide").focus()
    page.keyboard.press("Enter")
    assert page.locator(".bl-ann button", has_text="Hide").get_attribute("aria-pressed") == "true"
    _drag(page, at(50, 40), at(200, 140))
    # Draw: a pen stroke that stays.
    page.locator(".bl-ann button", has_text="Draw").click()
    _drag(page, at(250, 200), at(350, 200))
    page.locator(".bl-ann button", has_text="Fertig").click()
    page.wait_for_function("window.annResult !== undefined")
    res = page.evaluate("() => window.annResult")
    assert res and "error" not in res, res
    assert res["type"] == "image/png"
    img = Image.open(io.BytesIO(base64.b64decode(res["b64"]))).convert("RGB")
    assert img.size == (400, 300)
    hidden = {img.getpixel((x, y)) for x in range(55, 195) for y in range(45, 135)}
    assert hidden == {(0, 0, 0)}, f"Hide area is not black: {list(hidden)[:5]}"
    assert img.getpixel((45, 30)) == (255, 255, 255) and img.getpixel((210, 150)) == (255, 255, 255)
    assert img.getpixel((300, 200))[0] > 200 and img.getpixel((300, 200))[1] < 120, "pen stroke missing"
    assert img.getpixel((100, 250)) == (255, 255, 255), "undone stroke is still there"
    # The editor is gone and left no styles behind.
    assert page.evaluate("() => window.root.querySelector('.bl-ann') === null")
    assert page.evaluate("() => window.root.adoptedStyleSheets.length") == 0


def test_annotate_cancel_resolves_null(annotate_page: Any) -> None:
    page = annotate_page
    page.evaluate(OPEN_EDITOR, {})
    page.locator(".bl-ann canvas").wait_for()
    page.keyboard.press("Escape")
    page.wait_for_function("window.annResult !== undefined")
    assert page.evaluate("() => window.annResult") is None
    page.evaluate(OPEN_EDITOR, {})
    page.locator(".bl-ann button", has_text="Cancel").click()
    page.wait_for_function("window.annResult !== undefined")
    assert page.evaluate("() => window.annResult") is None


@pytest.fixture
def record_page(headed_browser: Any, media_site: Path, media_server: str) -> Any:
    _write(media_site, "record.html", RECORD_PAGE)
    ctx = headed_browser.new_context(viewport={"width": 1000, "height": 600})
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{media_server}/record.html")
    page.wait_for_function("window.ready === true")
    yield page
    ctx.close()


def _start(page: Any, opts: dict[str, Any]) -> None:
    page.eval_on_selector("#go", "(b, o) => { b.dataset.opts = JSON.stringify(o); }", opts)
    page.click("#go")  # a real click: getDisplayMedia needs a user gesture
    page.wait_for_function("window.handle !== undefined || window.startError !== null")
    assert page.evaluate("() => window.startError") is None


def test_record_tab_with_parts(record_page: Any) -> None:
    page = record_page
    assert page.evaluate("() => window.rec.supported()") is True
    _start(page, {"maxSeconds": 30, "maxBytes": 50_000_000, "partSize": 20_000})
    page.wait_for_timeout(3300)
    out = page.evaluate(
        """async () => { const blob = await window.handle.stop();
             const head = Array.from(new Uint8Array(await blob.slice(0, 4).arrayBuffer()));
             return {type: blob.type, size: blob.size, head, parts: window.parts, ticks: window.ticks,
                     sinkError: window.handle.sinkError === undefined ? null : String(window.handle.sinkError)}; }"""
    )
    assert out["type"] == "video/webm"
    assert bytes(out["head"]) == bytes.fromhex("1A45DFA3"), out["head"]
    assert out["size"] > 10_000, out["size"]
    ticks = out["ticks"]
    assert [t[0] for t in ticks][:3] == [1, 2, 3], ticks
    assert ticks[-1][1] > 0
    parts = out["parts"]
    assert out["sinkError"] is None
    assert len(parts) >= 2, parts
    assert [p["n"] for p in parts] == list(range(1, len(parts) + 1))
    assert [p["last"] for p in parts] == [False] * (len(parts) - 1) + [True]
    assert all(p["size"] >= 20_000 for p in parts[:-1]), parts
    assert bytes(parts[0]["head"]) == bytes.fromhex("1A45DFA3")
    assert sum(p["size"] for p in parts) == out["size"]


def test_record_stops_itself_at_max_seconds(record_page: Any) -> None:
    page = record_page
    _start(page, {"maxSeconds": 2, "maxBytes": 50_000_000, "noSink": True})
    page.wait_for_function("window.ended !== null", timeout=10_000)
    assert page.evaluate("() => window.ended") == "maxSeconds"
    out = page.evaluate(
        """async () => { const blob = await window.handle.stop();
             const head = Array.from(new Uint8Array(await blob.slice(0, 4).arrayBuffer()));
             return {size: blob.size, head}; }"""
    )
    assert bytes(out["head"]) == bytes.fromhex("1A45DFA3") and out["size"] > 1_000


def test_record_cancel_discards(record_page: Any) -> None:
    page = record_page
    _start(page, {"maxSeconds": 30, "maxBytes": 50_000_000, "noSink": True})
    page.wait_for_timeout(1200)
    err = page.evaluate(
        """async () => { window.handle.cancel();
             try { await window.handle.stop(); return "resolved"; } catch (e) { return String(e); } }"""
    )
    assert "cancelled" in err


TAB_PAGE = """<!doctype html><html><head><meta charset=utf-8><style>
body{margin:0;background:#fff;font:16px sans-serif} #secret{position:absolute;left:40px;top:40px;width:200px;height:60px;
background:#0c0;color:#fff} #widget{position:fixed;right:0;bottom:0;width:120px;height:120px;background:#f0f}
#pw{position:absolute;left:40px;top:160px;width:200px;height:30px}
</style></head><body><div id=secret data-bugline-mask>4111 1111 1111 1111</div>
<input id=pw type=password value=hunter2-secret><div id=widget></div>
<button id=go style="position:absolute;left:400px;top:40px">go</button>
<script type=module>
const m = await import("/screenshot.js");
window.result = null; window.error = null;
document.getElementById("go").onclick = async () => {
  try {
    const blob = await m.captureTab({ mask: [], exclude: [document.getElementById("widget")] });
    const bmp = await createImageBitmap(blob);
    const c = new OffscreenCanvas(bmp.width, bmp.height); const g = c.getContext("2d"); g.drawImage(bmp, 0, 0);
    const sx = bmp.width / innerWidth;
    const px = (x, y) => Array.from(g.getImageData(Math.round(x * sx), Math.round(y * sx), 1, 1).data.slice(0, 3));
    window.result = { type: blob.type, width: bmp.width, height: bmp.height, scale: sx,
      secret: px(140, 70), password: px(140, 175), widget: px(innerWidth - 60, innerHeight - 60), page: px(600, 300),
      widgetVisibleAfter: getComputedStyle(document.getElementById("widget")).visibility };
  } catch (e) { window.error = String(e); }
};
window.ready = true;
</script></body></html>"""


def test_exact_tab_screenshot_masks_and_hides_the_widget(headed_browser: Any, media_site: Path, media_server: str) -> None:
    _write(media_site, "tab.html", TAB_PAGE)
    ctx = headed_browser.new_context(viewport={"width": 1000, "height": 600})
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{media_server}/tab.html")
        page.wait_for_function("window.ready === true")
        # Tab capture sends its first frame only when the compositor gets to it; on the loaded
        # 2-core CI machine it once sent none within the widget's 15 s and the widget said
        # "screenshot failed". A customer presses again, and so does this test, once, for that
        # error only: the widget must have been shown again after the failed try.
        for attempt in range(2):
            page.evaluate("() => { window.result = null; window.error = null; }")
            page.click("#go")  # a real click: getDisplayMedia needs a user gesture
            page.wait_for_function("window.result !== null || window.error !== null", timeout=40_000)
            error = page.evaluate("() => window.error")
            if attempt == 0 and error == "Error: no frame from tab capture":
                assert page.evaluate("getComputedStyle(document.getElementById('widget')).visibility") == "visible"
                continue
            break
        assert error is None
        r = page.evaluate("() => window.result")
        assert r["type"] == "image/png"
        assert r["width"] >= 900 and r["height"] >= 500  # the tab's own pixels, not a DOM copy
        assert r["secret"] == [0, 0, 0]  # the masked element is painted over, not green
        assert r["password"] == [0, 0, 0]
        assert r["widget"] != [255, 0, 255]  # the widget was hidden for the frame
        assert r["page"] == [255, 255, 255]
        assert r["widgetVisibleAfter"] == "visible"  # and shown again afterwards
    finally:
        ctx.close()
