"""The widget's "My reports" in real Chromium against a real Bugline server (test_widget.py's
`stack`: uvicorn, SQLite, SeaweedFS S3; the host page on another origin): a report sent from
this browser is listed with its status, public timeline and status page link, and a status
changed on the server (lifecycle.change, as a helpdesk webhook or an agent would) shows the next
time the list opens. Keyboard only where a user would use it. Nothing here skips."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.e2e import test_widget
from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_dialog_media import by_number
from tests.e2e.test_widget import TIMEOUT_MS, Stack, loaded

from bugline.db.engine import make_sync_engine
from bugline.db.models import utcnow
from bugline.lifecycle import status as lifecycle

# test_widget.py's real server and headless Chromium (module-scoped: one of each here).
stack = test_widget.stack
browser = test_widget.browser

LABELS = {
    "en-US": {
        "open": "Report a bug",
        "mine": "My reports",
        "empty": "No reports from this browser yet",
        "back": "Back",
        "sent": "Sent: report #",
        "follow": "Follow its progress",
        "needs_info": "Needs info",
        "resolved": "Resolved",
        "created": "Sent",
        "received": "Received",
        "gone": "No longer available",
        "page": "Status page of report #{n}",
        "history": "History ({count})",
    },
    "fr-FR": {
        "open": "Signaler un bug",
        "mine": "Mes signalements",
        "empty": "Aucun signalement envoyé depuis ce navigateur pour l'instant",
        "back": "Retour",
        "sent": "Envoyé : signalement n° ",
        "follow": "Suivre son avancement",
        "needs_info": "Informations demandées",
        "resolved": "Résolu",
        "created": "Envoyé",
        "received": "Reçu",
        "gone": "N'est plus disponible",
        "page": "Page de suivi du signalement n° {n}",
        "history": "Historique ({count})",
    },
    "de-AT": {
        "open": "Fehler melden",
        "mine": "Meine Meldungen",
        "empty": "Noch keine Meldungen aus diesem Browser",
        "back": "Zurück",
        "sent": "Gesendet: Meldung #",
        "follow": "Ihre Meldung verfolgen",
        "needs_info": "Wartet auf Ihre Antworten",
        "resolved": "Behoben",
        "created": "Gesendet",
        "received": "Eingegangen",
        "gone": "Nicht mehr verfügbar",
        "page": "Statusseite der Meldung #{n}",
        "history": "Verlauf ({count})",
    },
}


@pytest.fixture
def pages(browser: Browser) -> Iterator[Any]:
    contexts = []

    def make(locale: str) -> Page:
        ctx = browser.new_context(locale=locale, viewport={"width": 1000, "height": 800})
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def open_dialog(page: Page, name: str) -> Locator:
    page.get_by_role("button", name=name).click()
    dialog = page.get_by_role("dialog", name=name)
    expect(dialog).to_be_visible()
    return dialog


def focused_tag(page: Page) -> str:
    """The focused element inside the widget's shadow root: "tag:text"."""
    return str(
        page.evaluate(
            """() => { const e = document.querySelector('bugline-widget').shadowRoot.activeElement;
                       return e ? e.tagName.toLowerCase() + ':' + e.textContent.trim() : ''; }"""
        )
    )


def press_mine(page: Page, dialog: Locator, labels: dict[str, str]) -> Locator:
    """Open "My reports" from the keyboard; focus lands on its heading."""
    dialog.get_by_role("button", name=labels["mine"]).focus()
    page.keyboard.press("Enter")
    view = dialog.get_by_role("region", name=labels["mine"])
    expect(view).to_be_visible()
    expect(dialog.locator("form")).to_be_hidden()
    assert focused_tag(page) == f"h3:{labels['mine']}"
    return view


def back(page: Page, dialog: Locator, view: Locator, labels: dict[str, str]) -> None:
    view.get_by_role("button", name=labels["back"]).focus()
    page.keyboard.press("Enter")
    expect(view).to_have_count(0)
    assert focused_tag(page) == f"button:{labels['mine']}"


def resolve(stack: Stack, report_id: str, note: str, secret: str) -> None:
    """The team resolves it, as a helpdesk webhook would: THE way a status changes."""
    engine = make_sync_engine(stack.db_url)
    try:
        with engine.begin() as conn:
            changed = lifecycle.change(
                conn,
                [report_id],
                "resolved",
                source=lifecycle.Source("agent", "lee@acme.example", "agent API"),
                now=utcnow(),
                public_note=note,
                internal_note=secret,
            )
        assert len(changed) == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("locale", ["en-US", "fr-FR", "de-AT"])
