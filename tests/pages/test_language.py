"""The customer's pages speak the language of the customer's mails, on SQLite and PostgreSQL:
a German reporter reads the status page, the questions, the form's messages and the dates in
German; a project that writes only English shows English; a link that leads nowhere answers
in the visitor's Accept-Language. Every translation has every sentence of the English one."""

from __future__ import annotations

import re
import string
import tomllib
from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import update

from bugline.db.models import Project
from bugline.pages import language
from bugline.pages.language import ENGLISH, WORDS
from tests.conftest import ORIGIN, Bugline
from tests.integration.test_triage import VAGUE
from tests.pages.support import form_token, post_form, report, secure_page, submit

pytestmark = pytest.mark.anyio

GERMAN = {"id": "u-de", "email": "jana@example.com", "name": "Jana", "locale": "de-DE"}
# Too few words to tell the language it is written in: the browser's or the project's decides.
WORDLESS = {"title": "broken", "actual": "nope"}


def names(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def visible(html: str) -> str:
    # Only ASCII white space is collapsed: French keeps its no-break space before "?" and ":".
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_every_language_has_every_sentence_with_the_same_slots() -> None:
    source = tomllib.loads((WORDS / "en.toml").read_text("utf-8"))
    assert language.shipped() == ("de", "en", "fr")
    for locale in language.shipped():
        table = tomllib.loads((WORDS / f"{locale}.toml").read_text("utf-8"))
        assert table.keys() == source.keys(), locale
        assert len(table["months"]) == 12
        for key, text in source.items():
            if isinstance(text, str):
                assert names(table[key]) == names(text), (locale, key)


def test_dates_and_numbers_are_written_the_languages_way() -> None:
    at = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)
    assert ENGLISH.when(at) == "3 March 2026, 14:05 UTC"
    assert language.words("de").when(at) == "3. März 2026, 14:05 UTC"
    assert language.words("fr").when(at) == "3 mars 2026 à 14:05 UTC"
    first = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    assert language.words("fr").when(first) == "1er mai 2026 à 09:30 UTC"
    assert language.words("de").when(first) == "1. Mai 2026, 09:30 UTC"
    assert ENGLISH("comment_too_long", length=2500, cap=2000).startswith("Your comment is 2,500 characters")
    assert "2.500 Zeichen" in language.words("de")("comment_too_long", length=2500, cap=2000)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH, fr;q=0.9, en;q=0.8", ["de-CH", "fr", "en"]),
        ("en;q=0.1, fr", ["fr", "en"]),
        ("fr;q=0, de", ["de"]),  # q=0 means "not this one"
        ("*, es", ["es"]),
        ("de;q=lots, fr", ["fr"]),  # a malformed weight drops its entry, not the header
        ("", []),
        ("x," * 5000, ["x"] * language.MAX_ACCEPT),  # bounded, whatever is sent
    ],
)
def test_accept_language_is_read_in_order_of_preference(header: str, expected: list[str]) -> None:
    assert language.accepted(header) == expected


async def test_a_german_reporter_reads_the_status_page_in_german(bugline: Bugline) -> None:
    created = await submit(bugline, {**VAGUE, "reporter": GERMAN})
    await bugline.triaged()
    res = await bugline.client.get(f"/s/{created['status_token']}", headers={"Accept-Language": "fr"})
    assert res.status_code == 200
    secure_page(res)
    assert res.headers["content-language"] == "de"
    assert '<html lang="de">' in res.text
    text = visible(res.text)
    assert "Status: Wartet auf Ihre Antworten" in text
    assert "Sie haben diese Meldung geschickt" in text
    assert "Was hätten Sie stattdessen erwartet?" in text  # the question, in German
    assert "What did you expect" not in text and "Waiting for your answers" not in text


async def test_the_answer_form_and_its_messages_follow_the_browser_language(bugline: Bugline) -> None:
    created = await submit(bugline, {**WORDLESS, "context": {"locale": "fr-FR"}})
    await bugline.triaged()
    url = f"/s/{created['status_token']}/answer"
    page = await bugline.client.get(url)
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "Qu'attendiez-vous qu'il se passe à la place ?" in visible(page.text)
    assert "Envoyer mes réponses" in page.text
    bad = await post_form(bugline, url, {"form_token": form_token(page), "frequency": "hourly"})
    assert bad.status_code == 422
    assert "Merci de choisir l'une des options." in visible(bad.text)
    unreadable = await bugline.client.post(url, content=b"x", headers={"Content-Type": "text/plain"})
    assert unreadable.status_code == 415
    assert "Cette page n'accepte que son propre formulaire." in visible(unreadable.text)
    assert (await report(bugline, created["id"])).status == "needs_info"  # nothing changed


async def test_the_page_reads_in_the_mails_language_not_the_browsers(bugline: Bugline) -> None:
    """A German project writes its mails in German when it knows nothing of the customer; the
    page behind the mail's link does too, whatever the browser that opens it prefers."""
    async with bugline.engine.begin() as conn:
        await conn.execute(
            update(Project)
            .where(Project.id == bugline.project.id)
            .values(settings={"notifications": {"locale": "de"}})
        )
    created = await submit(bugline, WORDLESS)
    await bugline.triaged()
    page = await bugline.client.get(f"/s/{created['status_token']}", headers={"Accept-Language": "en-US"})
    assert '<html lang="de">' in page.text and "Wartet auf Ihre Antworten" in visible(page.text)


async def test_a_report_written_in_french_is_answered_in_french_whatever_the_browser(
    bugline: Bugline,
) -> None:
    created = await submit(
        bugline,
        {
            "title": "Export",
            "actual": "Ça ne marche pas du tout, je ne peux pas exporter",
            "context": {"locale": "en-US"},
        },
    )
    await bugline.triaged()
    page = await bugline.client.get(f"/s/{created['status_token']}", headers={"Accept-Language": "en-US"})
    assert '<html lang="fr">' in page.text
    # ...and one written in English from a French browser reads English.
    created = await submit(
        bugline,
        {
            "title": "Export",
            "actual": "It does not work when I click the button",
            "context": {"locale": "fr-FR"},
        },
    )
    await bugline.triaged()
    page = await bugline.client.get(f"/s/{created['status_token']}")
    assert '<html lang="en">' in page.text


async def test_a_project_that_writes_only_english_shows_english(bugline: Bugline) -> None:
    project = await bugline.new_project()
    async with bugline.engine.begin() as conn:
        await conn.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(settings={"notifications": {"locales": ["en"]}})
        )
    res = await bugline.client.post(
        "/api/v1/reports",
        json={**VAGUE, "reporter": GERMAN},
        headers={"X-Bugline-Key": project.public_key, "Origin": ORIGIN},
    )
    assert res.status_code == 201, res.text
    await bugline.triaged()
    page = await bugline.client.get(f"/s/{res.json()['status_token']}", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in page.text
    assert "Status: Waiting for your answers" in visible(page.text)


async def test_a_link_that_leads_nowhere_answers_in_the_visitors_language(bugline: Bugline) -> None:
    res = await bugline.client.get("/s/" + "x" * 43, headers={"Accept-Language": "fr-CA, en;q=0.5"})
    assert res.status_code == 404 and '<html lang="fr">' in res.text
    assert "Lien introuvable" in res.text
    other = await bugline.client.get("/s/" + "x" * 43, headers={"Accept-Language": "es, ja"})
    assert other.status_code == 404 and "Link not found" in other.text
