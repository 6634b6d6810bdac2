"""Plain-words questions that ask a customer for each missing checklist fact (pure).

Every sentence the customer may read lives in ``QUESTIONS`` below, in English, with named
slots, so a translation is one more table of the same shape. A question names what the
customer did when the report says it ("What did you expect to happen when you clicked
Pay?"): the action comes from what they were trying to do, else the last step they wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from bugline.triage.report import TriageInput
from bugline.triage.text import normalise, segment, sentences

# fact -> (question with an action, question without one). Slots: {action} reads after
# "when you" ("clicked Pay"), {action_now} after "every time you" ("click Pay"), {page} is
# where it happened (" on /checkout", or nothing).
QUESTIONS: dict[str, tuple[str, str]] = {
    "trying_to_do": (
        "What were you trying to do when this happened?",
        "What were you trying to do when this happened?",
    ),
    "expected": (
        "What did you expect to happen when you {action}?",
        "What did you expect to happen instead?",
    ),
    "actual": (
        "What happened when you {action}? Please describe what you saw on the screen.",
        "What happened exactly? Please describe what you saw on the screen.",
    ),
    "error_text": (
        "Did you see an error message when you {action}? If so, please copy its exact words.",
        "Did you see an error message? If so, please copy its exact words.",
    ),
    "steps_to_reproduce": (
        "Could you list, step by step, what you did before you {action}, so we can do the same?",
        "Could you list, step by step, what you clicked or typed{page} before the problem appeared?",
    ),
    "environment": (
        "Which browser and device were you using (for example Chrome on Windows, or Safari on an iPhone)?",
        "Which browser and device were you using (for example Chrome on Windows, or Safari on an iPhone)?",
    ),
    "frequency": (
        "Does this happen every time you {action_now}, or only sometimes?",
        "Does this happen every time, or only sometimes?",
    ),
    "affected": (
        "Is this happening only to you, or to other people on your team as well?",
        "Is this happening only to you, or to other people on your team as well?",
    ),
    "evidence": (
        "Could you send a screenshot or a short screen recording that shows the problem?",
        "Could you send a screenshot or a short screen recording that shows the problem?",
    ),
}
PAGE = " on {page}"

# Past tenses the suffix rules below get wrong.
_IRREGULAR = {
    "go": "went",
    "run": "ran",
    "choose": "chose",
    "send": "sent",
    "make": "made",
    "put": "put",
    "hit": "hit",
    "set": "set",
    "get": "got",
    "buy": "bought",
    "pay": "paid",
    "write": "wrote",
    "take": "took",
    "give": "gave",
    "find": "found",
    "leave": "left",
    "begin": "began",
    "do": "did",
    "see": "saw",
    "build": "built",
    "sign": "signed",
    "log": "logged",
    "read": "read",
    "upload": "uploaded",
    "download": "downloaded",
    "open": "opened",
    "enter": "entered",
    "visit": "visited",
    "submit": "submitted",
    "tap": "tapped",
    "drag": "dragged",
    "drop": "dropped",
    "stop": "stopped",
    "ship": "shipped",
    "scroll": "scrolled",
    "plan": "planned",
    "shop": "shopped",
    "type": "typed",
    "try": "tried",
    "copy": "copied",
    "apply": "applied",
    "reply": "replied",
    "cancel": "cancelled",
    "sell": "sold",
    "say": "said",
    "come": "came",
    "forget": "forgot",
    "click": "clicked",
    "press": "pressed",
}
_PRONOUNS = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "we": "you",
    "us": "you",
    "our": "your",
    "myself": "yourself",
    "i'm": "you're",
    "am": "are",
}
_STEP_NUMBER = re.compile(r"^\s*(?:step\s*)?\d{1,2}\s*[.):-]?\s*", re.I)
_TRYING = re.compile(
    r"^(?:i\s+was\s+|i\s+am\s+|i'm\s+|we\s+were\s+)?(?:trying|tried|wanted|attempting)\s+to\s+", re.I
)
_MAX_ACTION_WORDS = 8


def ask(missing: Iterable[str], report: TriageInput) -> dict[str, str]:
    """A question per missing fact, in the order given."""
    now = _action(report)
    action = _past(now) if now else ""
    page = _page(report.page_url)
    out: dict[str, str] = {}
    for fact in missing:
        with_action, without = QUESTIONS.get(fact, ("", ""))
        template = with_action if now else without
        if template:
            out[fact] = template.format(
                action=action, action_now=now, page=PAGE.format(page=page) if page else ""
            )
    return out


def action_phrase(report: TriageInput) -> str:
    """What the customer did, to read after "when you": "clicked Pay", "tried to export a CSV"."""
    now = _action(report)
    return _past(now) if now else ""


def _action(report: TriageInput) -> str:
    """The action in the present, to read after "every time you": "click Pay"."""
    goal = normalise(report.trying_to_do, 300)
    if goal:
        first = sentences(goal)
        goal = _TRYING.sub("", first[0] if first else goal).rstrip(".!")
        return _shorten("try to " + _second_person(goal)) if goal else ""
    steps = [s.text for s in segment(normalise(report.steps, 2000)) if s.kind in ("item", "prose")]
    if steps:
        last = sentences(steps[-1])
        step = _STEP_NUMBER.sub("", last[-1] if last else steps[-1]).rstrip(".!")
        head, _, rest = step.partition(" ")
        return _shorten(f"{head.lower()} {_second_person(rest)}".strip()) if head.isalpha() else ""
    return ""


def past_tense(verb: str) -> str:
    low = verb.lower()
    if low in _IRREGULAR:
        past = _IRREGULAR[low]
    elif low.endswith("e"):
        past = low + "d"
    elif low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        past = low[:-1] + "ied"
    else:
        past = low + "ed"
    return past.capitalize() if verb[:1].isupper() else past


def _past(step: str) -> str:
    head, _, rest = step.partition(" ")
    if not head.isalpha():
        return step
    lead = past_tense(head).lower()
    return f"{lead} {rest}".strip()


def _second_person(text: str) -> str:
    return " ".join(_PRONOUNS.get(w.lower(), w) for w in text.split())


def _shorten(text: str) -> str:
    ws = text.split()
    return " ".join(ws[:_MAX_ACTION_WORDS]) + ("..." if len(ws) > _MAX_ACTION_WORDS else "")


def _page(url: str | None) -> str:
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return parts.path if parts.path and parts.path != "/" else (parts.netloc or "")
