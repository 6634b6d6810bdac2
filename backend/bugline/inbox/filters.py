"""The inbox's filters: a query string in, a typed Filter out (pure).

The same names work in the page's URL, a saved view and the agent API:

    project=ID  status=…  severity=critical,high,none  kind=bug  category=billing
    connector=not_forwarded|pending|delivered|failed  group=ID  reporter=EMAIL-or-ID
    account=NAME  from=YYYY-MM-DD  to=YYYY-MM-DD  min_complete=0..100  max_complete=0..100
    q=words or #42  sort=newest|oldest|severity|completeness|group  cursor=…  limit=1..200 (API)

A list may repeat the name or separate values with commas; an empty value means "any" (what
a form's "Any" option sends). Anything else is refused with a FilterError that names the
parameter and says what would be accepted, never silently ignored: a typo in a saved view
must not quietly show every report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

from bugline.inbox.cursor import Cursor, CursorError, decode, encode
from bugline.inbox.search import Search, SearchError
from bugline.inbox.search import parse as parse_search

STATUSES = (
    "awaiting_media",
    "received",
    "needs_info",
    "escalated",
    "in_progress",
    "resolved",
    "cannot_reproduce",
    "closed",
    "reopened",
)
SEVERITIES = ("critical", "high", "medium", "low", "none")  # none: not triaged yet
KINDS = ("bug", "feature_request", "question", "none")
CONNECTOR_STATES = ("not_forwarded", "pending", "delivered", "failed")
SORTS = ("newest", "oldest", "severity", "completeness", "group")
PAGE_SIZE = 50
MAX_LIMIT = 200
MAX_VALUES = 20  # values of one list parameter
_ID = re.compile(r"[0-9a-f]{32}")
_CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
LISTS = ("status", "severity", "kind", "category", "connector")
SINGLES = (
    "project",
    "group",
    "reporter",
    "account",
    "from",
    "to",
    "min_complete",
    "max_complete",
    "q",
    "sort",
)
KNOWN = frozenset((*LISTS, *SINGLES, "cursor", "limit"))


class FilterError(ValueError):
    """``field``: the parameter; ``message``: what is wrong and what would be right."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Filter:
    project: str | None = None
    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    connector: tuple[str, ...] = ()
    group: str | None = None
    reporter: str | None = None
    account: str | None = None
    since: date | None = None  # "from", inclusive
    until: date | None = None  # "to", inclusive (the whole day)
    min_complete: int | None = None
    max_complete: int | None = None
    q: str = ""  # as typed, to show it again
    search: Search | None = field(default=None, compare=False)
    sort: str = "newest"
    cursor: Cursor | None = None
    limit: int = PAGE_SIZE

    @property
    def narrowed(self) -> bool:
        """Is anything filtered or searched (the empty state then says so)?"""
        plain = Filter(sort=self.sort, limit=self.limit)
        return replace(self, cursor=None, search=None) != plain

    def pairs(self) -> list[tuple[str, str]]:
        """The canonical query: what a saved view stores and links carry (no cursor)."""
        out: list[tuple[str, str]] = []
        if self.project:
            out.append(("project", self.project))
        for name in LISTS:
            values: tuple[str, ...] = getattr(self, name)
            if values:
                out.append((name, ",".join(values)))
        singles = {
            "group": self.group,
            "reporter": self.reporter,
            "account": self.account,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
            "min_complete": None if self.min_complete is None else str(self.min_complete),
            "max_complete": None if self.max_complete is None else str(self.max_complete),
            "q": self.q or None,
            "sort": self.sort if self.sort != "newest" else None,
        }
        out.extend((k, v) for k, v in singles.items() if v)
        if self.limit != PAGE_SIZE:
            out.append(("limit", str(self.limit)))
        return out

    def query(self, cursor: Cursor | None = None) -> str:
        pairs = self.pairs()
        if cursor is not None:
            pairs.append(("cursor", encode(cursor)))
        return urlencode(pairs, safe=",")  # "severity=critical,high" stays readable


