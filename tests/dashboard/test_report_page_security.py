"""The report page as an attacker tries it: another tenant guessing ids, forged or missing
CSRF tokens, stored XSS in everything a customer or host app controls, and oversized or
malformed form values (each refused with a message saying what to fix)."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import Dash
from tests.dashboard.test_report_page import Page, events, report_row, triaged, with_screenshot
from tests.support.media import png

pytestmark = pytest.mark.anyio

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>"\'><svg onload=alert(2)>'
ACTIONS = {
    "edit": {"title": "hijacked"},
    "severity": {"severity": "low", "reason": "x"},
    "status": {"status": "closed"},
    "notes": {"text": "hi", "visibility": "public"},
    "forward": {},
    "redeliver": {"delivery": "x"},
    "merge": {"into": "1"},
    "split": {},
}


async def test_another_projects_agent_gets_404_on_the_page_and_every_action(dash: Dash) -> None:
    b = dash.bugline
    created = await triaged(b)
    other = await b.new_project(name="Rival")
    mallory = await dash.agent(role="admin", projects=[other])
    missing = await mallory.get("/reports/" + "0" * 32)
    res = await mallory.get(f"/reports/{created['id']}")
    assert res.status_code == 404 and missing.status_code == 404
    assert Page(res.text).visible == Page(missing.text).visible  # nothing tells the two apart
    assert "Invoice export fails" not in res.text
    for name, data in ACTIONS.items():
        res = await mallory.post(f"/reports/{created['id']}/{name}", data)
        assert res.status_code == 404, (name, res.status_code)
    row = await report_row(b, created["id"])
    assert row.title == "Invoice export fails" and row.severity_override is None and row.status != "closed"
    assert not [e for e in await events(b, created["id"]) if e.actor_type == "agent"]
    # Signed out: the sign-in page, nothing else.
    anonymous = dash.new_client()
    res = await anonymous.get(f"/reports/{created['id']}")
    assert res.status_code == 303 and res.headers["location"].startswith("/login")
    res = await anonymous.post(f"/reports/{created['id']}/notes", data={"text": "x"})
    assert res.status_code == 303


@pytest.mark.parametrize("csrf", [None, "", "forged-token-value"])
async def test_missing_or_forged_csrf_is_refused_and_changes_nothing(dash: Dash, csrf: str | None) -> None:
    b = dash.bugline
    created = await triaged(b)
    alice = await dash.agent()
    for name, data in ACTIONS.items():
        res = await alice.post(f"/reports/{created['id']}/{name}", {**data, "csrf": csrf})
        assert res.status_code == 403, (name, res.status_code)
        assert "expired" in res.text
    # Another site's form, even with the right token, is refused by its Origin.
    res = await alice.post(
        f"/reports/{created['id']}/notes", {"text": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert res.status_code == 403
    assert not [e for e in await events(b, created["id"]) if e.actor_type == "agent"]


async def test_stored_xss_renders_as_inert_text(dash: Dash) -> None:
    b = dash.bugline
    created = await with_screenshot(
        b,
        png(seed=3),
        name=f"{XSS}.png",
        title=f"T {XSS}"[:300],
        description=f"D {XSS}",
        metadata={f"k{XSS}"[:100]: f"v {XSS}"},
        context={
            "url": "javascript:alert(document.cookie)",
            "console": [{"level": "error", "message": f"C {XSS}", "stack": f"S {XSS}"}],
            "network": [{"method": "GET", "url": f"https://api.example.com/{XSS}", "status": 500}],
        },
        reporter={"email": "eve@example.com", "name": f"N {XSS}"[:200]},
    )
    alice = await dash.agent()
    await alice.post(f"/reports/{created['id']}/notes", {"text": f"note {XSS}", "visibility": "internal"})
    res = await alice.get(f"/reports/{created['id']}")
    assert res.status_code == 200
    page = Page(res.text)
    # Only our own scripts, from our origin; no event handler attribute anywhere.
    assert sorted(s.get("src", "") for s in page.all("script")) == ["/static/dash-report.js", "/static/dash.js"]
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        assert not any(v.strip().lower().startswith("javascript:") for v in attrs.values()), attrs
    assert not page.all("svg")
    assert [i for i in page.all("img") if i.get("src") == "x"] == []
    # ... and the words are all there, as text.
    text = page.visible
    for prefix in ("T ", "D ", "C ", "S ", "v ", "note ", "N "):
        assert f'{prefix}<script>alert("xss")</script>' in text, prefix
    assert "javascript:alert(document.cookie)" in text  # shown, never a link
    csp = res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("edit", {"title": "x" * 301}, 422, "shorten it to 300"),
        ("edit", {"frequency": "daily"}, 422, "choose one of"),
        ("edit", {"title": "Invoice export fails"}, 422, "nothing to save"),
        ("severity", {"severity": "urgent", "reason": "x"}, 422, "severity must be one of"),
        ("severity", {"severity": "low", "reason": "  "}, 422, "say why"),
        ("severity", {"severity": "low", "reason": "x" * 1001}, 422, "shorten it to 1,000"),
        ("status", {"status": "escalated"}, 422, "status must be one of"),
        ("status", {"status": "resolved", "public_note": "x" * 5001}, 422, "shorten it to 5,000"),
        ("notes", {"text": ""}, 422, "write the note first"),
        ("notes", {"text": "x" * 5001}, 422, "shorten it to 5,000"),
        ("notes", {"text": "hi", "visibility": "everyone"}, 422, "internal or public"),
        ("merge", {"into": "abc"}, 404, "there is no report abc"),
        ("merge", {"into": ""}, 422, "give the number"),
        ("split", {}, 409, "not grouped with any other report"),
        ("redeliver", {"delivery": "nope"}, 409, "has not failed"),
    ],
)
async def test_bad_form_values_get_a_clear_message(
    dash: Dash, name: str, data: dict[str, str], status: int, words: str
) -> None:
    b = dash.bugline
    created = await triaged(b)
    alice = await dash.agent()
    res = await alice.post(f"/reports/{created['id']}/{name}", data)
    assert res.status_code == status, res.text[:500]
    page = Page(res.text)
    assert words in page.visible, page.visible[:800]
    assert "Invoice export fails" in page.visible  # the page again, with the reason by the form
    assert not [e for e in await events(b, created["id"]) if e.actor_type == "agent"]


async def test_an_oversized_form_is_refused(dash: Dash) -> None:
    created = await triaged(dash.bugline)
    alice = await dash.agent()
    res = await alice.post(f"/reports/{created['id']}/notes", {"text": "x" * 300_000})
    assert res.status_code == 413
    res = await alice.get(f"/reports/{'x' * 500}")
    assert res.status_code == 404
