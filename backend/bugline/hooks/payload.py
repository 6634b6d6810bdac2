"""Reading a vendor's JSON without trusting its shape: every getter answers a default for a
missing key or a value of the wrong type, so a hostile but correctly signed body is a 400 or
a 202, never a crash. Text is capped before it goes anywhere near the database."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bugline.hooks.inbound import Malformed

NOTE_LIMIT = 4000  # characters of a public note kept for the customer's notice
TEXT_LIMIT = 200  # ids, states, names


def parse(body: bytes) -> Any:
    """The body as JSON. NaN and Infinity are refused: they are not JSON (RFC 8259) and a NaN
    timestamp would slip through every window comparison."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(body, parse_constant=refuse)
    except RecursionError:
        raise Malformed("the JSON is nested too deeply") from None
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8 text") from None
    except ValueError as exc:
        raise Malformed(f"the body is not valid JSON: {str(exc)[:200]}") from None


def obj(value: Any, *path: str) -> dict[str, Any]:
    """The object at ``path`` inside ``value`` (``{}`` if any step is not an object)."""
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def text(value: Any, name: str) -> str:
    """A string or whole number at ``name`` as one line of text ("" otherwise), capped."""
    item = value.get(name) if isinstance(value, dict) else None
    if isinstance(item, bool) or item is None:
        return ""
    if isinstance(item, int):
        return str(item)[:TEXT_LIMIT]
    if not isinstance(item, str):
        return ""
    return " ".join(item.split())[:TEXT_LIMIT]


def note(value: Any, name: str) -> str:
    """Free text at ``name`` (a comment), line breaks kept, capped at NOTE_LIMIT."""
    item = value.get(name) if isinstance(value, dict) else None
    return item.strip()[:NOTE_LIMIT] if isinstance(item, str) else ""


def number(value: Any, name: str) -> float | None:
    item = value.get(name) if isinstance(value, dict) else None
    if isinstance(item, bool) or not isinstance(item, int | float):
        return None
    return float(item)


def items(value: Any, name: str) -> list[Any]:
    item = value.get(name) if isinstance(value, dict) else None
    return item[:500] if isinstance(item, list) else []


def names(values: list[Any], field: str = "name") -> list[str]:
    """Label names from a list of label objects (or of plain strings)."""
    out: list[str] = []
    for item in values:
        name = item if isinstance(item, str) else text(item, field)
        if isinstance(name, str) and name:
            out.append(name[:TEXT_LIMIT])
    return out


def body_key(*parts: bytes) -> str:
    """A de-duplication key from the bytes themselves, for vendors that send no delivery id."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return "sha256:" + digest.hexdigest()


def id_key(prefix: str, value: str) -> str:
    """``prefix:value`` for a vendor's delivery id, hashed when it is long or odd (the column
    holds 200 characters and the value came from a header anyone can write)."""
    if 0 < len(value) <= 120 and value.isascii() and value.isprintable():
        return f"{prefix}:{value}"
    return f"{prefix}:sha256:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"
