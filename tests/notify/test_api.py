"""A project's own templates and settings through the agent API, on SQLite and PostgreSQL:
saved by a lead, previewed by an agent, used in the mail that arrives; hostile templates
refused when saved and harmless if they reach the settings anyway."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import Project
from tests.conftest import ORIGIN, PUBLIC_URL
from tests.integration.test_agent_api import auth, token_for
from tests.integration.test_intake import report_body
from tests.notify.conftest import Mailroom, html_links, plain, visible_text
from tests.notify.test_templates import HOSTILE

pytestmark = pytest.mark.anyio


def base(room: Mailroom, project_id: str | None = None) -> str:
    return f"/api/v1/projects/{project_id or room.b.project.id}/notifications"


async def stored_settings(room: Mailroom) -> dict[str, Any]:
    async with make_sessionmaker(room.b.engine)() as session:
        project = (await session.execute(select(Project).where(Project.id == room.b.project.id))).scalar_one()
        return dict(project.settings or {})


OWN = {
    "subject": "Sorted: {{ report.reference }} ({{ report.title }})",
    "html": "<h1>All fixed, {{ reporter.name }}!</h1>{% if note %}<p>{{ note }}</p>{% endif %}"
    '<p><a href="{{ links.reopen }}">Still broken?</a></p>',
}


async def test_a_leads_template_is_previewed_saved_and_used(mailroom: Mailroom) -> None:
    lead = await token_for(mailroom.b, "lead")
    agent = await token_for(mailroom.b, "agent")
    url = f"{base(mailroom)}/templates/resolved"
    # An agent may look, not change.
    res = await mailroom.b.client.put(url, json=OWN, headers=auth(agent))
    assert res.status_code == 403
    res = await mailroom.b.client.put(url, json=OWN, headers=auth(lead))
    assert res.status_code == 200, res.text
    saved = res.json()
    assert saved["template"] == OWN and saved["locale"] is None
    assert saved["preview"]["subject"] == "Sorted: #42 (The Export button does nothing)"
    assert saved["preview"]["overridden"] == ["subject", "html"] and saved["preview"]["sample"] is True
    assert (await stored_settings(mailroom))["notifications"]["templates"]["resolved"] == OWN

    res = await mailroom.b.client.get(f"{url}/preview", headers=auth(agent))
    assert res.status_code == 200
    assert res.json()["subject"] == "Sorted: #42 (The Export button does nothing)"
    assert "All fixed, Ana Silva!" in res.json()["html"]
    assert "PREVIEW-STATUS-TOKEN/reopen" in res.json()["html"]  # look-alike links, no capability

    report_id = await mailroom.submit(
        report_body(
            title="Totals <b>wrong</b>", reporter={"id": "u-own", "email": "own@example.com", "name": "Bo"}
        )
    )
    await mailroom.notified()
    res = await mailroom.b.client.get(f"{url}/preview", params={"report_id": report_id}, headers=auth(agent))
    number = (await mailroom.report(report_id)).number
    assert (
        res.json()["subject"] == f"Sorted: #{number} (Totals <b>wrong</b>)" and res.json()["sample"] is False
    )
    assert (
        "Totals &lt;b&gt;wrong&lt;/b&gt;" in res.json()["html"]
        and "PREVIEW-STATUS-TOKEN" in res.json()["html"]
    )

    await mailroom.change([report_id], "resolved", public_note="Rounding fixed.", internal_note="INTERNAL-X")
    assert await mailroom.notified() == {"sent": 1}
    mail = mailroom.mails_to("own@example.com")[-1]
    assert mail.message["Subject"] == f"Sorted: #{number} (Totals <b>wrong</b>)"
    shown = visible_text(mail.html())
    assert "All fixed, Bo!" in shown and "Rounding fixed." in shown and "INTERNAL-X" not in shown
    assert "<b>wrong" not in mail.html()
    reopen = [h for h, t in html_links(mail.html()) if t == "Still broken?"]
    assert reopen and reopen[0].startswith(f"{PUBLIC_URL}/s/") and reopen[0].endswith("/reopen")
    assert "Good news" in plain(mail)  # the text part stays built in
    assert "Stop emails about your reports" in shown  # the footer is always there

    res = await mailroom.b.client.delete(url, headers=auth(lead))
    assert res.status_code == 204
    assert "resolved" not in (await stored_settings(mailroom))["notifications"]["templates"]


async def test_a_template_for_one_language(mailroom: Mailroom) -> None:
    lead = await token_for(mailroom.b, "lead")
    res = await mailroom.b.client.put(
        f"{base(mailroom)}/templates/received",
        json={"subject": "Danke! {{ report.reference }}", "locale": "de"},
        headers=auth(lead),
    )
    assert res.status_code == 200, res.text
    await mailroom.submit(report_body(reporter={"id": "u-de1", "email": "de1@example.com", "locale": "de"}))
    await mailroom.submit(report_body(reporter={"id": "u-en1", "email": "en1@example.com", "locale": "en"}))
    await mailroom.notified()
    assert mailroom.mails_to("de1@example.com")[0].message["Subject"].startswith("Danke! #")
    assert mailroom.mails_to("en1@example.com")[0].message["Subject"].startswith("We have your report #")
    res = await mailroom.b.client.put(
        f"{base(mailroom)}/templates/received", json={"subject": "x", "locale": "es"}, headers=auth(lead)
    )
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_locale"


async def test_a_draft_is_previewed_without_saving(mailroom: Mailroom) -> None:
    agent = await token_for(mailroom.b, "agent")
    res = await mailroom.b.client.post(
        f"{base(mailroom)}/templates/escalated/preview",
        json={"text": "Passed to {{ team }}: {{ timeframe }}", "locale": "de"},
        headers=auth(agent),
    )
    assert res.status_code == 200, res.text
    assert res.json()["text"].startswith("Passed to unser Entwicklungsteam: innerhalb von 8 Stunden")
    assert res.json()["locale"] == "de" and res.json()["overridden"] == ["text"]
    assert "notifications" not in await stored_settings(mailroom)


@pytest.mark.parametrize("source", HOSTILE[:12])
async def test_hostile_templates_are_refused_at_save(mailroom: Mailroom, source: str) -> None:
    lead = await token_for(mailroom.b, "lead")
    res = await mailroom.b.client.put(
        f"{base(mailroom)}/templates/resolved", json={"html": source}, headers=auth(lead)
    )
    assert res.status_code == 422
    error = res.json()["error"]
    assert error["code"] == "invalid_template"
    assert error["fields"][0]["field"] == "notifications.templates.resolved.html"
    assert "notifications" not in await stored_settings(mailroom)


async def test_a_hostile_template_that_got_in_anyway_is_harmless(mailroom: Mailroom) -> None:
    """Written straight into the settings (an old version, a database edit): the mail goes
    out with the built-in parts and nothing of Python's insides."""
    hostile = {
        "subject": "{{ ''.__class__.__mro__ }}",
        "text": "{{ cycler.__init__.__globals__ }}",
        "html": "{% for i in range(99999) %}{{ ''.__class__ }}{% endfor %}",
    }
    await mailroom.set_project_settings({"notifications": {"templates": {"received": hostile}}})
    await mailroom.submit(report_body(reporter={"id": "u-h", "email": "hostile@example.com"}))
    assert await mailroom.notified() == {"sent": 1}
    [mail] = mailroom.mails_to("hostile@example.com")
    assert mail.message["Subject"].startswith("We have your report #")
    everything = plain(mail) + mail.html()
    assert "class '" not in everything and "mro" not in everything and "globals" not in everything
    assert "Thank you for telling us about this problem" in plain(mail)


