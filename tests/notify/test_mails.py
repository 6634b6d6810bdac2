"""What the customer receives, read back from a real SMTP server, on SQLite and PostgreSQL:
each kind's subject, text and HTML, and where its links go; questions when information is
missing, the timeframe for the severity, the public note and the "still broken" link; never
an internal note; every reporter of a group; German for a German reporter."""

from __future__ import annotations

from typing import Any

import pytest

from bugline.notify import links
from bugline.tokens import status_token
from tests.conftest import PUBLIC_URL
from tests.integration.test_intake import report_body
from tests.integration.test_triage import VAGUE
from tests.notify.conftest import Mailroom, html_links, plain, text_links, visible_text
from tests.support.smtp import Received

pytestmark = pytest.mark.anyio

INTERNAL = "INTERNAL-ONLY root cause: cache key collision in shard 7"


def reporter(email: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"u-{email}", "email": email, "name": "Ana", **extra}


def status_of(room: Mailroom, report_id: str) -> str:
    return f"{PUBLIC_URL}/s/{status_token(room.b.settings.secret_key, report_id)}"


def body_text(mail: Received) -> str:
    """Everything the customer can read in a mail: headers, text part and HTML part as shown."""
    headers = "\n".join(f"{k}: {v}" for k, v in mail.message.items())
    return f"{headers}\n{plain(mail)}\n{visible_text(mail.html())}\n{mail.html()}"


async def test_the_receipt_has_the_reference_and_the_status_link(mailroom: Mailroom) -> None:
    report_id = await mailroom.submit(report_body(reporter=reporter("receipt@example.com")))
    assert await mailroom.notified() == {"sent": 1}
    [mail] = mailroom.mails_to("receipt@example.com")
    number = (await mailroom.report(report_id)).number
    assert mail.message["Subject"] == f"We have your report #{number}: Invoice export fails"
    assert mail.message["From"] == "Acme Support <support@acme-mail.test>"
    assert mail.message["To"] == "Ana <receipt@example.com>"
    assert mail.mail_from == "support@acme-mail.test"
    status = status_of(mailroom, report_id)
    assert status in text_links(plain(mail))
    assert (status, "Follow your report") in html_links(mail.html())
    assert "/answer" not in plain(mail) + mail.html()  # nothing to answer: no questions, no link
    assert "It has what we need" in plain(mail)
    # The SOP: acknowledge, but promise no fix time.
    assert "within" not in body_text(mail).lower()
    [notification] = await mailroom.notifications(report_id)
    assert notification.state == "sent" and notification.message_id == mail.message["Message-ID"]
    [event] = await mailroom.events(report_id, "notified")
    assert not event.public and event.data["kind"] == "received" and event.data["to"] == "receipt@example.com"


async def test_missing_information_asks_the_triage_questions(mailroom: Mailroom) -> None:
    report_id = await mailroom.submit(
        {
            **VAGUE,
            "reporter": reporter("vague@example.com"),
            "context": {"url": "https://app.example.com/orders"},
        }
    )
    assert await mailroom.notified() == {"sent": 1}
    [mail] = mailroom.mails_to("vague@example.com")
    report = await mailroom.report(report_id)
    assert report.status == "needs_info"
    questions = list(report.triage["completeness"]["questions"].values())  # type: ignore[index]
    assert len(questions) >= 2
    assert mail.message["Subject"] == f"A few questions about your report #{report.number}: broken"
    shown = visible_text(mail.html())
    for question in questions:
        assert f"  - {question}" in plain(mail)
        assert question in shown
    answer = status_of(mailroom, report_id) + "/answer"
    assert f"Answer here: {answer}" in plain(mail)
    assert (answer, "Answer the questions") in html_links(mail.html())