def test_my_reports_lists_a_sent_report_and_follows_its_status(stack: Stack, pages: Any, locale: str) -> None:
    labels = LABELS[locale]
    page = pages(locale)
    page.goto(stack.page())
    loaded(page)
    dialog = open_dialog(page, labels["open"])

    # Nothing sent from this browser yet: the empty state, and Back returns to the form.
    view = press_mine(page, dialog, labels)
    expect(view).to_contain_text(labels["empty"])
    back(page, dialog, view, labels)
    expect(dialog.locator("form")).to_be_visible()

    what = f"The invoice total is blank ({locale})"
    dialog.locator("textarea[name=actual]").fill(what)
    dialog.locator("button[type=submit]").click()
    status = dialog.get_by_role("status")
    expect(status).to_have_text(re.compile("^" + re.escape(labels["sent"]) + r"\d+$"))
    number = int(status.inner_text().rsplit(" ", 1)[1].lstrip("#"))
    report = by_number(stack, number)[0]  # triaged: one line of words asks for the missing facts
    assert report.status == "needs_info"

    stored = page.evaluate(f"JSON.parse(localStorage.getItem('bugline:reports:{stack.key}'))")
    assert [set(m) for m in stored] == [{"id", "number", "title", "token", "created"}], stored
    [mine] = stored
    token = mine["token"]
    assert (mine["id"], mine["number"], mine["title"]) == (report.id, number, what)
    assert hashlib.sha256(token.encode()).hexdigest() == report.status_token_hash
    page_url = f"{stack.api}/s/{token}"
    expect(dialog.get_by_role("link", name=labels["follow"])).to_have_attribute("href", page_url)

    # A report this browser kept but the server no longer knows: shown as such, on its own line.
    page.evaluate(
        f"""() => {{ const k = 'bugline:reports:{stack.key}'; const l = JSON.parse(localStorage.getItem(k));
              l.push({{id: 'gone', number: 999, title: 'Old one', token: '{"z" * 43}', created: 1}});
              localStorage.setItem(k, JSON.stringify(l)); }}"""
    )
    view = press_mine(page, dialog, labels)
    items = view.locator("li.mine-item")
    expect(items).to_have_count(2)
    first = items.nth(0)
    expect(first).to_contain_text(f"#{number}")
    expect(first).to_contain_text(what)
    expect(first.locator(".mine-status")).to_have_text(labels["needs_info"])
    link = first.get_by_role("link", name=labels["page"].format(n=number))
    expect(link).to_have_attribute("href", page_url)
    expect(link).to_have_attribute("target", "_blank")
    expect(items.nth(1).locator(".mine-status")).to_have_text(labels["gone"])
    expect(items.nth(1).get_by_role("link")).to_have_count(0)

    # The public timeline, opened from the keyboard.
    history = first.locator("details")
    expect(history.locator("summary")).to_have_text(labels["history"].format(count=3))
    history.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(history).to_have_attribute("open", "")
    steps = history.locator("li")
    expect(steps).to_have_count(3)
    for i, label in enumerate((labels["created"], labels["received"], labels["needs_info"])):
        expect(steps.nth(i)).to_contain_text(label)
    bad = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=2)
    back(page, dialog, view, labels)

    # The team resolves it; the next look shows it, with the public note and nothing internal.
    resolve(stack, report.id, f"Fixed in release 2.4 ({locale})", "INC-77 root cause: CSV buffer")
    view = press_mine(page, dialog, labels)
    first = view.locator("li.mine-item").nth(0)
    expect(first.locator(".mine-status")).to_have_text(labels["resolved"])
    history = first.locator("details")
    expect(history.locator("summary")).to_have_text(labels["history"].format(count=4))
    history.locator("summary").click()
    last = history.locator("li").nth(3)
    expect(last).to_contain_text(labels["resolved"])
    expect(last.locator(".mine-note")).to_have_text(f"Fixed in release 2.4 ({locale})")
    expect(view).not_to_contain_text("INC-77")
    expect(view).not_to_contain_text("lee@acme.example")

    # Kept across page loads; closing the dialog on the list reopens it on the form.
    page.reload()
    loaded(page)
    dialog = open_dialog(page, labels["open"])
    view = press_mine(page, dialog, labels)
    expect(view.locator("li.mine-item").nth(0).locator(".mine-status")).to_have_text(labels["resolved"])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    dialog = open_dialog(page, labels["open"])
    expect(dialog.locator("form")).to_be_visible()
    expect(dialog.locator(".mine")).to_have_count(0)


def test_my_reports_asks_once_for_every_report(stack: Stack, pages: Any) -> None:
    """Twenty reports kept: one request for all of them, to the batch endpoint, with the key in
    the URL and no cookies."""
    page = pages("en-US")
    page.goto(stack.page())
    loaded(page)
    fake = [
        {"id": f"r{n}", "number": n, "title": f"Kept {n}", "token": f"{n:02d}" + "q" * 41, "created": 1}
        for n in range(1, 26)
    ]
    page.evaluate(f"localStorage.setItem('bugline:reports:{stack.key}', {json.dumps(json.dumps(fake))})")
    seen: list[Any] = []
    page.on("request", lambda r: seen.append(r) if "/api/v1/status" in r.url else None)
    dialog = open_dialog(page, "Report a bug")
    view = press_mine(page, dialog, LABELS["en-US"])
    items = view.locator("li.mine-item")
    expect(items).to_have_count(20)
    expect(items.locator(".mine-status", has_text="No longer available")).to_have_count(20)
    posts = [r for r in seen if r.method == "POST"]
    assert len(posts) == 1 and not [r for r in seen if r.method == "GET"], [r.url for r in seen]
    assert posts[0].url == f"{stack.api}/api/v1/status/batch?key={stack.key}"
    assert json.loads(posts[0].post_data or "{}")["tokens"] == [m["token"] for m in fake[:20]]
    assert "cookie" not in posts[0].headers
