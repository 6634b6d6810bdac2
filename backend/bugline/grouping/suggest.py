"""Open reports that may be the same problem as this one, for an agent to merge (read only).

Grouping joins a report to a group only on strong evidence (an error, a stack, a failed
request, a page, or near-copied words), because a wrong join counts strangers into
severity's "+ N customers". Two customers telling one bug in their own words share few
words: on the invented customer reports of ``make eval`` (tests/eval/duplicates.py), word
overlap is about what unrelated reports of one product share, so no threshold on it groups
mails without merging strangers. Ranked instead of thresholded, the same evidence finds
them: an earlier report of the same bug is the best-ranked open report of another group
for most repeat reports, and among the first three for more still (``make eval`` prints
both). So the report page lists the few best, each with why, next to a one-click merge.

:func:`closeness` is pure (signatures and word sets in, a score and reasons out);
:func:`suggest` reads the project's newest open reports, a bounded window, and ranks them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bugline.db.models import DuplicateGroup, DuplicateMember, Report, ReportStatus, utcnow
from bugline.grouping.index import CLOSED, OPEN_GROUP
from bugline.triage.duplicates import DuplicateRules, Signature, similarity

T = TypeVar("T")  # what the caller ranks: a report row, an index

WINDOW = 300  # newest open reports read: what an agent triages today is among recent ones
RECENT_DAYS = 90  # and none older: an open report untouched for a quarter is not today's problem
OPEN_STATUSES = tuple(s.value for s in ReportStatus if s.value not in CLOSED)
LIMIT = 3
MIN_SCORE = 0.1  # below this the "best" candidates are noise (nothing shared but filler)
MIN_WORDS_REASON = 0.1  # shared words are named once they are this share of both reports'
TEXT_CHARS = 600  # of each text read for words: its opening says what the problem is, and it is cheap


@lru_cache(maxsize=65536)  # a product's vocabulary is small; a page view stems ~30,000 words
def _stem(word: str) -> str:
    """Customers inflect the same words: "uploads", "uploading", "uploaded" -> "upload".

    Light on purpose (English endings only, never below four letters): a wrong stem only
    costs a shared word, and German or French words pass mostly unchanged.
    """
    if len(word) <= 4 or word.endswith(("ss", "us", "is")):
        return word  # "swiss", "address", "status", "analysis"
    if word.endswith("ies"):
        return word[:-3] + "y"  # "entries"
    for suffix in ("sses", "xes", "ches", "shes", "zes"):
        if word.endswith(suffix):
            return word[:-2]  # "addresses", "boxes", "matches"
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("thing"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word  # "saved", "save" -> "sav"


# Words of letters only: a token with a digit is an id, a version or a count, not the problem.
_LETTERS = re.compile(r"[^\W\d_]{2,40}")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://\S{0,2000}")


def words(texts: Iterable[str], rules: DuplicateRules) -> dict[str, str]:
    """The report's content words by stem, each with the first way it was written (filler,
    numbers and URLs left out). One scan per text: a page view reads 300 reports' words."""
    out: dict[str, str] = {}
    stop = rules.stopwords
    for text in texts:
        if not text:
            continue
        for w in _LETTERS.findall(_URL.sub(" ", text[:TEXT_CHARS].casefold())):
            if w not in stop:
                out.setdefault(_stem(w), w)
    return out


@dataclass(frozen=True, slots=True)
class Suggestion:
    report_id: str
    number: int
    title: str
    status: str
    severity: str | None
    score: float
    reasons: tuple[str, ...]


def closeness(
    a: Signature,
    a_words: Mapping[str, str],
    b: Signature,
    b_words: Mapping[str, str],
    rules: DuplicateRules,
    *,
    explain: bool = True,
) -> tuple[float, list[str]]:
    """How alike two reports are for ranking (0..2: the signature's similarity plus the
    overlap of their words), and the reasons an agent can check (``explain`` False: the
    shared words are not named, which ranking hundreds of candidates does not need)."""
    score, reasons = similarity(a, b, rules)
    shared = a_words.keys() & b_words.keys()
    overlap = len(shared) / (len(a_words) + len(b_words) - len(shared)) if shared else 0.0
    if overlap >= MIN_WORDS_REASON:
        named = sorted(shared, key=lambda w: (-len(w), w))[:5] if explain else []
        reasons.append("same words: " + ", ".join(a_words[w] for w in named))
    return round(score + overlap, 4), reasons


def best(
    sig: Signature,
    mine: Mapping[str, str],
    candidates: Iterable[tuple[str, Signature, Mapping[str, str], T]],
    rules: DuplicateRules,
    limit: int = LIMIT,
) -> list[tuple[float, list[str], T]]:
    """The ``limit`` best candidates, one per group (three slots, three places to merge into),
    best first, each with its score, its reasons and the caller's item (pure).

    ``candidates``: (group, signature, words, item). Ranked without naming words; only the
    ones returned are explained.
    """
    per_group: dict[str, tuple[float, Signature, Mapping[str, str], T]] = {}
    for group, other, theirs, item in candidates:
        score, reasons = closeness(sig, mine, other, theirs, rules, explain=False)
        if score >= MIN_SCORE and reasons and (group not in per_group or score > per_group[group][0]):
            per_group[group] = (score, other, theirs, item)
    ranked = sorted(per_group.values(), key=lambda x: -x[0])[:limit]
    return [
        (score, closeness(sig, mine, other, theirs, rules)[1], item) for score, other, theirs, item in ranked
    ]


def suggest(s: Session, report: Report, rules: DuplicateRules, *, limit: int = LIMIT) -> list[Suggestion]:
    """The best open reports of other groups that may be ``report``'s problem, best first."""
    own = s.execute(
        select(DuplicateMember.signature).where(DuplicateMember.report_id == report.id)
    ).scalar_one_or_none()
    sig = Signature.from_json(own)
    mine = words((report.title or "", report.description or "", report.actual or ""), rules)
    if sig.empty and not mine:
        return []
    since = utcnow() - timedelta(days=RECENT_DAYS)
    rows = s.execute(
        select(
            Report.id,
            Report.number,
            Report.title,
            func.substr(Report.description, 1, TEXT_CHARS).label("description"),
            func.substr(Report.actual, 1, TEXT_CHARS).label("actual"),
            Report.status,
            Report.severity,
            DuplicateMember.signature,
            DuplicateMember.group_id,
        )
        .join(DuplicateMember, DuplicateMember.report_id == Report.id)
        .join(DuplicateGroup, DuplicateGroup.id == DuplicateMember.group_id)
        .where(
            Report.project_id == report.project_id,
            # Open reports by the status index, recent ones only: a project's closed history
            # is never walked to find them.
            Report.status.in_(OPEN_STATUSES),
            Report.created_at >= since,
            Report.id != report.id,
            # Only a triaged report in an open group can be merged into; its own group's
            # members are listed as members, not suggested.
            DuplicateGroup.status == OPEN_GROUP,
            DuplicateMember.group_id != (report.duplicate_group_id or ""),
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(WINDOW)
    ).all()
    candidates = (
        (
            row.group_id,
            Signature.from_json(row.signature),
            words((row.title or "", row.description or "", row.actual or ""), rules),
            row,
        )
        for row in rows
    )
    return [
        Suggestion(row.id, row.number, row.title or "", row.status, row.severity, score, tuple(reasons))
        for score, reasons, row in best(sig, mine, candidates, rules, limit)
    ]
