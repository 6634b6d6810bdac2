"""Per-project triage rules: defaults, overrides, and errors that name the key to fix."""

from __future__ import annotations

import pytest

from bugline.triage.errors import RulesError
from bugline.triage.rules import PARTS, defaults, load_rules, merge


def test_every_part_has_readable_defaults() -> None:
    for part in PARTS:
        assert defaults(part), part
    rules = load_rules(None)
    assert 0 <= rules.completeness.threshold <= 100


def test_override_changes_only_what_it_names() -> None:
    base = load_rules(None)
    tuned = load_rules({"completeness": {"score": {"threshold": 10}}})
    assert tuned.completeness.threshold == 10
    assert tuned.severity == base.severity


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"severty": {}}, "severty"),
        ({"completeness": {"score": {"treshold": 5}}}, "triage.completeness.score.treshold"),
        ({"completeness": {"score": {"threshold": "high"}}}, "triage.completeness.score.threshold"),
        ({"completeness": 5}, "triage.completeness"),
        ([1, 2], "table"),
    ],
)
def test_bad_overrides_name_the_key(overrides: object, message: str) -> None:
    with pytest.raises(RulesError, match=message.replace(".", r"\.")):
        load_rules(overrides)  # type: ignore[arg-type]


def test_merge_keeps_defaults_and_opens_named_tables() -> None:
    base = {"weights": {"a": 1.0, "b": 2.0}, "families": {"payment": {"terms": ["pay"], "weight": 3}}}
    merged = merge(
        base, {"weights": {"b": 5}, "families": {"sso": {"terms": ["saml"], "weight": 2}}}, "t", root=False
    )
    assert merged["weights"] == {"a": 1.0, "b": 5}
    assert set(merged["families"]) == {"payment", "sso"}  # a project may add its own keyword family
    with pytest.raises(RulesError, match=r"t\.weights\.c"):
        merge(base, {"weights": {"c": 1}}, "t")
    with pytest.raises(RulesError, match=r"t\.extra"):
        merge(base, {"extra": {}}, "t")  # a part's own sections are fixed


def test_rules_are_built_once_per_distinct_overrides() -> None:
    assert load_rules({"completeness": {"score": {"threshold": 33}}}) is load_rules(
        {"completeness": {"score": {"threshold": 33}}}
    )
