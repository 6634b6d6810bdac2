"""docs/routing.md stays true: its examples parse, its glob table holds, its dry-run output is real."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from bugline.routing import Connection, Facts, RoutingSettings, default_rules, explain, load_rules, route
from bugline.routing.glob import UrlGlob, subjects

DOC = (Path(__file__).resolve().parents[3] / "docs" / "routing.md").read_text("utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL)


def test_toml_examples_are_valid_rules() -> None:
    (example,) = blocks("toml")
    rules = RoutingSettings.from_json({"rules": tomllib.loads(example)["rules"]}).rules
    assert [r.name for r in rules] == [
        "medium-bugs",
        "enterprise-outages",
        "checkout-pages",
        "trial-accounts",
    ]
    medium = route(
        Facts(
            severity="medium",
            kind="bug",
            connectors=(Connection("slack-eng", "slack", ("alerts",)), Connection("jira-eng", "jira")),
        ),
        load_rules({"rules": tomllib.loads(example)["rules"], "replace_defaults": True}),
    )
    assert [(d.connector, d.options, d.tags) for d in medium.targets] == [
        ("slack-eng", {"channel": "#bug-reports"}, ()),
        ("jira-eng", {"project": "ENG"}, ("Medium",)),
    ]


def test_json_examples_are_valid_settings_and_facts() -> None:
    settings, facts = (json.loads(b) for b in blocks("json"))
    assert RoutingSettings.from_json(settings["routing"]).rules[0].name == "enterprise-outages"
    plan = route(Facts.from_json(facts), load_rules(settings["routing"]))
    assert [d.connector for d in plan.targets] == ["slack", "zendesk"]


def test_the_default_rules_table_lists_the_shipped_rules_in_order() -> None:
    listed = re.findall(r"^\| `([a-z-]+)` \| ", DOC.split("## The default rules")[1].split("##")[0], re.M)
    assert listed == [r.name for r in default_rules().rules]


def test_glob_table() -> None:
    table = DOC.split("| Glob | Matches | Does not match |")[1].split("\n\n")[0]
    rows = [row for row in table.splitlines() if row.startswith("| `")]
    assert len(rows) == 5
    for row in rows:
        glob_cell, yes_cell, no_cell = (c.strip() for c in row.strip("|").split("|"))
        g = UrlGlob.parse(glob_cell.strip("`"), "doc")
        for cell, expected in ((yes_cell, True), (no_cell, False)):
            for example in re.findall(r"`([^`]+)`", cell):
                url = f"https://app.example.com{example}" if example.startswith("/") else f"https://{example}"
                subject = subjects(url)
                assert subject is not None
                assert g.matches(subject[0] if g.on_path else subject[1]) is expected, (glob_cell, example)


def test_dry_run_sample_is_what_explain_prints() -> None:
    sample = DOC.split("## Dry-run")[1].split("```\n")[1]
    facts = Facts(
        severity="high",
        kind="bug",
        categories=frozenset({"billing"}),
        completeness=72,
        plan="pro",
        page_url="https://app.example.com/checkout/pay",
        connectors=(Connection("zendesk", "zendesk"), Connection("slack", "slack", ("alerts",))),
    )
    assert explain(route(facts, load_rules(None))) == sample
