"""The environment from a User-Agent and UA client hints: real strings, real header values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from bugline.intake.useragent import (
    MAX_UA_LENGTH,
    Environment,
    hints_from_headers,
    parse_environment,
)
from tests.support.bounded import terminates

# --- Real User-Agent strings ---------------------------------------------------------------------

# Chrome with the reduced UA: Windows 11 still says "Windows NT 10.0", the version "124.0.0.0".
CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
CHROME_WIN7 = (
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/109.0.0.0 Safari/537.36"
)
EDGE_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
# Samsung Internet with the reduced Android UA: "Android 10; K" whatever the phone.
SAMSUNG_REDUCED = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_REDUCED = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
# Chrome on an Android tablet: the same, without "Mobile".
CHROME_ANDROID_TABLET_REDUCED = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
CHROME_OS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
CURL = "curl/8.5.0"

# --- Real client hints, as navigator.userAgentData.getHighEntropyValues() returns them ----------

CHROME_WIN11_HINTS: dict[str, Any] = {
    "brands": [
        {"brand": "Chromium", "version": "124"},
        {"brand": "Google Chrome", "version": "124"},
        {"brand": "Not-A.Brand", "version": "99"},
    ],
    "fullVersionList": [
        {"brand": "Chromium", "version": "124.0.6367.91"},
        {"brand": "Google Chrome", "version": "124.0.6367.91"},
        {"brand": "Not-A.Brand", "version": "99.0.0.0"},
    ],
    "mobile": False,
    "platform": "Windows",
    "platformVersion": "15.0.0",
    "model": "",
    "architecture": "x86",
    "bitness": "64",
}
EDGE_WIN11_HINTS: dict[str, Any] = {
    "brands": [
        {"brand": "Chromium", "version": "124"},
        {"brand": "Microsoft Edge", "version": "124"},
        {"brand": "Not-A.Brand", "version": "99"},
    ],
    "fullVersionList": [
        {"brand": "Chromium", "version": "124.0.6367.91"},
        {"brand": "Microsoft Edge", "version": "124.0.2478.80"},
        {"brand": "Not-A.Brand", "version": "99.0.0.0"},
    ],
    "mobile": False,
    "platform": "Windows",
    "platformVersion": "15.0.0",
}
SAMSUNG_S23_HINTS: dict[str, Any] = {
    "brands": [
        {"brand": "Not)A;Brand", "version": "99"},
        {"brand": "Samsung Internet", "version": "24"},
        {"brand": "Chromium", "version": "117"},
    ],
    "fullVersionList": [
        {"brand": "Not)A;Brand", "version": "99.0.0.0"},
        {"brand": "Samsung Internet", "version": "24.0.3.4"},
        {"brand": "Chromium", "version": "117.0.5938.153"},
    ],
    "mobile": True,
    "platform": "Android",
    "platformVersion": "14.0.0",
    "model": "SM-S918B",
}
CHROME_MAC_HINTS: dict[str, Any] = {
    "brands": [
        {"brand": "Google Chrome", "version": "124"},
        {"brand": "Chromium", "version": "124"},
        {"brand": "Not/A)Brand", "version": "24"},
    ],
    "mobile": False,
    "platform": "macOS",
    "platformVersion": "14.4.1",
    "architecture": "arm",
}
BRAVE_WIN_HINTS: dict[str, Any] = {
    "fullVersionList": [
        {"brand": "Chromium", "version": "124.0.6367.91"},
        {"brand": "Brave", "version": "124.1.65.114"},
        {"brand": "Not-A.Brand", "version": "99.0.0.0"},
    ],
    "platform": "Windows",
    "platformVersion": "10.0.0",
}
# The same Chrome 124 as the Windows one, but sent as request headers.
CHROME_WIN11_HEADERS = {
    "Sec-CH-UA": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    "Sec-CH-UA-Full-Version-List": (
        '"Chromium";v="124.0.6367.91", "Google Chrome";v="124.0.6367.91", "Not-A.Brand";v="99.0.0.0"'
    ),
    "Sec-CH-UA-Mobile": "?0",
    "Sec-CH-UA-Platform": '"Windows"',
    "Sec-CH-UA-Platform-Version": '"15.0.0"',
    "Sec-CH-UA-Model": '""',
    "Sec-CH-UA-Arch": '"x86"',
    "Sec-CH-UA-Bitness": '"64"',
}


def env(
    browser_name: str | None,
    browser_version: str | None,
    os_name: str | None,
    os_version: str | None,
    device_type: str,
    device_vendor: str | None = None,
    device_model: str | None = None,
    source: str = "user-agent",
) -> Environment:
    return Environment(
        browser_name, browser_version, os_name, os_version, device_type, device_vendor, device_model, source
    )


UNKNOWN = env(None, None, None, None, "other")

PARSE_CASES: list[tuple[str, str | None, dict[str, Any] | None, Environment]] = [
    # Reduced Chrome alone: all an engineer learns is "Windows 10", "Chrome 124".
    ("chrome-win-reduced", CHROME_WIN, None, env("Chrome", "124", "Windows", "10", "desktop")),
    # ...and with hints, the truth: Windows 11 and the full version.
    (
        "chrome-win11-hints",
        CHROME_WIN,
        CHROME_WIN11_HINTS,
        env("Chrome", "124.0.6367.91", "Windows", "11", "desktop", source="client-hints"),
    ),
    ("edge-reduced", EDGE_WIN, None, env("Edge", "124", "Windows", "10", "desktop")),
    (
        "edge-win11-hints",
        EDGE_WIN,
        EDGE_WIN11_HINTS,
        env("Edge", "124.0.2478.80", "Windows", "11", "desktop", source="client-hints"),
    ),
    # Brave's UA is Chrome's word for word; only the hints tell.
    (
        "brave-hints",
        CHROME_WIN,
        BRAVE_WIN_HINTS,
        env("Brave", "124.1.65.114", "Windows", "10", "desktop", source="client-hints"),
    ),
    ("chrome-win7", CHROME_WIN7, None, env("Chrome", "109", "Windows", "7", "desktop")),
    ("firefox-linux", FIREFOX_LINUX, None, env("Firefox", "125", "Linux", None, "desktop")),
    (
        "chrome-mac-reduced",
        CHROME_MAC,
        None,
        env("Chrome", "124", "macOS", "10.15.7", "desktop", "Apple", "Mac"),
    ),
    (
        "chrome-mac-hints",
        CHROME_MAC,
        CHROME_MAC_HINTS,
        env("Chrome", "124", "macOS", "14.4.1", "desktop", "Apple", "Mac", source="client-hints"),
    ),
    ("safari-mac", SAFARI_MAC, None, env("Safari", "17.4.1", "macOS", "10.15.7", "desktop", "Apple", "Mac")),
    (
        "safari-iphone",
        SAFARI_IPHONE,
        None,
        env("Mobile Safari", "17.4.1", "iOS", "17.4.1", "mobile", "Apple", "iPhone"),
    ),
    (
        "safari-ipad",
        SAFARI_IPAD,
        None,
        env("Mobile Safari", "17.4", "iOS", "17.4", "tablet", "Apple", "iPad"),
    ),
    # The reduced Android UA's model "K" is a placeholder, not a device.
    ("samsung-reduced", SAMSUNG_REDUCED, None, env("Samsung Internet", "24", "Android", "10", "mobile")),
    (
        "samsung-s23-hints",
        SAMSUNG_REDUCED,
        SAMSUNG_S23_HINTS,
        env("Samsung Internet", "24.0.3.4", "Android", "14", "mobile", "Samsung", "SM-S918B", "client-hints"),
    ),
    (
        "chrome-android-pixel-hints",
        CHROME_ANDROID_REDUCED,
        {
            "fullVersionList": [
                {"brand": "Google Chrome", "version": "124.0.6367.82"},
                {"brand": "Chromium", "version": "124.0.6367.82"},
                {"brand": "Not-A.Brand", "version": "99.0.0.0"},
            ],
            "mobile": True,
            "platform": "Android",
            "platformVersion": "14.0.0",
            "model": "Pixel 8",
        },
        # The UA's more precise "Chrome Mobile" is kept; the version comes from the hints.
        env("Chrome Mobile", "124.0.6367.82", "Android", "14", "mobile", "Google", "Pixel 8", "client-hints"),
    ),
    (
        "chrome-android-tablet",
        CHROME_ANDROID_TABLET_REDUCED,
        {"mobile": False, "platform": "Android", "platformVersion": "13.0.0", "model": "SM-X710"},
        env("Chrome", "124", "Android", "13", "tablet", "Samsung", "SM-X710", "client-hints"),
    ),
    # mobile=true never turns what the UA knows is a tablet into a phone.
    (
        "tablet-stays-tablet",
        CHROME_ANDROID_TABLET_REDUCED,
        {"mobile": True},
        env("Chrome", "124", "Android", "10", "tablet"),
    ),
    (
        "form-factor-tablet",
        CHROME_ANDROID_REDUCED,
        {"formFactors": ["Tablet"]},
        env("Chrome Mobile", "124", "Android", "10", "tablet", source="client-hints"),
    ),
    ("chrome-os", CHROME_OS, None, env("Chrome", "124", "Chrome OS", "14541", "desktop")),
    (
        "chrome-os-hints",
        CHROME_OS,
        {"platform": "Chrome OS", "platformVersion": "15699.85.0"},
        env("Chrome", "124", "Chrome OS", "15699.85", "desktop", source="client-hints"),
    ),
    ("googlebot", GOOGLEBOT, None, env("Googlebot", "2.1", None, None, "bot")),
    ("googlebot-smartphone", GOOGLEBOT_SMARTPHONE, None, env("Googlebot", "2.1", "Android", "6.0.1", "bot")),
    # A crawler stays a crawler whatever it claims in hints.
    (
        "googlebot-with-mobile-hint",
        GOOGLEBOT,
        {"mobile": True, "formFactors": ["Tablet"]},
        env("Googlebot", "2.1", None, None, "bot"),
    ),
    ("curl", CURL, None, env("curl", "8.5", None, None, "other")),
    ("empty", "", None, UNKNOWN),
    ("none", None, None, UNKNOWN),
    ("whitespace", "   \t ", None, UNKNOWN),
    ("garbage", "\x00\xff\u202e)(;;", None, UNKNOWN),
    # No UA at all but hints: the hints are all we know.
    (
        "hints-only",
        None,
        CHROME_WIN11_HINTS,
        env("Chrome", "124.0.6367.91", "Windows", "11", "desktop", source="client-hints"),
    ),
    # Hints that agree with the UA change nothing: the source stays "user-agent".
    (
        "hints-agree",
        CHROME_WIN,
        {"brands": [{"brand": "Google Chrome", "version": "124"}], "platform": "Windows", "mobile": False},
        env("Chrome", "124", "Windows", "10", "desktop"),
    ),
    # A platform other than the UA's: the UA's OS version belonged to the other OS.
    (
        "platform-contradicts-ua",
        CHROME_WIN,
        {"platform": "Linux", "platformVersion": ""},
        env("Chrome", "124", "Linux", None, "desktop", source="client-hints"),
    ),
    # Only the engine announced: the UA's product name and version win.
    (
        "chromium-only-with-other-product",
        SAMSUNG_REDUCED,
        {"brands": [{"brand": "Chromium", "version": "117"}]},
        env("Samsung Internet", "24", "Android", "10", "mobile"),
    ),
    (
        "chromium-only-with-chrome",
        CHROME_WIN,
        {"fullVersionList": [{"brand": "Chromium", "version": "124.0.6367.91"}]},
        env("Chrome", "124.0.6367.91", "Windows", "10", "desktop", source="client-hints"),
    ),
    # fullVersionList without a usable entry falls back to brands.
    (
        "full-version-list-all-grease",
        CHROME_WIN,
        {
            "fullVersionList": [{"brand": "Not A(Brand", "version": "99.0.0.0"}],
            "brands": [{"brand": "Opera", "version": "110"}],
        },
        env("Opera", "110", "Windows", "10", "desktop", source="client-hints"),
    ),
    (
        "yandex-hints",
        CHROME_WIN,
        {"fullVersionList": [{"brand": "YaBrowser", "version": "24.4.1.899"}, {"brand": "Chromium"}]},
        env("Yandex Browser", "24.4.1.899", "Windows", "10", "desktop", source="client-hints"),
    ),
    (
        "desktop-from-hints",
        None,
        {"platform": "Linux", "mobile": False},
        env(None, None, "Linux", None, "desktop", source="client-hints"),
    ),
]


@pytest.mark.parametrize(
    ("user_agent", "hints", "expected"),
    [case[1:] for case in PARSE_CASES],
    ids=[case[0] for case in PARSE_CASES],
)
def test_parse_environment(
    user_agent: str | None, hints: dict[str, Any] | None, expected: Environment
) -> None:
    assert parse_environment(user_agent, hints) == expected


# Microsoft's table for Sec-CH-UA-Platform-Version on Windows.
# https://learn.microsoft.com/en-us/microsoft-edge/web-platform/how-to-detect-win11
WINDOWS_VERSIONS = [
    ("15.0.0", "11"),
    ("13.0.0", "11"),
    ("19.0.0", "11"),
    ("10.0.0", "10"),
    ("1.0.0", "10"),
    ("7.0.0", "10"),
    ("0.1.0", "7"),
    ("0.2.0", "8"),
    ("0.3.0", "8.1"),
    # Never shipped or not in the table: the UA's answer stays.
    ("0.0.0", "10"),
    ("11.0.0", "10"),
    ("12.0.0", "10"),
    ("not a version", "10"),
    ("15.0.0.0.0.0", "10"),
    ("", "10"),
]


@pytest.mark.parametrize(("platform_version", "expected"), WINDOWS_VERSIONS)
def test_windows_platform_version(platform_version: str, expected: str) -> None:
    result = parse_environment(CHROME_WIN, {"platform": "Windows", "platformVersion": platform_version})
    assert result.os_name == "Windows"
    assert result.os_version == expected


@pytest.mark.parametrize(
    ("platform_version", "expected"),
    [("14.4.1", "14.4.1"), ("14.0.0", "14"), ("14.4.0", "14.4"), ("10.15.7", "10.15.7"), ("0", "0")],
)
def test_mac_platform_version_trims_trailing_zeros(platform_version: str, expected: str) -> None:
    result = parse_environment(CHROME_MAC, {"platform": "macOS", "platformVersion": platform_version})
    assert result.os_version == expected


@pytest.mark.parametrize(
    "grease",
    [
        "Not A(Brand",
        "Not-A.Brand",
        "Not/A)Brand",
        " Not A;Brand",
        'Not"A\\Brand',
        "Not_A Brand",
        "Not;A=Brand",
    ],
)
def test_grease_brands_are_never_the_browser(grease: str) -> None:
    # GREASE comes first and is the only "specific" brand: still ignored.
    hints = {"brands": [{"brand": grease, "version": "99"}, {"brand": "Google Chrome", "version": "124"}]}
    assert parse_environment(None, hints).browser_name == "Chrome"
    assert parse_environment(None, {"brands": [{"brand": grease, "version": "99"}]}).browser_name is None


# --- Hints of the wrong shape are ignored, never a crash --------------------------------------------

BAD_HINTS: list[tuple[str, Any]] = [
    ("not-a-mapping-list", ["brands"]),
    ("not-a-mapping-str", "Windows"),
    ("not-a-mapping-int", 42),
    ("empty", {}),
    ("platform-number", {"platform": 10}),
    ("platform-list", {"platform": ["Windows"]}),
    ("platform-empty", {"platform": ""}),
    ("platform-unknown", {"platform": "Unknown"}),
    ("platform-huge", {"platform": "W" * 10_000}),
    ("platform-version-number", {"platformVersion": 15}),
    ("platform-version-bad", {"platformVersion": "15.0.0; DROP TABLE"}),
    ("brands-string", {"brands": "Google Chrome"}),
    ("brands-dict", {"brands": {"brand": "Edge"}}),
    ("brands-entries-wrong", {"brands": [1, None, "x", ["Edge", "1"], {"brand": 5, "version": "1"}]}),
    ("brands-huge-string", {"brands": [{"brand": "E" * 100_000, "version": "1"}]}),
    ("brand-control-chars", {"brands": [{"brand": "Edge\x00\n", "version": "1"}]}),
    # A real brand hidden after many entries is past the cap and not even looked at.
    (
        "brands-huge-list",
        {
            "brands": [{"brand": "Not A(Brand", "version": "1"}] * 100_000
            + [{"brand": "Opera", "version": "1"}]
        },
    ),
    ("full-version-list-none", {"fullVersionList": None}),
    ("mobile-string", {"mobile": "?1"}),
    ("mobile-int", {"mobile": 1}),
    ("model-number", {"model": 918}),
    ("model-empty", {"model": ""}),
    ("model-huge", {"model": "M" * 1_000}),
    ("form-factors-string", {"formFactors": "Tablet"}),
    ("form-factors-wrong-items", {"formFactors": [None, 3, {"Tablet": True}]}),
    ("unknown-keys", {"colour": "blue", 3: "x", None: None}),
]


@pytest.mark.parametrize("hints", [case[1] for case in BAD_HINTS], ids=[case[0] for case in BAD_HINTS])
def test_bad_hints_change_nothing(hints: Any) -> None:
    assert parse_environment(CHROME_WIN, hints) == parse_environment(CHROME_WIN)


def test_brand_with_bad_version_keeps_ua_version() -> None:
    hints = {"fullVersionList": [{"brand": "Microsoft Edge", "version": "124.x"}]}
    result = parse_environment(CHROME_WIN, hints)
    assert (result.browser_name, result.browser_version) == ("Edge", "124")


def test_hints_mapping_that_raises_is_survived() -> None:
    class Hostile(dict[str, Any]):
        def get(self, key: Any, default: Any = None) -> Any:
            raise RuntimeError("boom")

    assert parse_environment(CHROME_WIN, Hostile(platform="x")) == parse_environment(CHROME_WIN)


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (" * 10_000,
        "Android " + "1" * 10_000,  # the parser's int() refuses digit runs over 4,300 long
        "a;" * 50_000,
        "(" * 100_000,
        CHROME_WIN + " " + "x" * 1_000_000,
    ],
    ids=["nested-parens", "huge-number", "separators", "open-parens", "megabyte"],
)
def test_hostile_user_agents_are_cheap(user_agent: str) -> None:
    result = terminates(lambda: parse_environment(user_agent), "this user agent")
    assert result.device_type in {"desktop", "mobile", "tablet", "bot", "other"}


def test_only_the_first_part_of_a_long_user_agent_counts() -> None:
    padded = CHROME_WIN + " " * (MAX_UA_LENGTH - len(CHROME_WIN)) + " Firefox/125.0"
    assert parse_environment(padded) == parse_environment(CHROME_WIN)


# --- Sec-CH-UA-* headers ---------------------------------------------------------------------------


def test_hints_from_real_headers() -> None:
    assert hints_from_headers(CHROME_WIN11_HEADERS) == CHROME_WIN11_HINTS


def test_headers_and_javascript_hints_give_the_same_environment() -> None:
    from_headers = parse_environment(CHROME_WIN, hints_from_headers(CHROME_WIN11_HEADERS))
    assert from_headers == parse_environment(CHROME_WIN, CHROME_WIN11_HINTS)


def test_header_names_are_case_insensitive() -> None:
    mixed = {
        "SEC-CH-UA-PLATFORM": '"macOS"',
        "sec-ch-ua-platform-version": '"14.4.1"',
        "Sec-Ch-Ua-Mobile": "?1",
    }
    assert hints_from_headers(mixed) == {"platform": "macOS", "platformVersion": "14.4.1", "mobile": True}


def test_starlette_headers() -> None:
    headers = Headers(
        raw=[
            (b"sec-ch-ua", b'"Chromium";v="124"'),
            (b"sec-ch-ua", b'"Microsoft Edge";v="124"'),  # a list field split over two lines
            (b"sec-ch-ua-platform", b'"Windows"'),
            (b"sec-ch-ua-model", b'"A"'),
            (b"sec-ch-ua-model", b'"B"'),  # a single item sent twice: ambiguous, dropped
            (b"user-agent", CHROME_WIN.encode()),
        ]
    )
    assert hints_from_headers(headers) == {
        "brands": [{"brand": "Chromium", "version": "124"}, {"brand": "Microsoft Edge", "version": "124"}],
        "platform": "Windows",
    }


BRAND_HEADERS: list[tuple[str, str, list[dict[str, str]]]] = [
    (
        "chrome",
        '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        [
            {"brand": "Chromium", "version": "124"},
            {"brand": "Google Chrome", "version": "124"},
            {"brand": "Not-A.Brand", "version": "99"},
        ],
    ),
    # Chrome 89-era GREASE with an escaped quote and an escaped backslash.
    (
        "escaped-quotes",
        r'"Google Chrome";v="89", "Chromium";v="89", "Not\"A\\Brand";v="99"',
        [
            {"brand": "Google Chrome", "version": "89"},
            {"brand": "Chromium", "version": "89"},
            {"brand": 'Not"A\\Brand', "version": "99"},
        ],
    ),
    (
        "leading-space-grease",
        '" Not A;Brand";v="99", "Chromium";v="90"',
        [{"brand": " Not A;Brand", "version": "99"}, {"brand": "Chromium", "version": "90"}],
    ),
    ("comma-inside-quotes", '"a, b";v="1"', [{"brand": "a, b", "version": "1"}]),
    ("no-spaces", '"A";v="1","B";v="2"', [{"brand": "A", "version": "1"}, {"brand": "B", "version": "2"}]),
    (
        "tabs-around-commas",
        '"A";v="1"\t,\t"B";v="2"',
        [{"brand": "A", "version": "1"}, {"brand": "B", "version": "2"}],
    ),
    ("extra-params", '"A";x=1;v="1";y', [{"brand": "A", "version": "1"}]),
    # Malformed members are skipped, the rest kept.
    ("token-brand", 'Chromium;v="124", "Opera";v="110"', [{"brand": "Opera", "version": "110"}]),
    ("integer-version", '"Opera";v=110, "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("token-version", '"Opera";v=a110, "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("no-version", '"Opera", "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("inner-list", '("a" "b");v="1", "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("bad-escape", r'"A\n";v="1", "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("junk-after-item", '"A";v="1" junk, "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("bad-param-key", '"A";V="1", "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("non-ascii", '"Ä";v="1", "B";v="2"', [{"brand": "B", "version": "2"}]),
    ("unterminated", '"B";v="2", "A;v="1', [{"brand": "B", "version": "2"}]),
    ("trailing-comma", '"B";v="2",', [{"brand": "B", "version": "2"}]),
    ("empty-members", ',,, "B";v="2" ,,', [{"brand": "B", "version": "2"}]),
    ("empty", "", []),
    ("garbage", '";;;==="', []),
    ("only-quote", '"', []),
]


@pytest.mark.parametrize(
    ("value", "expected"), [case[1:] for case in BRAND_HEADERS], ids=[case[0] for case in BRAND_HEADERS]
)
def test_brand_list_header(value: str, expected: list[dict[str, str]]) -> None:
    hints = hints_from_headers({"Sec-CH-UA": value, "Sec-CH-UA-Full-Version-List": value})
    assert hints.get("brands", []) == expected
    assert hints.get("fullVersionList", []) == expected


ITEM_HEADERS: list[tuple[str, str, str, Any]] = [
    ("mobile-true", "Sec-CH-UA-Mobile", "?1", True),
    ("mobile-false", "Sec-CH-UA-Mobile", "?0", False),
    ("mobile-spaces", "Sec-CH-UA-Mobile", " ?1 ", True),
    ("mobile-digit", "Sec-CH-UA-Mobile", "1", None),
    ("mobile-bad", "Sec-CH-UA-Mobile", "?2", None),
    ("mobile-string", "Sec-CH-UA-Mobile", '"?1"', None),
    ("mobile-two", "Sec-CH-UA-Mobile", "?1, ?0", None),
    ("platform", "Sec-CH-UA-Platform", '"Windows"', "Windows"),
    ("platform-with-param", "Sec-CH-UA-Platform", '"Windows";x=1', "Windows"),
    ("platform-token", "Sec-CH-UA-Platform", "Windows", None),
    ("platform-unterminated", "Sec-CH-UA-Platform", '"Windows', None),
    ("platform-two", "Sec-CH-UA-Platform", '"Windows", "Linux"', None),
    ("platform-version", "Sec-CH-UA-Platform-Version", '"15.0.0"', "15.0.0"),
    ("model-empty", "Sec-CH-UA-Model", '""', ""),
    ("model", "Sec-CH-UA-Model", '"SM-S918B"', "SM-S918B"),
    ("model-escaped", "Sec-CH-UA-Model", r'"a \"b\""', 'a "b"'),
    ("arch", "Sec-CH-UA-Arch", '"arm"', "arm"),
    ("bitness", "Sec-CH-UA-Bitness", '"64"', "64"),
    ("bitness-integer", "Sec-CH-UA-Bitness", "64", None),
    ("huge", "Sec-CH-UA-Model", '"' + "M" * 5_000 + '"', None),
]

HINT_KEYS = {
    "Sec-CH-UA-Mobile": "mobile",
    "Sec-CH-UA-Platform": "platform",
    "Sec-CH-UA-Platform-Version": "platformVersion",
    "Sec-CH-UA-Model": "model",
    "Sec-CH-UA-Arch": "architecture",
    "Sec-CH-UA-Bitness": "bitness",
}


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [case[1:] for case in ITEM_HEADERS],
    ids=[case[0] for case in ITEM_HEADERS],
)
def test_item_header(header: str, value: str, expected: Any) -> None:
    hints = hints_from_headers({header: value})
    if expected is None:
        assert hints == {}
    else:
        assert hints == {HINT_KEYS[header]: expected}


def test_form_factors_header() -> None:
    hints = hints_from_headers({"Sec-CH-UA-Form-Factors": '"Tablet", "Desktop"'})
    assert hints == {"formFactors": ["Tablet", "Desktop"]}
    assert parse_environment(CHROME_ANDROID_REDUCED, hints).device_type == "tablet"


def test_brand_list_is_capped() -> None:
    value = ", ".join(f'"B{i}";v="{i}"' for i in range(40))
    # Over the header length cap: ignored entirely.
    assert hints_from_headers({"Sec-CH-UA": value * 20}) == {}
    brands = hints_from_headers({"Sec-CH-UA": value})["brands"]
    assert len(brands) == 16
    assert brands[0] == {"brand": "B0", "version": "0"}


def test_no_headers() -> None:
    assert hints_from_headers({}) == {}
    assert hints_from_headers({"User-Agent": CHROME_WIN, "Accept": "*/*"}) == {}


# --- Properties ------------------------------------------------------------------------------------

HINT_NAMES = [
    "brands",
    "fullVersionList",
    "mobile",
    "platform",
    "platformVersion",
    "model",
    "architecture",
    "bitness",
    "formFactors",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
brand_entries = st.fixed_dictionaries(
    {"brand": st.text(max_size=30) | json_values, "version": st.text(max_size=20) | json_values}
)
hint_dicts = st.dictionaries(
    st.sampled_from(HINT_NAMES) | st.text(max_size=10),
    json_values | st.lists(brand_entries, max_size=6),
    max_size=10,
)
real_user_agents = st.sampled_from(
    [CHROME_WIN, EDGE_WIN, FIREFOX_LINUX, SAFARI_IPHONE, SAFARI_IPAD, SAMSUNG_REDUCED, GOOGLEBOT, CURL]
)


@settings(max_examples=150, deadline=None)
@given(user_agent=st.none() | st.text(max_size=300) | real_user_agents, hints=st.none() | hint_dicts)
def test_parse_environment_never_raises(user_agent: str | None, hints: dict[str, Any] | None) -> None:
    result = parse_environment(user_agent, hints)
    assert result.device_type in {"desktop", "mobile", "tablet", "bot", "other"}
    assert result.source in {"user-agent", "client-hints"}
    for value in (result.browser_name, result.browser_version, result.os_name, result.os_version):
        assert value is None or (isinstance(value, str) and 0 < len(value) <= 1_000)


header_names = st.sampled_from(
    [
        "Sec-CH-UA",
        "sec-ch-ua-full-version-list",
        "SEC-CH-UA-MOBILE",
        "Sec-CH-UA-Platform",
        "Sec-CH-UA-Platform-Version",
        "Sec-CH-UA-Model",
        "Sec-CH-UA-Arch",
        "Sec-CH-UA-Bitness",
        "Sec-CH-UA-Form-Factors",
    ]
)
header_text = st.text(alphabet=st.sampled_from('"\\;,=?01 \tabvAB.-()\x00é'), max_size=60) | st.text(
    max_size=60
)


@settings(max_examples=300, deadline=None)
@given(headers=st.dictionaries(header_names | st.text(max_size=10), header_text, max_size=9))
def test_hints_from_headers_never_raises(headers: dict[str, str]) -> None:
    hints = hints_from_headers(headers)
    for key in ("brands", "fullVersionList"):
        for entry in hints.get(key, []):
            assert set(entry) == {"brand", "version"}
            assert all(isinstance(value, str) for value in entry.values())
    assert hints.get("mobile", False) in (True, False)
    parse_environment(CHROME_WIN, hints)


def _sf_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


printable_ascii = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@settings(max_examples=200, deadline=None)
@given(brands=st.lists(st.tuples(printable_ascii, printable_ascii), max_size=8))
def test_brand_header_round_trip(brands: list[tuple[str, str]]) -> None:
    value = ", ".join(f"{_sf_string(brand)};v={_sf_string(version)}" for brand, version in brands)
    parsed = hints_from_headers({"Sec-CH-UA": value}).get("brands", [])
    assert parsed == [{"brand": brand, "version": version} for brand, version in brands]
