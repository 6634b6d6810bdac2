"""Duplicate signatures: what makes two reports the same problem, as plain data (pure).

A report's :class:`Signature` keeps the parts that stay the same when different customers
hit the same bug: the error message with its data taken out (and in one wording whichever
browser printed it), the top stack frames of the app's own code without line numbers or
build hashes, the page as a route pattern, the failed requests, the services seen down and
when (an outage), and a MinHash fingerprint of its words. :func:`index_keys` turns a
signature into a handful of short keys, so a store finds candidate duplicates with equality
lookups on an index instead of comparing against every report (``bugline.grouping`` does
that), and :func:`similarity` scores a candidate and says why, in words an agent can check.

Every input is capped before a pattern sees it and no pattern nests repetition, so 1 MB of
hostile text costs about as much as a normal report, and nothing here raises on odd input.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from bugline.triage import site
from bugline.triage.defaultfile import read_defaults
from bugline.triage.errors import RulesError
from bugline.triage.report import TriageInput

# The text fingerprint's shape. Not a rule a project can change: stored keys of every
# report in a project must have been made the same way to be comparable.
MINHASH_SIZE = 32  # slots; the Jaccard estimate's standard error is about 0.09
BANDS = 8  # LSH bands of 4 slots: a pair with word overlap 0.8 shares a band 98% of the time
ROWS = MINHASH_SIZE // BANDS
# An outage's reports are matched when their windows of this length are at most
# OUTAGE_REACH apart (20 to 30 minutes at most; a report joins the newest of the outage's,
# so a group keeps growing while reports keep coming). Stored keys name the window, so
# neither is a per-project rule.
OUTAGE_WINDOW_SECONDS = 600
OUTAGE_REACH = 2
# 2: errors compared by their family across browsers, library frames left out of stacks,
# and the services seen failing at the gateway, with the time (outages).
SIGNATURE_VERSION = 2

# Caps applied before any pattern runs: what a bug's identity needs is near the top.
MAX_MESSAGE_CHARS = 1000
MAX_STACK_LINES = 80
MAX_LINE_CHARS = 600
MAX_URL_CHARS = 2048
MAX_CONSOLE_LINES = 100
MAX_REQUESTS = 100
MAX_TOKENS = 400
MAX_ROUTE_SEGMENTS = 12
MAX_DISPLAY = 160

_DIGEST = 8  # bytes of BLAKE2b per key: 64 bits, no collisions at any realistic store size


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=_DIGEST).hexdigest()


# --- error messages ---------------------------------------------------------------------

_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s'\"<>()]{0,500}", re.I)
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(
    r"\b(?:0x[0-9a-f]{1,64}|(?=[0-9a-f]{0,128}\d)(?=[0-9a-f]{0,128}[a-f])[0-9a-f]{8,128})\b", re.I
)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_QUOTED = re.compile(r"(['\"`\u2018\u201c])([^'\"`\u2018\u2019\u201c\u201d\n]{0,200})(['\"`\u2019\u201d])")
# A quoted identifier ("reading 'total'") names the bug; any other quoted text is data.
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$.]{0,40}")
_PREFIX = re.compile(
    r"^(?:uncaught\s+(?:\(in promise\)\s+)?|unhandled(?:\s+promise)?\s+rejection:?\s+"
    r"|error:\s+(?=[\w$.]{0,80}(?:error|exception)\b))",
    re.I,
)
_SPACE = re.compile(r"\s+")
_WORDISH = re.compile(r"[A-Za-z]{3}")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
# An error line inside free text: "TypeError: x is undefined", "java.lang.IllegalStateException: ..."
_ERROR_LINE = re.compile(r"^\s*(?:uncaught\s+)?[\w$.]{0,80}(?:error|exception)\b:?\s+\S", re.I)


def _clean(text: str, limit: int) -> str:
    text = _INVISIBLE.sub(" ", text[:limit])
    return unicodedata.normalize("NFKC", text)


def _quoted(match: re.Match[str]) -> str:
    inner = match.group(2)
    if _IDENTIFIER.fullmatch(inner):
        return match.group(0)
    return f"{match.group(1)}<value>{match.group(3)}"


def _first_line(message: str) -> str:
    """A message's first non-empty line, without the "Uncaught (in promise)" a console adds."""
    text = _clean(message, MAX_MESSAGE_CHARS)
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    for _ in range(3):
        stripped = _PREFIX.sub("", first, count=1)
        if stripped == first:
            break
        first = stripped
    return first


