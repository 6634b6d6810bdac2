"""Kind (bug, feature request, question) and routing categories, as an agent would use them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bugline.triage.classify import ClassificationRules, classify
from bugline.triage.errors import RulesError
from bugline.triage.report import ConsoleLine, TriageInput
from bugline.triage.rules import load_rules

RULES = ClassificationRules.default()


def kind(title: str, description: str = "", **kw) -> str:
    return classify(TriageInput(title=title, description=description, **kw), RULES).kind


def test_a_wish_for_a_missing_feature_is_not_a_bug():
    # the SOP: "A customer who wants a feature that does not exist -> not a bug"
    assert (
        kind("Please add a dark mode", "It would be nice to have a dark theme for the dashboard.")
        == "feature_request"
    )


def test_a_how_to_is_a_question():
    assert kind("How do I export my invoices?", "Is there a way to download them as CSV?") == "question"


def test_not_finding_an_option_is_a_question_but_not_finding_a_symbol_is_a_bug():
    assert kind("Adding users", "How do I add a new user? I can't find the option.") == "question"
    assert kind("Build broken", "javac says cannot find symbol Foo when compiling.") == "bug"


def test_behaviour_that_does_not_match_the_intended_one_is_a_bug():
    assert kind("The Save button does nothing", "Clicking Save doesn't work, the form is not saved.") == "bug"
    assert kind("Totals are wrong", "The invoice total is incorrect: 10 + 5 shows 12.") == "bug"


def test_failure_wording_keeps_a_polite_request_a_bug():
    assert (
        kind("Please fix: app crashes on upload", "Could you add a fix? It fails with an error every time.")
        == "bug"
    )


def test_captured_console_errors_tip_a_borderline_report_to_bug():
    wish = "It would be nice to get the report as PDF."
    assert kind("Export", wish) == "feature_request"
    assert kind("Export", wish, console=(ConsoleLine("error", "TypeError: cannot read 'pdf'"),)) == "bug"


def test_a_clear_wish_from_a_noisy_page_stays_a_wish():
    wish = "It would be nice to have an option to export. Please add support for PDF."
    noise = (ConsoleLine("error", "ResizeObserver loop limit exceeded"),)
    assert kind("Export to PDF", wish, console=noise) == "feature_request"


def test_a_report_with_no_words_is_a_bug_by_default():
    assert kind("") == "bug"


@pytest.mark.parametrize(
    ("title", "description", "page", "expected"),
    [
        ("Charged twice", "My card was charged twice for the subscription.", None, "billing"),
        ("XSS in comments", "A script tag in a comment runs for every visitor.", None, "security"),
        ("Dashboard is very slow", "It takes minutes to load and then times out.", None, "performance"),
        ("CSV export drops rows", "The export is missing records after 1000 rows.", None, "data"),
        ("Button overlaps the menu", "On mobile the layout is broken.", None, "ui"),
        ("Slack webhook not sent", "The integration stopped posting.", None, "integration"),
        ("Can't log in", "Password reset email never arrives.", None, "account"),
        ("Wrong invoices", "I can see another company's invoices in my account.", None, "security"),
        ("Lost work", "All our projects from yesterday are gone!", None, "data"),
        (
            "Something is off",
            "The numbers here look odd.",
            "https://app.example.com/billing/history",
            "billing",
        ),
    ],
)
def test_categories_route_to_the_right_team(title, description, page, expected):
    c = classify(TriageInput(title=title, description=description, page_url=page), RULES)
    assert expected in c.categories
    assert any(r.startswith(f"{expected}: ") for r in c.reasons)


def test_a_report_can_go_to_two_teams_and_unrelated_text_to_none():
    both = classify(TriageInput(title="Payment page leaks the card number into the logs"), RULES)
    assert {"billing", "security"} <= set(both.categories)
    assert classify(TriageInput(title="Something happened"), RULES).categories == ()


def test_a_project_can_add_a_category_and_tune_kinds():
    rules = load_rules(
        {"classification": {"categories": {"shipping": {"patterns": ["shipping", "delivery"]}}}}
    )
    c = classify(TriageInput(title="Delivery date is wrong"), rules.classification)
    assert "shipping" in c.categories
    strict = load_rules({"classification": {"kind": {"threshold": 100}}}).classification
    assert classify(TriageInput(title="Please add a dark mode"), strict).kind == "bug"


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"kind": {"question": {"patterns": []}}}, "classification.kind.question.patterns"),
        ({"kind": {"bug": {"weight": "high"}}}, "classification.kind.bug.weight"),
        ({"categories": {"ui": {"patterns": ["[unclosed"]}}}, "classification.categories.ui.patterns"),
    ],
)
def test_bad_settings_name_the_key(override, key):
    with pytest.raises(RulesError, match=key.replace(".", r"\.")):
        load_rules({"classification": override})


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(max_size=2000) | st.sampled_from(["<img src=x onerror=alert(1)>" * 300, "🐛" * 5000]),
    description=st.text(max_size=5000) | st.just("how do i " * 100_000),
    url=st.none() | st.text(max_size=300),
)
def test_any_input_gets_a_kind(title, description, url):
    c = classify(TriageInput(title=title, description=description, page_url=url), RULES)
    assert c.kind in ("bug", "feature_request", "question")
    assert set(c.categories) <= {"billing", "security", "performance", "data", "ui", "integration", "account"}
