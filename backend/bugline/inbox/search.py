"""The search box: the customer's words in, a safe full-text query out (pure).

The words are cut out of the input the way both indexes cut the text (letters and digits;
punctuation, underscores and operators are separators), each is quoted, and the last one
matches as a prefix, so ``paym`` finds "payment". Nothing the agent types is ever read as
query syntax: ``"``, ``*``, ``OR``, ``NEAR(``, ``'; DROP`` are just words or separators.
``#42`` is the report number 42 instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY = 200
MAX_WORDS = 8
MAX_WORD = 60
_WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"#(\d{1,9})")


class SearchError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Search:
    words: tuple[str, ...] = ()
    number: int | None = None  # "#42"

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every word (implicit AND), the last as a prefix."""
        quoted = ['"' + w.replace('"', '""') + '"' for w in self.words]
        return " ".join(quoted) + "*"

    def tsquery(self) -> str:
        """A to_tsquery('simple', …) expression: every word ANDed, the last as a prefix."""
        quoted = ["'" + w.replace("'", "''").replace("\\", "\\\\") + "'" for w in self.words]
        quoted[-1] += ":*"
        return " & ".join(quoted)


def parse(text: str) -> Search | None:
    """None when there is nothing to search for (blank, or only punctuation)."""
    text = text.strip()
    if len(text) > MAX_QUERY:
        raise SearchError(f"is {len(text)} characters; search with at most {MAX_QUERY}")
    number = _NUMBER.fullmatch(text)
    if number:
        return Search(number=int(number.group(1)))
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return None
    if len(words) > MAX_WORDS:
        raise SearchError(f"has {len(words)} words; search with at most {MAX_WORDS}")
    long = next((w for w in words if len(w) > MAX_WORD), None)
    if long:
        raise SearchError(f"has a word of {len(long)} characters; the longest a word may be is {MAX_WORD}")
    return Search(words=tuple(words))
