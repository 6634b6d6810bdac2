"""An agent's day in the dashboard, in real headless Chromium against a real server (see
dashboard_fixtures.py): sign in, filter the inbox, open a report, watch its recording load from
S3, change its severity with a reason, forward it to the project's webhook, and see the
timeline say so. Every main page is photographed into var/screenshots/dashboard/."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, BrowserContext, expect
from tests.dashboard import xss_payloads as xss
from tests.e2e.dashboard_fixtures import (
    TIMEOUT_MS,
    Site,
    browser,
    context,
    screenshot,
    sign_in,
    site,
    watched,
)

__all__ = ["browser", "context", "site"]  # module-scoped fixtures used by the tests below


def test_signed_out_agent_is_sent_to_login_and_back(site: Site, context: BrowserContext) -> None:
    w = watched(context)
    page = w.page
    page.goto(f"{site.url}/reports?severity=critical")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "login")
    page.get_by_label("Email address").fill(site.lead.email)
    page.get_by_label("Password").fill(site.lead.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/reports?severity=critical")
    assert not w.dialogs and not w.errors, (w.dialogs, w.errors)


def test_a_mistyped_password_does_not_lose_the_page_asked_for(site: Site, context: BrowserContext) -> None:
    page = watched(context).page
    page.goto(f"{site.url}/reports?severity=critical")
    page.get_by_label("Email address").fill(site.agent.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("Password").fill(site.agent.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/reports?severity=critical")


def test_the_agents_flow_from_inbox_to_forwarded(site: Site, context: BrowserContext) -> None:
    w = watched(context)
    page = w.page
    sign_in(page, site, site.lead)
    outage, typo = site.report("outage"), site.report("typo")
    assert outage.title and typo.title

    # The inbox lists the project's reports and never another tenant's.
    page.goto(f"{site.url}/reports")
    expect(page.get_by_role("heading", name="Inbox", exact=False).first).to_be_visible()
    expect(page.get_by_role("link", name=outage.title)).to_be_visible()
    expect(page.get_by_role("link", name=typo.title)).to_be_visible()
    expect(page.get_by_text("Globex private report")).to_have_count(0)
    screenshot(page, "inbox")

    # Filter by the outage's severity, with the inbox's own filter form.
    severity = page.get_by_label(re.compile("^Severity", re.I))
    severity.select_option(outage.severity)
    apply = page.get_by_role("button", name=re.compile("^(Filter|Apply|Show)", re.I))
    if apply.count():  # without script the form needs its button; with script it may apply at once
        apply.first.click()
    expect(page).to_have_url(re.compile(rf"severity={outage.severity}"))
    expect(page.get_by_role("link", name=outage.title)).to_be_visible()
    expect(page.get_by_role("link", name=typo.title)).to_have_count(0)
    screenshot(page, "inbox-filtered")

    # Open it.
    page.get_by_role("link", name=outage.title).click()
    expect(page).to_have_url(f"{site.url}/reports/{outage.id}")
    expect(page.get_by_role("heading", name=outage.title).first).to_be_visible()

    # The recording plays from its presigned S3 URL: the browser has its metadata.
    video = page.locator("video")
    expect(video).to_have_count(1)
    src = video.evaluate("v => v.currentSrc || v.src || (v.querySelector('source') || {}).src || ''")
    assert src.startswith(site.seaweed.endpoint_url), f"the recording is not read from S3: {src!r}"
    page.wait_for_function("() => document.querySelector('video').readyState >= 1", timeout=15_000)
    assert page.evaluate("document.querySelector('video').error") is None
    screenshot(page, "report")

    # Change the severity, with a reason.
    timeline = page.get_by_role("region", name="Timeline")
    new = "low" if outage.severity != "low" else "medium"
    reason = "Only the sandbox checkout is affected, confirmed with billing"
    page.get_by_label("New severity").select_option(new)
    page.get_by_label(re.compile("^Reason")).fill(reason)
    page.get_by_role("button", name="Change severity").click()
    expect(page).to_have_url(re.compile(rf"/reports/{outage.id}\?notice=severity"))
    expect(page.get_by_role("status")).to_contain_text("Severity changed")
    expect(timeline).to_contain_text(f"Reason: {reason}")
    assert site.report("outage").severity == new

    # Forward it: the project's webhook was added after triage, so nothing was sent yet.
    assert not site.receiver.bodies
    page.get_by_role("button", name="Forward now").click()
    expect(page).to_have_url(re.compile(rf"/reports/{outage.id}\?notice=forwarded"))
    expect(timeline).to_contain_text("Forward now")
    # The app's outbox sends it within moments; the timeline then says where it went.
    forwarded = timeline.get_by_text(re.compile("^Forwarded to"))
    for _ in range(30):
        if forwarded.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(forwarded.first).to_be_visible()
    sent = [b for b in site.receiver.bodies if b.get("type") == "report.forwarded"]
    assert len(sent) == 1 and sent[0]["report"]["title"] == outage.title, site.receiver.bodies
    screenshot(page, "report-after-actions")

    # The month's review counts the hand-made severity change, with its reason.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Monthly review").click()
    page.get_by_label(re.compile("^Month")).fill(time.strftime("%Y-%m", time.gmtime()))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text(reason).first).to_be_visible()
    screenshot(page, "review-after-actions")
    assert not w.dialogs and not w.errors, (w.dialogs, w.errors)


# Anything a stored attack would leave in the live DOM: a script of no file, an on* handler.
LIVE_ATTACKS = """() => {
  const found = [];
  for (const s of document.scripts) if (!s.src) found.push("inline script: " + s.textContent.slice(0, 80));
  for (const el of document.querySelectorAll("*"))
    for (const a of el.attributes)
      if (a.name.startsWith("on")) found.push(el.tagName + " " + a.name + "=" + a.value.slice(0, 80));
  for (const el of document.querySelectorAll("[href], [src], [action]"))
    for (const name of ["href", "src", "action"]) {
      const v = (el.getAttribute(name) || "").replace(/\\s/g, "").toLowerCase();
      if (v.startsWith("javascript:")) found.push(el.tagName + " " + name + "=" + v.slice(0, 80));
    }
  return found;
}"""


def test_hostile_report_renders_inert_in_the_browser(site: Site, context: BrowserContext) -> None:
    """The seeded report carries an attack in every customer field (tests/dashboard/xss_payloads.py):
    no alert() fires, nothing is injected into the DOM, and the words are on the page as text."""
    w = watched(context)
    page = w.page
    sign_in(page, site, site.lead)
    hostile = site.reports["hostile"]
    month = time.strftime("%Y-%m", time.gmtime())
    for path in ("/reports", f"/reports?q={xss.MARK}", f"/reports/{hostile}", f"/review?month={month}"):
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        found = page.evaluate(LIVE_ATTACKS)
        assert not found, f"{path}: {found}"
        if path != f"/review?month={month}":  # the review lists resolved reports only
            expect(page.get_by_text(xss.SCRIPT).first).to_be_attached()
    screenshot(page, "hostile-report-review")
    page.goto(f"{site.url}/reports/{hostile}")
    screenshot(page, "hostile-report")
    # Chromium says so on the console when the CSP stops a script: nothing may even try.
    blocked = [c for c in w.console if "Content Security Policy" in c or "Refused to" in c]
    assert not w.dialogs and not w.errors and not blocked, (w.dialogs, w.errors, blocked)


def test_pages_work_without_javascript_and_sign_out_ends_it(site: Site, browser: Browser) -> None:
    """Scripts only enhance: with JavaScript off an agent still signs in, filters, acts on a
    report and signs out."""
    ctx = browser.new_context(locale="en-US", java_script_enabled=False)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        sign_in(page, site, site.agent)
        typo = site.report("typo")
        page.goto(f"{site.url}/reports")
        page.get_by_label(re.compile("^Severity")).select_option(typo.severity)
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(rf"severity={typo.severity}"))
        page.get_by_role("link", name=typo.title).click()
        expect(page).to_have_url(f"{site.url}/reports/{typo.id}")
        note = "Asked the customer which browser they use"
        page.get_by_label("Text", exact=True).fill(note)
        page.get_by_role("button", name="Add").click()
        expect(page.get_by_role("region", name="Timeline")).to_contain_text(note)
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{site.url}/login")
        page.goto(f"{site.url}/reports/{typo.id}")
        expect(page).to_have_url(re.compile(r"/login\?next="))
    finally:
        ctx.close()
