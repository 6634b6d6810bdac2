"""Project set-up through the dashboard's forms: connectors (validated like the agent API,
secrets never shown back, "send test" against a real receiver), routing rules and the
dry-run, SLA targets, triage weights and notification templates. Bad values get a 400 that
names the field or key and leave the saved settings as they were."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from bugline.db.engine import make_sessionmaker
from bugline.db.models import ConnectorConfig, Project
from tests.dashboard.conftest import Dash
from tests.integration.test_intake import headers, report_body
from tests.support.vendors.receiver import SECRET, FakeReceiver
from tests.support.vendors.server import Fault

pytestmark = pytest.mark.anyio
XSS = "<script>alert(1)</script>"


async def settings_of(dash: Dash) -> dict[str, Any]:
    async with make_sessionmaker(dash.bugline.engine)() as s:
        row = await s.get(Project, dash.project.id)
        assert row is not None
        return dict(row.settings or {})


async def connectors(dash: Dash) -> list[ConnectorConfig]:
    async with make_sessionmaker(dash.bugline.engine)() as s:
        rows = await s.execute(select(ConnectorConfig).where(ConnectorConfig.project_id == dash.project.id))
        return list(rows.scalars())


def base(dash: Dash) -> str:
    return f"/projects/{dash.project.id}"


def hook_form(url: str, **extra: str) -> dict[str, str]:
    return {
        "kind": "webhook",
        "name": "hook",
        "setting.url": url,
        "setting.secret": SECRET,
        "enabled": "on",
        **extra,
    }


# ---- connectors ------------------------------------------------------------------------------


async def test_each_kind_has_a_form_with_its_settings(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    page = await lead.get(f"{base(dash)}/connectors/new?kind=zendesk")
    assert page.status_code == 200
    for field in ("setting.url", "setting.email", "setting.api_token"):
        assert f'name="{field}"' in page.text
    assert 'type="password"' in page.text  # the API token is a secret field
    res = await lead.get(f"{base(dash)}/connectors/new?kind=<script>")
    assert res.status_code == 400 and "<script>" not in res.text
    agent = await dash.agent(role="agent")
    assert (await agent.get(f"{base(dash)}/connectors/new?kind=webhook")).status_code == 403


async def test_a_connector_is_added_its_secret_masked_and_a_bad_one_refused(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(f"{base(dash)}/connectors", hook_form("javascript:alert(1)", name="bad"))
    assert res.status_code == 400 and "setting.url" in res.text and "http" in res.text
    assert SECRET not in res.text  # the refused form does not echo the secret either
    res = await lead.post(
        f"{base(dash)}/connectors", {**hook_form("https://hooks.example/in"), "setting.secret": ""}
    )
    assert res.status_code == 400 and "setting.secret" in res.text
    res = await lead.post(f"{base(dash)}/connectors", hook_form("https://hooks.example/in", name="Has Space"))
    assert res.status_code == 400 and "name" in res.text
    assert await connectors(dash) == []
    res = await lead.post(
        f"{base(dash)}/connectors", hook_form("https://hooks.example/in", roles="alerts, lead")
    )
    assert res.status_code == 303
    [row] = await connectors(dash)
    assert row.config["secret"] == SECRET and row.roles == ["alerts", "lead"] and row.enabled
    for path in ("/connectors", f"/connectors/{row.id}"):
        page = await lead.get(base(dash) + path)
        assert page.status_code == 200
        assert SECRET not in page.text and "…" + SECRET[-4:] in page.text
    dup = await lead.post(f"{base(dash)}/connectors", hook_form("https://hooks.example/other"))
    assert dup.status_code == 400 and "already has a connector named" in dup.text


async def test_editing_keeps_a_secret_left_empty_and_validates_like_the_api(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    assert (
        await lead.post(f"{base(dash)}/connectors", hook_form("https://hooks.example/in"))
    ).status_code == 303
    [row] = await connectors(dash)
    res = await lead.post(
        f"{base(dash)}/connectors/{row.id}",
        {"setting.url": "https://hooks.example/v2", "setting.secret": "", "roles": "helpdesk"},
    )
    assert res.status_code == 303
    [row] = await connectors(dash)
    assert row.config == {"url": "https://hooks.example/v2", "secret": SECRET}
    res = await lead.post(
        f"{base(dash)}/connectors/{row.id}", {"setting.url": "not a url", "roles": "Bad Role"}
    )
    assert res.status_code == 400 and "setting.url" in res.text
    [after] = await connectors(dash)
    assert after.config == row.config and after.roles == row.roles


async def test_enable_disable_and_remove(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    await lead.post(f"{base(dash)}/connectors", hook_form("https://hooks.example/in"))
    [row] = await connectors(dash)
    assert (
        await lead.post(f"{base(dash)}/connectors/{row.id}/enabled", {"enabled": "off"})
    ).status_code == 303
    assert not (await connectors(dash))[0].enabled
    assert (
        await lead.post(f"{base(dash)}/connectors/{row.id}/enabled", {"enabled": "maybe"})
    ).status_code == 400
    assert (
        await lead.post(f"{base(dash)}/connectors/{row.id}/enabled", {"enabled": "on"})
    ).status_code == 303
    assert (await connectors(dash))[0].enabled
    res = await lead.post(f"{base(dash)}/connectors/{row.id}/remove", {})
    assert res.status_code == 400 and "confirm" in res.text and await connectors(dash)
    assert (
        await lead.post(f"{base(dash)}/connectors/{row.id}/remove", {"confirm": "yes"})
    ).status_code == 303
    assert await connectors(dash) == []


async def test_another_projects_connector_is_not_found_through_this_project(dash: Dash) -> None:
    other = await dash.bugline.new_project(name="Other")
    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        theirs = ConnectorConfig(
            project_id=other.id,
            name="theirs",
            kind="webhook",
            config={"url": "https://t.example", "secret": SECRET},
            roles=["helpdesk"],
        )
        s.add(theirs)
    lead = await dash.agent(role="lead")  # lead here, not in Other
    for path, body in (
        ("", None),
        ("", {"roles": "x"}),
        ("/enabled", {"enabled": "off"}),
        ("/remove", {"confirm": "yes"}),
        ("/check", {}),
        ("/test", {}),
    ):
        url = f"{base(dash)}/connectors/{theirs.id}{path}"
        res = await (lead.get(url) if body is None else lead.post(url, body))
        assert res.status_code == 404, path
    [row] = [r for r in await connectors_all(dash) if r.id == theirs.id]
    assert row.enabled and row.roles == ["helpdesk"]


async def connectors_all(dash: Dash) -> list[ConnectorConfig]:
    async with make_sessionmaker(dash.bugline.engine)() as s:
        return list((await s.execute(select(ConnectorConfig))).scalars())


async def test_check_connection_shows_the_real_outcome(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    async with FakeReceiver() as receiver:
        await lead.post(
            f"{base(dash)}/connectors", hook_form(f"{receiver.url}/hook", name=XSS.lower()[:0] or "hook")
        )
        [row] = await connectors(dash)
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/check", {})
        assert page.status_code == 200 and "the connection and credentials work" in page.text
        assert "Check connection, hook:" in page.text
        assert receiver.received and receiver.received[-1]["type"] == "ping"
        receiver.script(Fault.status(401))
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/check", {})
        assert page.status_code == 200 and "failed (HTTP 401)" in page.text
    agent = await dash.agent(role="agent")
    assert (await agent.post(f"{base(dash)}/connectors/{row.id}/check", {})).status_code == 403


async def test_send_a_test_report_delivers_a_sample_report_and_links_to_it(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    async with FakeReceiver() as receiver:
        await lead.post(f"{base(dash)}/connectors", hook_form(f"{receiver.url}/hook", name="hook"))
        [row] = await connectors(dash)
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/test", {})
        assert page.status_code == 200
        assert "Send a test report, hook:" in page.text and "it arrived as T-1" in page.text
        assert f'href="{receiver.url}/tickets/1"' in page.text  # the ticket, one click away
        [sent] = receiver.reports()
        report = sent["report"]
        assert report["title"] == "Bugline test report: you can close this"
        assert "No customer sent it" in report["description"]
        assert report["reporter"]["email"] == ""  # no one to write back to
        assert report["link"].endswith(f"/projects/{dash.bugline.project.id}/connectors")
        receiver.script(Fault.status(401))
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/test", {})
        assert page.status_code == 200 and "failed (HTTP 401)" in page.text
        # A ticket link that is not a web link is not made a link.
        receiver.script(Fault.status(200, body={"id": "T-9", "url": "javascript:alert(1)"}))
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/test", {})
        assert "it arrived" in page.text and "javascript:" not in page.text
        # A vendor answer the connector cannot read is an outcome on the page, not a 500.
        receiver.script(Fault.status(200, headers={"Content-Encoding": "gzip"}, body=b"not gzip at all"))
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/test", {})
        assert page.status_code == 200 and "did not work this time" in page.text
        # Each try reaches the vendor: a few a minute per connector, then 429 with the wait.
        page = await lead.post(f"{base(dash)}/connectors/{row.id}/check", {})
        assert page.status_code == 429 and "tried too often" in page.text
        assert int(page.headers["retry-after"]) >= 1
    agent = await dash.agent(role="agent")
    assert (await agent.post(f"{base(dash)}/connectors/{row.id}/test", {})).status_code == 403


# ---- routing ---------------------------------------------------------------------------------

RULES_TOML = """
[[rules]]
name = "billing to finance"
when = { category = ["billing"] }
send = [{ role = "finance" }]
"""


async def test_routing_rules_save_from_toml_and_json_and_the_dry_run_explains(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    assert (await lead.post(f"{base(dash)}/routing", {"rules": RULES_TOML})).status_code == 303
    saved = (await settings_of(dash))["routing"]
    assert saved["rules"][0]["name"] == "billing to finance" and saved["replace_defaults"] is False
    page = await lead.get(f"{base(dash)}/routing")
    assert "billing to finance" in page.text
    assert (
        "sends to role &#39;finance&#39;, which no enabled connector has" in page.text
        or "which no enabled connector has" in html.unescape(page.text)
    )
    res = await lead.post(f"{base(dash)}/routing", {"rules": '{"rules": [], "replace_defaults": true}'})
    assert res.status_code == 303 and (await settings_of(dash))["routing"] == {
        "rules": [],
        "replace_defaults": True,
    }
    assert (await lead.post(f"{base(dash)}/routing", {"rules": ""})).status_code == 303
    assert "routing" not in await settings_of(dash)
    agent = await dash.agent(role="agent")
    await lead.post(f"{base(dash)}/routing", {"rules": RULES_TOML})
    await lead.post(
        f"{base(dash)}/connectors", hook_form("https://hooks.example/in", name="money", roles="finance")
    )
    page = await agent.post(
        f"{base(dash)}/routing/dry-run",
        {"severity": "high", "kind": "bug", "categories": "billing", "completeness": "90"},
    )
    assert page.status_code == 200
    trace = html.unescape(page.text)
    assert "Report: high bug; categories billing" in trace and "billing to finance: MATCHED -> money" in trace


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[rules]]\nname = "x"\nsend = [{ role = "a" }\n', "TOML"),
        ('{"rules": [}', "JSON line 1"),
        (
            '[[rules]]\nname = "x"\nwhen = { severity = ["urgent"] }\nsend = []\n',
            "routing.rules[0].when.severity[0]",
        ),
        ('[[rules]]\nname = "x"\n', "routing.rules[0].send is missing"),
        ("bogus = 1\n", "routing.bogus"),
        ('{"rules": ' + "[" * 20_000, "nested too deeply"),
        ("[" * 5000, "line 1, column 3"),
        ("x" * (65 * 1024), "longer than 64 KiB"),
    ],
)
async def test_bad_rules_name_the_line_or_key_and_save_nothing(dash: Dash, text: str, named: str) -> None:
    lead = await dash.agent(role="lead")
    await lead.post(f"{base(dash)}/routing", {"rules": RULES_TOML})
    before = await settings_of(dash)
    res = await lead.post(f"{base(dash)}/routing", {"rules": text})
    assert res.status_code == 400
    assert named in html.unescape(res.text)
    assert await settings_of(dash) == before


async def test_dry_run_of_a_stored_report_and_bad_facts(dash: Dash) -> None:
    agent = await dash.agent(role="agent")
    res = await dash.bugline.client.post("/api/v1/reports", json=report_body(), headers=headers(dash.bugline))
    assert res.status_code in (201, 202), res.text
    await dash.bugline.triaged()
    page = await agent.post(f"{base(dash)}/routing/dry-run", {"report": "#1"})
    assert page.status_code == 200 and "Report: " in page.text and "Rules, in order:" in page.text
    missing = await agent.post(f"{base(dash)}/routing/dry-run", {"report": "999"})
    assert missing.status_code == 400 and "no report #999" in missing.text
    for body, named in (
        ({"report": "abc"}, "report"),
        ({"severity": "urgent"}, "facts.severity"),
        ({"severity": "high", "completeness": "101"}, "completeness"),
        ({"severity": "high", "plan": "p" * 201}, "plan"),
    ):
        res = await agent.post(f"{base(dash)}/routing/dry-run", body)
        assert res.status_code == 400 and named in res.text, body
    other = await dash.bugline.new_project(name="Other")
    outsider = await dash.agent(role="lead", projects=[other])
    # Report #1 of this project is not reachable through the outsider's own project either.
    res = await outsider.post(f"/projects/{other.id}/routing/dry-run", {"report": "1"})
    assert res.status_code == 400 and "no report #1" in res.text


# ---- SLA and triage --------------------------------------------------------------------------


async def test_sla_targets_save_only_what_differs_from_the_defaults(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    page = await lead.get(f"{base(dash)}/sla")
    assert 'name="critical.first_response" value="30m"' in page.text
    res = await lead.post(
        f"{base(dash)}/sla", {"critical.first_response": "15m", "high.resolution": "8h", "lead_role": "lead"}
    )
    assert res.status_code == 303
    assert (await settings_of(dash))["sla"] == {"critical": {"first_response": "15m"}}
    page = await lead.get(f"{base(dash)}/sla")
    assert 'name="critical.first_response" value="15m"' in page.text


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"critical.first_response": "soon"}, "sla.critical.first_response"),
        ({"medium.resolution": "off"}, "sla.medium.resolution"),
        ({"low.first_response": "3w"}, "must not be later than"),
        ({"high.escalation.level_3": "1h"}, "level_3"),
        ({"follow_up": "10m"}, "sla.follow_up"),
        ({"lead_role": "Team Lead"}, "sla.lead_role"),
        ({"critical.resolution": "400d"}, "366 days"),
        ({"critical.resolution": XSS}, "sla.critical.resolution"),
    ],
)
async def test_bad_sla_values_name_the_key(dash: Dash, form: dict[str, str], named: str) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(f"{base(dash)}/sla", form)
    assert res.status_code == 400 and named in html.unescape(res.text)
    assert XSS not in res.text
    assert "sla" not in await settings_of(dash)


async def test_triage_threshold_and_weights(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    page = await lead.get(f"{base(dash)}/triage")
    assert 'name="threshold"' in page.text and 'value="60"' in page.text
    res = await lead.post(
        f"{base(dash)}/triage",
        {"threshold": "75", "weight.actual": "30", "severity.security": "30", "weight.expected": "20"},
    )
    assert res.status_code == 303
    triage = (await settings_of(dash))["triage"]
    assert triage == {
        "completeness": {"score": {"threshold": 75, "weights": {"actual": 30}}},
        "severity": {"keywords": {"security": {"weight": 30}}},
    }
    # Back to the defaults: emptied fields are dropped, and so is every table they leave empty.
    assert (
        await lead.post(
            f"{base(dash)}/triage", {"threshold": "60", "weight.actual": "", "severity.security": "22"}
        )
    ).status_code == 303
    assert "triage" not in await settings_of(dash)


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"weight.actual": "-1"}, "triage.completeness.score.weights.actual"),
        ({"weight.actual": "lots"}, "triage.completeness.score.weights.actual"),
        ({"threshold": "101"}, "triage.completeness.score.threshold"),
        ({"severity.security": "nan"}, "triage.severity.keywords.security.weight"),
        ({"severity.security": "1e400"}, "triage.severity.keywords.security.weight"),
        (
            {
                f"weight.{f}": "0"
                for f in (
                    "trying_to_do",
                    "expected",
                    "actual",
                    "steps_to_reproduce",
                    "error_text",
                    "environment",
                    "frequency",
                    "affected",
                    "evidence",
                )
            },
            "completeness.score.weights must give",
        ),
    ],
)
async def test_a_bad_weight_is_refused_naming_its_key(dash: Dash, form: dict[str, str], named: str) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(f"{base(dash)}/triage", form)
    assert res.status_code == 400 and named in res.text
    assert "triage" not in await settings_of(dash)


# ---- notification templates ------------------------------------------------------------------


async def test_templates_preview_save_reset_and_escape(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    agent = await dash.agent(role="agent")
    draft = {
        "subject": "Fixed: {{ report.title }}",
        "text": "Hello {{ reporter.name }} " + XSS,
        "html": "<p>{{ report.title }}</p>",
    }
    page = await agent.post(f"{base(dash)}/notifications/resolved/preview", draft)
    assert page.status_code == 200
    assert "Fixed: The Export button does nothing" in page.text  # the sample report
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    assert "notifications" not in await settings_of(dash)  # a preview saves nothing
    res = await lead.post(f"{base(dash)}/notifications/resolved", draft)
    assert res.status_code == 303
    saved = (await settings_of(dash))["notifications"]["templates"]["resolved"]
    assert saved["subject"] == draft["subject"]
    page = await lead.get(f"{base(dash)}/notifications/resolved")
    assert "Fixed: The Export button does nothing" in page.text and XSS not in page.text
    listing = await lead.get(f"{base(dash)}/notifications")
    assert "the project's own (resolved)" in listing.text
    de = await lead.post(f"{base(dash)}/notifications/resolved", {"locale": "de", "subject": "Behoben"})
    assert de.status_code == 303 and (await settings_of(dash))["notifications"]["templates"][
        "resolved.de"
    ] == {"subject": "Behoben"}
    assert (await lead.post(f"{base(dash)}/notifications/resolved/reset", {})).status_code == 303
    own = (await settings_of(dash))["notifications"]["templates"]
    assert "resolved" not in own and "resolved.de" in own


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"subject": "{{ ''.__class__ }}"}, "notifications.templates.resolved.subject"),
        ({"html": "{{ report.title | safe }}"}, "notifications.templates.resolved.html"),
        (
            {"text": "{% for x in report %}{% for y in x %}{% endfor %}{% endfor %}"},
            "notifications.templates.resolved.text",
        ),
        ({"text": "{{ unclosed"}, "notifications.templates.resolved.text"),
        ({"subject": "x", "locale": "xx"}, "locale"),
        ({"text": "x" * 20_001}, "at most 20000"),
    ],
)
async def test_bad_templates_are_refused_naming_the_part(
    dash: Dash, form: dict[str, str], named: str
) -> None:
    lead = await dash.agent(role="lead")
    for path in ("", "/preview"):
        res = await lead.post(f"{base(dash)}/notifications/resolved{path}", form)
        assert res.status_code == 400 and named in res.text, path
    assert "notifications" not in await settings_of(dash)
    assert (await lead.get(f"{base(dash)}/notifications/nope")).status_code == 404
    assert (await lead.post(f"{base(dash)}/notifications/nope", {"subject": "x"})).status_code == 404


# ---- notification preferences ----------------------------------------------------------------


async def test_notification_preferences_are_set_from_the_dashboard(dash: Dash) -> None:
    lead = await dash.agent(role="lead")
    # A template saved earlier and a category named per language through the API stay.
    async with make_sessionmaker(dash.bugline.engine)() as s, s.begin():
        row = await s.get(Project, dash.project.id)
        assert row is not None
        row.settings = {
            "notifications": {
                "templates": {"resolved": {"subject": "Fixed"}},
                "teams": {"security": {"en": "the security team", "de": "das Sicherheitsteam"}},
            }
        }
    page = await lead.get(f"{base(dash)}/notifications")
    assert page.status_code == 200 and 'name="reply_to"' in page.text and "security" in page.text
    form = {
        "enabled": "on",
        "from_name": "Acme Support",
        "reply_to": " help@acme.example ",
        "locale": "de",
        "locales": ["de", "en"],
        "team.en": "the payments team",
        "team.de": "das Payments-Team",
        "teams": "billing = the billing team\n\n  data = the data team ",
    }
    res = await lead.post(f"{base(dash)}/notifications", form)
    assert res.status_code == 303, res.text
    saved = (await settings_of(dash))["notifications"]
    assert saved["from_name"] == "Acme Support" and saved["reply_to"] == "help@acme.example"
    assert (saved["locale"], saved["locales"], saved["enabled"]) == ("de", ["de", "en"], True)
    assert saved["team"] == {"en": "the payments team", "de": "das Payments-Team"}
    assert saved["teams"] == {
        "security": {"en": "the security team", "de": "das Sicherheitsteam"},
        "billing": "the billing team",
        "data": "the data team",
    }
    assert saved["templates"] == {"resolved": {"subject": "Fixed"}}
    shown = await lead.get(f"{base(dash)}/notifications?done=preferences")
    assert "The preferences are saved" in shown.text and 'value="Acme Support"' in shown.text
    # Emptied fields go back to the defaults; one team name is used in every language.
    same = {f"team.{lang}": "Team Rocket" for lang in ("de", "en", "fr")}
    res = await lead.post(f"{base(dash)}/notifications", {"locale": "en", **same})
    assert res.status_code == 303
    saved = (await settings_of(dash))["notifications"]
    assert saved["enabled"] is False  # the box was not ticked: mails off
    assert "from_name" not in saved and "reply_to" not in saved and "locales" not in saved
    assert saved["team"] == "Team Rocket"  # one name in every language
    assert saved["teams"] == {"security": {"en": "the security team", "de": "das Sicherheitsteam"}}
    # Saved again untouched, each kind of team name comes back as it was.
    shown = await lead.get(f"{base(dash)}/notifications")
    assert shown.text.count('value="Team Rocket"') == 3
    only_german = {"enabled": "on", "locale": "en", "team.de": "das Entwicklerteam"}
    assert (await lead.post(f"{base(dash)}/notifications", only_german)).status_code == 303
    assert (await settings_of(dash))["notifications"]["team"] == {"de": "das Entwicklerteam"}
    shown = await lead.get(f"{base(dash)}/notifications")
    assert 'id="f-team.de" name="team.de" type="text" value="das Entwicklerteam"' in shown.text
    assert 'id="f-team.en" name="team.en" type="text" value=""' in shown.text


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"reply_to": "not an address"}, "reply_to", "plain address"),
        ({"reply_to": "a@b.example\r\nBcc: x@evil.example"}, "reply_to", "plain address"),
        ({"from_name": "x" * 101}, "from_name", "at most 100"),
        ({"locale": "xx"}, "locale", "shipped languages"),
        ({"locales": "es"}, "locales", "shipped languages"),
        ({"teams": "billing the billing team"}, "teams", "line 1: write category = team"),
        ({"team.en": "x" * 101}, "team.en", "1 to 100"),
        ({"team.de": "x" * 101}, "team.de", "1 to 100"),
    ],
)
async def test_bad_preferences_are_refused_naming_the_field(
    dash: Dash, form: dict[str, str], field: str, words: str
) -> None:
    lead = await dash.agent(role="lead")
    res = await lead.post(f"{base(dash)}/notifications", {"enabled": "on", **form})
    assert res.status_code == 400
    assert words in html.unescape(res.text)
    # The field named is the one marked, not just any field on the page.
    marked = (
        r'name="locales"[^>]*aria-invalid="true"'
        if field == "locales"
        else rf'id="f-{field}"[^>]*aria-invalid="true"'
    )
    assert re.search(marked, res.text), field
    assert "notifications" not in await settings_of(dash)


async def test_an_agent_cannot_change_preferences(dash: Dash) -> None:
    agent = await dash.agent(role="agent")
    res = await agent.post(f"{base(dash)}/notifications", {"from_name": "Mallory"})
    assert res.status_code == 403
    assert "notifications" not in await settings_of(dash)
