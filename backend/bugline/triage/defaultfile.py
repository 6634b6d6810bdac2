"""The shipped defaults of one part of the engine, read from ``defaults/<part>.toml`` once."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any


@cache
def read_defaults(part: str) -> Mapping[str, Any]:
    """The parsed file; shared, so callers copy before changing it (rules.merge does)."""
    text = resources.files("bugline.triage").joinpath("defaults", f"{part}.toml").read_text("utf-8")
    return tomllib.loads(text)
