"""The dry-run as a person reads it (explain) and as the API takes it (Facts.from_json)."""

from __future__ import annotations

from typing import Any

import pytest

from bugline.routing import Connection, Facts, RoutingError, explain, load_rules, route

CONNECTORS = (Connection("zendesk-main", "zendesk"), Connection("slack-ops", "slack", ("alerts",)))


def test_explain_shows_destinations_and_every_rule_with_its_reason() -> None:
    facts = Facts(
        severity="critical",
        kind="bug",
        categories=frozenset({"billing"}),
        completeness=85,
        plan="enterprise",
        page_url="https://shop.example/checkout",
        connectors=CONNECTORS,
    )
    text = explain(route(facts, load_rules(None)))
    assert text.splitlines()[:2] == [
        "Report: critical bug; categories billing; completeness 85; plan enterprise; page https://shop.example/checkout",
        "Result: sent to 2 connectors: zendesk-main, slack-ops",
    ]
    assert (
        "  zendesk-main (zendesk)\n      tags: severity:critical\n      chosen by: critical, bugs\n" in text
    )
    assert "  2. critical: MATCHED -> zendesk-main, slack-ops\n       - severity is critical\n" in text
    assert "  1. feature-requests: no match\n       - kind is bug, rule wants feature request\n" in text
    assert (
        "  4. billing: MATCHED -> nothing sent\n       - category billing\n"
        "       ! no enabled connector has role 'finance' — nothing sent for this rule\n"
    ) in text


def test_explain_a_needs_info_report() -> None:
    text = explain(route(Facts(severity="high", kind="bug", status="needs_info"), load_rules(None)))
    assert "status needs_info" in text.splitlines()[0]
    assert text.splitlines()[1].startswith(
        "Result: not routed: the report needs information from the customer"
    )
    assert "Rules" not in text


def test_explain_shows_stopped_rules_as_skipped() -> None:
    text = explain(
        route(Facts(severity="low", kind="feature_request", connectors=CONNECTORS), load_rules(None))
    )
    assert "  5. bugs: skipped, rule 'feature-requests' matched and stops\n" in text


def test_explain_never_passes_control_characters_to_a_terminal() -> None:
    facts = Facts(
        severity="low", kind="bug", plan="\x1b[2Jpwned", page_url="https://x.example/\x1b]0;title\x07"
    )
    rules = load_rules(
        {"rules": [{"name": "p", "when": {"plan": ["x"]}, "send": []}], "replace_defaults": True}
    )
    text = explain(route(facts, rules))
    assert "\x1b" not in text and "\x07" not in text
    assert "?[2Jpwned" in text


def test_facts_round_trip_through_json() -> None:
    facts = Facts(
        severity="high",
        kind="question",
        categories=frozenset({"ui", "data"}),
        completeness=42,
        plan="pro",
        account="acme",
        page_url="https://x.example/a",
        connectors=(Connection("z", "zendesk", ("helpdesk", "alerts"), enabled=False),),
    )
    assert Facts.from_json(facts.to_json()) == facts


def test_facts_from_json_fills_defaults() -> None:
    facts = Facts.from_json({"severity": "low"})
    assert (facts.kind, facts.completeness, facts.status, facts.connectors) == ("bug", 100, "received", ())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, r"facts\.severity must be one of critical, high, medium, low"),
        ({"severity": "urgent"}, r"facts\.severity"),
        ({"severity": "low", "kind": "idea"}, r"facts\.kind"),
        ({"severity": "low", "completeness": 10**400}, r"facts\.completeness"),
        ({"severity": "low", "completeness": float("nan")}, r"facts\.completeness"),
        ({"severity": "low", "completeness": True}, r"facts\.completeness"),
        ({"severity": "low", "categories": "billing"}, r"facts\.categories"),
        ({"severity": "low", "plan": 5}, r"facts\.plan"),
        ({"severity": "low", "page_url": "x" * 5000}, r"facts\.page_url"),
        ({"severity": "low", "sevrity": "x"}, r"facts\.sevrity is not a fact"),
        (
            {"severity": "low", "connectors": [{"name": "z", "roles": "alerts"}]},
            r"facts\.connectors\[0\]\.roles",
        ),
        ({"severity": "low", "connectors": [{"kind": "z"}]}, r"facts\.connectors\[0\]\.name"),
        (
            {"severity": "low", "connectors": [{"name": "z", "enabled": "no"}]},
            r"facts\.connectors\[0\]\.enabled",
        ),
        (
            {"severity": "low", "connectors": [{"name": "z"}] * 1000},
            r"facts\.connectors must be a list of up to 200",
        ),
        ("critical", r"facts must be an object"),
    ],
)
def test_bad_facts_name_the_key(data: Any, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        Facts.from_json(data)
