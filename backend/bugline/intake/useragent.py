"""The reporter's environment (browser, OS, device) from the User-Agent, improved by UA client hints.

Pure functions, no I/O. Everything here is fed by the reporter's browser, i.e. by anyone on
the internet, so every input is length-capped and type-checked and nothing raises.

Why client hints matter: Chrome's "reduced" User-Agent freezes what an engineer needs most.
Every Windows is "Windows NT 10.0" (Windows 11 included), every Mac "Mac OS X 10_15_7",
every Android "Android 10; K" (no model), and the browser version is "<major>.0.0.0".
https://www.chromium.org/updates/ua-reduction/
The real values are only available as User-Agent client hints, either sent by the widget
from ``navigator.userAgentData.getHighEntropyValues([...])`` or as ``Sec-CH-UA-*`` request
headers. https://wicg.github.io/ua-client-hints/
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import user_agents

__all__ = ["Environment", "hints_from_headers", "parse_environment"]

# Real User-Agent strings are a few hundred characters. The parser runs a few hundred
# regular expressions over whatever it is given, so a hostile multi-kilobyte header must
# not reach it whole (it also fails outright on very long digit runs).
MAX_UA_LENGTH: Final = 1_000
# Caps for the hints, which arrive as JSON from the widget: a real brand list has three or
# four entries, and real brand names, platforms and models are short.
MAX_BRANDS: Final = 16
MAX_HINT_STRING: Final = 100
MAX_MODEL_LENGTH: Final = 64
MAX_FORM_FACTORS: Final = 8
# A Sec-CH-UA-* header longer than this is not from a browser; it is ignored.
MAX_HEADER_LENGTH: Final = 2_048

SOURCE_USER_AGENT: Final = "user-agent"
SOURCE_CLIENT_HINTS: Final = "client-hints"

DEVICE_TYPES: Final = frozenset({"desktop", "mobile", "tablet", "bot", "other"})


@dataclass(frozen=True, slots=True)
class Environment:
    """What the reporter was using. Every field may be unknown except the two enums.

    device_type is one of "desktop", "mobile", "tablet", "bot", "other".
    source is "client-hints" when the hints changed anything the User-Agent alone gave,
    otherwise "user-agent".
    """

    browser_name: str | None
    browser_version: str | None
    os_name: str | None
    os_version: str | None
    device_type: str
    device_vendor: str | None
    device_model: str | None
    source: str


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------

# A dotted version as browsers report it: "124", "124.0.6367.91", "14.4.1", "15.0.0".
_VERSION_RE: Final = re.compile(r"[0-9]{1,8}(?:\.[0-9]{1,8}){0,4}")


def _trim_version(version: str) -> str:
    """Drop trailing ".0" components ("124.0.0" -> "124", "14.4.0" -> "14.4", "0" stays).

    Applied to every version from either source, so that the reduced UA's "124.0.0.0"
    and the hints' "124" compare equal and a report never shows fake zeros.
    """
    parts = version.split(".")
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return ".".join(parts)


def _clean_version(value: object) -> str | None:
    """A version string if ``value`` is one, trimmed; None for anything else."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not _VERSION_RE.fullmatch(value):
        return None
    return _trim_version(value)


