"""Saved views: an agent's named inbox filters, theirs alone, behind CSRF."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.conftest import Dash
from tests.dashboard.inboxdata import add_reports

pytestmark = pytest.mark.anyio
_DELETE = re.compile(r'action="/reports/views/([0-9a-f]{32})/delete"')


async def test_save_list_open_and_delete_a_view(dash: Dash) -> None:
    await add_reports(
        dash.bugline.engine,
        dash.project,
        [dict(title="Billing bug", severity="critical"), dict(title="Nit", severity="low")],
    )
    alice = await dash.agent()
    page = await alice.get("/reports?severity=critical&sort=oldest")
    assert 'name="query" value="severity=critical&amp;sort=oldest"' in page.text
    res = await alice.post(
        "/reports/views", {"name": "  Critical   first ", "query": "severity=critical&sort=oldest"}
    )
    assert res.status_code == 303 and res.headers["location"] == "/reports?severity=critical&sort=oldest"
    page = await alice.get(res.headers["location"])
    assert (
        '<a href="/reports?severity=critical&amp;sort=oldest" aria-current="page">Critical first</a>'
        in page.text
    )
    assert "Billing bug" in page.text and "Nit" not in page.text
    # the same name again replaces the view
    res = await alice.post("/reports/views", {"name": "Critical first", "query": "severity=critical,high"})
    views = await alice.get("/reports/views")
    assert len(_DELETE.findall(views.text)) == 1 and "severity=critical,high" in views.text
    (view_id,) = _DELETE.findall(views.text)
    res = await alice.post(f"/reports/views/{view_id}/delete")
    assert res.status_code == 303 and res.headers["location"] == "/reports/views"
    assert "You have no saved views yet." in (await alice.get("/reports/views")).text


async def test_views_need_the_forms_csrf_token(dash: Dash) -> None:
    alice = await dash.agent()
    res = await alice.post("/reports/views", {"name": "Sneaky", "query": "", "csrf": None})
    assert res.status_code == 403
    res = await alice.post("/reports/views", {"name": "Sneaky", "query": "", "csrf": "forged"})
    assert res.status_code == 403
    await alice.post("/reports/views", {"name": "Mine", "query": ""})
    (view_id,) = _DELETE.findall((await alice.get("/reports/views")).text)
    res = await alice.post(f"/reports/views/{view_id}/delete", {"csrf": None})
    assert res.status_code == 403
    assert "Sneaky" not in (await alice.get("/reports/views")).text
    assert "Mine" in (await alice.get("/reports/views")).text


async def test_views_are_only_their_owners(dash: Dash) -> None:
    alice = await dash.agent()
    bob = await dash.agent()
    await alice.post("/reports/views", {"name": "Alice's view", "query": "severity=high"})
    (view_id,) = _DELETE.findall((await alice.get("/reports/views")).text)
    assert "Alice's view" not in (await bob.get("/reports")).text
    assert "Alice&#39;s view" not in (await bob.get("/reports/views")).text
    res = await bob.post(f"/reports/views/{view_id}/delete")
    assert res.status_code == 404
    assert (await bob.post("/reports/views/" + "0" * 32 + "/delete")).status_code == 404
    assert (await bob.post("/reports/views/../../etc/delete")).status_code == 404
    assert "Alice&#39;s view" in (await alice.get("/reports/views")).text


async def test_bad_views_are_refused_with_a_reason(dash: Dash) -> None:
    other = await dash.bugline.new_project()
    alice = await dash.agent()
    cases = {
        ("", "severity=high"): "Give the view a name.",
        ("x" * 101, ""): "at most 100",
        ("Bad", "severity=urgent"): "severity: &#39;urgent&#39; is not one of",
        ("Bad", "q=" + "x" * 4001): "too long",
        ("Bad", "nonsense=1"): "nonsense: is not a filter",
    }
    for (name, query), words in cases.items():
        res = await alice.post("/reports/views", {"name": name, "query": query})
        assert res.status_code == 400, (name, query)
        assert words in res.text, (name, query)
    res = await alice.post("/reports/views", {"name": "Theirs", "query": f"project={other.id}"})
    assert res.status_code == 404
    evil = "<script>alert(1)</script>"
    await alice.post("/reports/views", {"name": evil, "query": ""})
    page = await alice.get("/reports")
    assert evil not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
