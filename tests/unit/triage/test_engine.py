"""The whole engine on hostile input: always a verdict, never an exception, in bounded time."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bugline.triage.engine import TEXT_CAP, bounded, triage
from bugline.triage.report import GroupStats, TriageInput
from bugline.triage.result import FACTS, LEVELS
from bugline.triage.rules import default_rules

RULES = default_rules()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=200),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=30,
)
KEYS = [
    "id",
    "title",
    "description",
    "trying_to_do",
    "expected",
    "actual",
    "error_text",
    "steps",
    "frequency",
    "people_affected",
    "context",
    "reporter",
    "attachments",
    "metadata",
    "console",
    "group",
    "locale",
]


def check(result: Any) -> None:
    assert 0 <= result.completeness.score <= 100
    assert set(result.completeness.missing) <= set(FACTS)
    assert result.severity.level in LEVELS
    assert result.classification.kind in {"bug", "feature_request", "question"}
    json.dumps(result.to_json())  # storable as JSON


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=len(KEYS)))
def test_any_json_line_gets_a_verdict(data: dict[str, Any]) -> None:
    check(triage(TriageInput.from_mapping(data), RULES))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=3000), st.text(max_size=500), st.integers(1, 10_000))
def test_any_text_any_group(description: str, title: str, reporters: int) -> None:
    report = TriageInput(title=title, description=description, actual=description[:200])
    check(triage(report, RULES, GroupStats(reports=reporters, reporters=reporters, accounts=1)))


@settings(max_examples=100, deadline=None)
@given(
    st.text(max_size=2000),
    st.text(max_size=200),
    st.sampled_from(["es", "pt-BR", "pl", "tr", "nb", "vi", "xx"]),
)
def test_any_text_any_locale(description: str, title: str, locale: str) -> None:
    check(triage(TriageInput(title=title, description=description, locale=locale), RULES))


def test_pathological_inputs() -> None:
    mb = "a" * 1_000_000
    samples = [
        TriageInput(),
        TriageInput(description=mb),
        TriageInput(description=bytes(range(256)).decode("latin-1") * 4000),
        TriageInput(description="\x00" * 10_000 + "steps: 1. x"),
        TriageInput(description="🐛" * 50_000, title="💥"),
        TriageInput(description="<script>alert(1)</script>" * 2000, title="<img src=x onerror=alert(1)>"),
        TriageInput(description="[x](javascript:alert(1)) **" * 5000),
        TriageInput(description="((((((((((((((((((((((((((((((" * 3000 + "!"),
        TriageInput(description="1. " * 30_000),
        TriageInput(
            description="Traceback (most recent call last):\n" + '  File "a.py", line 1, in f\n' * 5000
        ),
        TriageInput(description="Ошибка при оплате: платёж не проходит. 支付失败。 الدفع فشل"),
        TriageInput(description="\n" * 200_000),
    ]
    for report in samples:
        check(triage(report, RULES))
        check(triage(dataclasses.replace(report, locale="es-MX"), RULES))  # a hint reads them too


def test_long_text_is_cut_before_any_rule_reads_it() -> None:
    cut = bounded(TriageInput(description="x" * (TEXT_CAP * 3), title="t\x00t"))
    assert len(cut.description) == TEXT_CAP
    assert cut.title == "tt"
