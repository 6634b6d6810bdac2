"""Which vendor reads the webhooks of which connector kind. The email and webhook
connectors have no status to send back (an SMTP inbox gives no signed callback, CONTRACTS.md
section 7; the generic webhook is outbound only): their connectors have no hook."""

from __future__ import annotations

from bugline.hooks.djangohelpdesk import DjangoHelpdesk
from bugline.hooks.freshdesk import Freshdesk
from bugline.hooks.github import GitHub
from bugline.hooks.inbound import Vendor
from bugline.hooks.jira import Jira
from bugline.hooks.linear import Linear
from bugline.hooks.slack import Slack
from bugline.hooks.zendesk import Zendesk

VENDORS: dict[str, Vendor] = {
    v.kind: v for v in (Zendesk(), Jira(), Freshdesk(), GitHub(), Linear(), Slack(), DjangoHelpdesk())
}


def vendor(kind: str) -> Vendor | None:
    return VENDORS.get(kind)
