"""Properties: route() never raises on valid facts, and the rule parser only ever raises RoutingError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bugline.routing import Connection, Facts, RoutingError, RoutingSettings, explain, load_rules, route
from bugline.routing.facts import CATEGORIES, KINDS
from bugline.triage.result import LEVELS

ROLES = ("helpdesk", "alerts", "finance", "product", "engineering")
NAMES = ("zendesk", "slack", "jira", "linear", "github", "webhook")

connections = st.builds(
    Connection,
    name=st.sampled_from(NAMES),
    kind=st.sampled_from(NAMES),
    roles=st.lists(st.sampled_from(ROLES), max_size=3, unique=True).map(tuple),
    enabled=st.booleans(),
)
facts_strategy = st.builds(
    Facts,
    severity=st.sampled_from(LEVELS),
    kind=st.sampled_from(KINDS),
    categories=st.frozensets(st.sampled_from(CATEGORIES)),
    completeness=st.integers(0, 100),
    status=st.sampled_from(("received", "needs_info", "escalated", "reopened")),
    plan=st.none() | st.text(max_size=30),
    account=st.none() | st.text(max_size=30),
    page_url=st.none()
    | st.text(max_size=200)
    | st.from_regex(r"https?://[a-z.]{1,20}(:\d{1,5})?/[a-z/?*.]{0,40}", fullmatch=True),
    connectors=st.lists(connections, max_size=6).map(tuple),
)

some = lambda values: st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)  # noqa: E731
when_strategy = st.fixed_dictionaries(
    {},
    optional={
        "severity": some(LEVELS),
        "severity_at_least": st.sampled_from(LEVELS),
        "kind": some(KINDS),
        "category": some(CATEGORIES),
        "completeness_below": st.integers(51, 100),
        "completeness_at_least": st.integers(0, 50),
        "plan": some(("free", "pro", "Enterprise")),
        "account": some(("acme", "globex")),
        "url": st.lists(st.from_regex(r"/[a-z/*?]{0,15}", fullmatch=True), min_size=1, max_size=3),
    },
)
_target_options = {
    "queue": st.sampled_from(("bugs", "{kind}")),
    "channel": st.sampled_from(("#a", "#b")),
    "tags": st.lists(st.sampled_from(("x", "severity:{severity}", "{kind}")), max_size=3),
}
target_strategy = st.fixed_dictionaries({"connector": st.sampled_from(NAMES)}, optional=_target_options) | (
    st.fixed_dictionaries({"role": st.sampled_from(ROLES)}, optional=_target_options)
)
rules_strategy = st.lists(
    st.fixed_dictionaries(
        {"when": when_strategy, "send": st.lists(target_strategy, max_size=3)},
        optional={"stop": st.booleans()},
    ),
    max_size=8,
).map(lambda rules: [{"name": f"rule-{i}", **r} for i, r in enumerate(rules)])


def check(facts: Facts, settings_: dict[str, Any] | None) -> None:
    rules = load_rules(settings_)
    plan = route(facts, rules)
    names = [d.connector for d in plan.targets]
    assert len(names) == len(set(names)), "each connector at most once"
    enabled = {c.name for c in facts.connectors if c.enabled}
    assert set(names) <= enabled, "only enabled connectors of the project"
    if facts.status == "needs_info":
        assert plan.targets == () and plan.blocked and plan.trace == ()
    else:
        assert [s.rule for s in plan.trace] == [r.name for r in rules.rules], "one step per rule"
        matched = {s.rule for s in plan.trace if s.matched}
        assert all(set(d.rules) <= matched for d in plan.targets)
        assert all(s.reasons for s in plan.trace), "every step says why"
    json.dumps(plan.to_json())
    assert explain(plan).startswith("Report: ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_strategy)
def test_route_never_raises_with_the_defaults(facts: Facts) -> None:
    check(facts, None)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_strategy, rules_strategy, st.booleans())
def test_route_never_raises_with_any_valid_rules(
    facts: Facts, rules: list[dict[str, Any]], replace: bool
) -> None:
    settings_ = {"rules": rules, "replace_defaults": replace}
    check(facts, settings_)
    # what the API stores reads back as the same rules
    parsed = RoutingSettings.from_json(settings_)
    assert RoutingSettings.from_json(json.loads(json.dumps(parsed.to_json()))) == parsed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
rule_keys = st.sampled_from(
    ("name", "when", "send", "stop", "description", "severity", "role", "url", "tags")
)
loose_rules = st.lists(
    st.dictionaries(
        rule_keys, json_values | when_strategy | st.lists(target_strategy, max_size=2), max_size=5
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, st.fixed_dictionaries({"rules": loose_rules | json_values})))
def test_any_json_is_a_rule_set_or_a_routing_error(data: Any) -> None:
    try:
        rules = load_rules(data)
    except RoutingError as e:
        assert str(e)
        return
    route(Facts(severity="high", kind="bug", connectors=(Connection("z", "zendesk"),)), rules)


def test_routing_takes_microseconds() -> None:
    facts = Facts(
        severity="critical",
        kind="bug",
        categories=frozenset({"billing", "security"}),
        page_url="https://shop.example/checkout/pay",
        connectors=(
            Connection("z", "zendesk"),
            Connection("s", "slack", ("alerts",)),
            Connection("f", "jira", ("finance",)),
        ),
    )
    rules = load_rules(
        {"rules": [{"name": "u", "when": {"url": ["/checkout/*"]}, "send": [{"role": "alerts"}]}]}
    )
    assert route(facts, rules) == route(facts, rules)
    # Parsed rule sets are cached: the same settings give the very same object back.
    again = {"rules": [{"name": "u", "when": {"url": ["/checkout/*"]}, "send": [{"role": "alerts"}]}]}
    assert load_rules(again) is load_rules(again)