async def test_settings_name_the_team_and_the_default_language(mailroom: Mailroom) -> None:
    lead = await token_for(mailroom.b, "lead")
    await mailroom.set_project_settings({"notifications": {"templates": {"received": {"subject": "Hi"}}}})
    res = await mailroom.b.client.put(
        f"{base(mailroom)}/settings",
        json={
            "locale": "de",
            "team": {"en": "the payments team", "de": "das Payments-Team"},
            "from_name": "Acme",
        },
        headers=auth(lead),
    )
    assert res.status_code == 200, res.text
    stored = (await stored_settings(mailroom))["notifications"]
    assert stored["locale"] == "de" and stored["templates"] == {"received": {"subject": "Hi"}}  # kept
    body = report_body(reporter={"id": "u-t", "email": "team@example.com", "locale": "es"})
    body["context"] = {**body["context"], "locale": "es-ES"}
    report_id = await mailroom.submit(body)
    await mailroom.notified()
    await mailroom.change([report_id], "escalated")
    await mailroom.notified()
    mail = mailroom.mails_to("team@example.com")[-1]
    assert mail.message["Subject"].endswith(
        "wurde an das Payments-Team übergeben"
    )  # Spanish -> the default: de
    assert mail.message["From"] == "Acme <support@acme-mail.test>"
    res = await mailroom.b.client.put(
        f"{base(mailroom)}/settings", json={"reply_to": "nope"}, headers=auth(lead)
    )
    assert res.status_code == 422 and res.json()["error"]["fields"][0]["field"] == "notifications.reply_to"


async def test_the_overview_lists_what_a_template_may_use(mailroom: Mailroom) -> None:
    agent = await token_for(mailroom.b, "agent")
    res = await mailroom.b.client.get(f"{base(mailroom)}/templates", headers=auth(agent))
    assert res.status_code == 200
    body = res.json()
    assert body["kinds"][0] == "received" and body["locales"] == ["de", "en", "fr"]
    assert "questions" in body["variables"] and "safe" not in body["filters"]


async def test_strangers_and_unknown_kinds(mailroom: Mailroom) -> None:
    other = await mailroom.b.new_project(name="Other")
    outsider = await token_for(mailroom.b, "lead", project=other)
    res = await mailroom.b.client.get(f"{base(mailroom)}/templates/resolved/preview", headers=auth(outsider))
    assert res.status_code == 404  # not a member: like a project that does not exist
    res = await mailroom.b.client.get(f"{base(mailroom)}/templates/resolved/preview")
    assert res.status_code == 401
    agent = await token_for(mailroom.b, "agent")
    res = await mailroom.b.client.get(f"{base(mailroom)}/templates/fixed/preview", headers=auth(agent))
    assert res.status_code == 404
    res = await mailroom.b.client.get(
        f"{base(mailroom)}/templates/resolved/preview", params={"report_id": "nope"}, headers=auth(agent)
    )
    assert res.status_code == 404
    # Another project's report cannot be previewed through this one.
    res = await mailroom.b.client.post(
        "/api/v1/reports", json=report_body(), headers={"X-Bugline-Key": other.public_key, "Origin": ORIGIN}
    )
    assert res.status_code == 201
    res = await mailroom.b.client.get(
        f"{base(mailroom)}/templates/resolved/preview",
        params={"report_id": res.json()["id"]},
        headers=auth(agent),
    )
    assert res.status_code == 404
