"""Free text as the triage rules read it: normalised, then cut into typed segments (pure).

Customers and email/API clients put everything in one box, so a report's text mixes prose,
numbered steps, pasted commands, code, stack traces and log lines. The completeness rules
ask different questions of each kind ("is this prose sentence an expectation?", "is this a
list of steps?"), so the cutting happens once, here, and knows nothing about the checklist.

Every function is linear in the (capped) input: patterns are anchored per line and contain
no nested repetition, so 1 MB of hostile text costs the same as its first ``limit`` chars.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

MAX_CHARS = 20_000
INLINE_LIST_CHARS = 3_000  # a report's text beyond this is a paste of logs; the checklist is near the top

SegmentKind = Literal["heading", "prose", "item", "code", "command", "trace", "log", "quote"]

# Control characters other than tab and newline, zero-width marks and the BOM: they only
# hide words from the patterns (binary garbage, copy-pasted rich text).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
# Curly quotes become straight ones so patterns need to spell "don't" only one way.
# German and French quotes too (low-9 and guillemets): a quoted error message reads the same in any of them.
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2039": "'",
        "\u203a": "'",
        "\u00b4": "'",
    }
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_INLINE_FENCE = re.compile(r"```(.{1,2000}?)```", re.S)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(\S.*)$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)([^*_]{1,80})\1\s*:?\s*$")
_LABEL_LINE = re.compile(r"^\s*([A-Za-z][\w /()'-]{0,40}):\s*$")
_ITEM = re.compile(
    r"^\s*(?:(?:step\s*)?(\d{1,2})\s*[.):-](?!\d)\s*|(?:step\s+)(\d{1,2})\s+|(\d{1,2})\s+(?=[A-Za-z\"'])"
    r"|[-*\u2022+]\s+|\(?([a-h])\)\s+)(?=\S)",
    re.I,
)
_TRACE = re.compile(
    r"^\s*(?:at\s+[\w$.<>/\\-]+\s*\(.{0,300}\)\s*$"  # Java / JavaScript frames
    r"|at\s+\S+\s+\(?\S+:\d+:\d+\)?\s*$"  # V8 frames without a function name in parentheses
    r"|File \".{1,300}\", line \d+"  # Python frames
    r"|Traceback \(most recent call last\)"
    r"|#\d+\s+0x[0-9a-f]+"  # gdb / native crash frames
    r"|(?:Caused by|Exception in thread)\b"
    r"|\.\.\. \d+ more\s*$"
    r"|[\w$]+(?:\.[\w$]+)+(?:Exception|Error|Failure)\b(?::|\s*$))",
    re.I,
)
_LOG = re.compile(
    r"^\s*(?:\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d"  # ISO timestamps
    r"|\[(?:mon|tue|wed|thu|fri|sat|sun) \w{3} \d{1,2} "  # Apache error_log
    r"|\d{1,2}:\d\d:\d\d[.,]\d{3}"  # time-only loggers
    r"|\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\s"  # Android logcat: 03-14 10:22:31.418  1234  1250 E Tag: ...
    r"|[VDIWEF]/[\w.$-]{1,80}\s*\(\s*\d+\):"  # logcat's brief format: E/AndroidRuntime( 1234):
    r"|(?:ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL|SEVERE|TRACE|CRITICAL)\b\s*[:\]\-]"
    r"|\[(?:error|warn|warning|notice|crit|alert|emerg|info|debug)\])",
    re.I,
)
_PROMPT = re.compile(  # $ ls, % make, C:\> dir, user@host:~$ ls, # ./configure; not $var = ... (PHP, Perl)
    r"^\s*(?:\$(?=\s)|%|[A-Za-z]:\\[^>\s]{0,80}>|[\w.-]{1,40}@[\w.-]{1,60}:\S{0,80}[$#]|#(?!#))\s*\S"
)
_QUOTE = re.compile(r"^\s*>\s?")
# Unfenced code people paste into plain-text trackers: a statement ending in ; { or }, a
# markup tag on its own line, a call on its own line, or a config directive with a path.
_CODE_LINE = re.compile(
    r"^\s*(?:[^\s].{0,300}[;{}]\s*$"
    r"|</?[A-Za-z][\w:.-]{0,40}(?:\s[^<>]{0,300})?/?>.{0,300}$"
    r"|[\w$.]{1,80}\([^()]{0,200}\)\s*;?\s*$"
    r"|\.{1,2}/[\w./-]+(?:\s.{0,300})?$)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|mr|mrs|dr|no|fig|ver|v)\.)$", re.I)
# Chinese and Japanese write words without spaces: each ideograph or kana counts as a word
# (about right: most of their words are one or two characters), so "点击支付按钮时出现错误" is
# an answer, not one vague word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"  # kana and ideographs
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['\u2019-][^\W_{_CJK}]+)*")
# An inline number that may start a list item: "Steps to Reproduce: 1 go to ... 2 put ...".
_INLINE_NUMBER = re.compile(r"(?:^|(?<=[\s:;,]))(\d{1,2})(?:[.):]|\s*-)?\s+(?=[\"'(]?[A-Za-z])")


# `code spans` in a sentence: "I start it with `docker run -it web` and ...".
_CODE_SPAN = re.compile(r"`([^`\n]{3,300})`")
# A command line: a program name, then arguments of which one is an option (-x, --name).
_COMMAND_LINE = re.compile(r"^(?:\$ )?(?:sudo )?[A-Za-z][\w.-]{0,40}(?: [^ ]{1,300}){0,40}? --?[A-Za-z]")
# Commands people paste to say where it happened, not what they did: uname -a, foo --version.
_PROBE = re.compile(r"^(?:sudo )?(?:uname|lsb_release|sw_vers|ver)\b|\s(?:--version|-v|-V|version|info)\s*$")


@dataclass(frozen=True, slots=True)
class Segment:
    kind: SegmentKind
    text: str
    number: int | None = None  # a list item's own number, when it has one


def normalise(text: str, limit: int = MAX_CHARS) -> str:
    """Caps, then cleans: one newline style, no invisible characters, NFKC, single spaces."""
    if not text:
        return ""
    text = text[:limit]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    lines = [_SPACES.sub(" ", line).rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


# Jira's wiki markup (Jira Server and Data Center, Confluence), which reports from Jira
# trackers arrive in: https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa
_WIKI_HEADING = re.compile(r"^[ \t]*h([1-6])\.[ \t]+", re.M)
# {code}, {code:java}, {code:title=Pay.java|borderStyle=solid}, {noformat}; not "{code: 500}".
_WIKI_BLOCK = re.compile(r"\{(?:code|noformat)(?::[^}\s]{1,200})?\}")
_WIKI_MONO = re.compile(r"\{\{([^{}\n]{1,300})\}\}")
_WIKI_BOLD_LINE = re.compile(r"^([ \t]*)\*(?=[^\s*])([^*\n]{1,80})\*(?=[ \t:]|$)", re.M)
# Jira numbers a list with "#" ("# Open the page", "## a sub-step"): two or more such lines
# in a row. A markdown heading stands alone, so a run of them is a list.
# Jira writes the marks at the line's start; indented "#" lines are comments in pasted config.
_WIKI_LIST_RUN = re.compile(r"^#[ \t]+\S[^\n]*\n(?:##?[ \t]+\S[^\n]*(?:\n|$))+", re.M)
_WIKI_LIST_MARK = re.compile(r"^##?[ \t]+", re.M)


def wiki_to_markdown(text: str) -> str:
    """Jira wiki markup as the markdown the rest reads: headings ("h3. Steps to reproduce"),
    bold labels ("*Expected:*"), "#" numbered lists, {code} / {noformat} blocks and {{mono}}.
    Text without that markup, and whatever is inside markdown fences, comes back as it is."""
    return _outside_fences(text, _wiki)


def _outside_fences(text: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the text outside markdown fences; what is fenced stays as it is."""
    if "```" not in text and "~~~" not in text:
        return change(text)
    return "".join(chunk if fenced else change(chunk) for fenced, chunk in _fenced_chunks(text))


