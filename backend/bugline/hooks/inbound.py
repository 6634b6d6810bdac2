"""What a webhook delivery is, what reading one gives, and the ways it is refused."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from bugline.connectors.base import Connector, Ticket


@dataclass(frozen=True, slots=True)
class Inbound:
    """One delivery as it arrived: the raw body (signatures are over these exact bytes),
    headers with lower-case names, the query string, and when it arrived."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    now: datetime

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class Rejected(Exception):
    """Not from the vendor, or not now: unsigned, mis-signed, stale or replayed (401)."""


class Malformed(Exception):
    """Signed, but not something the vendor sends (400)."""


class Unavailable(Exception):
    """The delivery cannot be confirmed right now (the vendor's API did not answer): 503, so
    the vendor delivers it again later; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Event:
    """What a delivery says about one ticket.

    ``to`` is a Bugline status, ``states.OPEN`` ("the ticket is open again") or ``""`` when
    the vendor's state must first be read back (``Vendor.confirm``). ``keys`` identify the
    delivery for de-duplication: a delivery any of whose keys was seen before is a repeat."""

    remote_id: str
    state: str  # the vendor's own word for it, as reported back ("solved", "closed/not_planned")
    to: str
    keys: tuple[str, ...]
    public_note: str = ""  # only what the vendor marks public
    internal_note: str = ""  # stays on the internal timeline
    fold_case: bool = False  # remote ids compare case-insensitively (GitHub owner/name)
    data: Mapping[str, str] = field(default_factory=dict)  # what confirm() needs


@dataclass(frozen=True, slots=True)
class Ignored:
    """A genuine delivery that changes no status (a ping, a comment, another event type)."""

    reason: str


class Vendor(ABC):
    """How one vendor's webhooks are checked and read."""

    kind: ClassVar[str]  # the connector kind
    via: ClassVar[str]  # how the timeline names the source: "Zendesk webhook"
    shared_secret: ClassVar[bool] = False  # no signature: the secret itself travels

    @abstractmethod
    def verify(self, inbound: Inbound, secret: str) -> None:
        """Raise Rejected unless the delivery is the vendor's, signed with ``secret``, and fresh."""

    @abstractmethod
    def read(self, inbound: Inbound) -> Event | Ignored:
        """What the (verified) delivery says; Malformed when it is not the vendor's shape."""

    async def confirm(self, connector: Connector, ticket: Ticket, event: Event) -> Event | Ignored:
        """Vendors without signatures: read the ticket back and act on that. Others: as read."""
        return event