def normalise_error(message: str) -> str:
    """An error message with its data taken out, case kept for display ("" when nothing is left).

    ``Uncaught TypeError: Cannot read properties of undefined (reading 'total') at
    https://shop.example/orders/123`` becomes ``TypeError: Cannot read properties of
    undefined (reading 'total') at <url>``.
    """
    if not isinstance(message, str) or not message:
        return ""
    first = _first_line(message)
    first = _URL.sub("<url>", first)
    first = _EMAIL.sub("<email>", first)
    first = _UUID.sub("<uuid>", first)
    first = _QUOTED.sub(_quoted, first)
    first = _HEX.sub("<hex>", first)
    first = _NUMBER.sub("<n>", first)
    first = _SPACE.sub(" ", first).strip(" .;:")
    if not _WORDISH.search(first.replace("<url>", "").replace("<value>", "")):
        return ""  # nothing but placeholders and punctuation: no identity left
    return first[:MAX_DISPLAY]


# --- one error, three browsers ---------------------------------------------------------

# The same bug raises differently worded messages in Chrome and Edge (V8), Firefox
# (SpiderMonkey) and Safari (JavaScriptCore); customers of one bug use all three. Each
# family below is read off the message's first line and named by one wording, so the
# three compare equal (and are keyed and shown in it). Wordings as the engines print them:
# V8's message templates (https://github.com/v8/v8/blob/main/src/common/message-template.h),
# SpiderMonkey's js.msg
# (https://searchfox.org/mozilla-central/source/js/public/friend/ErrorNumbers.msg), and
# what WebKit's fetch and module loader say (https://github.com/WebKit/WebKit).
_PROPERTY = "TypeError: Cannot read property '{}' of undefined or null"
_FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = (
    # V8: Cannot read properties of undefined (reading 'rate'); before V8 9.3:
    # Cannot read property 'rate' of null
    (
        re.compile(
            r"^TypeError: Cannot read propert(?:ies of (?:undefined|null) \(reading '([\w$<>]{1,60})'\)"
            r"|y '([\w$<>]{1,60})' of (?:undefined|null))"
        ),
        _PROPERTY,
    ),
    # SpiderMonkey: can't access property "rate", region is undefined
    (
        re.compile(
            r"^TypeError: can'(?:t access property [\"']|<value>\")([\w$<>]{1,60})[\"'], .{1,200} is "
            r"(?:undefined|null)"
        ),
        _PROPERTY,
    ),
    # JavaScriptCore: undefined is not an object (evaluating 'region.rate')
    (
        re.compile(
            r"^TypeError: (?:undefined|null) is not an object "
            r"\(evaluating '(?:[\w$.\[\]<>]{0,200}\.)?([\w$<>]{1,60})'\)"
        ),
        _PROPERTY,
    ),
    # A code chunk that would not load: webpack, or a dynamic import() in each engine.
    (
        re.compile(
            r"^(?:ChunkLoadError: Loading (?:CSS )?chunk|(?:TypeError: )?(?:Failed to fetch dynamically "
            r"imported module|error loading dynamically imported module|Importing a module script failed))"
        ),
        "ChunkLoadError: a code chunk failed to load",
    ),
    # fetch() that got no response: V8, SpiderMonkey, JavaScriptCore.
    (
        re.compile(
            r"^(?:TypeError: )?(?:Failed to fetch|NetworkError when attempting to fetch resource|Load failed)"
            r"\.?(?: \S{1,2000})?$"
        ),
        "TypeError: Failed to fetch",
    ),
    (re.compile(r"^URIError: (?:URI malformed|malformed URI sequence|URI error)"), "URIError: URI malformed"),
    (
        re.compile(
            r"^SyntaxError: (?:Unexpected token .{0,80}(?:in JSON|is not valid JSON)|JSON\.parse: |"
            r"JSON Parse error: |Unexpected end of JSON input)"
        ),
        "SyntaxError: invalid JSON",
    ),
    (re.compile(r"^ReferenceError: Can't find variable: ([\w$]{1,60})"), "ReferenceError: {} is not defined"),
    (
        re.compile(r"^(?:RangeError: Maximum call stack size exceeded|InternalError: too much recursion)"),
        "RangeError: Maximum call stack size exceeded",
    ),
    # JavaScriptCore adds where: "x.y is not a function. (In 'x.y()', 'x.y' is undefined)"
    (re.compile(r"^(TypeError: .{1,200} is not a function)\. \(In .*"), "{}"),
)