def _fenced_chunks(text: str) -> list[tuple[bool, str]]:
    """The text cut where markdown fences open and close: (inside a fence?, its lines)."""
    chunks: list[tuple[bool, str]] = []
    lines: list[str] = []
    in_fence = False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            if not in_fence:
                chunks.append((False, "".join(lines)))
                lines = [line]
            else:
                lines.append(line)
                chunks.append((True, "".join(lines)))
                lines = []
            in_fence = not in_fence
            continue
        lines.append(line)
    chunks.append((in_fence, "".join(lines)))
    return chunks


def _wiki(text: str) -> str:
    if "#" in text:  # lists first: the headings below become "#" lines too
        text = _WIKI_LIST_RUN.sub(_numbered, text)
    if "h" in text:
        text = _WIKI_HEADING.sub(lambda m: "#" * int(m.group(1)) + " ", text)
    if "{" in text:
        text = _WIKI_BLOCK.sub("\n```\n", text)
        text = _WIKI_MONO.sub(r"`\1`", text)
    if "*" in text:
        text = _WIKI_BOLD_LINE.sub(r"\1**\2**", text)
    return text


# A bold line that asks or introduces: "**Anything else we should know?**", "**Logs:**".
_BOLD_QUESTION = re.compile(r"^\s*(?:\*\*|__)[^\n]{1,200}(?:[:?](?:\*\*|__)|(?:\*\*|__)\s*[:?])\s*$")


