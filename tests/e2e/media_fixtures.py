"""Fixtures for the widget media tests: built chunks, a static server, real Chromium.

Nothing here skips: a missing Chromium, Xvfb, esbuild or npm fails the test that needs it,
with the reason in the message.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from tests.support.browser import CHROMIUM_ARGS, chromium_path

REPO = Path(__file__).resolve().parents[2]
WIDGET = REPO / "widget"
SRC = WIDGET / "src"
# Where the tests install esbuild + snapdom when widget/node_modules does not have them
# yet (a developer machine before `npm install`, or CI before the widget build is wired).
NPM_CACHE = Path(os.environ.get("BUGLINE_E2E_NPM", "/tmp/bugline-e2e-npm"))
NPM_PACKAGES = ["esbuild@^0.28", "@zumer/snapdom@^3"]

BUILD_SCRIPT = """
const { createRequire } = require("node:module");
const [prefix, outdir, ...entries] = process.argv.slice(2);
const esbuild = createRequire(prefix + "/package.json")("esbuild");
esbuild.build({
  entryPoints: entries, bundle: true, format: "esm", minify: true, target: "es2020",
  outdir, nodePaths: [prefix + "/node_modules"], logLevel: "warning", metafile: false,
}).catch((e) => { console.error(e); process.exit(1); });
"""


def _has_deps(prefix: Path) -> bool:
    nm = prefix / "node_modules"
    return (nm / "esbuild" / "package.json").exists() and (
        nm / "@zumer" / "snapdom" / "package.json"
    ).exists()


def _node_prefix() -> Path:
    if _has_deps(WIDGET):
        return WIDGET
    if not _has_deps(NPM_CACHE):
        npm = shutil.which("npm")
        assert npm, "npm is needed to build the widget chunks for the media tests"
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NPM_CACHE), *NPM_PACKAGES],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, f"npm install failed:\n{proc.stdout}\n{proc.stderr}"
    assert _has_deps(NPM_CACHE), "esbuild / @zumer/snapdom missing after npm install"
    return NPM_CACHE


@pytest.fixture(scope="session")
def media_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with screenshot.js and recorder.js built from widget/src (minified ESM)."""
    node = shutil.which("node")
    assert node, "node is needed to build the widget chunks"
    out = tmp_path_factory.mktemp("media-site")
    script = out / "build.cjs"
    script.write_text(BUILD_SCRIPT)
    proc = subprocess.run(
        [
            node,
            str(script),
            str(_node_prefix()),
            str(out),
            str(SRC / "screenshot.ts"),
            str(SRC / "recorder.ts"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"esbuild failed:\n{proc.stdout}\n{proc.stderr}"
    assert (out / "screenshot.js").exists() and (out / "recorder.js").exists()
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def media_server(media_site: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT serving media_site (tests write their pages into it)."""
    handler = functools.partial(_QuietHandler, directory=str(media_site))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def headless_browser(playwright_instance: object) -> Iterator[object]:
    browser = playwright_instance.chromium.launch(  # type: ignore[attr-defined]
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True, timeout=60_000
    )
    try:
        yield browser
    finally:
        browser.close()


def _free_display() -> int:
    for n in range(90, 190):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise AssertionError("no free X display number between :90 and :189")


@pytest.fixture(scope="module")
def xvfb_display() -> Iterator[str]:
    """A private Xvfb server, for Chromium with a real (headed) window."""
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is needed for the recording test (apt-get install xvfb)"
    n = _free_display()
    proc = subprocess.Popen(
        [xvfb, f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            assert proc.poll() is None, f"Xvfb exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            assert time.monotonic() < deadline, "Xvfb did not start within 15 s"
            time.sleep(0.05)
        yield f":{n}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def headed_browser(playwright_instance: object, xvfb_display: str) -> Iterator[object]:
    """Headed Chromium on Xvfb that accepts 'share this tab' without a prompt."""
    browser = playwright_instance.chromium.launch(  # type: ignore[attr-defined]
        executable_path=chromium_path(),
        args=[*CHROMIUM_ARGS, "--auto-accept-this-tab-capture", "--use-fake-ui-for-media-stream"],
        headless=False,
        env={**os.environ, "DISPLAY": xvfb_display},
        timeout=60_000,
    )
    try:
        yield browser
    finally:
        browser.close()