def error_family(message: str) -> str | None:
    """The wording a message's family is compared by, or None when it belongs to none.

    Reads the message's first line as the browser printed it (or as normalised: the
    families match either), after the "Uncaught" a console adds.
    """
    if not isinstance(message, str):
        return None
    first = _first_line(message)
    first = _SPACE.sub(" ", first)
    for pattern, name in _FAMILIES:
        if m := pattern.match(first):
            if "{}" not in name:
                return name
            # The named part as normalise_error leaves data: "line2" and a stored "line<n>",
            # Safari's "handlers[12]" and Chrome's "handlers[<n>]" compare equal.
            part = next((g for g in m.groups() if g), "")
            return name.format(_NUMBER.sub("<n>", _HEX.sub("<hex>", part)))
    return None


# --- stack frames -----------------------------------------------------------------------

_V8_FRAME = re.compile(
    r"^\s*at\s+(?:(?:async\s+)?(?:new\s+)?([^\s()]{1,200})(?:\s\[as\s[^\]\s]{1,100}\])?\s+\()?"
    r"([^\s()]{1,1000})\)?\s*$"
)
_JAVA_FRAME = re.compile(r"^\s*at\s+([\w$.<>/]{1,300})\(([^()\s]{0,300})\)\s*$")
_GECKO_FRAME = re.compile(r"^\s*([^@\s]{0,200})@([^\s@]{1,1000}):\d+(?::\d+)?\s*$")
_PY_FRAME = re.compile(r"^\s*File \"([^\"]{1,500})\", line \d+, in (\S{1,200})")
_LINE_COL = re.compile(r"(?::\d+){1,2}$")
# Build hashes in bundle names: main.3f9a2b1c.js, index-BQ3x9Kz1.js (must contain a digit).
_BUILD_HASH = re.compile(r"[.-](?=[0-9A-Za-z_]{0,40}\d)[0-9A-Za-z_]{6,40}(?=\.)")
_ANONYMOUS = {"", "<anonymous>", "anonymous", "?", "<unknown>", "eval", "<module>", "Anonymous function"}
_SKIP_LOCATIONS = ("-extension://", "<anonymous>", "native", "[native code]", "<unknown>")
# Library code: every request of an app passes through axios's or the framework's frames, so
# frames there say nothing about which bug it is (the app's own frames below them do). Read
# on the whole location, before it is cut to a file name: bundlers' vendor chunks, packages
# served as they are (node_modules, Vite's pre-bundled deps) and Python's installed packages.
_LIBRARY = re.compile(
    r"(?:^|[/\\])(?:node_modules|site-packages|dist-packages|\.vite[/\\]deps|@vite)[/\\]"
    r"|(?:^|[/\\])(?:vendors?|chunk-vendors|framework|polyfills|webpack-runtime|runtime-main)(?=[.~_-])",
    re.I,
)


def _frame_file(location: str) -> str:
    location = location.strip("()[] ")
    if any(s in location for s in _SKIP_LOCATIONS) or _LIBRARY.search(location):
        return ""  # a customer's browser extension, the engine itself or a library: not the app's code
    location = location.split("?", 1)[0].split("#", 1)[0]
    location = _LINE_COL.sub("", location)
    name = re.split(r"[/\\]", location)[-1] if location else ""
    return _BUILD_HASH.sub("", name)[:100]


