"""Who acts on a report, as the timeline and the customer's pages name them (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bugline.lifecycle.status import Source


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    email: str
    via: str  # "dashboard" | "agent API": where the change was made

    def source(self) -> Source:
        return Source("agent", self.email, via=self.via)
