"""URL globs in routing rules: * and ? only, matched in bounded time whatever the pattern or URL."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bugline.routing.errors import RoutingError
from bugline.routing.glob import MAX_URL, UrlGlob, subjects
from tests.support.bounded import terminates


def matches(glob: str, url: str) -> bool:
    g = UrlGlob.parse(glob, "url")
    subject = subjects(url)
    assert subject is not None
    return g.matches(subject[0] if g.on_path else subject[1])


@pytest.mark.parametrize(
    ("glob", "url", "expected"),
    [
        ("/checkout", "https://shop.example/checkout", True),
        ("/checkout", "https://shop.example/checkout/pay", False),
        ("/checkout*", "https://shop.example/checkout/pay", True),
        ("/checkout/*", "https://shop.example/checkout", False),
        ("/checkout/*", "https://shop.example/checkout/", True),
        ("/checkout/*", "https://shop.example/checkout/a/b/c?x=1#frag", True),  # query and fragment ignored
        ("/CHECKOUT/*", "https://shop.example/Checkout/Pay", True),  # case does not matter
        ("*/invoices/*", "https://app.example/org/42/invoices/7", True),
        ("/orders/?", "https://app.example/orders/7", True),
        ("/orders/?", "https://app.example/orders/77", False),
        ("/a*b*c", "https://x.example/a-b-c", True),
        ("/a*b*c", "https://x.example/a-c-b", False),
        ("/a*a", "https://x.example/a", False),  # the two ends cannot share a character
        ("/*", "https://x.example", True),  # no path is "/"
        ("admin.example.com/*", "https://admin.example.com:8443/users", True),  # host + path, port ignored
        ("admin.example.com/*", "https://www.example.com/users", False),
        ("*.example.com/billing*", "https://eu.example.com/billing/plans", True),
        ("/checkout", "/checkout", True),  # a bare path, as typed in a dry-run
        ("/pay(ments)+$x", "https://x.example/pay(ments)+$x", True),  # regex characters are literal
    ],
)
def test_glob_semantics(glob: str, url: str, expected: bool) -> None:
    assert matches(glob, url) is expected


@pytest.mark.parametrize(
    ("glob", "message"),
    [
        ("^/checkout", "looks like a regular expression"),
        ("/checkout$", "looks like a regular expression"),
        ("/(?:a|b)", "looks like a regular expression"),
        ("/[0-9]", "looks like a regular expression"),
        ("/a\\d", "looks like a regular expression"),
        ("/a b", "' ' cannot appear"),
        ("/a\x00", "cannot appear"),
        ("", "non-empty string"),
        ("/" + "a" * 400, "at most 300"),
    ],
)
def test_patterns_that_are_not_globs_are_refused(glob: str, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        UrlGlob.parse(glob, "routing.rules[0].when.url[0]")


@pytest.mark.parametrize(
    ("glob", "url"),
    [
        ("/" + "*a" * 149, "https://x.example/" + "a" * MAX_URL),  # the classic exponential glob
        ("/" + "*a?" * 99, "https://x.example/" + "a" * 100_000),  # URL longer than what is read
        ("(a+)+$x", "https://x.example/" + "a" * 5000),  # a regex bomb is only literal text here
        ("/*" + "ab" * 140 + "*", "https://x.example/" + "ab" * 50_000),
    ],
)
def test_worst_cases_run_in_bounded_time(glob: str, url: str) -> None:
    g = UrlGlob.parse(glob, "url") if not glob.startswith("(") else UrlGlob.parse("/" + glob, "url")
    subject = subjects(url)
    assert subject is not None
    terminates(lambda: [g.matches(subject[0]) for _ in range(10)], f"glob {glob!r}")


def test_odd_urls_are_no_url_rather_than_an_error() -> None:
    assert subjects(None) is None
    assert subjects("") is None
    assert subjects("http://[::1") is None
    assert subjects("javascript:alert(1)") == ("alert(1)", "alert(1)")


_alphabet = st.sampled_from("ab/.-")


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab/*?"), min_size=1, max_size=12),
    st.text(alphabet=_alphabet, max_size=20),
)
def test_agrees_with_fnmatch_on_star_and_question_mark(glob: str, path: str) -> None:
    # fnmatch (without [...] classes) has the same * and ? semantics; it is the reference.
    g = UrlGlob.parse("/" + glob, "url")
    assert g.matches("/" + path) is fnmatch.fnmatchcase("/" + path, "/" + glob)