def _frame(line: str) -> str | None:
    line = line[:MAX_LINE_CHARS]
    fn, loc = "", ""
    if m := _PY_FRAME.match(line):
        loc, fn = m.group(1), m.group(2)
    elif m := _JAVA_FRAME.match(line):
        fn, loc = m.group(1), m.group(2).split(":", 1)[0]
    elif m := _V8_FRAME.match(line):
        fn, loc = m.group(1) or "", m.group(2)
    elif m := _GECKO_FRAME.match(line):
        fn, loc = m.group(1), m.group(2)
    else:
        return None
    file = _frame_file(loc)
    if not file:
        return ""
    # Gecko names a nested anonymous function "outer/<" and its inner ones "outer/inner<";
    # V8 leaves them unnamed. Either way an anonymous frame is left out: engines disagree on
    # where they are, and "?@main.js" would match any other anonymous frame in the bundle.
    fn = fn.split("/")[-1].rstrip("<")
    if fn in _ANONYMOUS:
        return ""
    return f"{fn[:100]}@{file}"


def stack_frames(trace: str, limit: int) -> tuple[str, ...]:
    """The top ``limit`` frames of a trace as ``function@file``, app frames only."""
    if not isinstance(trace, str) or not trace or limit <= 0:
        return ()
    frames: list[str] = []
    for line in trace.split("\n", MAX_STACK_LINES)[:MAX_STACK_LINES]:
        frame = _frame(line)
        if frame:
            frames.append(frame)
            if len(frames) >= limit:
                break
    return tuple(frames)


# --- routes -----------------------------------------------------------------------------

_VERSION_SEGMENT = re.compile(r"v\d{1,3}")
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_-]{20,}")


def _segment(raw: str) -> str:
    seg = unquote(raw)[:100]
    low = seg.lower()
    if _VERSION_SEGMENT.fullmatch(low):
        return low  # /api/v2/ is part of the route, not an id
    if any(c.isdigit() for c in seg) or "@" in seg:
        return ":id"
    if _TOKEN_SEGMENT.fullmatch(seg) and seg != low and seg != seg.upper():
        return ":id"  # a mixed-case random token (base62 ids, share links)
    return low[:60]


def route_pattern(url: str | None) -> str:
    """``https://App.example.com/orders/123/items?x=1`` -> ``app.example.com/orders/:id/items``.

    Ids, UUIDs, hashes, numbers and slugs with digits become ``:id``; the host is kept (one
    project can serve several apps), the query and port are dropped. Hash routes
    (``/#/orders/5``) are read as the path they are. ``""`` when there is no URL.
    """
    if not isinstance(url, str) or not url.strip():
        return ""
    url = _clean(url.strip(), MAX_URL_CHARS)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return ""
    path = parts.path
    if parts.fragment.startswith(("/", "!/")):
        path = path.rstrip("/") + "/" + parts.fragment.lstrip("!")
    segments = [s for s in path.split("/") if s and s != "."][:MAX_ROUTE_SEGMENTS]
    if not host and not segments:
        return ""
    return host[:100] + "/" + "/".join(_segment(s) for s in segments)


def _display_route(route: str) -> str:
    return "/" + route.split("/", 1)[1] if "/" in route else route


# --- text fingerprint -------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")
_EMPTY = 1 << 32
_SPREAD = 0x9E3779B1  # separates values borrowed by empty slots from their source slot's


def _tokens(texts: Iterable[str], stopwords: frozenset[str], limit: int) -> list[str]:
    """A text's content words, case-folded: no filler, no numbers, no URLs (pure)."""
    out: list[str] = []
    for text in texts:
        if not isinstance(text, str) or not text:
            continue
        text = _clean(text, limit).casefold()
        text = _URL.sub(" ", text)
        for m in _WORD.finditer(text):
            word = m.group(0)
            if word.isdigit() or word in stopwords:
                continue  # order numbers and filler say nothing about the problem
            if len(word) > 12 and not word.isascii():
                # Scripts written without spaces (Chinese, Japanese): character pairs.
                out.extend(word[i : i + 2] for i in range(min(len(word) - 1, 60)))
            elif len(word) > 1:
                out.append(_DIGIT.sub("#", word[:40]))
            if len(out) >= MAX_TOKENS:
                return out
    return out