# GitLab's and others' templates put their guidance in parentheses under each heading
# ("### Steps to reproduce" then "(How one can reproduce the issue - this is very important)"):
# a parenthesised line that reads like an instruction to the reporter, right under a heading.
_GUIDANCE = re.compile(
    r"^([ \t]*(?:#{1,6}[ \t]|\*\*|__)[^\n]*\n(?:[ \t]*\n)*)"
    r"[ \t]*\((?=(?:how|what|which|when|where|why|who|describe|please|if|paste|explain|tell|include"
    r"|provide|list|add|any|optional|e\.g\.|give|share|link|mention|write|summari[sz]e"
    r"|a (?:clear|short|brief|concise)|steps|you can|you may)\b)"
    r"(?:[^()\n]|\n(?![ \t]*\n)|\([^()\n]{0,40}\)){3,600}\)[ \t.]*$",
    re.M | re.I,
)


def without_guidance(text: str) -> str:
    """The text without an issue template's own guidance left under its headings
    ("(What actually happens)"), outside fences; the reporter's asides stay ("(see screenshot)")."""
    if "(" not in text:
        return text
    return _outside_fences(text, lambda part: _GUIDANCE.sub(r"\1", part))


def until_heading(text: str) -> str:
    """The text up to its first heading: an issue template's next question ("##### Tested on
    [device]", "**Anything else?**") ends the answer before it, even one no label names. A
    "# comment" in a fenced paste is not a heading."""
    if "#" not in text and "**" not in text and "__" not in text:
        return text
    at = 0
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (
            (_MD_HEADING.match(line) and _line_kind(line) == "heading") or _BOLD_QUESTION.match(line)
        ):
            return text[:at]
        at += len(line) + 1
    return text


