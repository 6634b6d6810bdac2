"""URL globs: the only pattern language routing rules accept, matched in bounded time.

Why not regular expressions: Python's ``re`` backtracks, so one pattern such as ``(a+)+$``
stored by a project admin (or sent through the agent API) would stall the worker on every
report whose URL it reads, and no check can reliably tell such patterns apart. A glob has
two wildcards and nothing else:

- ``*`` any run of characters, ``/`` included (``/checkout/*`` matches ``/checkout/pay/2``);
- ``?`` exactly one character.

Every other character is literal, so a glob splits at its stars into fixed-length pieces;
the first must match at the start, the last at the end, and each middle piece is found
leftmost in order (leftmost is always right for star-only patterns). That is a handful of
C-speed searches, at most (URL length x glob length) character steps, never backtracking.

A glob that starts with ``/`` is matched against the page's path (query and fragment
ignored); any other glob against ``host/path`` (``admin.example.com/*``, ``*.example.com/billing*``).
Both sides are lower-cased: ``/Checkout`` and ``/checkout`` are the same page to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bugline.routing.errors import RoutingError

MAX_GLOB = 300  # characters in one glob
MAX_URL = 4096  # characters of a page URL that are read; longer URLs are cut there

# What may appear in a glob: the characters of a URL's host and path (RFC 3986 pchar:
# unreserved, sub-delims, ":", "@", "%" for escapes, "/"), the two wildcards, and non-ASCII
# letters for readable IRIs. Anything else (^ $ \ | [ ] { } whitespace) is regex or shell
# syntax that would silently never match, so it is refused with a hint.
_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%/?\u00a0-\U0010ffff]*")
_REGEX_HINT = re.compile(r"^\^|\$$|\\|\||\[|\]|\{|\}|\(\?")


@dataclass(frozen=True, slots=True)
class UrlGlob:
    text: str  # as written, lower-cased
    on_path: bool  # starts with "/": matched against the path, else against host + path
    _pieces: tuple[re.Pattern[str], ...] = field(repr=False, compare=False)
    _lengths: tuple[int, ...] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: object, where: str) -> UrlGlob:
        if not isinstance(text, str) or not text:
            raise RoutingError(f'{where} must be a non-empty string (a URL glob such as "/checkout/*")')
        if len(text) > MAX_GLOB:
            raise RoutingError(
                f"{where} is {len(text)} characters long; a URL glob may have at most {MAX_GLOB}"
            )
        if _REGEX_HINT.search(text):
            raise RoutingError(
                f"{where}: {text[:60]!r} looks like a regular expression; url takes globs where * is any "
                'text and ? one character, e.g. "/checkout/*"'
            )
        if not _ALLOWED.fullmatch(text):
            bad = next(c for c in text if not _ALLOWED.fullmatch(c))
            raise RoutingError(f"{where}: {bad!r} cannot appear in a URL glob; use * and ? as wildcards")
        lowered = text.lower()
        pieces = re.split(r"\*+", lowered)  # "/a/*/b*" -> ["/a/", "/b", ""]
        compiled = tuple(re.compile(".".join(re.escape(s) for s in p.split("?")), re.DOTALL) for p in pieces)
        return cls(
            text=lowered,
            on_path=lowered.startswith("/"),
            _pieces=compiled,
            _lengths=tuple(len(p) for p in pieces),
        )

    def matches(self, subject: str) -> bool:
        """Whether ``subject`` (already lower-cased: the path, or host + path) matches."""
        pieces, lengths = self._pieces, self._lengths
        if len(pieces) == 1:  # no star: the whole subject, fixed length
            return len(subject) == lengths[0] and pieces[0].fullmatch(subject) is not None
        first, last = pieces[0], pieces[-1]
        if lengths[0] + lengths[-1] > len(subject):
            return False
        if first.match(subject) is None:
            return False
        end = len(subject) - lengths[-1]
        if last.fullmatch(subject, end) is None:
            return False
        pos = lengths[0]
        for piece, length in zip(pieces[1:-1], lengths[1:-1], strict=True):
            if not length:
                continue
            found = piece.search(subject, pos, end)
            if found is None:
                return False
            pos = found.end()
        return True


def subjects(url: str | None) -> tuple[str, str] | None:
    """The (path, host + path) a page URL is matched as, lower-cased; None without a URL.

    A bare path ("/checkout") is accepted too: the widget sends full URLs, but a dry-run from
    the CLI is easier to type with only the path.
    """
    if not url:
        return None
    text = url[:MAX_URL].strip().lower()
    try:
        parts = urlsplit(text)
    except ValueError:  # "http://[::1" and friends: treat as no usable URL
        return None
    path = parts.path or "/"
    host = parts.hostname or ""
    return path, f"{host}{path}"
