"""Each main dashboard page in real Chromium: axe-core finds no serious or critical violation,
no script error or blocked script, and a full-page screenshot lands in var/screenshots/dashboard/
for a person to review. See dashboard_fixtures.py for the server and the seeded reports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext
from tests.e2e.dashboard_fixtures import (
    TIMEOUT_MS,
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
    "inbox-filtered": lambda s: "/reports?severity=critical,high&sort=severity",
    "saved-views": lambda s: "/reports/views",
    "report": lambda s: f"/reports/{s.reports['outage']}",
    "projects": lambda s: "/projects",
    "project-settings": lambda s: f"/projects/{s.project.id}",
    "connectors": lambda s: f"/projects/{s.project.id}/connectors",
    "connector-new": lambda s: f"/projects/{s.project.id}/connectors/new?kind=jira",
    "connector-edit": lambda s: f"/projects/{s.project.id}/connectors/{s.connector_id}",
    "routing": lambda s: f"/projects/{s.project.id}/routing",
    "sla": lambda s: f"/projects/{s.project.id}/sla",
    "triage-settings": lambda s: f"/projects/{s.project.id}/triage",
    "notifications": lambda s: f"/projects/{s.project.id}/notifications",
    "notification-editor": lambda s: f"/projects/{s.project.id}/notifications/resolved",
    "members": lambda s: f"/projects/{s.project.id}/members",
    "account": lambda s: "/account",
    "review": lambda s: "/review",  # the month just ended: empty here
    "review-this-month": lambda s: f"/review?month={time.strftime('%Y-%m', time.gmtime())}",
}


@pytest.fixture(scope="module")
def lead_state(site: Site, browser: Browser) -> Any:
    """The lead signed in once, through the real form; each page's context starts from it."""
    ctx = browser.new_context()
    try:
        sign_in(ctx.new_page(), site, site.lead)
        return ctx.storage_state()
    finally:
        ctx.close()


def check(name: str, context: BrowserContext, site: Site, path: str, status: int = 200) -> None:
    w = watched(context)
    page = w.page
    response = page.goto(site.url + path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    shot = screenshot(page, name)
    assert shot.stat().st_size > 0
    bad = serious(axe_violations(page))
    assert not bad, f"{name} ({path}) has serious axe violations:\n" + json.dumps(bad, indent=2)
    # No script error, and nothing the page's own CSP had to block (an inline script or style).
    blocked = [c for c in w.console if "Content Security Policy" in c or "Refused to" in c]
    assert not w.errors and not blocked and not w.dialogs, (w.errors, blocked, w.dialogs)


def test_login_page(site: Site, context: BrowserContext) -> None:
    check("login", context, site, "/login")


@pytest.mark.parametrize("name", list(PAGES))
def test_signed_in_page(site: Site, browser: Browser, lead_state: Any, name: str) -> None:
    ctx = browser.new_context(
        locale="en-US", viewport={"width": 1280, "height": 900}, storage_state=lead_state
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        check(name, ctx, site, PAGES[name](site))
    finally:
        ctx.close()


def test_not_found_page(site: Site, browser: Browser, lead_state: Any) -> None:
    """What another tenant's id (or a typo) shows: the error page, accessible too."""
    ctx = browser.new_context(locale="en-US", storage_state=lead_state)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        check("not-found", ctx, site, f"/reports/{site.reports['foreign']}", status=404)
    finally:
        ctx.close()