async def test_a_reports_whole_life_in_mails(mailroom: Mailroom) -> None:
    email = "life@example.com"
    report_id = await mailroom.submit(report_body(reporter=reporter(email)))
    await mailroom.notified()
    number = (await mailroom.report(report_id)).number
    status = status_of(mailroom, report_id)

    async def step(to: str, **kw: Any) -> Received:
        before = len(mailroom.mails_to(email))
        assert await mailroom.change([report_id], to, **kw)
        assert await mailroom.notified() == {"sent": 1}
        mails = mailroom.mails_to(email)
        assert len(mails) == before + 1
        return mails[-1]

    await mailroom.set_report(report_id, severity="critical")
    escalated = await step("escalated", internal_note=INTERNAL)
    assert escalated.message["Subject"] == f"Your report #{number} has been passed to our engineering team"
    assert "We aim to fix problems like this one within 4 hours." in plain(escalated)

    resolved = await step(
        "resolved",
        public_note="Fixed in release 2.4.1: exports now finish in seconds.",
        internal_note=INTERNAL,
    )
    assert resolved.message["Subject"] == f"Fixed: your report #{number}: Invoice export fails"
    assert "Fixed in release 2.4.1: exports now finish in seconds." in plain(resolved)
    assert "Fixed in release 2.4.1" in visible_text(resolved.html())
    reopen = status + "/reopen"
    assert reopen in text_links(plain(resolved))
    assert (reopen, "It is still broken") in html_links(resolved.html())

    reopened = await step("reopened", via="still-broken link", public_note="Still fails on Safari")
    assert reopened.message["Subject"] == f"Your report #{number} is open again"
    assert "Still fails on Safari" in plain(reopened)

    cannot = await step("cannot_reproduce", public_note="Tried Safari 17 and 18.", internal_note=INTERNAL)
    assert cannot.message["Subject"] == f"We could not reproduce your report #{number} yet"
    assert "We keep your report open for 14 days" in plain(cannot)
    assert "Tried Safari 17 and 18." in plain(cannot)
    assert (status + "/answer", "Tell us more") in html_links(cannot.html())

    closed = await step("closed", via="SLA timer")
    assert closed.message["Subject"] == f"Your report #{number} is closed"
    assert "we could not reproduce the\nproblem, and we have not heard more about it in 14 days" in plain(
        closed
    )
    assert (reopen, "It is still broken") in html_links(closed.html())

    mails = mailroom.mails_to(email)
    assert len(mails) == 6
    for mail in mails:  # the internal note never leaves, in any part or header
        assert "INTERNAL-ONLY" not in body_text(mail) and "shard 7" not in body_text(mail)
        assert "INTERNAL-ONLY" not in mail.data.decode()
    # One thread per report: every mail names the same root.
    assert len({m.message["References"] for m in mails}) == 1
    assert len({m.message["Message-ID"] for m in mails}) == 6


@pytest.mark.parametrize(
    ("severity", "sla", "promise"),
    [
        ("critical", None, "within 4 hours"),
        ("high", None, "within 8 hours"),
        ("medium", None, "within a working day"),
        ("low", None, "within 2 weeks"),
        (
            "medium",
            {"medium": {"resolution": "3d", "escalation": {"level_2": "1d", "level_3": "3d"}}},
            "within 3 working days",
        ),
    ],
)
async def test_escalation_gives_the_timeframe_of_the_severity(
    mailroom: Mailroom, severity: str, sla: dict[str, Any] | None, promise: str
) -> None:
    settings: dict[str, Any] = {"notifications": {"teams": {"billing": "the billing team"}}}
    if sla:
        settings["sla"] = sla
    await mailroom.set_project_settings(settings)
    report_id = await mailroom.submit(report_body(reporter=reporter("sev@example.com")))
    await mailroom.notified()
    await mailroom.set_report(report_id, severity=severity, category="billing")
    await mailroom.change([report_id], "escalated")
    assert await mailroom.notified() == {"sent": 1}
    mail = mailroom.mails_to("sev@example.com")[-1]
    assert mail.message["Subject"].endswith("has been passed to the billing team")
    assert f"We aim to fix problems like this one {promise}." in plain(mail)
    assert promise in visible_text(mail.html())


async def test_every_reporter_of_a_group_hears_it_is_fixed(mailroom: Mailroom) -> None:
    people = ["first@example.com", "second@example.com", "third@example.com"]
    ids = [await mailroom.submit(report_body(reporter=reporter(p, id=f"g-{p}"))) for p in people]
    await mailroom.notified()
    changed = await mailroom.change(
        ids, "resolved", public_note="Fixed for everyone.", internal_note=INTERNAL
    )
    assert len(changed) == 3
    assert await mailroom.notified() == {"sent": 3}
    for person, report_id in zip(people, ids, strict=True):
        mail = mailroom.mails_to(person)[-1]
        assert mail.message["Subject"].startswith("Fixed: your report #")
        assert "Fixed for everyone." in plain(mail) and INTERNAL not in body_text(mail)
        assert (status_of(mailroom, report_id) + "/reopen", "It is still broken") in html_links(mail.html())
    # A repeated webhook changes nothing and nobody hears it twice.
    assert await mailroom.change(ids, "resolved") == []
    assert await mailroom.notified() == {}


async def test_a_german_reporter_gets_german(mailroom: Mailroom) -> None:
    report_id = await mailroom.submit(
        report_body(reporter=reporter("de@example.com", locale="de-DE", name="Jörg"))
    )
    await mailroom.notified()
    [receipt] = mailroom.mails_to("de@example.com")
    number = (await mailroom.report(report_id)).number
    assert (
        receipt.message["Subject"] == f"Ihre Meldung #{number} ist bei uns eingegangen: Invoice export fails"
    )
    assert receipt.message["Content-Language"] == "de"
    assert plain(receipt).startswith("Hallo Jörg,\n\nvielen Dank")
    assert '<html lang="de">' in receipt.html()
    assert "Keine E-Mails mehr zu Ihren Meldungen" in visible_text(receipt.html())
    await mailroom.set_report(report_id, severity="medium")
    await mailroom.change([report_id], "escalated")
    await mailroom.notified()
    escalated = mailroom.mails_to("de@example.com")[-1]
    assert escalated.message["Subject"] == f"Ihre Meldung #{number} wurde an unser Entwicklungsteam übergeben"
    assert "innerhalb eines Werktags beheben" in plain(escalated)


