"""Routing rule sets: the shipped defaults, a project's settings, and errors that name the key to fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bugline.routing import (
    Connection,
    RoutingError,
    RoutingSettings,
    RuleSet,
    default_rules,
    lint,
    load_rules,
)
from bugline.routing.rules import MAX_RULES, parse_rules
from tests.support.bounded import terminates


def rule(**kw: Any) -> dict[str, Any]:
    return {"name": "r", "when": {}, "send": [{"role": "helpdesk"}], **kw}


def test_defaults_follow_the_sop() -> None:
    rules = {r.name: r for r in default_rules().rules}
    assert list(rules) == ["feature-requests", "critical", "security", "billing", "bugs", "questions"]
    assert rules["feature-requests"].stop and [s.role for s in rules["feature-requests"].send] == ["product"]
    assert [s.role for s in rules["critical"].send] == ["helpdesk", "alerts"]
    assert [s.role for s in rules["billing"].send] == ["finance"]
    assert rules["bugs"].send[0].tags == ("severity:{severity}",)
    assert rules["questions"].send[0].tags == ("question",)
    assert all(r.description for r in rules.values()), "each default says which SOP line it follows"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"rules": [rule(), rule(when={"severity": ["urgent"]})]},
            r"routing\.rules\[1\]\.when\.severity\[0\]: 'urgent' is not a severity",
        ),
        ({"rules": [rule(when={"severity": ["critical", 3]})]}, r"routing\.rules\[0\]\.when\.severity\[1\]"),
        (
            {"rules": [rule(when={"sevrity": ["high"]})]},
            r"routing\.rules\[0\]\.when\.sevrity is not a condition",
        ),
        (
            {"rules": [rule(when={"severity_at_least": "urgent"})]},
            r"routing\.rules\[0\]\.when\.severity_at_least",
        ),
        (
            {"rules": [rule(when={"kind": ["bugs"]})]},
            r"routing\.rules\[0\]\.when\.kind\[0\]: 'bugs' is not a kind",
        ),
        ({"rules": [rule(when={"category": ["Billing"]})]}, r"routing\.rules\[0\]\.when\.category\[0\]"),
        (
            {"rules": [rule(when={"completeness_below": 101})]},
            r"routing\.rules\[0\]\.when\.completeness_below",
        ),
        (
            {"rules": [rule(when={"completeness_below": True})]},
            r"routing\.rules\[0\]\.when\.completeness_below",
        ),
        (
            {"rules": [rule(when={"completeness_below": 30, "completeness_at_least": 40})]},
            r"can never both hold",
        ),
        ({"rules": [rule(when={"plan": []})]}, r"routing\.rules\[0\]\.when\.plan is an empty list"),
        (
            {"rules": [rule(when={"url": ["^/checkout/.*$"]})]},
            r"routing\.rules\[0\]\.when\.url\[0\]: .* looks like a regular expression",
        ),
        (
            {"rules": [rule(when={"url": ["/a b"]})]},
            r"routing\.rules\[0\]\.when\.url\[0\]: ' ' cannot appear",
        ),
        ({"rules": [rule(when="critical")]}, r"routing\.rules\[0\]\.when must be a table"),
        (
            {"rules": [rule(send=[{"role": "alerts", "connector": "slack"}])]},
            r"routing\.rules\[0\]\.send\[0\] needs exactly one of",
        ),
        ({"rules": [rule(send=[{}])]}, r"routing\.rules\[0\]\.send\[0\] needs exactly one of"),
        ({"rules": [rule(send=[{"role": "Alerts"}])]}, r"routing\.rules\[0\]\.send\[0\]\.role"),
        (
            {"rules": [rule(send=[{"role": "alerts", "chanel": "#x"}])]},
            r"routing\.rules\[0\]\.send\[0\]\.chanel is not a target key",
        ),
        (
            {"rules": [rule(send=[{"role": "alerts", "tags": ["two words"]}])]},
            r"routing\.rules\[0\]\.send\[0\]\.tags\[0\]: .* space",
        ),
        (
            {"rules": [rule(send=[{"role": "alerts", "tags": ["sev:{level}"]}])]},
            r"routing\.rules\[0\]\.send\[0\]\.tags\[0\]: \{level\} is not a placeholder",
        ),
        (
            {"rules": [rule(send=[{"role": "alerts", "queue": 5}])]},
            r"routing\.rules\[0\]\.send\[0\]\.queue must be",
        ),
        ({"rules": [rule(send={"role": "alerts"})]}, r"routing\.rules\[0\]\.send must be a list"),
        ({"rules": [{"name": "r", "when": {}}]}, r"routing\.rules\[0\]\.send is missing"),
        ({"rules": [rule(stop="yes")]}, r"routing\.rules\[0\]\.stop must be true or false"),
        ({"rules": [rule(name="")]}, r"routing\.rules\[0\]\.name"),
        (
            {"rules": [rule(), rule()]},
            r"routing\.rules\[1\]\.name: rule name 'r' is already used by routing\.rules\[0\]",
        ),
        ({"rules": "everything to zendesk"}, r"routing\.rules must be a list"),
        ({"rule": []}, r"routing\.rule is not a routing setting"),
        ({"replace_defaults": "yes"}, r"routing\.replace_defaults must be true or false"),
        ([1], r"routing must be a table"),
    ],
)
def test_invalid_rules_name_the_key_path(settings: Any, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        RoutingSettings.from_json(settings)
    with pytest.raises(RoutingError, match=message):
        load_rules(settings)


def test_errors_name_the_rule_too() -> None:
    with pytest.raises(RoutingError, match=r"\(rule 'billing to finance'\)$"):
        load_rules({"rules": [rule(name="billing to finance", when={"severity": "urgent"})]})


def test_a_single_value_is_a_one_item_list() -> None:
    rules = load_rules(
        {
            "rules": [
                rule(when={"severity": "critical", "url": "/checkout/*"}, send=[{"role": "x", "tags": "t"}])
            ]
        }
    )
    assert rules.rules[0].when.severity == ("critical",)
    assert rules.rules[0].send[0].tags == ("t",)


def test_settings_round_trip_through_json() -> None:
    raw = {
        "rules": [
            {
                "name": "enterprise",
                "description": "Enterprise customers page the on-call.",
                "when": {
                    "severity_at_least": "high",
                    "plan": ["Enterprise"],
                    "url": ["/app/*"],
                    "completeness_at_least": 40,
                },
                "send": [
                    {
                        "connector": "jira-eng",
                        "project": "OPS",
                        "assignee": "oncall",
                        "tags": ["vip", "sev-{severity}"],
                    }
                ],
                "stop": True,
            }
        ],
        "replace_defaults": False,
    }
    parsed = RoutingSettings.from_json(raw)
    assert parsed.to_json() == raw
    again = RoutingSettings.from_json(json.loads(json.dumps(parsed.to_json())))
    assert again == parsed
    assert RuleSet.from_json(default_rules().to_json()) == default_rules()


def test_project_rules_come_before_the_defaults() -> None:
    names = [r.name for r in load_rules({"rules": [rule(name="mine")]}).rules]
    assert names == ["mine", *[r.name for r in default_rules().rules]]


def test_rule_sets_are_parsed_once_per_distinct_settings() -> None:
    settings = {"rules": [rule(name="cached")]}
    assert load_rules(settings) is load_rules(json.loads(json.dumps(settings)))
    assert load_rules(None) is default_rules()


def test_lint_warns_about_rules_that_cannot_send_today() -> None:
    rules = load_rules(
        {
            "rules": [
                rule(name="x", when={"category": ["billng"]}, send=[{"connector": "jira"}, {"role": "pager"}])
            ],
            "replace_defaults": True,
        }
    )
    warnings = lint(rules, (Connection("zendesk", "zendesk"),))
    assert warnings == (
        "rule 'x' sends to connector 'jira', which this project does not have",
        "rule 'x' sends to role 'pager', which no enabled connector has",
        "rule 'x' wants category 'billng', which triage does not assign by default",
    )
    assert (
        lint(default_rules(), (Connection("z", "zendesk", ("helpdesk", "alerts", "finance", "product")),))
        == ()
    )


# ---- hostile input: a clear error, in bounded time --------------------------------------------


def _bounded(settings: Any, message: str) -> None:
    def load() -> None:
        with pytest.raises(RoutingError, match=message):
            load_rules(settings)

    terminates(load, "these routing settings")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"rules": [rule(name=f"r{i}") for i in range(MAX_RULES + 1)]},
            r"routing\.rules has 101 rules; at most 100",
        ),
        (
            {"rules": [rule(when={"plan": ["p"] * 1_000_000})]},
            r"routing\.rules\[0\]\.when\.plan has 1000000 entries",
        ),
        ({"rules": [rule(send=[{"role": "a"}] * 100_000)]}, r"routing\.rules\[0\]\.send has 100000 targets"),
        (
            {"rules": [rule(when={"url": ["/*a" * 10_000]})]},
            r"routing\.rules\[0\]\.when\.url\[0\] is 30000 characters",
        ),
        (
            {"rules": [rule(when={f"k{i}": 1 for i in range(100_000)})]},
            r"routing\.rules\[0\]\.when has 100000 keys",
        ),
        ({"rules": [rule(name="x" * 1_000_000)]}, r"routing\.rules\[0\]\.name must be"),
        (
            {"rules": [rule(send=[{"role": "a", "tags": ["t" * 101]}])]},
            r"tags\[0\] must be a non-empty string of at most 100",
        ),
        (
            {"rules": [rule(when={"completeness_below": 10**400})]},
            r"completeness_below must be a whole number",
        ),
        (
            {"rules": [rule(when={"severity": [[["critical"]]]})]},
            r"when\.severity\[0\]: a list is not a severity",
        ),
        ({"rules": [rule(when={"plan": [None]})]}, r"when\.plan\[0\] must be a non-empty line"),
        ({"rules": [rule(when={"plan": ["a\nb"]})]}, r"when\.plan\[0\] must be a non-empty line"),
        ({"rules": [rule(when={"completeness_below": float("nan")})]}, r"plain JSON"),
        ({"rules": {1: "a", "b": 2}}, r"plain JSON"),
        ({"rules": [rule(when={"plan": {"enterprise"}})]}, r"plain JSON"),
        ({"rules": [rule(name=b"bytes")]}, r"plain JSON"),
    ],
)
def test_hostile_rules_get_a_clear_error_quickly(settings: Any, message: str) -> None:
    _bounded(settings, message)


def test_a_cycle_is_an_error_not_a_hang() -> None:
    loop: dict[str, Any] = {"rules": []}
    loop["rules"].append(loop)
    _bounded(loop, "plain JSON")


def test_nesting_deeper_than_json_allows_is_an_error() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    _bounded({"rules": [rule(when={"plan": deep})]}, "plain JSON")


def test_api_input_nested_too_deep_is_an_error() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RoutingError, match=r"when\.severity\[0\]: a list is not a severity"):
        RoutingSettings.from_json({"rules": [rule(when={"severity": [deep]})]})


def test_deep_nesting_is_refused_at_the_first_wrong_type() -> None:
    deep: Any = "x"
    for _ in range(500):
        deep = [deep]
    _bounded({"rules": [rule(when={"plan": deep})]}, r"when\.plan\[0\] must be a non-empty line")


def test_parse_rules_is_usable_alone() -> None:
    assert parse_rules([]) == ()
    with pytest.raises(RoutingError, match=r"custom\[0\]\.name"):
        parse_rules([{}], "custom")
