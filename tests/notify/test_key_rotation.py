"""Rotating BUGLINE_SECRET_KEY with the old key in BUGLINE_SECRET_KEY_PREVIOUS: links in mails
already sent, unsubscribe links and open forms keep working, and a mail sent after the
rotation about an older report carries the link the reporter already holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bugline.db.models import ReportStatus, utcnow
from bugline.notify import links
from bugline.pages import formtoken
from bugline.settings import Settings, SettingsError
from bugline.tokens import status_token, status_token_for, token_hash
from tests.conftest import PUBLIC_URL
from tests.integration.test_intake import report_body
from tests.notify.conftest import plain, smtp_settings, start_mailroom, text_links
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio

OLD, NEW = "old-key-" + "o" * 40, "new-key-" + "n" * 40


async def test_links_from_before_a_rotation_keep_working(
    db_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    email = f"rotation-{tmp_path.name}@example.com"
    body = report_body(reporter={"id": f"u-{tmp_path.name}", "email": email, "name": "Ana"})
    async for room in start_mailroom(smtp_settings(db_url, tmp_path / "a", smtp, secret_key=OLD), smtp):
        report_id = await room.submit(body)
        assert (await room.notified()).get("sent") == 1
    [receipt] = [m for m in smtp.messages if email in m.rcpt_tos]
    unsubscribe = next(u for u in text_links(plain(receipt)) if "/u/" in u)
    old_link = f"{PUBLIC_URL}/s/{status_token(OLD, report_id)}"
    assert old_link in plain(receipt)

    rotated = smtp_settings(db_url, tmp_path / "b", smtp, secret_key=NEW, secret_key_previous=OLD)
    async for room in start_mailroom(rotated, smtp):
        await room.change([report_id], ReportStatus.RESOLVED, public_note="Fixed in 4.2")
        assert (await room.notified()).get("sent") == 1
        resolved = room.mails_to(email)[-1]
        # The link in the new mail is the one the reporter already holds, and it opens.
        assert old_link in plain(resolved)
        assert f"/s/{status_token(NEW, report_id)}" not in plain(resolved)
        assert (await room.b.client.get(old_link.removeprefix(PUBLIC_URL))).status_code == 200
        # The unsubscribe link of the mail sent before the rotation still shows its form.
        page = await room.b.client.get(unsubscribe.removeprefix(PUBLIC_URL))
        assert page.status_code == 200 and "form_token" in page.text

    # Once the old key is dropped from PREVIOUS, its unsubscribe links stop working.
    dropped = smtp_settings(db_url, tmp_path / "c", smtp, secret_key=NEW)
    async for room in start_mailroom(dropped, smtp):
        assert (await room.b.client.get(unsubscribe.removeprefix(PUBLIC_URL))).status_code == 404


def test_a_form_opened_before_the_rotation_is_still_accepted() -> None:
    now = utcnow()
    token = formtoken.issue(OLD, "answer", "r1", now - timedelta(minutes=5))
    assert formtoken.check((NEW, OLD), "answer", "r1", token, now) is formtoken.Check.VALID
    assert formtoken.check(NEW, "answer", "r1", token, now) is formtoken.Check.INVALID
    stale = formtoken.issue(OLD, "answer", "r1", now - timedelta(days=3))
    assert formtoken.check((NEW, OLD), "answer", "r1", stale, now) is formtoken.Check.EXPIRED


def test_unsubscribe_tokens_verify_against_every_accepted_key() -> None:
    token = links.unsubscribe_token(OLD, "rep1")
    assert links.verify_unsubscribe((NEW, OLD), token) == "rep1"
    assert links.verify_unsubscribe(NEW, token) is None
    tampered = token[:-1] + ("1" if token.endswith("0") else "0")
    assert links.verify_unsubscribe((NEW, OLD), tampered) is None


def test_the_status_token_is_the_one_whose_hash_is_stored() -> None:
    stored = token_hash(status_token(OLD, "r9"))
    assert status_token_for((NEW, OLD), "r9", stored) == status_token(OLD, "r9")
    assert status_token_for((NEW, OLD), "r9", token_hash(status_token(NEW, "r9"))) == status_token(NEW, "r9")
    assert status_token_for((NEW,), "r9", stored) == status_token(NEW, "r9")  # unknown: the current key's


def test_previous_keys_are_read_once_and_checked() -> None:
    settings = Settings.from_env({"BUGLINE_SECRET_KEY": NEW, "BUGLINE_SECRET_KEY_PREVIOUS": f" {OLD} , "})
    assert settings.secret_keys == (NEW, OLD)
    with pytest.raises(SettingsError, match="BUGLINE_SECRET_KEY_PREVIOUS"):
        Settings.from_env({"BUGLINE_SECRET_KEY": NEW, "BUGLINE_SECRET_KEY_PREVIOUS": "short"})