def minhash(shingles: Iterable[str]) -> tuple[int, ...]:
    """A one-permutation MinHash of a set of strings (one hash per element, then densified).

    Each element's 64-bit BLAKE2b picks a slot (low bits) and a value (high 32 bits); each
    slot keeps its smallest value. Slots no element fell into borrow the next filled slot's
    value (Shrivastava and Li's rotation), so small sets still give comparable sketches.
    The share of equal slots between two sketches estimates the sets' Jaccard similarity.
    """
    slots = [_EMPTY] * MINHASH_SIZE
    for s in shingles:
        h = int.from_bytes(hashlib.blake2b(s.encode("utf-8", "replace"), digest_size=8).digest(), "little")
        i, v = h % MINHASH_SIZE, h >> 32
        if v < slots[i]:
            slots[i] = v
    if all(v == _EMPTY for v in slots):
        return ()
    out = list(slots)
    for i in range(MINHASH_SIZE):
        if slots[i] == _EMPTY:
            d = 1
            while slots[(i + d) % MINHASH_SIZE] == _EMPTY:
                d += 1
            out[i] = (slots[(i + d) % MINHASH_SIZE] + d * _SPREAD) & 0xFFFFFFFF
    return tuple(out)


def _shingles(tokens: list[str]) -> set[str]:
    # Words and word pairs: pairs tell a copied report from one on the same topic, words let
    # a reworded one still count a little.
    shingles = set(tokens)
    shingles.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
    return shingles


def text_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    if len(a) != MINHASH_SIZE or len(b) != MINHASH_SIZE:
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / MINHASH_SIZE


# --- rules ------------------------------------------------------------------------------


