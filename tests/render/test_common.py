"""The helpers every renderer and connector shares: title, labels, cleaning, sizes, URLs."""

from __future__ import annotations

import pytest

from bugline.connectors.document import Duplicates, FailedRequest
from bugline.render import common
from tests.connectors.factory import make_document


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "[High] Pay button does nothing (#42)"),
        ({"severity": "critical", "number": 7}, "[Critical] Pay button does nothing (#7)"),
        ({"title": "  Pay\nbutton\t\tdoes\r\nnothing  "}, "[High] Pay button does nothing (#42)"),
        ({"title": ""}, "[High] Untitled report (#42)"),
        ({"title": "\x00\u202e"}, "[High] Untitled report (#42)"),
    ],
)
def test_title(overrides: dict[str, object], expected: str) -> None:
    assert common.title(make_document(**overrides)) == expected


def test_long_title_is_cut_before_the_reference() -> None:
    title = common.title(make_document(title="word " * 100, number=123456))
    assert len(title) == 250
    assert title.startswith("[High] word word")
    assert title.endswith("… (#123456)")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ["bugline", "severity:high", "kind:bug", "category:billing", "category:checkout"]),
        (
            {"severity": "low", "kind": "feature_request", "categories": ("Data Loss", "data loss", "")},
            ["bugline", "severity:low", "kind:feature_request", "category:data-loss"],
        ),
        ({"categories": ("x" * 80,)}, ["bugline", "severity:high", "kind:bug", "category:" + "x" * 41]),
    ],
)
def test_labels(overrides: dict[str, object], expected: list[str]) -> None:
    assert common.labels(make_document(**overrides)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("tab\tkept", "tab\tkept"),
        ("nul\x00 bell\x07 esc\x1b del\x7f c1\x85", "nul bell esc del c1"),
        ("rtl \u202eoverride\u202c \u2067isolate\u2069", "rtl override isolate"),
        ("zero\u200bwidth \ufeffbom soft\u00adhyphen tag\U000e0041s", "zerowidth bom softhyphen tags"),
        ("lone \ud800 surrogate \ufdd0 \uffff", "lone  surrogate  "),
        # Persian "mi-ravam" with its zero-width non-joiner, Hebrew, a Unicode 15 emoji.
        (
            "emoji 👩\u200d💻 🫨 עברית \u0645\u06cc\u200c\u0631\u0648\u0645",
            "emoji 👩\u200d💻 🫨 עברית \u0645\u06cc\u200c\u0631\u0648\u0645",
        ),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert common.clean(raw) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("a longer text", 8, "a longe…"),
        ("ab  cd", 4, "ab…"),
    ],
)
def test_clip(text: str, limit: int, expected: str) -> None:
    assert common.clip(text, limit) == expected
    assert len(common.clip(text, limit)) <= limit


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://bugline.example.com/reports/1", True),
        ("http://127.0.0.1:8000/media/download?sig=a%2Fb&exp=1", True),
        ("HTTPS://EXAMPLE.COM/x", True),
        ("https://example.com/ünïcode/路径", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox", False),
        ("//evil.example/x", False),
        ("/reports/1", False),
        ("https://", False),
        ("https://example.com/a b", False),
        ('https://example.com/"><script>', False),
        ("https://example.com/x|y", False),
        ("https://example.com/\u202eexe", False),
        ("https://example.com/" + "a" * 5000, False),
        ("", False),
    ],
)
def test_safe_url(url: str, ok: bool) -> None:
    assert (common.safe_url(url) is not None) is ok


@pytest.mark.parametrize(
    ("size", "expected"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (1_234_567, "1.2 MB"), (5 * 10**9, "5.0 GB"), (-3, "0 B")],
)
def test_human_size(size: int, expected: str) -> None:
    assert common.human_size(size) == expected


@pytest.mark.parametrize(
    ("dup", "expected"),
    [
        (Duplicates(reports=1, people=1, accounts=1), None),
        (Duplicates(reports=3, people=2, accounts=1), "3 reports from 2 people in 1 account"),
        (Duplicates(reports=2, people=1, accounts=0), "2 reports from 1 person"),
        (Duplicates(reports=14, people=9, accounts=5), "14 reports from 9 people in 5 accounts"),
    ],
)
def test_duplicates_line(dup: Duplicates, expected: str | None) -> None:
    assert common.duplicates_line(dup) == expected


@pytest.mark.parametrize(
    ("req", "line", "outcome"),
    [
        (
            FailedRequest("post", "https://x.example/api", 500, 912.4),
            "POST https://x.example/api",
            "500, 912 ms",
        ),
        (FailedRequest("GET", "https://x.example/a", None), "GET https://x.example/a", "no response"),
        (
            FailedRequest("", "https://x.example/\nb", 404, 12_345.0),
            "GET https://x.example/ b",
            "404, 12,345 ms",
        ),
    ],
)
def test_request_summary(req: FailedRequest, line: str, outcome: str) -> None:
    assert common.request_line(req) == line
    assert common.request_outcome(req) == outcome


def test_console_text_keeps_the_stack_and_cuts_long_ones() -> None:
    entry = make_document().console[0]
    long = entry.__class__("error", "Error: deep\n" + "\n".join(f"    at f{i} (a.js:{i})" for i in range(60)))
    text = common.console_text((entry, long))
    assert text.startswith(
        "[error] TypeError: Cannot read properties of undefined (reading 'id')\n    at submitPayment"
    )
    assert "at https://shop.example.com/static/checkout.js:214" in text
    assert "    at f23 (a.js:23)" in text
    assert "    at f24 (a.js:24)" not in text
    assert "    … 34 more lines" in text  # of what is left after the 1,200-character cut


def test_fitted_shrinks_the_budget_until_the_output_fits() -> None:
    seen: list[common.Budget] = []

    def render(budget: common.Budget) -> str:
        seen.append(budget)
        return "x" * budget.description

    assert len(common.fitted(render, len, 2000)) == 1500
    assert [b.description for b in seen] == [6000, 3000, 1500]
    assert len(common.fitted(render, len, 10)) == 500  # the smallest budget, even if still too long
