"""The set-up forms' readers without the app (pure): what a form's text becomes, and the
field or key each problem names."""

from __future__ import annotations

import pytest

from bugline.connectors.base import Setting
from bugline.projectadmin import slaform, triageform
from bugline.projectadmin.connectorform import read_settings
from bugline.projectadmin.dryrun import read_dry_run
from bugline.projectadmin.origins import parse_origins
from bugline.projectadmin.problems import Problems
from bugline.projectadmin.routingtext import EXAMPLE, parse_rules_text


def test_origins_are_split_normalised_and_each_bad_entry_named() -> None:
    assert parse_origins("https://B.example, https://a.example\n\nhttps://a.example/") == [
        "https://a.example",
        "https://b.example",
    ]
    with pytest.raises(Problems) as caught:
        parse_origins("https://ok.example\nnot an origin\nhttps://x.example/path")
    assert [m.split(":")[0] for _, m in caught.value.items] == ["entry 2", "entry 3"]


def test_the_example_rules_parse_and_empty_text_means_the_defaults() -> None:
    parsed = parse_rules_text(EXAMPLE)
    assert parsed is not None and parsed.rules[0].name == "billing to finance"
    assert parse_rules_text("  \n") is None
    with pytest.raises(Problems) as caught:
        parse_rules_text('{"rules": [{"name": "a", "send": [{"role": "x", "connector": "y"}]}]}')
    assert "routing.rules[0].send[0]" in str(caught.value)


def test_sla_form_keeps_only_changes_and_refuses_crossed_targets() -> None:
    values = slaform.current({"critical": {"resolution": "6h"}})
    assert values["critical.resolution"] == "6h" and values["high.resolution"] == "8h"
    assert slaform.read_sla(values) == {"critical": {"resolution": "6h"}}
    assert slaform.read_sla({}) == {}  # every field empty: the defaults
    with pytest.raises(Problems) as caught:
        slaform.read_sla({"critical.first_response": "5h", "critical.resolution": "4h"})
    assert "sla.critical.first_response (5h) must not be later than sla.critical.resolution" in str(
        caught.value
    )


def test_triage_form_keeps_other_overrides_and_names_bad_keys() -> None:
    existing = {"severity": {"keywords": {"security": {"patterns": ["breach"]}}}}
    out = triageform.read_triage({"severity.security": "30", "threshold": "60"}, existing)
    assert out == {"severity": {"keywords": {"security": {"patterns": ["breach"], "weight": 30}}}}
    assert existing["severity"]["keywords"]["security"] == {"patterns": ["breach"]}  # not mutated
    with pytest.raises(Problems) as caught:
        triageform.read_triage({"weight.expected": "2.5", "severity.outage": "inf"}, None)
    assert caught.value.fields == {"weight.expected", "severity.outage"}


def test_connector_settings_keep_secrets_left_empty_when_editing() -> None:
    spec = (
        Setting("url", "u", kind="url"),
        Setting("token", "t", kind="secret"),
        Setting("on", "b", kind="bool", default=False),
    )
    form = {"setting.url": " https://x.example ", "setting.token": "", "setting.on": "on"}
    assert read_settings(spec, form, editing=True) == {"url": "https://x.example", "on": True}
    assert read_settings(spec, {"setting.url": ""}, editing=True) == {"url": None, "on": False}
    assert read_settings(spec, {"setting.url": ""}, editing=False) == {"on": False}


def test_dry_run_reads_a_number_or_facts() -> None:
    assert read_dry_run({"report": "#42"}).number == 42
    facts = read_dry_run({"severity": "high", "categories": "billing, ui", "completeness": "40"}).facts
    assert facts == {"severity": "high", "kind": "bug", "categories": ["billing", "ui"], "completeness": 40}
    with pytest.raises(Problems):
        read_dry_run({"report": "4 2"})
