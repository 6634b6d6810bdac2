"""The rules every vendor's state table shares.

Bugline's statuses: received, needs_info, escalated, in_progress, resolved, cannot_reproduce,
closed, reopened. A vendor state maps to one of them, or to ``OPEN``: "the ticket is open and
nobody says more" (Zendesk new, Linear backlog, Jira To Do, django-helpdesk Open, Freshdesk
Open). ``OPEN`` changes nothing for a report Bugline already knows is being handled, and
reopens one Bugline thought finished: the team reopened the ticket.

"Cannot reproduce" is nowhere a state of its own (Jira's resolution is the one exception), so
it is a label, tag or resolution named like ``CANNOT_REPRODUCE`` below. The label wins over
the state (a team keeps a ticket open, labelled, while it waits for the customer; the SOP
keeps such a report open 14 days; a helpdesk "solved" with the tag is how a helpdesk says it),
except over an explicit reopen and over states that say "fixed" in so many words (GitHub
"completed", Linear "completed", a Jira resolution "Done"/"Fixed"): those vendor modules do not
call ``with_label``, so a label forgotten on a fixed ticket does not tell the customer "we
could not reproduce it".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bugline.db.models import ReportStatus

OPEN = "open"  # pseudo-state: see the module docstring

# Label / tag / resolution names meaning "cannot reproduce", compared after lower-casing and
# folding spaces, underscores and apostrophes to one hyphen ("Cannot Reproduce", "cannot_reproduce",
# "can't-reproduce", "cannot-repro" all match).
CANNOT_REPRODUCE = frozenset(
    {
        "cannot-reproduce",
        "can-not-reproduce",
        "cant-reproduce",
        "cannot-repro",
        "cant-repro",
        "not-reproducible",
        "unable-to-reproduce",
        "works-for-me",
        "worksforme",
    }
)

# Reports a vendor state may move, per target (see apply.move):
DONE = frozenset({ReportStatus.RESOLVED, ReportStatus.CLOSED})
# A reopen from the vendor also lifts cannot_reproduce (the team found a way to reproduce it).
REOPENABLE = DONE | {ReportStatus.CANNOT_REPRODUCE}
# "Someone is on it": not from needs_info (its questions are still the customer's to answer)
# and not from a finished report (that is a reopen, said as such).
WORKABLE = frozenset(
    {ReportStatus.RECEIVED, ReportStatus.ESCALATED, ReportStatus.REOPENED, ReportStatus.CANNOT_REPRODUCE}
)


def folded(name: str) -> str:
    return re.sub(r"[\s_'\u2019-]+", "-", name.strip().lower()).strip("-").replace("can-t-", "cant-")


def says_cannot_reproduce(labels: Iterable[str]) -> bool:
    return any(folded(label) in CANNOT_REPRODUCE for label in labels)


def with_label(to: str, labels: Iterable[str]) -> str:
    """``to``, or cannot_reproduce when a label says so (never over an explicit reopen)."""
    if to in (ReportStatus.REOPENED, ""):
        return to
    return ReportStatus.CANNOT_REPRODUCE if says_cannot_reproduce(labels) else to