def _choices(name: str, raw: list[str], allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = _split(name, raw)
    for v in values:
        if v not in allowed:
            raise FilterError(name, f"{v[:40]!r} is not one of {', '.join(allowed)}")
    return values


def _split(name: str, raw: list[str]) -> tuple[str, ...]:
    values: list[str] = []
    for item in raw:
        values.extend(v.strip() for v in item.split(",") if v.strip())
    if len(values) > MAX_VALUES:
        raise FilterError(name, f"has {len(values)} values; at most {MAX_VALUES}")
    return tuple(dict.fromkeys(values))  # in order, once each


def _id(name: str, value: str) -> str:
    if not _ID.fullmatch(value):
        raise FilterError(name, "is not an id (32 hexadecimal characters)")
    return value


def _int(name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,4}", value) or not low <= int(value) <= high:
        raise FilterError(name, f"{value[:20]!r} is not a whole number from {low} to {high}")
    return int(value)


def _date(name: str, value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, f"{value[:20]!r} is not a date like 2025-01-31") from None


def _text(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise FilterError(name, f"is {len(value)} characters; at most {limit}")
    return value


def parse(pairs: Iterable[tuple[str, str]], *, api: bool = False) -> Filter:
    """The Filter of a query string's (name, value) pairs. ``api``: ``limit`` is accepted,
    and ``project`` is not (it is the URL's path)."""
    raw: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in KNOWN or (api and name == "project") or (not api and name == "limit"):
            allowed = sorted(KNOWN - ({"project"} if api else {"limit"}))
            raise FilterError(name[:40], f"is not a filter; use one of {', '.join(allowed)}")
        raw.setdefault(name, []).append(value.strip())
    one: dict[str, str] = {}
    for name in (*SINGLES, "cursor", "limit"):
        values = [v for v in raw.get(name, []) if v]
        if len(values) > 1:
            raise FilterError(name, "was given more than once; give it once")
        if values:
            one[name] = values[0]
    lists = {name: raw.get(name, []) for name in LISTS}
    category = _split("category", lists["category"])
    for c in category:
        if not _CATEGORY.fullmatch(c):
            raise FilterError("category", f"{c[:40]!r} is not a category name (a-z, 0-9, - and _)")
    sort = one.get("sort", "newest")
    if sort not in SORTS:
        raise FilterError("sort", f"{sort[:40]!r} is not one of {', '.join(SORTS)}")
    q = _text("q", one.get("q", ""), 1000)
    try:
        search = parse_search(q)
    except SearchError as exc:
        raise FilterError("q", str(exc)) from None
    f = Filter(
        project=_id("project", one["project"]) if "project" in one else None,
        status=_choices("status", lists["status"], STATUSES),
        severity=_choices("severity", lists["severity"], SEVERITIES),
        kind=_choices("kind", lists["kind"], KINDS),
        category=category,
        connector=_choices("connector", lists["connector"], CONNECTOR_STATES),
        group=_id("group", one["group"]) if "group" in one else None,
        reporter=_text("reporter", one["reporter"], 320) if "reporter" in one else None,
        account=_text("account", one["account"], 200) if "account" in one else None,
        since=_date("from", one["from"]) if "from" in one else None,
        until=_date("to", one["to"]) if "to" in one else None,
        min_complete=_int("min_complete", one["min_complete"], 0, 100) if "min_complete" in one else None,
        max_complete=_int("max_complete", one["max_complete"], 0, 100) if "max_complete" in one else None,
        q=q,
        search=search,
        sort=sort,
        limit=_int("limit", one["limit"], 1, MAX_LIMIT) if "limit" in one else PAGE_SIZE,
    )
    if f.since and f.until and f.since > f.until:
        raise FilterError("to", "is before 'from'; swap the dates")
    if f.min_complete is not None and f.max_complete is not None and f.min_complete > f.max_complete:
        raise FilterError("max_complete", "is below min_complete")
    if "cursor" in one:
        try:
            cursor = decode(one["cursor"])
        except CursorError:
            raise FilterError(
                "cursor", "is not one this server handed out; start from the first page"
            ) from None
        if cursor.sort != sort:
            raise FilterError("cursor", f"belongs to sort={cursor.sort[:20]}, not sort={sort}; start again")
        f = replace(f, cursor=cursor)
    return f
