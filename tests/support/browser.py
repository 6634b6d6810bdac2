"""Debian's Chromium for the browser tests and benchmarks: where it is, and how it is started.

Playwright drives it by executable_path; no browser is ever downloaded. The network here is
closed, so the flags also stop Chromium's own background traffic.
"""

from __future__ import annotations

import shutil

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """The chromium binary; a missing one is a failure with the fix in the message, never a skip."""
    path = shutil.which("chromium")
    assert path, "Debian's chromium is needed: apt-get install chromium (make test does it)"
    return path
