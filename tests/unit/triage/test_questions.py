"""The plain-words questions a customer gets for each missing fact."""

from __future__ import annotations

from bugline.triage.questions import QUESTIONS, action_phrase, ask, past_tense
from bugline.triage.report import TriageInput
from bugline.triage.result import FACTS


def test_every_fact_has_a_question() -> None:
    assert set(QUESTIONS) == set(FACTS)
    assert all(q.endswith("?") or "?" in q for pair in QUESTIONS.values() for q in pair)


def test_the_question_names_the_last_step_the_customer_took() -> None:
    report = TriageInput(steps="1. Open the checkout\n2. Click Pay")
    assert ask(["expected"], report)["expected"] == "What did you expect to happen when you clicked Pay?"


def test_what_they_were_trying_to_do_wins_and_speaks_to_them() -> None:
    report = TriageInput(trying_to_do="I was trying to export my invoices", steps="1. Click Export")
    assert action_phrase(report) == "tried to export your invoices"
    assert "when you tried to export your invoices" in ask(["actual"], report)["actual"]


def test_without_context_the_questions_stay_general() -> None:
    questions = ask(["expected", "steps_to_reproduce"], TriageInput(page_url="https://shop.example/checkout"))
    assert questions["expected"] == "What did you expect to happen instead?"
    assert "on /checkout" in questions["steps_to_reproduce"]


def test_frequency_question_reads_in_the_present() -> None:
    question = ask(["frequency"], TriageInput(steps="1. Open the cart\n2. Click Pay"))["frequency"]
    assert question == "Does this happen every time you click Pay, or only sometimes?"


def test_past_tense_of_common_step_verbs() -> None:
    assert [past_tense(v) for v in ("click", "go", "type", "copy", "submit", "Open")] == [
        "clicked",
        "went",
        "typed",
        "copied",
        "submitted",
        "Opened",
    ]


def test_a_free_text_report_names_what_the_customer_did() -> None:
    # Email and API clients put everything in one box: the "when I ..." clause is the action.
    report = TriageInput(description="When I click Pay on the checkout page nothing happens.")
    assert ask(["expected"], report)["expected"] == (
        "What did you expect to happen when you clicked Pay on the checkout page?"
    )
    assert ask(["frequency"], report)["frequency"] == (
        "Does this happen every time you click Pay on the checkout page, or only sometimes?"
    )


def test_the_clause_ends_where_the_main_clause_starts() -> None:
    cases = {
        "When I saved the draft the text vanished": "saved the draft",
        "When I clicked Save, the form was cleared": "clicked Save",
        "The app crashes when I open my profile.": "opened your profile",
        "when we tried to export the invoices it freezes": "tried to export the invoices",
        "When I exported my report I get an empty file": "exported your report",
        "When I go to https://shop.example/cart it fails": "went to https://shop.example/cart",
        "When I click Pay... nothing": "clicked Pay",
        # a main clause whose verb is a failure or a change undone (a blind review, 2026-11-24)
        "When I upload files bigger than 10MB the upload fails": "uploaded files bigger than 10MB",
        "When I click Mark as done the task flips back to open": "clicked Mark as done",
    }
    assert {text: action_phrase(TriageInput(description=text)) for text in cases} == cases


def test_no_action_when_the_clause_is_not_something_done_in_the_app() -> None:
    for text in ("When I was on the page, it broke", "It fails when I think about it", "When I clicked, it broke"):
        report = TriageInput(description=text)
        assert action_phrase(report) == ""
        assert ask(["expected"], report)["expected"] == "What did you expect to happen instead?"


def test_structured_fields_still_win_over_the_free_text() -> None:
    report = TriageInput(description="When I click Pay nothing happens", steps="1. Open the cart\n2. Click Apply coupon")
    assert action_phrase(report) == "clicked Apply coupon"
