"""Each main dashboard page in real Chromium: axe-core finds no serious or critical violation,
no script error or blocked script, and a full-page screenshot lands in var/screenshots/dashboard/
for a person to review. See dashboard_fixtures.py for the server and the seeded reports."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext
from tests.e2e.dashboard_fixtures import (
    Site,
    axe_violations,
    browser,
    context,
    screenshot,
    serious,
    sign_in,
    site,
    watched,
)

__all__ = ["browser", "context", "site"]  # module-scoped fixtures used by the tests below

# name -> the page's path for the seeded site. Signed in as the project's lead (who sees the
# most: set-up forms included), except the login page.
PAGES: dict[str, Callable[[Site], str]] = {
    "inbox": lambda s: "/reports",
    "report": lambda s: f"/reports/{s.reports['outage']}",
    "projects": lambda s: "/projects",
    "project-settings": lambda s: f"/projects/{s.project.id}",
    "account": lambda s: "/account",
    "review": lambda s: "/review",
}


def check(name: str, context: BrowserContext, site: Site, path: str, *, signed_in: bool) -> None:
    w = watched(context)
    page = w.page
    if signed_in:
        sign_in(page, site, site.lead)
    response = page.goto(site.url + path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    shot = screenshot(page, name)
    assert shot.stat().st_size > 0
    bad = serious(axe_violations(page))
    assert not bad, f"{name} ({path}) has serious axe violations:\n" + json.dumps(bad, indent=2)
    # No script error, and nothing the page's own CSP had to block (an inline script or style).
    blocked = [c for c in w.console if "Content Security Policy" in c or "Refused to" in c]
    assert not w.errors and not blocked and not w.dialogs, (w.errors, blocked, w.dialogs)


def test_login_page(site: Site, context: BrowserContext) -> None:
    check("login", context, site, "/login", signed_in=False)


@pytest.mark.parametrize("name", list(PAGES))
def test_signed_in_page(site: Site, context: BrowserContext, name: str) -> None:
    check(name, context, site, PAGES[name](site), signed_in=True)
