"""Routing with the shipped defaults: the SOP's escalation paths, and why each report goes where it goes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bugline.routing import Connection, Facts, Plan, load_rules, route

# A project wired the way the SOP describes: a helpdesk, a Slack channel for alerts, a finance
# board and a product roadmap.
HELPDESK = Connection("zendesk-main", "zendesk")  # no roles: the helpdesk
SLACK = Connection("slack-ops", "slack", ("alerts",))
FINANCE = Connection("finance-board", "jira", ("finance",))
PRODUCT = Connection("roadmap", "linear", ("product",))
ALL = (HELPDESK, SLACK, FINANCE, PRODUCT)
DEFAULTS = load_rules(None)


def facts(**kw: object) -> Facts:
    base = Facts(severity="medium", kind="bug", completeness=80, connectors=ALL)
    return replace(base, **kw)  # type: ignore[arg-type]


def where(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {d.connector: d.tags for d in plan.targets}


def step(plan: Plan, rule: str):
    return next(s for s in plan.trace if s.rule == rule)


@pytest.mark.parametrize(
    ("scenario", "given", "expected"),
    [
        (
            "critical checkout outage: helpdesk ticket + Slack alert immediately, finance told",
            facts(
                severity="critical",
                categories=frozenset({"billing"}),
                page_url="https://shop.example/checkout",
            ),
            {"zendesk-main": ("severity:critical",), "slack-ops": (), "finance-board": ("billing",)},
        ),
        (
            "critical outage outside billing: helpdesk + alerts only",
            facts(severity="critical", categories=frozenset({"performance"})),
            {"zendesk-main": ("severity:critical",), "slack-ops": ()},
        ),
        (
            "billing bug of medium severity: finance and the helpdesk",
            facts(severity="medium", categories=frozenset({"billing"})),
            {"finance-board": ("billing",), "zendesk-main": ("severity:medium",)},
        ),
        (
            "feature request: only the product destination, not engineering",
            facts(kind="feature_request", severity="high", categories=frozenset({"billing", "security"})),
            {"roadmap": ("feature-request",)},
        ),
        (
            "low ui bug: the helpdesk, tagged with its severity ('a Jira ticket tagged Medium')",
            facts(severity="low", categories=frozenset({"ui"})),
            {"zendesk-main": ("severity:low",)},
        ),
        (
            "security bug of any severity alerts too",
            facts(severity="low", categories=frozenset({"security"})),
            {"slack-ops": ("security",), "zendesk-main": ("severity:low",)},
        ),
        (
            "a question goes to the helpdesk tagged question",
            facts(kind="question", severity="low"),
            {"zendesk-main": ("question",)},
        ),
        (
            "needs_info goes nowhere",
            facts(status="needs_info", severity="critical"),
            {},
        ),
    ],
)
def test_sop_escalation_paths(scenario: str, given: Facts, expected: dict[str, tuple[str, ...]]) -> None:
    plan = route(given, DEFAULTS)
    assert where(plan) == expected, scenario
    assert list(where(plan)) == list(expected), "connectors are listed in the order rules chose them"


def test_needs_info_is_never_routed_and_says_why() -> None:
    plan = route(facts(status="needs_info", severity="critical"), DEFAULTS)
    assert plan.targets == ()
    assert "needs_info" in plan.blocked and "routed once" in plan.blocked
    assert plan.summary.startswith("not routed:")


def test_each_destination_knows_its_kind_and_the_rules_that_chose_it() -> None:
    plan = route(facts(severity="critical"), DEFAULTS)
    zendesk = next(d for d in plan.targets if d.connector == "zendesk-main")
    assert zendesk.kind == "zendesk"
    assert zendesk.rules == ("critical", "bugs")


def test_trace_says_why_a_rule_did_not_match() -> None:
    plan = route(facts(severity="high", categories=frozenset({"ui", "data"})), DEFAULTS)
    assert step(plan, "critical").reasons == ("severity is high, rule wants critical",)
    assert step(plan, "feature-requests").reasons == ("kind is bug, rule wants feature request",)
    assert step(plan, "billing").reasons == ("categories are data and ui; rule wants billing",)
    assert step(plan, "bugs").matched and step(plan, "bugs").reasons == ("kind is bug",)
    assert [s.rule for s in plan.trace] == [r.name for r in DEFAULTS.rules], "every rule has a step"


def test_missing_role_is_named_in_the_trace() -> None:
    plan = route(facts(categories=frozenset({"billing"}), connectors=(HELPDESK, SLACK)), DEFAULTS)
    billing = step(plan, "billing")
    assert billing.matched and billing.sent_to == ()
    assert billing.notes == ("no enabled connector has role 'finance' — nothing sent for this rule",)
    assert where(plan) == {"zendesk-main": ("severity:medium",)}


def test_disabled_connectors_are_skipped_and_named() -> None:
    off = replace(SLACK, enabled=False)
    plan = route(facts(severity="critical", connectors=(HELPDESK, off)), DEFAULTS)
    assert "slack-ops" not in where(plan)
    assert (
        "no enabled connector has role 'alerts' ('slack-ops' disabled) — nothing sent for this target"
        in step(plan, "critical").notes
    )


def test_a_feature_request_without_a_product_connector_still_stays_out_of_engineering() -> None:
    plan = route(facts(kind="feature_request", connectors=(HELPDESK, SLACK)), DEFAULTS)
    assert plan.targets == ()
    first = step(plan, "feature-requests")
    assert first.stopped and "no enabled connector has role 'product'" in first.notes[0]
    later = step(plan, "bugs")
    assert not later.evaluated and "feature-requests" in later.reasons[0]
    assert plan.summary.startswith("sent nowhere")


def test_connectors_without_roles_are_the_helpdesk_and_all_of_them_get_it() -> None:
    second = Connection("github", "github")
    plan = route(facts(connectors=(HELPDESK, second)), DEFAULTS)
    assert list(where(plan)) == ["zendesk-main", "github"]


def test_a_connector_with_explicit_roles_is_no_longer_the_helpdesk() -> None:
    plan = route(facts(connectors=(SLACK,)), DEFAULTS)
    assert plan.targets == ()
    assert "no enabled connector has role 'helpdesk'" in step(plan, "bugs").notes[0]


# ---- project rules: accumulate, de-duplicate, first option wins, stop ------------------------

JIRA = Connection("jira-eng", "jira", ("helpdesk", "engineering"))


def project(*rules: dict[str, object], replace_defaults: bool = False):
    return load_rules({"rules": list(rules), "replace_defaults": replace_defaults})


def test_project_rules_run_first_and_their_options_win() -> None:
    rules = project(
        {
            "name": "enterprise-critical",
            "when": {"severity": ["critical"], "plan": ["Enterprise"]},
            "send": [{"connector": "jira-eng", "project": "OPS", "assignee": "oncall", "tags": ["vip"]}],
        },
        {
            "name": "all-bugs-to-eng",
            "when": {"kind": "bug"},
            "send": [{"connector": "jira-eng", "project": "ENG"}],
        },
    )
    plan = route(facts(severity="critical", plan="enterprise", connectors=(JIRA, SLACK)), rules)
    jira = next(d for d in plan.targets if d.connector == "jira-eng")
    assert jira.options == {"project": "OPS", "assignee": "oncall"}  # first rule to set a key wins
    assert jira.tags == ("vip", "severity:critical")  # tags: union in order
    assert jira.rules == ("enterprise-critical", "all-bugs-to-eng", "critical", "bugs")
    assert (
        "jira-eng: project 'ENG' not used, rule 'enterprise-critical' already chose 'OPS'"
        in step(plan, "all-bugs-to-eng").notes
    )
    assert [d.connector for d in plan.targets] == ["jira-eng", "slack-ops"]  # once per connector


def test_a_later_rule_fills_options_still_unset() -> None:
    rules = project(
        {"name": "a", "send": [{"role": "alerts"}]},
        {"name": "b", "send": [{"role": "alerts", "channel": "#incidents"}]},
        replace_defaults=True,
    )
    plan = route(facts(connectors=(SLACK,)), rules)
    assert plan.targets[0].options == {"channel": "#incidents"}
    assert plan.targets[0].rules == ("a", "b")


def test_stop_ends_evaluation_only_when_the_rule_matches() -> None:
    rules = project(
        {"name": "trial-accounts", "when": {"plan": ["trial"]}, "send": [], "stop": True},
    )
    quiet = route(facts(plan="Trial"), rules)
    assert quiet.targets == ()
    assert step(quiet, "trial-accounts").notes == (
        "sends nothing (send = [])",
        "stop = true: later rules are not evaluated",
    )
    loud = route(facts(plan="pro"), rules)
    assert step(loud, "trial-accounts").reasons == ("plan is pro, rule wants trial",)
    assert where(loud) == {"zendesk-main": ("severity:medium",)}


def test_a_project_rule_named_like_a_default_replaces_it() -> None:
    rules = project({"name": "questions", "when": {"kind": ["question"]}, "send": []})
    assert [r.name for r in rules.rules].count("questions") == 1
    assert route(facts(kind="question"), rules).targets == ()


def test_replace_defaults_leaves_only_the_projects_rules() -> None:
    rules = project({"name": "only", "send": [{"connector": "jira-eng"}]}, replace_defaults=True)
    assert [r.name for r in rules.rules] == ["only"]
    plan = route(facts(kind="feature_request", connectors=(JIRA,)), rules)
    assert where(plan) == {"jira-eng": ()}
    assert step(plan, "only").reasons == ("no conditions: every report matches",)


def test_named_connector_missing_or_disabled() -> None:
    rules = project(
        {"name": "x", "send": [{"connector": "nope"}, {"connector": "jira-eng"}]}, replace_defaults=True
    )
    plan = route(facts(connectors=(replace(JIRA, enabled=False),)), rules)
    assert plan.targets == ()
    assert step(plan, "x").notes == (
        "no connector named 'nope' — nothing sent for this target",
        "connector 'jira-eng' is disabled — nothing sent for this target",
    )


@pytest.mark.parametrize(
    ("when", "given", "matched", "reason"),
    [
        (
            {"severity_at_least": "high"},
            {"severity": "critical"},
            True,
            "severity is critical, at least high",
        ),
        (
            {"severity_at_least": "high"},
            {"severity": "medium"},
            False,
            "severity is medium, rule wants high or worse",
        ),
        (
            {"severity": ["critical", "high"]},
            {"severity": "low"},
            False,
            "severity is low, rule wants critical or high",
        ),
        ({"completeness_below": 50}, {"completeness": 30}, True, "completeness 30 is below 50"),
        ({"completeness_below": 50}, {"completeness": 50}, False, "completeness 50 is not below 50"),
        (
            {"completeness_at_least": 90},
            {"completeness": 89},
            False,
            "completeness 89 is below 90, rule wants at least that",
        ),
        ({"plan": ["enterprise"]}, {"plan": None}, False, "no plan known; rule wants enterprise"),
        ({"account": ["ACME"]}, {"account": "acme"}, True, "account is acme"),
        ({"category": ["billing"]}, {"categories": frozenset()}, False, "no category; rule wants billing"),
        (
            {"url": ["/checkout/*"]},
            {"page_url": "https://shop.example/Checkout/pay?step=2"},
            True,
            "page /checkout/pay matches /checkout/*",
        ),
        (
            {"url": ["/checkout/*", "/cart"]},
            {"page_url": "https://shop.example/settings"},
            False,
            "page /settings matches none of /checkout/*, /cart",
        ),
        (
            {"url": ["*.example.com/admin/*"]},
            {"page_url": "https://eu.example.com/admin/users"},
            True,
            "page /admin/users matches *.example.com/admin/*",
        ),
        ({"url": ["/checkout/*"]}, {"page_url": None}, False, "no page URL; rule wants /checkout/*"),
    ],
)
def test_each_condition_explains_itself(
    when: dict[str, object], given: dict[str, object], matched: bool, reason: str
) -> None:
    rules = project({"name": "r", "when": when, "send": [{"role": "helpdesk"}]}, replace_defaults=True)
    plan = route(facts(**given), rules)
    assert plan.trace[0].matched is matched
    assert plan.trace[0].reasons == (reason,)


def test_a_rule_that_misses_lists_every_reason() -> None:
    rules = project(
        {"name": "r", "when": {"severity": "critical", "kind": "question"}, "send": []}, replace_defaults=True
    )
    assert route(facts(severity="low"), rules).trace[0].reasons == (
        "severity is low, rule wants critical",
        "kind is bug, rule wants question",
    )


def test_placeholders_fill_tags_and_options() -> None:
    rules = project(
        {
            "name": "r",
            "send": [{"role": "helpdesk", "queue": "{kind}-queue", "tags": ["sev-{severity}", "{kind}"]}],
        },
        replace_defaults=True,
    )
    target = route(facts(severity="high", kind="question"), rules).targets[0]
    assert target.options == {"queue": "question-queue"}
    assert target.tags == ("sev-high", "question")


def test_plan_is_json_ready() -> None:
    import json

    plan = route(facts(severity="critical", categories=frozenset({"billing"})), DEFAULTS)
    data = json.loads(json.dumps(plan.to_json()))
    assert data["targets"][0] == {
        "connector": "zendesk-main",
        "kind": "zendesk",
        "options": {},
        "tags": ["severity:critical"],
        "rules": ["critical", "bugs"],
    }
    assert data["summary"] == "sent to 3 connectors: zendesk-main, slack-ops, finance-board"
    assert {s["rule"] for s in data["trace"]} == {r.name for r in DEFAULTS.rules}
    assert data["facts"]["categories"] == ["billing"]
