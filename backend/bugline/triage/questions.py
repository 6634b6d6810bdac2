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
    return _told(report.title) or _told(normalise(report.description, 2000))


# "When I click Pay on the checkout page nothing happens": in one free-text box the trigger
# is the clause after "when I". It runs to the first punctuation (a dot or colon inside a
# word, as in a file name or an address, is not one) or to where the main clause
# starts ("nothing happens", "it freezes", "I get ..."); only verbs of _ACTIONS (the common
# things people do in an app, in the present or the past) count, so "when I was on ..." or
# "when I think about it" asks no strange question.
_WHEN_I = re.compile(
    r"\bwhen\s+(?:i|we)\s+(?:(try|tried)\s+to\s+)?([a-z]+)\b((?:[^.,;:!?\n()]|[.:](?=\S)){0,80})", re.I
)
_MAIN_CLAUSE = re.compile(
    r"\s(?:nothing|it|i|we|this|that|there|everything|then|but|and\s+(?:nothing|it|then|i|we)|"
    r"(?:the|a|an|my|our|its|your)\s+[\w-]+\s+(?:[\w-]+ed|is|was|are|were|shows?|says|said|goes|went|"
    r"turns?|crash\w*|freez\w*|froze|hangs?|hung|stays?|does|did|doesn't|didn't|won't|can't|closes|"
    r"loads?|disappears?|spins?|breaks?|broke|becomes?|became|gets?|got|keeps?|kept|fails?|flips?|"
    r"jumps?|resets?|reverts?|reloads?|refreshes|vanish(?:es)?|throws?|threw|returns?|redirects?|"
    r"times out|logs me out))\b",
    re.I,
)
_PRESENT = {past: now for now, past in _IRREGULAR.items()}
# More things people do in an app (regular verbs: "saved" is "save" + "d").
_ACTIONS = frozenset(_IRREGULAR) | {
    "add",
    "attach",
    "book",
    "cancel",
    "change",
    "check",
    "close",
    "connect",
    "create",
    "delete",
    "edit",
    "export",
    "filter",
    "import",
    "install",
    "invite",
    "load",
    "login",
    "move",
    "navigate",
    "order",
    "paste",
    "print",
    "refresh",
    "reload",
    "remove",
    "rename",
    "reset",
    "resize",
    "save",
    "search",
    "select",
    "share",
    "sort",
    "start",
    "switch",
    "sync",
    "update",
    "use",
    "zoom",
}


def _present(verb: str) -> str:
    """``verb`` in the present if it is a known action, in either tense; else ""."""
    if verb in _ACTIONS:
        return verb
    if verb in _PRESENT:
        return _PRESENT[verb]
    for cut in (2, 1):  # "exported" -> "export", "saved" -> "save"
        if verb.endswith("ed") and verb[:-cut] in _ACTIONS:
            return verb[:-cut]
    return ""


def _told(text: str) -> str:
    """The action of the first "when I <verb> ..." clause, in the present; "" when none."""
    for match in _WHEN_I.finditer(text[:2000]):
        tried, verb, rest = match.group(1), match.group(2).lower(), match.group(3)
        # After "try to" any verb is the action; alone, only one people do in an app.
        now = verb if tried and verb.isalpha() else _present(verb)
        if not now:
            continue
        cut = _MAIN_CLAUSE.search(rest)
        rest = (rest[: cut.start()] if cut else rest).strip().rstrip(".:")
        if not rest:
            continue  # "when I clicked, it ..." names no object: no clearer than asking plainly
        action = _second_person(f"{now} {rest}".strip())
        return _shorten(f"try to {action}" if tried else action)
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
