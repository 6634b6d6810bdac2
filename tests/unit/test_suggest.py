"""Suggestions (pure parts): two customers' words for one bug rank above another bug of the
same product, and the reasons name the words as the customer wrote them."""

from __future__ import annotations

import pytest

from bugline.grouping.suggest import MIN_SCORE, _stem, closeness, words
from bugline.triage.duplicates import DuplicateRules, Signature, signature
from bugline.triage.report import TriageInput

RULES = DuplicateRules.default()


def w(*texts: str) -> dict[str, str]:
    return words(texts, RULES)


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("uploads", "upload"),
        ("uploading", "upload"),
        ("uploaded", "upload"),
        ("addresses", "address"),
        ("address", "address"),
        ("swiss", "swiss"),
        ("status", "status"),
        ("entries", "entry"),
        ("nothing", "nothing"),
        ("invoices", "invoic"),
        ("invoice", "invoic"),
        ("tax", "tax"),
    ],
)
def test_customers_inflections_of_one_word_meet(word: str, stem: str) -> None:
    assert _stem(word) == stem


# (the report, another customer's words for the same bug, a different bug of the same product)
TRIPLES = [
    (
        "My notes keep disappearing. I write a long description on a task, press Esc and it is gone.",
        "Task description lost: typed a description, closed the panel, reopened, the description was gone.",
        "Dragging a task card into the Done column snaps it back to In progress.",
    ),
    (
        "Invoice PDF never downloads for our big order (350 lines), small invoices are fine.",
        "Downloading the invoice PDF of a large order times out, smaller invoices download.",
        "Order history does not show the orders I placed today.",
    ),
    (
        "Patient search finds nobody called O'Brien, names with an apostrophe give an error.",
        "Searching for D'Angelo in patients fails; apostrophe names cannot be searched.",
        "Searching patients by birth date 12.03.1984 fails with an error.",
    ),
]


@pytest.mark.parametrize(("mine", "same", "other"), TRIPLES)
def test_the_same_bug_in_other_words_ranks_above_another_bug(mine: str, same: str, other: str) -> None:
    empty = Signature()
    near, reasons = closeness(empty, w(mine), empty, w(same), RULES)
    far, _ = closeness(empty, w(mine), empty, w(other), RULES)
    assert near > far and near >= MIN_SCORE
    assert reasons and reasons[0].startswith("same words: ")


def test_reasons_name_the_words_as_written_and_signatures_count_too() -> None:
    a = TriageInput(title="Tax missing for Swiss addresses", page_url="https://shop.example.com/checkout/1")
    b = TriageInput(title="No tax for Swiss addresses", page_url="https://shop.example.com/checkout/2")
    score, reasons = closeness(signature(a), w(a.title), signature(b), w(b.title), RULES)
    assert "same page /checkout/:id" in reasons
    assert "same words: addresses, swiss, tax" in reasons
    alone, _ = closeness(Signature(), w(a.title), Signature(), w(b.title), RULES)
    assert score > alone  # the same page adds to the words


def test_nothing_shared_is_not_suggested() -> None:
    score, reasons = closeness(Signature(), w("Logo is blurry"), Signature(), w("Export fails"), RULES)
    assert score < MIN_SCORE and not reasons