def _number(data: Mapping[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise RulesError(f"{where}.{key} must be a number from {lo} to {hi}")
    return float(value)


def _integer(data: Mapping[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RulesError(f"{where}.{key} must be a whole number from {lo} to {hi}")
    return value


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise RulesError(f"{where}.{key} must be a table of settings")
    return value


def _list(data: Mapping[str, Any], key: str, where: str, kind: type) -> tuple[Any, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value):
        raise RulesError(f"{where}.{key} must be a list of {kind.__name__}")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class DuplicateRules:
    """Thresholds and weights for duplicate matching (``defaults/duplicates.toml``)."""

    threshold: float
    conflict_penalty: float
    error_weight: float
    generic_error_weight: float
    stack_weight: float
    route_weight: float
    request_weight: float
    outage_weight: float
    text_weight: float
    stack_frames: int
    max_errors: int
    min_shingles: int
    max_text_chars: int
    ignore_request_statuses: frozenset[int]
    outage_statuses: frozenset[int]
    ignore_errors: tuple[str, ...]
    generic_errors: tuple[str, ...]
    stopwords: frozenset[str]
    candidates_per_key: int
    max_candidates: int
    recompute_limit: int
    text_reason_min: float

    @classmethod
    def default(cls) -> Self:
        return cls.from_mapping(read_defaults("duplicates"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Rules from the TOML-shaped table; :class:`RulesError` names the first wrong key."""
        where = "triage.duplicates"
        if not isinstance(data, Mapping):
            raise RulesError(f"{where} must be a table of settings")
        known = {"threshold", "conflict_penalty", "weights", "signature", "lookup"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RulesError(f"unknown setting {where}.{unknown[0]}")
        weights = _table(data, "weights", where)
        sig = _table(data, "signature", where)
        lookup = _table(data, "lookup", where)
        w, s, lk = f"{where}.weights", f"{where}.signature", f"{where}.lookup"
        for table, name, keys in (
            (weights, w, {"error", "generic_error", "stack", "route", "request", "outage", "text"}),
            (
                sig,
                s,
                {
                    "stack_frames",
                    "max_errors",
                    "min_shingles",
                    "max_text_chars",
                    "ignore_request_statuses",
                    "outage_statuses",
                    "ignore_errors",
                    "generic_errors",
                    "stopwords",
                },
            ),
            (lookup, lk, {"candidates_per_key", "max_candidates", "recompute_limit", "text_reason_min"}),
        ):
            extra = sorted(set(table) - keys)
            if extra:
                raise RulesError(f"unknown setting {name}.{extra[0]}")
        return cls(
            threshold=_number(data, "threshold", where, 0.01, 1.0),
            conflict_penalty=_number(data, "conflict_penalty", where, 0.0, 1.0),
            error_weight=_number(weights, "error", w, 0.0, 1.0),
            generic_error_weight=_number(weights, "generic_error", w, 0.0, 1.0),
            stack_weight=_number(weights, "stack", w, 0.0, 1.0),
            route_weight=_number(weights, "route", w, 0.0, 1.0),
            request_weight=_number(weights, "request", w, 0.0, 1.0),
            outage_weight=_number(weights, "outage", w, 0.0, 1.0),
            text_weight=_number(weights, "text", w, 0.0, 1.0),
            stack_frames=_integer(sig, "stack_frames", s, 1, 20),
            max_errors=_integer(sig, "max_errors", s, 0, 10),
            min_shingles=_integer(sig, "min_shingles", s, 1, 100),
            max_text_chars=_integer(sig, "max_text_chars", s, 100, 100_000),
            ignore_request_statuses=frozenset(_list(sig, "ignore_request_statuses", s, int)),
            outage_statuses=frozenset(_list(sig, "outage_statuses", s, int)),
            ignore_errors=tuple(e.lower() for e in _list(sig, "ignore_errors", s, str) if e),
            generic_errors=tuple(e.casefold() for e in _list(sig, "generic_errors", s, str) if e),
            stopwords=frozenset(w.casefold() for w in _list(sig, "stopwords", s, str)),
            candidates_per_key=_integer(lookup, "candidates_per_key", lk, 1, 1000),
            max_candidates=_integer(lookup, "max_candidates", lk, 1, 1000),
            recompute_limit=_integer(lookup, "recompute_limit", lk, 0, 100_000),
            text_reason_min=_number(lookup, "text_reason_min", lk, 0.0, 1.0),
        )


@lru_cache(maxsize=1)
def _default_rules() -> DuplicateRules:
    return DuplicateRules.default()


# --- signatures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    """What identifies a report's problem. Every part may be empty."""

    errors: tuple[str, ...] = ()  # normalised messages, case kept for display
    stack: tuple[str, ...] = ()  # top frames, "function@file"
    route: str = ""  # "app.example.com/orders/:id"
    requests: tuple[str, ...] = ()  # "POST api.example.com/orders/:id 500"
    text: tuple[int, ...] = ()  # MinHash of words and word pairs, MINHASH_SIZE values or none
    # Services seen failing at the gateway (no response, 502-504) and when: "api.example.com@2960104"
    # (the host, the report's OUTAGE_WINDOW_SECONDS window since the epoch).
    outage: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.errors or self.stack or self.route or self.requests or self.text or self.outage)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": SIGNATURE_VERSION,
            "errors": list(self.errors),
            "stack": list(self.stack),
            "route": self.route,
            "requests": list(self.requests),
            "text": list(self.text),
            "outage": list(self.outage),
        }

    @classmethod
    def from_json(cls, data: Any) -> Signature:
        """The inverse of :meth:`to_json`; anything malformed reads as an empty part."""
        if not isinstance(data, Mapping) or data.get("v") not in (1, SIGNATURE_VERSION):
            return cls()

        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key)
            return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        text = data.get("text")
        fingerprint: tuple[int, ...] = ()
        if isinstance(text, list) and len(text) == MINHASH_SIZE and all(type(v) is int for v in text):
            fingerprint = tuple(text)
        route = data.get("route")
        errors, stack = strings("errors"), strings("stack")
        if data.get("v") == 1:
            # Stored before version 2: compared as version 2 would have made it, as far as the
            # stored parts tell (an error by its family; library and anonymous frames out).
            errors = tuple(dict.fromkeys(error_family(e) or e for e in errors))
            stack = tuple(
                f for f in stack if not f.startswith("?@") and not _LIBRARY.search(f.rpartition("@")[2])
            )
        return cls(
            errors,
            stack,
            route if isinstance(route, str) else "",
            strings("requests"),
            fingerprint,
            tuple(o for o in strings("outage") if _window(o) is not None),
        )


def _ignored(message: str, rules: DuplicateRules) -> bool:
    low = message[:MAX_MESSAGE_CHARS].lower()
    return any(noise in low for noise in rules.ignore_errors)


def _free_text_errors(text: str) -> Iterable[str]:
    for line in text.split("\n", 200)[:200]:
        if _ERROR_LINE.match(line[:MAX_LINE_CHARS]):
            yield line[:MAX_LINE_CHARS]


def signature(report: TriageInput, rules: DuplicateRules | None = None) -> Signature:
    """The signature of one report. Never raises; cost is bounded by the caps above."""
    rules = rules or _default_rules()
    console_errors = [
        c for c in report.console[:MAX_CONSOLE_LINES] if str(c.level).lower() == "error" and c.message
    ]
    raw_errors: list[str] = [c.message for c in console_errors]
    if report.error_text:
        raw_errors.append(report.error_text)
    raw_errors.extend(_free_text_errors(report.description or ""))
    errors: list[str] = []
    for raw in raw_errors:
        if len(errors) >= rules.max_errors:
            break
        if not isinstance(raw, str) or _ignored(raw, rules):
            continue
        norm = error_family(raw) or normalise_error(raw)
        if norm and norm.casefold() not in {e.casefold() for e in errors}:
            errors.append(norm)

    stack: tuple[str, ...] = ()
    traces = [c.stack for c in console_errors if c.stack and not _ignored(c.message, rules)]
    traces += [c.message for c in console_errors if "\n" in c.message and not _ignored(c.message, rules)]
    traces += [report.error_text or "", report.description or ""]
    for trace in traces:
        stack = stack_frames(_clean(trace, MAX_STACK_LINES * MAX_LINE_CHARS), rules.stack_frames)
        if stack:
            break

    requests: list[str] = []
    for req in report.network[:MAX_REQUESTS]:
        status = req.status if isinstance(req.status, int) else 0
        if status in rules.ignore_request_statuses or 0 < status < 400:
            continue
        route = route_pattern(req.url)
        method = "".join(c for c in str(req.method)[:10].upper() if c.isalpha()) or "GET"
        key = f"{method} {route} {status or 'no-response'}"
        if route and key not in requests:
            requests.append(key)
        if len(requests) >= 3:
            break

    words = _tokens(
        (report.title, report.trying_to_do, report.actual, report.description),
        rules.stopwords,
        rules.max_text_chars,
    )
    shingles = _shingles(words)
    text = minhash(shingles) if len(shingles) >= rules.min_shingles else ()
    return Signature(
        tuple(errors), stack, route_pattern(report.page_url), tuple(requests), text, _outage(report, rules)
    )


def _outage(report: TriageInput, rules: DuplicateRules) -> tuple[str, ...]:
    """The app's own services the browser saw failing at the gateway, with the report's window.

    Only the page's own site counts: a blocked analytics beacon (status 0) or a third
    party's outage is not the app's.
    """
    at = report.received_at
    if at is None:
        return ()
    window = int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() // OUTAGE_WINDOW_SECONDS)
    if window < 0:
        return ()  # before 1970: a clock no server has
    page = site.host_of(report.page_url)
    hosts: list[str] = []
    for req in report.network[:MAX_REQUESTS]:
        if req.status not in rules.outage_statuses:
            continue
        host = site.host_of(req.url)
        if site.same(host, page) and host not in hosts:
            hosts.append(host)
    return tuple(f"{h}@{window}" for h in hosts[:3])


def _window(entry: str) -> tuple[str, int] | None:
    host, _, window = entry.rpartition("@")
    return (host, int(window)) if host and window.isdigit() else None


def _same_outage(a: Signature, b: Signature) -> str:
    """A service both reports saw failing within a window of each other ("" if none)."""
    theirs = [w for w in map(_window, b.outage) if w]
    for mine in map(_window, a.outage):
        if mine and any(h == mine[0] and abs(t - mine[1]) <= OUTAGE_REACH for h, t in theirs):
            return mine[0]
    return ""


def index_keys(sig: Signature) -> list[str]:
    """The keys a store indexes a report under and looks candidates up by.

    Short hashes with a prefix per kind: ``e:`` an error message, ``s:`` the stack's top
    frames, ``r:`` the route, ``q:`` a failed request, ``t0:``..``t7:`` the text fingerprint's
    LSH bands (two texts with word overlap 0.8 share at least one band 98% of the time, with
    overlap 0.3 under 7%). Two reports can only be compared if they share a key.
    """
    keys = [f"e:{_hash(e.casefold())}" for e in sig.errors]
    if sig.stack:
        keys.append("s:" + _hash(" > ".join(sig.stack)))
    if sig.route:
        keys.append("r:" + _hash(sig.route))
    keys += [f"q:{_hash(r)}" for r in sig.requests]
    # Its window's key and the next ones': a report of a later window finds this one by its own.
    for host, window in filter(None, map(_window, sig.outage)):
        keys += [f"o:{_hash(f'{host}@{window + n}')}" for n in range(OUTAGE_REACH + 1)]
    if len(sig.text) == MINHASH_SIZE:
        for band in range(BANDS):
            values = sig.text[band * ROWS : (band + 1) * ROWS]
            keys.append(f"t{band}:" + _hash(",".join(map(str, values))))
    return list(dict.fromkeys(keys))


def _shared_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _generic(error: str, rules: DuplicateRules) -> bool:
    return error.casefold().startswith(rules.generic_errors)


def _specific(sig: Signature, rules: DuplicateRules) -> bool:
    return any(not _generic(e, rules) for e in sig.errors)


def similarity(a: Signature, b: Signature, rules: DuplicateRules | None = None) -> tuple[float, list[str]]:
    """How likely ``a`` and ``b`` are the same problem (0..1), and the reasons in words.

    Each part that agrees is a clue; clues combine as independent evidence, so two weak
    clues together can reach the threshold one of them cannot.
    """
    rules = rules or _default_rules()
    reasons: list[str] = []
    miss = 1.0
    a_errors = {e.casefold(): e for e in a.errors}
    shared_errors = [a_errors[e.casefold()] for e in b.errors if e.casefold() in a_errors]
    specific = [e for e in shared_errors if not _generic(e, rules)]
    if specific:
        miss *= 1 - rules.error_weight
        reasons.append(f"same error: {specific[0]}")
    elif shared_errors:
        # "Network Error", "Failed to fetch": every bug behind a failing request raises it, so it
        # counts for little; which request failed (below) says which bug.
        miss *= 1 - rules.generic_error_weight
        reasons.append(f"same error: {shared_errors[0]}")
    shared = _shared_prefix(a.stack, b.stack)
    if shared:
        miss *= 1 - rules.stack_weight * shared / max(len(a.stack), len(b.stack))
        reasons.append(f"same stack: {' > '.join(a.stack[:shared])}")
    if a.route and a.route == b.route:
        miss *= 1 - rules.route_weight
        reasons.append(f"same page {_display_route(a.route)}")
    shared_requests = [r for r in a.requests if r in b.requests]
    if shared_requests:
        miss *= 1 - rules.request_weight
        method, route, status = ([*shared_requests[0].split(" "), "", ""])[:3]
        reasons.append(f"same failed request: {method} {_display_route(route)} -> {status}")
    outage = _same_outage(a, b)
    if outage:
        miss *= 1 - rules.outage_weight
        reasons.append(f"{outage} failing for both within minutes")
    text = text_similarity(a.text, b.text)
    if text > 0:
        miss *= 1 - rules.text_weight * text
        if text >= rules.text_reason_min:
            reasons.append(f"text {text:.2f} similar")
    score = 1 - miss
    # Two different crashes are two bugs, however alike the words; but the same code path
    # (a shared app frame) with differently worded messages is one bug in two browsers.
    # An outage breaks every page in its own way: its reports' errors differ and are one problem.
    if not specific and not shared and not outage and _specific(a, rules) and _specific(b, rules):
        score *= 1 - rules.conflict_penalty
        reasons.append("different errors")
    return round(min(max(score, 0.0), 1.0), 4), reasons
