"""Duplicate signatures (pure): what is kept of a report to recognise the same problem again."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bugline.triage.duplicates import (
    DuplicateRules,
    Signature,
    index_keys,
    normalise_error,
    route_pattern,
    signature,
    similarity,
    stack_frames,
)
from bugline.triage.errors import RulesError
from bugline.triage.report import ConsoleLine, FailedRequest, TriageInput
from tests.support.bounded import terminates

RULES = DuplicateRules.default()

CHROME_STACK = """TypeError: Cannot read properties of undefined (reading 'total')
    at OrderTotal (https://shop.example.com/static/js/main.3f9a2b1c.js:1:2345)
    at renderWithHooks (https://shop.example.com/static/js/vendor-8ab12cd9.js?v=3:10:20)
    at https://shop.example.com/static/js/index-BQ3x9Kz1.js:5:6"""


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Uncaught TypeError: Cannot read properties of undefined (reading 'total')",
            "TypeError: Cannot read properties of undefined (reading 'total')",
        ),
        ("TypeError: order.total is undefined", "TypeError: order.total is undefined"),
        (
            "Uncaught (in promise) Error: Request failed with status code 502",
            "Error: Request failed with status code <n>",
        ),
        ("Failed to fetch https://api.example.com/orders/123?x=1", "Failed to fetch <url>"),
        (
            "Invalid email 'bob@example.com' for user 12345",
            "Invalid email '<value>' for user <n>",
        ),
        ("Email bob@example.com is taken", "Email <email> is taken"),
        (
            "Order 3f2a9c8e-1234-4abc-9def-0123456789ab not found",
            "Order <uuid> not found",
        ),
        ("Chunk deadbeef1234 failed at 0x7ffe12", "Chunk <hex> failed at <hex>"),
        ('Unknown field "customer name with spaces"', 'Unknown field "<value>"'),
        ("First line\n    at x (a.js:1:1)", "First line"),
        ("12345", ""),
        ("", ""),
        ("   \n  ", ""),
    ],
)
def test_error_messages_lose_their_data_but_keep_their_identity(message: str, expected: str) -> None:
    assert normalise_error(message) == expected


def test_the_same_error_from_two_customers_normalises_the_same() -> None:
    a = normalise_error("Uncaught Error: Payment 4411 declined for invoice 'INV-2024-009'")
    b = normalise_error("Error: Payment 98 declined for invoice 'INV-2025-113'")
    assert a == b != ""


