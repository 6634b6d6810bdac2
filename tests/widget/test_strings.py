"""The German widget names a report's status as the German status page does: a customer sees the
same word in "My reports" and on the page the widget links to."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DE_TS = REPO / "widget" / "src" / "strings" / "de.ts"
DE_TOML = REPO / "backend" / "bugline" / "pages" / "words" / "de.toml"


def test_german_status_names_match_the_status_page() -> None:
    widget = dict(re.findall(r'^\s*(status_\w+): "([^"]*)",$', DE_TS.read_text(), re.M))
    page = tomllib.loads(DE_TOML.read_text())
    assert len(widget) == 9
    for key, label in widget.items():
        assert label == page[key], key
