"""How long a project keeps media and personal data (pure).

Defaults come from the settings (BUGLINE_RETENTION_MEDIA_DAYS, BUGLINE_RETENTION_PERSONAL_DAYS);
a project may keep less or more in ``settings["retention"]`` (``media_days``,
``personal_days``). 0 keeps forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_DAYS = 36_500


class RetentionError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Policy:
    media_days: int
    personal_days: int

    def media_before(self, now: datetime) -> datetime | None:
        return now - timedelta(days=self.media_days) if self.media_days else None

    def personal_before(self, now: datetime) -> datetime | None:
        return now - timedelta(days=self.personal_days) if self.personal_days else None


def _days(raw: Any, name: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DAYS:
        raise RetentionError(f"retention.{name} must be a whole number of days from 0 (keep) to {MAX_DAYS}")
    return raw


def for_project(defaults: Policy, project_settings: Mapping[str, Any]) -> Policy:
    """The project's policy: its own ``retention`` values over the installation's defaults."""
    own = project_settings.get("retention") or {}
    if not isinstance(own, Mapping):
        raise RetentionError("retention must be a table with media_days and personal_days")
    unknown = set(own) - {"media_days", "personal_days"}
    if unknown:
        raise RetentionError(f"retention has unknown keys: {', '.join(sorted(unknown))}")
    return Policy(
        media_days=_days(own.get("media_days", defaults.media_days), "media_days"),
        personal_days=_days(own.get("personal_days", defaults.personal_days), "personal_days"),
    )