@pytest.mark.parametrize(
    ("url", "route"),
    [
        ("https://App.Example.com/orders/123/items?tab=2#top", "app.example.com/orders/:id/items"),
        ("https://app.example.com/orders/3f2a9c8e-1234-4abc-9def-0123456789ab", "app.example.com/orders/:id"),
        (
            "https://app.example.com/api/v2/invoices/inv-2024-05/pdf",
            "app.example.com/api/v2/invoices/:id/pdf",
        ),
        ("https://app.example.com/#/orders/55", "app.example.com/orders/:id"),
        ("https://app.example.com/#!/orders/55", "app.example.com/orders/:id"),
        ("https://app.example.com/share/AbCdEfGhIjKlMnOpQrStUv", "app.example.com/share/:id"),
        ("https://app.example.com/users/bob@example.com", "app.example.com/users/:id"),
        ("https://app.example.com:8443/settings/billing", "app.example.com/settings/billing"),
        ("https://app.example.com", "app.example.com/"),
        ("/orders/77", "/orders/:id"),
        ("http://[::1", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_routes_keep_the_page_and_drop_the_ids(url: str | None, route: str) -> None:
    assert route_pattern(url) == route


def test_different_hosts_are_different_routes() -> None:
    assert route_pattern("https://admin.example.com/orders/1") != route_pattern(
        "https://app.example.com/orders/1"
    )


@pytest.mark.parametrize(
    ("trace", "frames"),
    [
        # The vendor chunk's frame is library code and the unnamed frame is anonymous: both left out.
        (CHROME_STACK, ("OrderTotal@main.js",)),
        (
            "OrderTotal@https://shop.example.com/main.js:1:2\n@https://shop.example.com/main.js:3:4",
            ("OrderTotal@main.js",),
        ),
        # Gecko's names for nested functions ("outer/<", "outer/inner<") read as V8 prints them.
        (
            "computeTax@https://s.example/main.4f3a2c.js:1:2\nGo/<@https://s.example/main.4f3a2c.js:1:9\n"
            "Go@https://s.example/main.4f3a2c.js:1:5\nonContinue/save<@https://s.example/main.4f3a2c.js:2:1",
            ("computeTax@main.js", "Go@main.js", "save@main.js"),
        ),
        # Library code however it is served: node_modules, Vite's deps, vendor chunks, site-packages.
        (
            "TypeError: x\n    at dispatch (https://a.example/node_modules/.vite/deps/react-dom.js?v=1:9:9)\n"
            "    at request (https://a.example/assets/vendors~main.8f8f8f1a.js:1:1)\n"
            "    at Axios.request (https://a.example/static/js/framework-2b2b2b2b.js:1:1)\n"
            "    at payOrder (https://a.example/assets/index-BQ3x9Kz1.js:4:4)",
            ("payOrder@index.js",),
        ),
        (
            'Traceback (most recent call last):\n  File "/srv/app/orders.py", line 10, in total\n    x = 1\n'
            '  File "/usr/lib/python3/site-packages/sqlalchemy/engine.py", line 5, in execute\n    y\n',
            ("total@orders.py",),
        ),
        (
            'Traceback (most recent call last):\n  File "/srv/app/orders.py", line 10, in total\n    x = 1\n',
            ("total@orders.py",),
        ),
        (
            "java.lang.NullPointerException\n\tat com.acme.Orders.total(Orders.java:42)\n"
            "\tat com.acme.Web.get(Web.java:7)",
            ("com.acme.Orders.total@Orders.java", "com.acme.Web.get@Web.java"),
        ),
        (
            "Error\n    at inject (chrome-extension://abcdef/content.js:1:1)\n    at save (https://a.example/app.js:9:9)",
            ("save@app.js",),
        ),
        ("no frames here at all", ()),
    ],
)
def test_stack_frames_keep_function_and_file_only(trace: str, frames: tuple[str, ...]) -> None:
    assert stack_frames(trace, 3) == frames


def test_a_new_build_of_the_same_code_gives_the_same_frames() -> None:
    rebuilt = CHROME_STACK.replace("main.3f9a2b1c", "main.77aa00ff").replace(":1:2345", ":1:2299")
    assert stack_frames(rebuilt, 3) == stack_frames(CHROME_STACK, 3)


def order_crash(order: int, title: str, actual: str, *, stack: str = "") -> TriageInput:
    return TriageInput(
        title=title,
        actual=actual,
        page_url=f"https://shop.example.com/orders/{order}",
        console=(
            ConsoleLine(
                "error", "Uncaught TypeError: Cannot read properties of undefined (reading 'total')", stack
            ),
        ),
    )


def test_the_same_crash_reported_in_different_words_matches_and_says_why() -> None:
    a = signature(order_crash(123, "Order page blank", "I open my order and the page is white"))
    b = signature(order_crash(456, "Can't see order total", "Nothing shows when I click an order"))
    score, reasons = similarity(a, b)
    assert score >= RULES.threshold
    # Compared, and shown, in the wording of its family: Firefox and Safari word it otherwise.
    assert "same error: TypeError: Cannot read property 'total' of undefined or null" in reasons
    assert "same page /orders/:id" in reasons


# One bug, three browsers: each row is how V8 (Chrome, Edge), SpiderMonkey (Firefox) and
# JavaScriptCore (Safari) word the same failure, as their consoles print it.
SAME_ERROR_IN_THREE_BROWSERS = [
    (
        "Uncaught TypeError: Cannot read properties of undefined (reading 'rate')",
        'Uncaught TypeError: can\'t access property "rate", region is undefined',
        "TypeError: undefined is not an object (evaluating 'region.rate')",
    ),
    (
        "TypeError: Cannot read properties of null (reading 'id')",
        'TypeError: can\'t access property "id", e.room is null',
        "TypeError: null is not an object (evaluating 'e.room.id')",
    ),
    (
        "TypeError: Failed to fetch",
        "TypeError: NetworkError when attempting to fetch resource.",
        "TypeError: Load failed",
    ),
    ("URIError: URI malformed", "URIError: malformed URI sequence", "URIError: URI error"),
    (
        "SyntaxError: Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON",
        "SyntaxError: JSON.parse: unexpected character at line 1 column 1 of the JSON data",
        "SyntaxError: JSON Parse error: Unrecognized token '<'",
    ),
    (
        "ReferenceError: structuredClone is not defined",
        "ReferenceError: structuredClone is not defined",
        "ReferenceError: Can't find variable: structuredClone",
    ),
    (
        "RangeError: Maximum call stack size exceeded",
        "InternalError: too much recursion",
        "RangeError: Maximum call stack size exceeded.",
    ),
    (
        "TypeError: Failed to fetch dynamically imported module: https://app.example/assets/Filter-9hT2.js",
        "TypeError: error loading dynamically imported module: https://app.example/assets/Filter-B7mQ.js",
        "TypeError: Importing a module script failed.",
    ),
    (
        "TypeError: cart.items.map is not a function",
        "TypeError: cart.items.map is not a function",
        "TypeError: cart.items.map is not a function. (In 'cart.items.map(x)', 'cart.items.map' is undefined)",
    ),
]


@pytest.mark.parametrize("wordings", SAME_ERROR_IN_THREE_BROWSERS)
def test_one_error_worded_by_three_browsers_is_one_error(wordings: tuple[str, str, str]) -> None:
    signatures = [signature(TriageInput(console=(ConsoleLine("error", w),))).errors for w in wordings]
    assert len(signatures[0]) == 1
    assert signatures[0] == signatures[1] == signatures[2]


def test_errors_of_different_families_stay_different() -> None:
    rows = [ws[0] for ws in SAME_ERROR_IN_THREE_BROWSERS] + [
        "TypeError: Cannot read properties of undefined (reading 'total')",
        "ChunkLoadError: Loading chunk 7812 failed.",
    ]
    errors = {signature(TriageInput(console=(ConsoleLine("error", m),))).errors for m in rows}
    assert len(errors) == len(rows) - 1  # the webpack chunk failure is the dynamic import's family


def firefox_and_chrome(bug: str) -> tuple[TriageInput, TriageInput]:
    """The same crash from two customers, one per browser, with each engine's stack."""
    chrome = TriageInput(
        title="Continue to payment does nothing",
        page_url="https://shop.example.com/checkout/8812",
        console=(
            ConsoleLine(
                "error",
                f"Uncaught TypeError: Cannot read properties of undefined (reading '{bug}')",
                "TypeError: x\n    at computeTax (https://shop.example.com/static/js/main.4f3a2c.js:1:48213)\n"
                "    at Go (https://shop.example.com/static/js/main.4f3a2c.js:1:50110)\n"
                "    at onContinue (https://shop.example.com/static/js/main.4f3a2c.js:1:51002)\n"
                "    at callCallback (https://shop.example.com/static/js/vendor.71be02.js:2:9001)",
            ),
        ),
    )
    firefox = TriageInput(
        title="Checkout stuck",
        page_url="https://shop.example.com/checkout/90017",
        console=(
            ConsoleLine(
                "error",
                f'TypeError: can\'t access property "{bug}", n is undefined',
                "computeTax@https://shop.example.com/static/js/main.9b1e77.js:1:48200\n"
                "Go/<@https://shop.example.com/static/js/main.9b1e77.js:1:50200\n"
                "Go@https://shop.example.com/static/js/main.9b1e77.js:1:50100\n"
                "onContinue@https://shop.example.com/static/js/main.9b1e77.js:1:51000",
            ),
        ),
    )
    return chrome, firefox


def test_the_same_crash_in_chrome_and_firefox_after_a_deploy_matches() -> None:
    chrome, firefox = firefox_and_chrome("rate")
    score, reasons = similarity(signature(chrome), signature(firefox))
    assert score >= RULES.threshold
    assert "same error: TypeError: Cannot read property 'rate' of undefined or null" in reasons
    assert "same stack: computeTax@main.js > Go@main.js > onContinue@main.js" in reasons


def test_the_same_code_path_in_browsers_worded_apart_is_not_called_different_errors() -> None:
    chrome, firefox = firefox_and_chrome("rate")
    odd = TriageInput(
        title=firefox.title,
        page_url=firefox.page_url,
        console=(ConsoleLine("error", "TypeError: n.tax is undefined", firefox.console[0].stack),),
    )
    score, reasons = similarity(signature(chrome), signature(odd))
    assert "different errors" not in reasons
    assert score >= RULES.threshold  # the whole stack of the app's own code, on the same page


def requests_failing(route: str, status: int, message: str, stack: str, title: str = "") -> TriageInput:
    return TriageInput(
        title=title,
        page_url="https://shop.example.com/account/invoices",
        console=(ConsoleLine("error", message, stack),),
        network=(FailedRequest("GET", f"https://shop.example.com{route}", status),),
    )


AXIOS = (
    "    at XMLHttpRequest.p.onerror (https://shop.example.com/static/js/vendor.71be02.js:2:1)\n"
    "    at Ze.request (https://shop.example.com/static/js/vendor.71be02.js:2:2)\n"
)


def test_a_generic_network_error_and_the_library_frames_under_it_do_not_make_two_bugs_one() -> None:
    outage = requests_failing(
        "/api/session",
        503,
        "AxiosError: Network Error",
        AXIOS + "    at loadRoute (https://shop.example.com/m.js:1:1)",
    )
    pdf = requests_failing(
        "/api/invoices/77/pdf",
        504,
        "AxiosError: Network Error",
        AXIOS + "    at downloadInvoice (https://shop.example.com/m.js:1:1)",
    )
    a, b = signature(outage), signature(pdf)
    assert a.stack == ("loadRoute@m.js",) and b.stack == ("downloadInvoice@m.js",)
    score, reasons = similarity(a, b)
    assert score < RULES.threshold
    assert "different errors" not in reasons  # both said only "Network Error": no sign either way


def test_the_same_failing_request_with_its_generic_error_on_the_same_page_matches() -> None:
    first = requests_failing("/api/invoices/77/pdf", 504, "AxiosError: Network Error", "")
    second = requests_failing("/api/invoices/91/pdf", 504, "AxiosError: Network Error", "")
    score, reasons = similarity(signature(first), signature(second))
    assert score >= RULES.threshold
    assert "same failed request: GET /api/invoices/:id/pdf -> 504" in reasons


def test_a_signature_stored_by_version_1_compares_as_version_2_would() -> None:
    _, firefox = firefox_and_chrome("rate")
    stored = {
        "v": 1,
        "errors": ["TypeError: Cannot read properties of undefined (reading 'rate')"],
        "stack": ["computeTax@main.js", "?@main.js", "callCallback@vendor.js"],
        "route": "shop.example.com/checkout/:id",
        "requests": [],
        "text": [],
    }
    old = Signature.from_json(stored)
    assert old.errors == ("TypeError: Cannot read property 'rate' of undefined or null",)
    assert old.stack == ("computeTax@main.js",)
    assert similarity(old, signature(firefox))[0] >= RULES.threshold
    assert Signature.from_json({**stored, "v": 99}) == Signature()  # a version this code does not know


def test_two_different_crashes_on_the_same_page_do_not_match_even_in_the_same_words() -> None:
    words = "The order page shows an error when I open an order from last week"
    a = signature(order_crash(1, "Order page error", words))
    other = TriageInput(
        title="Order page error",
        actual=words,
        page_url="https://shop.example.com/orders/2",
        console=(ConsoleLine("error", "RangeError: Invalid time value"),),
    )
    score, reasons = similarity(a, signature(other))
    assert score < RULES.threshold
    assert "different errors" in reasons


def test_a_copied_report_matches_on_its_words_alone() -> None:
    text = "After the update the export to CSV button on the reports screen downloads an empty file"
    a = signature(TriageInput(title="CSV export empty", description=text))
    b = signature(TriageInput(title="CSV export empty", description=text + " again today"))
    score, reasons = similarity(a, b)
    assert score >= RULES.threshold
    assert any(r.startswith("text ") and r.endswith(" similar") for r in reasons)


def test_unrelated_reports_do_not_match() -> None:
    a = signature(order_crash(1, "Order page blank", "I open my order and the page is white"))
    b = signature(
        TriageInput(
            title="Cannot change my password",
            actual="The settings page says something went wrong when I save a new password",
            page_url="https://shop.example.com/settings/security",
        )
    )
    score, _ = similarity(a, b)
    assert score < 0.2


def test_the_same_page_alone_is_not_enough() -> None:
    a = signature(TriageInput(title="Logo is blurry on retina screens", page_url="https://shop.example.com/"))
    b = signature(TriageInput(title="Search box ignores accents", page_url="https://shop.example.com/"))
    assert similarity(a, b)[0] < RULES.threshold


def test_the_same_failed_request_counts_as_a_clue() -> None:
    a = signature(TriageInput(network=(FailedRequest("post", "https://api.example.com/orders/12/pay", 502),)))
    b = signature(TriageInput(network=(FailedRequest("POST", "https://api.example.com/orders/99/pay", 502),)))
    score, reasons = similarity(a, b)
    assert score > 0
    assert reasons == ["same failed request: POST /orders/:id/pay -> 502"]


def test_noise_errors_and_noise_requests_are_left_out() -> None:
    sig = signature(
        TriageInput(
            console=(
                ConsoleLine("error", "ResizeObserver loop completed with undelivered notifications."),
                ConsoleLine("error", "Script error."),
                ConsoleLine("warn", "TypeError: only a warning"),
            ),
            network=(FailedRequest("GET", "https://shop.example.com/favicon.ico", 404),),
        )
    )
    assert sig.errors == ()
    assert sig.requests == ()


def test_errors_pasted_into_free_text_count() -> None:
    sig = signature(
        TriageInput(description="Checkout fails.\n\nTypeError: cart.items is undefined\n" + CHROME_STACK)
    )
    assert sig.errors[0] == "TypeError: cart.items is undefined"
    assert sig.stack[0] == "OrderTotal@main.js"


def test_similar_reports_share_index_keys_and_unrelated_ones_do_not() -> None:
    a = index_keys(signature(order_crash(123, "Order page blank", "page is white")))
    b = index_keys(signature(order_crash(456, "Totals missing", "no total shown")))
    c = index_keys(
        signature(TriageInput(title="Cannot change password", page_url="https://shop.example.com/me"))
    )
    assert {k for k in a if k.startswith(("e:", "r:"))} <= set(b)
    assert not set(a) & set(c)
    assert all(
        len(k) <= 40 and k.split(":", 1)[0] in {"e", "s", "r", "q", *(f"t{i}" for i in range(8))} for k in a
    )


def test_near_copies_share_a_text_band_key() -> None:
    text = "The invoice PDF download button on the billing page returns a broken file for every invoice"
    a = index_keys(signature(TriageInput(title="Invoice PDF broken", description=text)))
    b = index_keys(signature(TriageInput(title="Invoice PDF broken", description=text + " since Monday")))
    assert {k for k in a if k.startswith("t")} & {k for k in b if k.startswith("t")}


def test_a_report_with_nothing_to_go_on_has_no_keys() -> None:
    sig = signature(TriageInput(title="Bug"))
    assert sig.empty
    assert index_keys(sig) == []


def test_signatures_survive_a_round_trip_through_json() -> None:
    sig = signature(
        order_crash(7, "Order page blank", "I open my order and the page is white", stack=CHROME_STACK)
    )
    assert Signature.from_json(sig.to_json()) == sig
    assert Signature.from_json({"v": 1, "errors": "not a list", "text": [1, 2]}) == Signature()
    assert Signature.from_json(None) == Signature()


def default_settings() -> dict[str, Any]:
    """The shipped TOML as a project override would start from (a fresh copy each time)."""
    text = resources.files("bugline.triage").joinpath("defaults", "duplicates.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_rules_refuse_unknown_or_wrong_settings_naming_the_key() -> None:
    data = default_settings()
    data["weights"]["eror"] = 1.0
    with pytest.raises(RulesError, match=r"triage\.duplicates\.weights\.eror"):
        DuplicateRules.from_mapping(data)
    data = default_settings()
    data["threshold"] = "high"
    with pytest.raises(RulesError, match=r"triage\.duplicates\.threshold"):
        DuplicateRules.from_mapping(data)
    data = default_settings()
    data["lookup"]["max_candidates"] = 0
    with pytest.raises(RulesError, match=r"triage\.duplicates\.lookup\.max_candidates"):
        DuplicateRules.from_mapping(data)
    data = default_settings()
    data["signature"]["stopwords"] = ["ok", 3]
    with pytest.raises(RulesError, match=r"signature\.stopwords"):
        DuplicateRules.from_mapping(data)


def test_a_project_can_make_matching_stricter() -> None:
    data = default_settings()
    data["threshold"] = 0.95
    strict = DuplicateRules.from_mapping(data)
    a = signature(order_crash(1, "Order page blank", "white page"))
    b = signature(order_crash(2, "Totals gone", "nothing shows"))
    assert similarity(a, b)[0] >= RULES.threshold
    assert similarity(a, b, strict)[0] < strict.threshold


# --- hostile input -------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=2000),
    st.binary(max_size=2000).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "<script>alert(1)</script>" * 50,
            "\ud800\udfff\x00" * 100,
            "at (" * 500,
            "@" * 3000 + ":1",
            "'" * 3000,
            "0" * 5000,
            "a" * 5000 + "Error: " * 200,
            "🔥" * 2000,
            "http://" + "a/" * 3000,
            "中文错误信息无法保存订单" * 300,
        ]
    ),
)


@st.composite
def hostile_reports(draw: st.DrawFn) -> TriageInput:
    return TriageInput(
        title=draw(hostile_text),
        description=draw(hostile_text),
        actual=draw(hostile_text),
        error_text=draw(hostile_text),
        page_url=draw(st.one_of(st.none(), hostile_text)),
        console=tuple(
            ConsoleLine(
                draw(st.sampled_from(["error", "ERROR", "warn", ""])), draw(hostile_text), draw(hostile_text)
            )
            for _ in range(draw(st.integers(0, 3)))
        ),
        network=tuple(
            FailedRequest(
                draw(hostile_text),
                draw(st.one_of(hostile_text, st.builds("https://{}.example/x".format, hostile_text))),
                draw(st.one_of(st.integers(-5, 1000), st.sampled_from([0, 502, 503, 504]))),
            )
            for _ in range(draw(st.integers(0, 3)))
        ),
        received_at=draw(st.one_of(st.none(), st.datetimes(), st.datetimes(timezones=st.just(UTC)))),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_reports(), hostile_reports())
def test_any_input_gives_a_signature_keys_and_a_score(a: TriageInput, b: TriageInput) -> None:
    sa, sb = signature(a), signature(b)
    for sig in (sa, sb):
        assert Signature.from_json(sig.to_json()) == sig
        assert all(isinstance(k, str) and len(k) <= 40 for k in index_keys(sig))
    score, reasons = similarity(sa, sb)
    assert 0.0 <= score <= 1.0
    assert similarity(sb, sa)[0] == score
    assert all(isinstance(r, str) and len(r) < 600 for r in reasons)


def test_a_megabyte_of_anything_costs_milliseconds() -> None:
    mb = 1_000_000
    worst = TriageInput(
        title="x" * mb,
        description=("    at a (https://h/b.js:1:2)\n" * (mb // 30)),
        actual=("word " * (mb // 5)),
        error_text=("'" + "9" * 100 + "' ") * (mb // 104),
        page_url="https://h/" + "1/" * (mb // 2),
        console=tuple(ConsoleLine("error", "Error: " + "x" * mb, "at (" * (mb // 4)) for _ in range(5)),
        network=tuple(FailedRequest("GET", "https://h/" + "a" * mb, 500) for _ in range(5)),
    )
    sig = terminates(lambda: signature(worst), "the worst-case signature")
    terminates(lambda: (index_keys(sig), similarity(sig, sig)), "its keys and similarity")


def outage_report(
    minute: int, path: str, status: int = 503, host: str = "api.shop.example.com"
) -> TriageInput:
    """A customer's page during an outage: its own page, its own request, the same service down."""
    return TriageInput(
        title=f"Nothing loads on {path}",
        page_url=f"https://shop.example.com{path}",
        console=(ConsoleLine("error", "AxiosError: Network Error"),),
        network=(FailedRequest("GET", f"https://{host}/v2{path}", status),),
        received_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC) + timedelta(minutes=minute),
    )


def test_reports_of_one_outage_from_different_pages_match() -> None:
    a, b = signature(outage_report(2, "/orders")), signature(outage_report(9, "/cart"))
    score, reasons = similarity(a, b)
    assert score >= RULES.threshold
    assert "api.shop.example.com failing for both within minutes" in reasons
    assert set(index_keys(a)) & set(index_keys(b))  # the index finds one from the other


@pytest.mark.parametrize(
    ("later", "why"),
    [
        (outage_report(45, "/cart"), "three quarters of an hour later: another incident"),
        (outage_report(9, "/cart", status=500), "a 500 is one action failing, not the service down"),
        (outage_report(9, "/cart", host="uploads.shop.example.com"), "another service"),
    ],
)
def test_what_is_not_the_same_outage(later: TriageInput, why: str) -> None:
    a, b = signature(outage_report(2, "/orders")), signature(later)
    score, reasons = similarity(a, b)
    assert score < RULES.threshold, why
    assert not any("failing for both" in r for r in reasons), why


def test_an_outage_breaking_pages_in_different_ways_is_not_called_different_errors() -> None:
    a = dataclasses.replace(
        outage_report(2, "/orders"),
        console=(ConsoleLine("error", "TypeError: orders.map is not a function"),),
    )
    b = dataclasses.replace(
        outage_report(6, "/cart"), console=(ConsoleLine("error", "RangeError: Invalid time value"),)
    )
    score, reasons = similarity(signature(a), signature(b))
    assert "different errors" not in reasons and score >= RULES.threshold


def test_the_outage_part_needs_the_time_and_survives_the_store() -> None:
    timeless = dataclasses.replace(outage_report(2, "/orders"), received_at=None)
    assert signature(timeless).outage == ()
    sig = signature(outage_report(2, "/orders"))
    assert sig.outage and Signature.from_json(sig.to_json()) == sig
    hostile = {**sig.to_json(), "outage": ["api@x", "@12", 7, "api.shop.example.com@12"]}
    assert Signature.from_json(hostile).outage == ("api.shop.example.com@12",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04T09:14:22Z", datetime(2026, 3, 4, 9, 14, 22, tzinfo=UTC)),
        ("2026-03-04T10:14:22+01:00", datetime(2026, 3, 4, 9, 14, 22, tzinfo=UTC)),
        ("2026-03-04 09:14:22", datetime(2026, 3, 4, 9, 14, 22, tzinfo=UTC)),  # no zone: UTC
        ("yesterday", None),
        ("2026-13-45T99:00:00Z", None),
        (1709543662, None),
        ("9" * 1000, None),
    ],
)
def test_a_lines_received_at_is_read_or_dropped(value: object, expected: datetime | None) -> None:
    assert TriageInput.from_mapping({"title": "x", "received_at": value}).received_at == expected


def test_a_blocked_beacon_or_another_companys_service_is_no_outage() -> None:
    """Ad blockers stop analytics beacons with no response (status 0); five unrelated bugs
    reported minutes apart, each with a blocked beacon, must stay five bugs."""
    beacon = FailedRequest("POST", "https://www.google-analytics.com/g/collect?v=2", 0)
    bugs = [
        dataclasses.replace(
            outage_report(minute, path),
            console=(
                ConsoleLine("error", f"TypeError: Cannot read properties of undefined (reading '{prop}')"),
            ),
            network=(beacon,),
        )
        for minute, path, prop in [(0, "/orders", "total"), (8, "/cart", "qty"), (16, "/profile", "avatar")]
    ]
    sigs = [signature(b) for b in bugs]
    assert all(s.outage == () for s in sigs)
    assert similarity(sigs[0], sigs[1])[0] < RULES.threshold
    assert signature(outage_report(2, "/orders", status=0)).outage  # the app's own API, no response: down