@pytest.mark.parametrize(
    ("reporter_locale", "browser", "project", "subject_start"),
    [
        (None, "de-AT", None, "Ihre Meldung"),  # the browser's language when the reporter has none
        ("es-ES", "es-ES", None, "We have your report"),  # no Spanish: English
        ("es-ES", "es-ES", "de", "Ihre Meldung"),  # ...or the project's default
        ("fr-CA", "en-US", "de", "Nous avons bien reçu"),  # French (Canada) reads French
        ("de", "de", "en", "Ihre Meldung"),  # the reporter's own language beats the default
    ],
)
async def test_the_language_falls_back_in_order(
    mailroom: Mailroom, reporter_locale: str | None, browser: str, project: str | None, subject_start: str
) -> None:
    if project:
        await mailroom.set_project_settings({"notifications": {"locale": project}})
    person = reporter("lang@example.com", **({"locale": reporter_locale} if reporter_locale else {}))
    body = report_body(reporter=person)
    body["context"] = {**body["context"], "locale": browser}
    await mailroom.submit(body)
    await mailroom.notified()
    [mail] = mailroom.mails_to("lang@example.com")
    assert mail.message["Subject"].startswith(subject_start)


async def test_a_customer_is_written_to_in_the_language_of_their_report(mailroom: Mailroom) -> None:
    """No language from the host app, an English browser, a report in French: French mail.
    The host app's word for the reporter's language still comes first."""
    body = report_body(reporter=reporter("fr@example.com"))
    body.update(
        title="L'export des factures échoue",
        description="Quand je clique sur Exporter, le message « Export impossible » s'affiche. Ça arrive à chaque fois.",
        actual="Le message « Export impossible » s'affiche",
    )
    body["context"] = {**body["context"], "locale": "en-US"}
    await mailroom.submit(body)
    body = {**body, "reporter": reporter("fr-de@example.com", locale="de-DE")}
    await mailroom.submit(body)
    await mailroom.notified()
    [french] = mailroom.mails_to("fr@example.com")
    assert french.message["Content-Language"] == "fr"
    assert french.message["Subject"].startswith("Nous avons bien reçu")
    [german] = mailroom.mails_to("fr-de@example.com")
    assert german.message["Content-Language"] == "de"


async def test_an_italian_report_is_not_written_to_in_french(mailroom: Mailroom) -> None:
    """ "il", "ma", "non", "la" are French words too: read alone, this Italian report looks French.
    Triage reads it with the customer's browser language (Italian, which it does not read) and
    the mail must agree: not French, but the project's language (English)."""
    body = report_body(reporter=reporter("it@example.com"))
    body.update(
        title="Problema con la consegna",
        description="Buongiorno, il corriere ha segnato il pacco come consegnato ma io non l'ho "
        "ricevuto. Nessuno ha suonato il campanello e non c'è nessun avviso nella cassetta.",
        actual="Il pacco risulta consegnato ma non è arrivato",
        trying_to_do="",
        expected="",
        error_text="",
        steps=[],
    )
    body["context"] = {**body["context"], "locale": "it-IT"}
    report_id = await mailroom.submit(body)
    await mailroom.notified()
    [mail] = mailroom.mails_to("it@example.com")
    assert mail.message["Content-Language"] == "en"
    report = await mailroom.report(report_id)
    assert report.triage["completeness"]["unread_language"] == "it"


async def test_headers_for_mail_providers_and_the_unsubscribe_link(mailroom: Mailroom) -> None:
    report_id = await mailroom.submit(report_body(reporter=reporter("headers@example.com")))
    await mailroom.notified()
    [mail] = mailroom.mails_to("headers@example.com")
    [notification] = await mailroom.notifications(report_id)
    assert mail.message["Message-ID"] == f"<bugline.n.{notification.id}@acme-mail.test>"
    assert mail.message["References"] == f"<bugline.r.{report_id}@acme-mail.test>"
    assert mail.message["Auto-Submitted"] == "auto-generated"  # RFC 3834: no auto-replies to this
    assert mail.message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
    unsubscribe = mail.message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{PUBLIC_URL}/u/") and unsubscribe.endswith(">")
    url = unsubscribe[1:-1]
    token = url.rsplit("/", 1)[1]
    assert links.verify_unsubscribe(mailroom.b.settings.secret_key, token) == notification.reporter_id
    assert url in text_links(plain(mail))
    assert (url, "Stop emails about your reports") in html_links(mail.html())
    assert mail.message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.message.iter_parts()] == ["text/plain", "text/html"]
    assert all(b < 128 for b in mail.data)  # 7-bit clean for every relay
