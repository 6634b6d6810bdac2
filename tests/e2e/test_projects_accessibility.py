"""Every project set-up and account page in real Chromium, signed in as the project's lead
(who sees every form): axe-core finds no serious or critical violation, the pages' CSP
blocks nothing, and the pages that answer a form (a dry-run trace, a template preview, a
refused value, a new token) are checked as they are shown."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import BrowserContext, Page
from tests.e2e.dashboard_fixtures import (
    Site,
    Watched,
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

SECTIONS = (
    "",
    "/connectors",
    "/connectors/new?kind=zendesk",
    "/routing",
    "/sla",
    "/triage",
    "/notifications",
    "/notifications/resolved",
    "/members",
)


def clean(w: Watched, name: str) -> None:
    page = w.page
    page.wait_for_load_state("load")
    assert screenshot(page, name).stat().st_size > 0
    bad = serious(axe_violations(page))
    assert not bad, f"{name} has serious axe violations:\n" + json.dumps(bad, indent=2)
    blocked = [c for c in w.console if "Content Security Policy" in c or "Refused to" in c]
    assert not w.errors and not blocked and not w.dialogs, (w.errors, blocked, w.dialogs)


def opened(context: BrowserContext, site: Site, path: str) -> Watched:
    w = watched(context)
    sign_in(w.page, site, site.lead)
    response = w.page.goto(site.url + path)
    assert response is not None and response.status == 200, path
    return w


@pytest.mark.parametrize("suffix", SECTIONS)
def test_each_section_is_accessible(site: Site, context: BrowserContext, suffix: str) -> None:
    w = opened(context, site, f"/projects/{site.project.id}{suffix}")
    clean(w, "project" + suffix.replace("/", "-").split("?")[0])


def test_the_connector_editor_is_accessible(site: Site, context: BrowserContext) -> None:
    w = opened(context, site, f"/projects/{site.project.id}/connectors/{site.connector_id}")
    clean(w, "project-connector-edit")


def submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_answers_to_forms_are_accessible(site: Site, context: BrowserContext) -> None:
    w = opened(context, site, f"/projects/{site.project.id}/routing")
    page = w.page
    page.get_by_label("Categories").fill("billing")
    submit(page, "Dry run")
    assert page.locator("pre.trace").inner_text().startswith("Report: ")
    clean(w, "project-routing-trace")
    page.get_by_label("Rules as TOML or JSON").fill(
        '[[rules]]\nname = "x"\nwhen = { severity = ["urgent"] }\nsend = []\n'
    )
    submit(page, "Check and save")
    assert "routing.rules[0].when.severity[0]" in page.get_by_role("alert").inner_text()
    clean(w, "project-routing-refused")
    page.goto(f"{site.url}/projects/{site.project.id}/notifications/resolved")
    page.get_by_label("Subject").fill("Fixed: {{ report.title }}")
    submit(page, "Preview")
    assert "Fixed: The Export button does nothing" in page.locator(".subject").inner_text()
    clean(w, "project-notification-preview")


def test_the_account_page_and_a_new_token_are_accessible(site: Site, context: BrowserContext) -> None:
    w = opened(context, site, "/account")
    clean(w, "account")
    w.page.get_by_label("New token's name").fill("axe check")
    submit(w.page, "Create token")
    assert w.page.locator("#new-token").inner_text().startswith("blt_")
    clean(w, "account-new-token")