def _numbered(run: re.Match[str]) -> str:
    count = itertools.count(1)
    return _WIKI_LIST_MARK.sub(lambda _: f"{next(count)}. ", run.group(0))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(prose: str) -> list[str]:
    """Splits a paragraph on sentence ends, keeping "e.g." and version numbers intact."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(prose):
        # only the end of the sentence so far can be an abbreviation: keeps this linear
        if _ABBREVIATION.search(prose[max(start, m.start() - 8) : m.start()]):
            continue
        head = prose[start : m.start()]
        if head.strip():
            out.append(head.strip())
        start = m.end()
    tail = prose[start:].strip()
    if tail:
        out.append(tail)
    return out


def inline_items(text: str) -> tuple[str, list[str]]:
    """Finds a list written on one line ("1 open X 2 click Y 3 ..."): (text before, items).

    Only a run numbered 1, 2, 3... in order counts, so "I have 2 tabs and 3 windows" does
    not turn into a list. Returns (text, []) when there is no run of two or more.
    """
    # A list written on one line is short: looking past its first INLINE_LIST_CHARS keeps a
    # 20 000-character paragraph cheap.
    marks = [
        (int(m.group(1)), m.start(), m.end()) for m in _INLINE_NUMBER.finditer(text, 0, INLINE_LIST_CHARS)
    ]
    run: list[tuple[int, int, int]] = []
    for number, start, end in marks:
        if number == len(run) + 1:
            run.append((number, start, end))
        elif number == 1 and not run:
            run = [(number, start, end)]
    if len(run) < 2:
        return text, []
    ends = [start for _, start, _ in run[1:]] + [len(text)]
    items = [text[end_of_mark:stop].strip() for (_, _, end_of_mark), stop in zip(run, ends, strict=True)]
    return text[: run[0][1]].strip(), [i for i in items if i]


def inline_commands(text: str) -> list[str]:
    """Command lines quoted inside a sentence (`docker run -it web`), not version probes."""
    if "`" not in text:
        return []
    out: list[str] = []
    for m in _CODE_SPAN.finditer(text):
        span = m.group(1).strip()
        if _COMMAND_LINE.match(span) and not _PROBE.search(span):
            out.append(span)
    return out


def command_line(line: str) -> bool:
    """A line that runs a program with options (docker run -it web), not a version probe."""
    line = line.strip()
    return bool(_COMMAND_LINE.match(line)) and not _PROBE.search(line)


def _line_kind(line: str) -> SegmentKind:
    if _TRACE.match(line):
        return "trace"
    if _LOG.match(line):
        return "log"
    if _MD_HEADING.match(line):
        # "# ./configure --prefix=/opt" is a root prompt, not a heading
        body = _MD_HEADING.match(line)
        if line.lstrip().startswith("# ") and body and not body.group(1)[:1].isupper():
            return "command"
        return "heading"
    if _PROMPT.match(line):
        return "command"
    if _BOLD_LINE.match(line) or _LABEL_LINE.match(line):
        return "heading"
    if _CODE_LINE.match(line):
        return "code"
    if _QUOTE.match(line):
        return "quote"
    if _ITEM.match(line):
        return "item"
    return "prose"


def _item_number(line: str) -> int | None:
    m = _ITEM.match(line)
    if not m:
        return None
    for g in (m.group(1), m.group(2), m.group(3)):
        if g:
            return int(g)
    return None


def segment(text: str) -> tuple[Segment, ...]:
    """Cuts normalised text into segments; prose lines are joined into paragraphs."""
    out: list[Segment] = []
    buf: list[str] = []
    buf_kind: SegmentKind | None = None
    buf_number: int | None = None

    def flush() -> None:
        nonlocal buf, buf_kind, buf_number
        if buf and buf_kind is not None:
            joined = (" " if buf_kind in ("prose", "item", "quote") else "\n").join(buf).strip()
            if joined:
                out.append(Segment(buf_kind, joined, buf_number))
        buf, buf_kind, buf_number = [], None, None

    def add(kind: SegmentKind, line: str, number: int | None = None) -> None:
        nonlocal buf_kind, buf_number
        if kind != buf_kind or kind in ("item", "heading"):
            flush()
            buf_kind, buf_number = kind, number
        buf.append(line)

    in_fence = False
    for raw in _expand_inline_fences(text).split("\n"):
        if _FENCE.match(raw):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            # A fence holds whatever people paste: a stack trace or a log fenced on GitHub is
            # still a trace or a log (the error text), not code someone wrote.
            add("trace" if _TRACE.match(raw) else "log" if _LOG.match(raw) else "code", raw)
            continue
        if not raw.strip():
            flush()
            continue
        kind = _line_kind(raw)
        if kind == "prose" and buf_kind == "item":
            buf.append(raw.strip())  # a wrapped list item continues on the next line
            continue
        if kind == "prose" and buf_kind in ("code", "command") and raw.startswith(("    ", "\t")):
            kind = buf_kind
        if kind == "prose" and buf_kind is None and raw.startswith(("    ", "\t")) and _looks_like_code(raw):
            kind = "code"
        if kind == "item":
            add(kind, _ITEM.sub("", raw, count=1).strip(), _item_number(raw))
        elif kind == "quote":
            add(kind, _QUOTE.sub("", raw, count=1))
        elif kind == "heading":
            add(kind, raw.strip(" #*_:").strip())
        else:
            add(kind, raw)
    flush()
    return tuple(_split_inline_lists(out))


_CODE_CHARS = re.compile(r"[;{}()=<>\[\]$]|^\s*(?:def|class|function|var|let|const|import|return|if|for)\b")


def _looks_like_code(line: str) -> bool:
    return bool(_CODE_CHARS.search(line))


def _expand_inline_fences(text: str) -> str:
    """Puts ```inline code``` on its own fenced lines, so one-line pastes still count as code."""
    if "```" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        body = m.group(1)
        if "\n" in body and not body.startswith("\n") and body.split("\n", 1)[0].strip().isalnum():
            return m.group(0)  # an ordinary fence with a language tag: leave it alone
        return "\n```\n" + body.strip() + "\n```\n"

    return _INLINE_FENCE.sub(repl, text)


def _split_inline_lists(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for s in segments:
        if s.kind != "prose":
            out.append(s)
            continue
        head, items = inline_items(s.text)
        if not items:
            out.append(s)
            continue
        if head:
            out.append(Segment("prose", head))
        out.extend(Segment("item", item, n) for n, item in enumerate(items, 1))
    return out
