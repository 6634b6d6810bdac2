"""Where the vendors' machine-readable specs live: ``<repo root>/../shared/specs``, or the
shared folder named by ``BUGLINE_SHARED_DIR``, or the workplace's ``/work/shared`` (CI runs a
fresh clone that may not sit beside the shared folder).

The specs are shared read-only material and are never copied into the project. A missing
folder or file is a test failure (``SpecsMissing``), never a skip: a fake vendor that cannot
check requests against the vendor's own spec would let wrong requests pass unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CANDIDATES = [
    *([Path(os.environ["BUGLINE_SHARED_DIR"]) / "specs"] if os.environ.get("BUGLINE_SHARED_DIR") else []),
    REPO_ROOT.parent / "shared" / "specs",
    Path("/work/shared/specs"),
]
SPECS = next((c for c in CANDIDATES if c.is_dir()), CANDIDATES[0])

# One spec file per vendor (CONTRACTS.md section 8 says which subset each is and where it came from).
FILES: dict[str, str] = {
    "zendesk": "zendesk/zendesk-tickets-uploads-subset.openapi.json",
    "jira": "jira/jira-issue-attachments-subset.openapi.json",
    "github": "github/github-issues-subset.openapi.json",
    "slack": "slack/slack-chat-postMessage-subset.patched.swagger.json",
    "linear": "linear/schema.graphql",
}


class SpecsMissing(RuntimeError):
    """The shared specs folder, or a file in it, is not where the tests expect it."""


def specs_dir() -> Path:
    """The shared specs folder; raises ``SpecsMissing`` naming the path it looked at."""
    if not SPECS.is_dir():
        raise SpecsMissing(
            f"vendor specs folder {SPECS} not found (candidates: {', '.join(map(str, CANDIDATES))}): the tests read "
            "the vendors' specs from the shared folder (see CONTRACTS.md); put it beside the repo or "
            "name it in BUGLINE_SHARED_DIR"
        )
    return SPECS


def spec_file(relative: str) -> Path:
    """A file under the specs folder, e.g. ``"examples/github_create_issue.json"``."""
    path = specs_dir() / relative
    if not path.is_file():
        raise SpecsMissing(f"vendor spec file {path} not found")
    return path


def spec_path(vendor: str) -> Path:
    """The spec file of one vendor: ``zendesk``, ``jira``, ``github``, ``slack`` or ``linear``."""
    if vendor not in FILES:
        raise KeyError(f"no spec known for vendor {vendor!r}; known: {', '.join(sorted(FILES))}")
    return spec_file(FILES[vendor])


def example(name: str) -> Path:
    """A request example shipped with the specs, e.g. ``example("zendesk_create_ticket.json")``."""
    return spec_file(f"examples/{name}")
