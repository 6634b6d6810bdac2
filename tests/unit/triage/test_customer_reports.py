"""Reports as customers write them (emails, API clients, one free-text box), through the whole
engine: the tier the SOP would give, the reason that says why, the kind, and the facts found.

The labelled data sets are developers' trackers; these invented reports are the product's own
users. Each row is one SOP rule in a customer's words (critical: payments, login, security,
data loss, many affected; low: cosmetic), so a change that breaks one breaks what a support
lead would check first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bugline.triage.engine import triage
from bugline.triage.report import TriageInput
from bugline.triage.rules import default_rules

RULES = default_rules()


@dataclass(frozen=True)
class Case:
    title: str
    description: str
    level: str
    reason: str = ""  # a reason the verdict must give
    kind: str = "bug"
    present: tuple[str, ...] = ()  # checklist facts the engine must find
    category: str = ""


CASES = [
    Case(
        "Checkout down",
        "Nobody can check out since 9am, the Pay button spins forever. We are losing sales!",
        "critical",
        "+ mentions payment failure",
        present=("actual", "affected"),
        category="billing",
    ),
    Case(
        "Invoices of another customer",
        "In Billing > Invoices I can see invoices that belong to a different company.",
        "critical",
        "+ mentions a security problem",
        present=("actual",),
        category="security",
    ),
    Case(
        "Password reset mail never arrives",
        "I click 'Forgot password', enter my email and press Send. The mail never arrives, "
        "I checked spam. Chrome on Windows 10.",
        "critical",
        "+ mentions login or access broken",
        present=("steps_to_reproduce", "actual", "environment"),
        category="account",
    ),
    Case(
        "Lost my draft",
        "I wrote a long message, clicked Send and got 'Session expired'. My whole text was gone.",
        "critical",
        "+ mentions data loss or corruption",
        present=("actual", "error_text"),
    ),
    Case(
        "Dashboard totals",
        "The totals on the dashboard are wrong: they show 1,200 but the orders add up to 1,450.",
        "critical",
        "+ mentions data loss or corruption",
        category="data",
    ),
    Case(
        "Typo on pricing page",
        "The pricing page says 'montly' instead of 'monthly'.",
        "low",
        "- looks cosmetic (wording, typo, layout)",
    ),
    Case(
        "Logo blurry",
        "The logo in the header looks a bit blurry on my retina screen. Not a big deal.",
        "low",
        "- looks cosmetic (wording, typo, layout)",
    ),
    Case(
        "Report slow",
        "The monthly report takes about 40 seconds to load. There's a workaround: the weekly view is fast.",
        "medium",
        "- a workaround exists",
        category="performance",
    ),
    Case("Dark mode", "Would be great to have a dark mode.", "", kind="feature_request"),
    Case("Export?", "How do I export all my contacts to Excel?", "", kind="question"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.title for c in CASES])
def test_a_customers_report_gets_the_sops_verdict(case: Case) -> None:
    result = triage(TriageInput(title=case.title, description=case.description), RULES)
    assert result.classification.kind == case.kind
    if case.level:
        assert result.severity.level == case.level, result.severity.reasons
    if case.reason:
        assert case.reason in result.severity.reasons
    for fact in case.present:
        assert fact not in result.completeness.missing, fact
    if case.category:
        assert case.category in result.classification.categories


def test_a_report_of_a_few_words_goes_back_with_questions() -> None:
    result = triage(TriageInput(title="Broken", description="It doesn't work."), RULES)
    assert result.completeness.score < RULES.completeness.threshold
    assert {"expected", "steps_to_reproduce", "environment"} <= set(result.completeness.missing)
    assert all(q.endswith("?") or "?" in q for q in result.completeness.questions.values())