def _clean_text(value: object, limit: int = MAX_HINT_STRING) -> str | None:
    """A short, printable, non-empty string, or None. Longer strings are dropped, not cut:
    a truncated brand or model name would be wrong, and real ones are short."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        return None
    return value


# ---------------------------------------------------------------------------------------------
# The User-Agent string, via the `user-agents` library (ua-parser's regexes underneath)
# https://pypi.org/project/user-agents/
# ---------------------------------------------------------------------------------------------

# ua-parser's OS family names, mapped to the vocabulary of the Sec-CH-UA-Platform hint so
# the two sources agree ("Mac OS X" in the UA is "macOS" in the hints).
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-CH-UA-Platform
_UA_OS_NAMES: Final[Mapping[str, str]] = {
    "Mac OS X": "macOS",
    "Mac OS": "macOS",
}

# Device "brands" ua-parser uses as placeholders rather than real vendors.
_PLACEHOLDER_VENDORS: Final = frozenset({"Spider"})

# The reduced Android UA replaces the model with the literal "K".
# https://www.chromium.org/updates/ua-reduction/ ("Sample UA strings")
_REDUCED_ANDROID_MODEL: Final = "K"


def _known(value: str | None) -> str | None:
    """ua-parser reports unknown fields as "Other" or ""; both mean None here."""
    if value is None:
        return None
    value = value.strip()
    if not value or value == "Other":
        return None
    return value


# A few hundred browser builds send nearly every report: the parse (regexes over the whole
# string) is done once per distinct User-Agent. Environment is frozen, so sharing it is safe.
@functools.lru_cache(maxsize=1024)
def _from_known_string(user_agent: str) -> Environment:
    return _from_user_agent(user_agent)


def _from_user_agent(user_agent: str | None) -> Environment:
    """The environment as far as the User-Agent string alone tells it."""
    unknown = Environment(None, None, None, None, "other", None, None, SOURCE_USER_AGENT)
    if not isinstance(user_agent, str):
        return unknown
    ua_string = user_agent[:MAX_UA_LENGTH].strip()
    if not ua_string:
        return unknown
    try:
        parsed = user_agents.parse(ua_string)
        browser_name = _known(parsed.browser.family)
        browser_version = _clean_version(parsed.browser.version_string)
        os_family = _known(parsed.os.family)
        os_version = _clean_version(parsed.os.version_string)
        vendor = _known(parsed.device.brand)
        model = _known(parsed.device.model)
        is_bot = bool(parsed.is_bot)
        is_tablet = bool(parsed.is_tablet)
        is_mobile = bool(parsed.is_mobile)
        is_pc = bool(parsed.is_pc)
    except Exception:
        # The library is regex tables plus int() conversions; anything it trips over in
        # a hostile header means "we don't know", never a failed report.
        return unknown

    os_name = _UA_OS_NAMES.get(os_family, os_family) if os_family else None

    if vendor is not None and (vendor.startswith("Generic") or vendor in _PLACEHOLDER_VENDORS):
        vendor = None
    if is_bot:
        # ua-parser files crawlers under the device "Spider" with model "Desktop" or
        # "Smartphone": that is not hardware anyone reported a bug from.
        vendor = None
        model = None
    if model == _REDUCED_ANDROID_MODEL and vendor is None:
        model = None

    if is_bot:
        device_type = "bot"
    elif is_tablet:
        device_type = "tablet"
    elif is_mobile:
        device_type = "mobile"
    elif is_pc:
        device_type = "desktop"
    else:
        device_type = "other"

    return Environment(
        browser_name=browser_name,
        browser_version=browser_version,
        os_name=os_name,
        os_version=os_version,
        device_type=device_type,
        device_vendor=vendor,
        device_model=model,
        source=SOURCE_USER_AGENT,
    )


# ---------------------------------------------------------------------------------------------
# Client hints
# ---------------------------------------------------------------------------------------------


def _is_grease(brand: str) -> bool:
    """Chromium adds a made-up brand such as "Not A(Brand", "Not-A.Brand" or "Not/A)Brand"
    (with varying punctuation) so servers can't rely on list order or exact contents.
    https://wicg.github.io/ua-client-hints/#grease
    """
    return "Not" in brand and "Brand" in brand


# Hint brand -> (the name we report, the ua-parser family names meaning the same browser).
# When the User-Agent already names the browser in one of those ways, its (more precise,
# e.g. "Chrome Mobile") name is kept and only the version comes from the hints.
_BRANDS: Final[Mapping[str, tuple[str, frozenset[str]]]] = {
    "Google Chrome": ("Chrome", frozenset({"Chrome", "Chrome Mobile", "Chrome Mobile iOS"})),
    "Microsoft Edge": ("Edge", frozenset({"Edge", "Edge Mobile"})),
    "Opera": ("Opera", frozenset({"Opera", "Opera Mobile"})),
    "Opera GX": ("Opera GX", frozenset({"Opera GX"})),
    "Brave": ("Brave", frozenset({"Brave"})),
    "Samsung Internet": ("Samsung Internet", frozenset({"Samsung Internet"})),
    "YaBrowser": ("Yandex Browser", frozenset({"Yandex Browser"})),
    "Yandex": ("Yandex Browser", frozenset({"Yandex Browser"})),
    "Vivaldi": ("Vivaldi", frozenset({"Vivaldi"})),
    "Android WebView": ("Chrome Mobile WebView", frozenset({"Chrome Mobile WebView"})),
    "Chromium": ("Chromium", frozenset({"Chromium", "Chrome", "Chrome Mobile", "Chrome Mobile WebView"})),
}
# Brands that every Chromium-based browser may list next to its own name; any other
# (non-GREASE) brand is the specific product and wins. "Google Chrome" is itself a product,
# but derivatives have been seen listing it alongside their own name, so it ranks after them.
_GENERIC_BRAND_RANK: Final[Mapping[str, int]] = {"Google Chrome": 1, "Chromium": 2}


def _brand_list(value: object) -> list[tuple[str, str | None]]:
    """[(brand, version)] from a hints brand list, skipping GREASE and malformed entries."""
    if not isinstance(value, list | tuple):
        return []
    brands: list[tuple[str, str | None]] = []
    for entry in value[:MAX_BRANDS]:
        if not isinstance(entry, Mapping):
            continue
        brand = _clean_text(entry.get("brand"))
        if brand is None or _is_grease(brand):
            continue
        brands.append((brand, _clean_version(entry.get("version"))))
    return brands


def _pick_brand(brands: list[tuple[str, str | None]]) -> tuple[str, str | None] | None:
    """The most specific brand: a product name over "Google Chrome" over "Chromium"."""
    if not brands:
        return None
    # min() is stable, so among equally specific brands the first listed wins.
    return min(brands, key=lambda item: _GENERIC_BRAND_RANK.get(item[0], 0))


# Sec-CH-UA-Platform values -> the OS names we report (the same vocabulary).
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-CH-UA-Platform
_PLATFORMS: Final[Mapping[str, str]] = {
    "windows": "Windows",
    "macos": "macOS",
    "linux": "Linux",
    "android": "Android",
    "chrome os": "Chrome OS",
    "chromeos": "Chrome OS",
    "chromium os": "Chromium OS",
    "ios": "iOS",
    "fuchsia": "Fuchsia",
}
_DESKTOP_PLATFORMS: Final = frozenset({"Windows", "macOS", "Linux", "Chrome OS", "Chromium OS"})


def _platform_name(value: object) -> str | None:
    text = _clean_text(value, 32)
    if text is None:
        return None
    if text.lower() == "unknown":
        return None
    return _PLATFORMS.get(text.lower(), text)


def _windows_version(platform_version: str) -> str | None:
    """Windows release from Sec-CH-UA-Platform-Version, which is not the NT version.

    Microsoft's rule: major 13 and up is Windows 11, 1 to 10 is Windows 10, 0 is older.
    https://learn.microsoft.com/en-us/microsoft-edge/web-platform/how-to-detect-win11
    For major 0 Chromium reports the minor as 1 = Windows 7, 2 = Windows 8, 3 = Windows 8.1
    (the "platform version" notes of https://wicg.github.io/ua-client-hints/).
    Anything else (11 and 12 were never shipped) is None: the caller keeps the UA's answer.
    """
    parts = [int(part) for part in platform_version.split(".")]
    major = parts[0]
    minor = parts[1] if len(parts) > 1 else 0
    if major >= 13:
        return "11"
    if 1 <= major <= 10:
        return "10"
    if major == 0:
        return {1: "7", 2: "8", 3: "8.1"}.get(minor)
    return None


def _platform_version(os_name: str | None, value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not _VERSION_RE.fullmatch(value):
        return None
    if os_name == "Windows":
        return _windows_version(value)
    return _trim_version(value)


def _form_factors(value: object) -> set[str]:
    if not isinstance(value, list | tuple):
        return set()
    return {text.lower() for item in value[:MAX_FORM_FACTORS] if (text := _clean_text(item, 32))}


# A model string safe to embed in a synthetic User-Agent for vendor lookup: no characters
# that would end the UA's parenthesised comment or split its tokens.
_MODEL_FOR_LOOKUP_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+\-]{0,63}")


# Reports from one phone model come in bursts; the lookup is two full UA parses.
@functools.lru_cache(maxsize=512)
def _vendor_for_android_model(model: str) -> str | None:
    """The vendor ua-parser's device table gives an Android model ("SM-S918B" -> "Samsung").

    The reduced UA hides the model, so its vendor is unknown too; asking the same parser
    about a UA carrying the hinted model recovers it without a second model database.
    Pre-reduction UAs carried "<model> Build/<id>", which some of the table's rules need
    (Samsung tablets); others match the bare model, so both forms are tried.
    """
    if not _MODEL_FOR_LOOKUP_RE.fullmatch(model):
        return None
    for device in (f"{model} Build/UP1A", model):
        synthetic = f"Mozilla/5.0 (Linux; Android 14; {device}) AppleWebKit/537.36 (KHTML, like Gecko)"
        try:
            vendor = _known(user_agents.parse(synthetic).device.brand)
        except Exception:
            return None
        if vendor is not None and not vendor.startswith("Generic") and vendor not in _PLACEHOLDER_VENDORS:
            return vendor
    return None


def _apply_hints(base: Environment, hints: Mapping[Any, Any]) -> Environment:
    browser_name = base.browser_name
    browser_version = base.browser_version
    os_name = base.os_name
    os_version = base.os_version
    device_type = base.device_type
    vendor = base.device_vendor
    model = base.device_model

    # Browser: fullVersionList has the real full version; brands only the major.
    picked = _pick_brand(_brand_list(hints.get("fullVersionList"))) or _pick_brand(
        _brand_list(hints.get("brands"))
    )
    if picked is not None:
        brand, version = picked
        name, same_as = _BRANDS.get(brand, (brand, frozenset({brand})))
        # When only the engine announced itself (an embedded or unbranded Chromium) and the
        # UA names some other product, the UA's product name and version are more specific
        # than the engine's; keep them.
        engine_only = brand == "Chromium" and browser_name is not None and browser_name not in same_as
        if not engine_only:
            if browser_name not in same_as:
                browser_name = name
            if version is not None:
                browser_version = version

    # OS: the platform names it; the platform version is real where the UA's is frozen.
    platform = _platform_name(hints.get("platform"))
    if platform is not None and platform != os_name:
        os_name = platform
        os_version = None  # the UA's version belonged to another OS
    hinted_os_version = _platform_version(os_name, hints.get("platformVersion"))
    if hinted_os_version is not None:
        os_version = hinted_os_version

    # Device model: the reduced UA's is the placeholder "K"; the hint has the real one.
    hinted_model = _clean_text(hints.get("model"), MAX_MODEL_LENGTH)
    if hinted_model is not None and hinted_model != model:
        model = hinted_model
        vendor = _vendor_for_android_model(hinted_model) if os_name == "Android" else None

    # Device type. A crawler stays a crawler whatever hints it sends.
    if device_type != "bot":
        form_factors = _form_factors(hints.get("formFactors"))
        mobile = hints.get("mobile")
        if "tablet" in form_factors:
            device_type = "tablet"
        elif mobile is True and device_type != "tablet":
            device_type = "mobile"
        elif device_type == "other":
            if "mobile" in form_factors:
                device_type = "mobile"
            elif "desktop" in form_factors or (mobile is False and os_name in _DESKTOP_PLATFORMS):
                device_type = "desktop"

    hinted = Environment(
        browser_name=browser_name,
        browser_version=browser_version,
        os_name=os_name,
        os_version=os_version,
        device_type=device_type,
        device_vendor=vendor,
        device_model=model,
        source=SOURCE_USER_AGENT,
    )
    if hinted == base:
        return base
    return Environment(
        browser_name=browser_name,
        browser_version=browser_version,
        os_name=os_name,
        os_version=os_version,
        device_type=device_type,
        device_vendor=vendor,
        device_model=model,
        source=SOURCE_CLIENT_HINTS,
    )


def parse_environment(user_agent: str | None, hints: Mapping[str, Any] | None = None) -> Environment:
    """The reporter's environment from the User-Agent, with client hints preferred where given.

    ``hints`` is the object from ``navigator.userAgentData.getHighEntropyValues([...])``
    (keys brands, fullVersionList, mobile, platform, platformVersion, model, architecture,
    bitness, formFactors) or what :func:`hints_from_headers` made of Sec-CH-UA-* headers.
    Unknown keys and values of the wrong type are ignored. Never raises.
    """
    base = _from_known_string(user_agent) if isinstance(user_agent, str) else _from_user_agent(user_agent)
    if not isinstance(hints, Mapping) or not hints:
        return base
    try:
        return _apply_hints(base, hints)
    except Exception:
        # Defence in depth: every hint is type-checked above, but a Mapping subclass with a
        # misbehaving .get() must not turn a bug report into a 500.
        return base


# ---------------------------------------------------------------------------------------------
# Sec-CH-UA-* headers -> the same shape as the widget's hints
# ---------------------------------------------------------------------------------------------

# Structured Field Values (RFC 8941), the syntax of all Sec-CH-UA-* headers.
# https://www.rfc-editor.org/rfc/rfc8941#section-4.2
_SF_KEY_RE: Final = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SF_TOKEN_RE: Final = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_SF_NUMBER_RE: Final = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,3})?")
_SF_BYTES_RE: Final = re.compile(r":[A-Za-z0-9+/=]*:")

SfBareItem: TypeAlias = str | int | float | bool | bytes


class _SfToken(str):
    """An sf-token (unquoted), kept apart from sf-strings: hints are always quoted strings."""

    __slots__ = ()


class _SfError(ValueError):
    pass


class _SfParser:
    """A small RFC 8941 parser for sf-lists and sf-items of bare items with parameters.

    Unlike the RFC, which fails a whole field on any error, a malformed list member is
    skipped (up to the next top-level comma) so one bad brand doesn't lose the others.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip_sp(self) -> None:
        while self._peek() == " ":
            self.pos += 1

    def _skip_ows(self) -> None:
        while self._peek() in (" ", "\t") and self.pos < len(self.text):
            self.pos += 1

    def _string(self) -> str:
        # sf-string: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE, printable ASCII only.
        assert self._peek() == '"'
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                nxt = self._peek()
                if nxt not in ('"', "\\"):
                    raise _SfError("bad escape")
                out.append(nxt)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not (" " <= char <= "~"):
                raise _SfError("non-printable character in string")
            else:
                out.append(char)
        raise _SfError("unterminated string")

    def _bare_item(self) -> SfBareItem:
        char = self._peek()
        if char == '"':
            return self._string()
        if char == "?":
            value = self.text[self.pos : self.pos + 2]
            if value not in ("?0", "?1"):
                raise _SfError("bad boolean")
            self.pos += 2
            return value == "?1"
        for pattern in (_SF_NUMBER_RE, _SF_TOKEN_RE, _SF_BYTES_RE):
            match = pattern.match(self.text, self.pos)
            if match:
                self.pos = match.end()
                lexeme = match.group()
                if pattern is _SF_NUMBER_RE:
                    return float(lexeme) if "." in lexeme else int(lexeme)
                if pattern is _SF_TOKEN_RE:
                    return _SfToken(lexeme)
                return lexeme.encode("ascii")
        raise _SfError("bad bare item")

    def _parameters(self) -> dict[str, SfBareItem]:
        params: dict[str, SfBareItem] = {}
        while self._peek() == ";":
            self.pos += 1
            self._skip_sp()
            match = _SF_KEY_RE.match(self.text, self.pos)
            if not match:
                raise _SfError("bad parameter key")
            self.pos = match.end()
            value: SfBareItem = True
            if self._peek() == "=":
                self.pos += 1
                value = self._bare_item()
            params[match.group()] = value
        return params

    def item(self) -> tuple[SfBareItem, dict[str, SfBareItem]]:
        self._skip_sp()
        value = self._bare_item()
        params = self._parameters()
        self._skip_sp()
        if self.pos != len(self.text):
            raise _SfError("trailing characters")
        return value, params

    def _skip_member(self) -> None:
        """Advance past the rest of a malformed member, to just after the next top-level comma."""
        in_string = False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if in_string:
                if char == "\\":
                    self.pos += 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == ",":
                return

    def members(self, limit: int) -> list[tuple[SfBareItem, dict[str, SfBareItem]]]:
        members: list[tuple[SfBareItem, dict[str, SfBareItem]]] = []
        while self.pos < len(self.text) and len(members) < limit:
            self._skip_ows()
            if self.pos >= len(self.text):
                break
            start = self.pos
            try:
                if self._peek() == "(":
                    raise _SfError("inner lists are not used by UA client hints")
                value = self._bare_item()
                params = self._parameters()
                self._skip_ows()
                if self.pos < len(self.text):
                    if self._peek() != ",":
                        raise _SfError("expected a comma")
                    self.pos += 1
                members.append((value, params))
            except _SfError:
                # Resume from where the member started so a comma inside its quotes
                # isn't taken for the separator.
                self.pos = start
                self._skip_member()
        return members


def _header_string(value: str) -> str | None:
    """An sf-string header value ("Windows"), or None when malformed."""
    try:
        item, _params = _SfParser(value).item()
    except _SfError:
        return None
    if isinstance(item, str) and not isinstance(item, _SfToken):
        return item
    return None


def _header_brands(value: str) -> list[dict[str, str]]:
    """Sec-CH-UA / Sec-CH-UA-Full-Version-List -> [{"brand": ..., "version": ...}].

    Format: a list of sf-strings, each with a "v" parameter carrying the version.
    https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-CH-UA
    """
    brands: list[dict[str, str]] = []
    for item, params in _SfParser(value).members(MAX_BRANDS):
        version = params.get("v")
        if (
            isinstance(item, str)
            and not isinstance(item, _SfToken)
            and isinstance(version, str)
            and not isinstance(version, _SfToken)
        ):
            brands.append({"brand": item, "version": version})
    return brands


def _header_string_list(value: str) -> list[str]:
    return [
        item
        for item, _params in _SfParser(value).members(MAX_FORM_FACTORS)
        if isinstance(item, str) and not isinstance(item, _SfToken)
    ]


def _header_boolean(value: str) -> bool | None:
    try:
        item, _params = _SfParser(value).item()
    except _SfError:
        return None
    return item if isinstance(item, bool) else None


# Header -> (hint key, how to read it). https://wicg.github.io/ua-client-hints/ ("HTTP Headers")
_HEADER_HINTS: Final[Mapping[str, tuple[str, str]]] = {
    "sec-ch-ua": ("brands", "brands"),
    "sec-ch-ua-full-version-list": ("fullVersionList", "brands"),
    "sec-ch-ua-mobile": ("mobile", "boolean"),
    "sec-ch-ua-platform": ("platform", "string"),
    "sec-ch-ua-platform-version": ("platformVersion", "string"),
    "sec-ch-ua-model": ("model", "string"),
    "sec-ch-ua-arch": ("architecture", "string"),
    "sec-ch-ua-bitness": ("bitness", "string"),
    "sec-ch-ua-form-factors": ("formFactors", "strings"),
}
_LIST_KINDS: Final = frozenset({"brands", "strings"})


def hints_from_headers(headers: Mapping[str, str]) -> dict[str, Any]:
    """The Sec-CH-UA-* request headers as a hints dict for :func:`parse_environment`.

    Header names are matched case-insensitively. Missing or malformed headers are left out
    of the result; malformed members of a brand list are skipped. Never raises.
    """
    collected: dict[str, list[str]] = {}
    try:
        # Starlette's Headers.items() yields every (name, value) pair, repeated names
        # included; a plain dict yields one value per key. Names are compared lowercased.
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            key = name.strip().lower()
            if key in _HEADER_HINTS:
                collected.setdefault(key, []).append(value)
    except Exception:
        return {}

    hints: dict[str, Any] = {}
    for header, values in collected.items():
        hint, kind = _HEADER_HINTS[header]
        if kind in _LIST_KINDS:
            # A list field split over several header lines is one list (RFC 9110 5.3).
            value = ", ".join(values)
        elif len(values) == 1:
            value = values[0]
        else:
            continue  # a single-item field sent twice is ambiguous; trust neither
        if len(value) > MAX_HEADER_LENGTH:
            continue
        if kind == "brands":
            brands = _header_brands(value)
            if brands:
                hints[hint] = brands
        elif kind == "strings":
            strings = _header_string_list(value)
            if strings:
                hints[hint] = strings
        elif kind == "boolean":
            flag = _header_boolean(value)
            if flag is not None:
                hints[hint] = flag
        else:
            text = _header_string(value)
            if text is not None:
                hints[hint] = text
    return hints
