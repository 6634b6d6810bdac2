"""The allowed-origins textarea: one origin per line (commas also separate), each checked and
normalised by ``bugline.origins`` so the widget's own check reads exactly what was saved."""

from __future__ import annotations

import re

from bugline.origins import OriginError, normalize_origin
from bugline.projectadmin.problems import Problems

MAX_ORIGINS = 100
MAX_LENGTH = 300
_SPLIT = re.compile(r"[\n,]")


def parse_origins(text: str) -> list[str]:
    """Sorted, de-duplicated origins; Problems names each bad line."""
    entries = [e.strip() for e in _SPLIT.split(text) if e.strip()]
    if len(entries) > MAX_ORIGINS:
        raise Problems([("origins", f"at most {MAX_ORIGINS} origins (got {len(entries)})")])
    problems: list[tuple[str, str]] = []
    out: set[str] = set()
    for i, entry in enumerate(entries, 1):
        if len(entry) > MAX_LENGTH:
            problems.append(("origins", f"entry {i} is longer than {MAX_LENGTH} characters"))
            continue
        try:
            out.add(normalize_origin(entry))
        except OriginError as exc:
            problems.append(("origins", f"entry {i}: {exc}"))
    if problems:
        raise Problems(problems)
    return sorted(out)
