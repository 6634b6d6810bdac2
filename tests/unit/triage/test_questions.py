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
