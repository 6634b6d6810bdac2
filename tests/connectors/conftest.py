"""Fixtures for the connector tests: the real django-helpdesk and its webhook receiver.

Both are started once per session; a helpdesk that cannot start fails the tests that use it
(with its output), never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.helpdesk import Helpdesk, WebhookReceiver, start_helpdesk


@pytest.fixture(scope="session")
def helpdesk_webhooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.down()


@pytest.fixture(scope="session")
def helpdesk(
    tmp_path_factory: pytest.TempPathFactory, helpdesk_webhooks: WebhookReceiver
) -> Iterator[Helpdesk]:
    desk = start_helpdesk(
        tmp_path_factory.mktemp("helpdesk"),
        new_ticket_webhooks=[f"{helpdesk_webhooks.url}/helpdesk/new-ticket"],
        followup_webhooks=[f"{helpdesk_webhooks.url}/helpdesk/followup"],
    )
    try:
        yield desk
    finally:
        desk.stop()
