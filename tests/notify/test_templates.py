"""Templates without a database: every kind renders in every shipped language, the customer's
words cannot become markup or break the subject, and a project's template is held to the
sandbox's smaller language (what a hostile project admin would try is refused by name)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bugline.notify import context, links, locales, preferences, templates
from bugline.notify.queue import KINDS
from bugline.triage.result import FACTS
from tests.notify.conftest import html_links, visible_text

SECRET = "s" * 40
PUBLIC = "https://bugline.example"


def values(kind: str, locale: str = "en", **facts: Any) -> dict[str, Any]:
    sample = context.sample(kind, "Acme", {})
    fields = {f: getattr(sample, f) for f in sample.__dataclass_fields__}
    fields.update(facts)
    return context.variables(context.Facts(**fields), locale, public_url=PUBLIC, secret_key=SECRET)


def samples() -> dict[str, dict[str, Any]]:
    return {kind: values(kind) for kind in KINDS}


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language(kind: str, locale: str) -> None:
    out = templates.render(kind, locale, values(kind, locale))
    assert out.subject and "\n" not in out.subject and "#42" in out.subject
    status = links.status_url(PUBLIC, SECRET, "sample-report")
    unsubscribe = links.unsubscribe_url(PUBLIC, SECRET, "sample-reporter")
    assert status in out.text and unsubscribe in out.text
    hrefs = [h for h, _ in html_links(out.html)]
    assert status in hrefs and unsubscribe in hrefs
    assert f'<html lang="{locale}">' in out.html
    assert "{{" not in out.text + out.html and "{%" not in out.text + out.html
    assert out.overridden == () and out.problems == ()


def test_languages_are_folders_and_german_and_french_are_shipped() -> None:
    assert locales.builtin() == ("de", "en", "fr")
    for loc in locales.builtin():
        assert locales.phrases(loc).get("team")


ENGINE_QUESTIONS = {
    "expected": "What did you expect to happen when you clicked Pay?",
    "steps_to_reproduce": "Could you list, step by step, what you did before you clicked Pay?",
}


@pytest.mark.parametrize("kind", ["needs_info", "received"])
def test_questions_are_asked_in_the_mails_language(kind: str) -> None:
    german = templates.render(kind, "de", values(kind, "de", data={"questions": ENGINE_QUESTIONS}))
    assert "Was hätten Sie stattdessen erwartet?" in german.text
    assert "Könnten Sie Schritt für Schritt aufschreiben" in visible_text(german.html)
    assert "clicked Pay" not in german.text + german.html  # no English half-sentence in German
    french = templates.render(kind, "fr", values(kind, "fr", data={"questions": ENGINE_QUESTIONS}))
    assert "Qu'attendiez-vous qu'il se passe à la place ?" in french.text
    # English keeps the engine's question, which names what the customer did.
    english = templates.render(kind, "en", values(kind, "en", data={"questions": ENGINE_QUESTIONS}))
    assert ENGINE_QUESTIONS["expected"] in english.text


def test_every_translation_asks_every_checklist_question() -> None:
    for loc in locales.builtin():
        if loc != locales.FALLBACK:
            assert set(locales.phrases(loc).questions) == set(FACTS), loc


def test_a_translation_with_a_question_for_no_fact_is_refused(tmp_path: Any, monkeypatch: Any) -> None:
    folder = tmp_path / "xx"
    folder.mkdir()
    english = (locales.TEMPLATES / "en" / "phrases.toml").read_text("utf-8")
    (folder / "phrases.toml").write_text(english + '\n[questions]\nmood = "How do you feel?"\n', "utf-8")
    monkeypatch.setattr(locales, "TEMPLATES", tmp_path)
    locales.phrases.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"\[questions\] maps checklist facts"):
            locales.phrases("xx")
    finally:
        locales.phrases.cache_clear()


@pytest.mark.parametrize(
    ("candidates", "settings", "expected"),
    [
        (("de-DE", "en-GB"), {}, "de"),  # the reporter's own language first
        ((None, "de_AT"), {}, "de"),  # then the browser's, regional tag to its language
        (("es-ES", None), {}, "en"),  # no Spanish: English
        (("es-ES", None), {"locale": "de"}, "de"),  # ...or the project's default
        (("fr-FR", None), {}, "fr"),
        (("de", None), {"locales": ["en"]}, "en"),  # a project that only writes English
        (("DE", None), {}, "de"),
        (("not a tag!", "de-CH,de;q=0.9"), {}, "de"),
        ((None, None), {"locale": "xx"}, "en"),
    ],
)
def test_the_reporters_language_when_the_project_has_it(
    candidates: tuple[Any, ...], settings: dict[str, Any], expected: str
) -> None:
    assert locales.choose(candidates, settings) == expected


@pytest.mark.parametrize(
    ("delta", "en", "de", "fr"),
    [
        (timedelta(minutes=30), "within 30 minutes", "innerhalb von 30 Minuten", "sous 30 minutes"),
        (timedelta(hours=1), "within an hour", "innerhalb einer Stunde", "sous une heure"),
        (timedelta(hours=4), "within 4 hours", "innerhalb von 4 Stunden", "sous 4 heures"),
        (timedelta(hours=25), "within 25 hours", "innerhalb von 25 Stunden", "sous 25 heures"),
        (timedelta(days=1), "within a working day", "innerhalb eines Werktags", "sous un jour ouvré"),
        (timedelta(days=3), "within 3 working days", "innerhalb von 3 Werktagen", "sous 3 jours ouvrés"),
        (timedelta(weeks=1), "within a week", "innerhalb einer Woche", "sous une semaine"),
        (timedelta(weeks=2), "within 2 weeks", "innerhalb von 2 Wochen", "sous 2 semaines"),
    ],
)
def test_timeframes_in_every_language(delta: timedelta, en: str, de: str, fr: str) -> None:
    assert locales.phrases("en").within(delta) == en
    assert locales.phrases("de").within(delta) == de
    assert locales.phrases("fr").within(delta) == fr


def test_the_customers_words_cannot_become_markup_or_headers() -> None:
    title = 'Pay <img src=x onerror=alert(1)> "now"\r\nBcc: victim@example.com'
    note = "<script>steal()</script>\nline two"
    out = templates.render(
        "resolved",
        "en",
        values("resolved", title=title, reporter_name="<b>Eve</b>", data={"note": note, "from": "escalated"}),
    )
    assert "\n" not in out.subject and "\r" not in out.subject
    assert "<img" not in out.html and "<script>" not in out.html and "<b>Eve" not in out.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in out.html and "&lt;script&gt;steal()" in out.html
    shown = visible_text(out.html)
    assert "<script>steal()</script> line two" in shown and "Hi <b>Eve</b>," in shown
    assert "<script>steal()</script>" in out.text  # plain text is plain: nothing to escape


def test_questions_are_listed_with_the_answer_link() -> None:
    v = values("needs_info")
    out = templates.render("needs_info", "en", v)
    for question in context.SAMPLE_QUESTIONS.values():
        assert f"  - {question}" in out.text
        assert question in visible_text(out.html)
    answer = links.answer_url(PUBLIC, SECRET, "sample-report")
    assert f"Answer here: {answer}" in out.text
    assert (answer, "Answer the questions") in html_links(out.html)


def test_a_projects_parts_replace_the_built_in_ones_but_never_the_footer() -> None:
    own = {"subject": "Sorted: {{ report.reference }}", "html": "<p>Fixed, {{ reporter.name }}!</p>"}
    out = templates.render("resolved", "en", values("resolved"), own)
    assert out.subject == "Sorted: #42" and out.overridden == ("subject", "html")
    assert "<p>Fixed, Ana Silva!</p>" in out.html
    assert "Good news" in out.text  # the text part stays built in
    unsubscribe = links.unsubscribe_url(PUBLIC, SECRET, "sample-reporter")
    assert unsubscribe in [h for h, _ in html_links(out.html)] and unsubscribe in out.text


def test_a_language_specific_part_wins_for_that_language() -> None:
    settings = {
        "templates": {
            "resolved": {"subject": "Fixed {{ report.reference }}"},
            "resolved.de": {"subject": "Erledigt {{ report.reference }}"},
        }
    }
    assert templates.overrides_for("resolved", "de", settings) == {
        "subject": "Erledigt {{ report.reference }}"
    }
    assert templates.overrides_for("resolved", "en", settings) == {"subject": "Fixed {{ report.reference }}"}


HOSTILE = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ report['__class__'] }}",
    "{{ report.title|attr('__class__') }}",
    "{{ report.title.upper() }}",
    "{{ lipsum() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ config }}",
    "{% for i in range(100000) %}x{% endfor %}",
    "{{ 'x' * 1000000 }}",
    "{{ 9 ** 99 }}",
    "{{ '%999999999s' % 1 }}",
    "{{ 100000000 }}",
    "{% for q in questions %}{% for r in questions %}x{% endfor %}{% endfor %}",
    "{% for c in 'abcdefgh' %}{{ c }}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{{ report.title|safe }}",
    "{% autoescape false %}{{ report.title }}{% endautoescape %}",
    "{% set x = report %}{{ x }}",
    "{% include 'en/resolved.html' %}",
    "{% extends '_layout.html' %}",
    "{% import '_macros.html' as m %}",
    "{{ report.title|format(1) }}",
    "{{ report.title|replace('a', 'bbbbbbbbbb') }}",
    "{{ report.nope }}",
    "{{",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_templates_are_refused_when_saved(source: str) -> None:
    with pytest.raises(templates.TemplateProblem) as caught:
        templates.check_override("resolved", {"html": source}, samples())
    assert list(caught.value.errors) == ["notifications.templates.resolved.html"]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_templates_are_harmless_when_rendered_anyway(source: str) -> None:
    """A template that reached the settings some other way (an old version, a database edit)
    is replaced by the built-in part, and the mail still goes out."""
    out = templates.render("resolved", "en", values("resolved"), {"html": source, "text": source})
    assert out.overridden == ()
    assert [p.split(":")[0] for p in out.problems] == ["text", "html"]
    assert "Good news" in out.text and "Good news" in out.html
    assert "class" not in out.html.replace("class=", "") and "<built-in" not in out.html


def test_a_template_that_would_write_too_much_is_cut_off() -> None:
    own = {"text": "{% for q in questions %}" + "x" * 19_000 + "{% endfor %}"}
    many = values("needs_info")
    many["questions"] = ["q"] * 12
    out = templates.render("needs_info", "en", many, own)
    assert out.overridden == () and "more than 100,000 characters" in out.problems[0]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"title": "x"}, "notifications.templates.resolved"),
        ({"subject": 5}, "notifications.templates.resolved.subject"),
        ({"subject": "{% if note %}{% endif %}"}, "notifications.templates.resolved.subject"),
        ({}, "notifications.templates.resolved"),
        ({"html": "x" * (templates.MAX_SOURCE + 1)}, "notifications.templates.resolved.html"),
    ],
)
def test_malformed_overrides_name_the_part(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(templates.TemplateProblem) as caught:
        templates.check_override("resolved", raw, samples())
    assert path in caught.value.errors


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(templates.TemplateProblem, match="unknown kind 'fixed'"):
        templates.check_override("fixed", {"subject": "x"}, samples())


def test_unsubscribe_tokens_are_checked_in_full() -> None:
    token = links.unsubscribe_token(SECRET, "abc123")
    assert links.verify_unsubscribe(SECRET, token) == "abc123"
    reporter, _, mac = token.partition(".")
    for forged in (
        f"other.{mac}",
        f"{reporter}.{mac[:-1]}0" if mac[-1] != "0" else f"{reporter}.{mac[:-1]}1",
        f"{reporter}.{mac.upper()}",
        reporter,
        f"{reporter}.",
        "",
        token + "x" * 300,
        links.unsubscribe_token("t" * 40, "abc123"),
    ):
        assert links.verify_unsubscribe(SECRET, forged) is None
    assert links.verify_unsubscribe(SECRET, links.unsubscribe_token(SECRET, "zzz")) == "zzz"


def test_links_follow_the_public_paths() -> None:
    made = links.links_for(PUBLIC + "/", SECRET, "r1", "p1")
    assert made.status == f"{PUBLIC}/s/{links.status_url(PUBLIC, SECRET, 'r1').rsplit('/', 1)[1]}"
    assert made.answer == made.status + "/answer" and made.reopen == made.status + "/reopen"
    assert made.unsubscribe == f"{PUBLIC}/u/{links.unsubscribe_token(SECRET, 'p1')}"
    assert links.links_for(PUBLIC, SECRET, "r1", None).unsubscribe == ""


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"locale": "es"}, "notifications.locale"),
        ({"locales": ["en", "xx"]}, "notifications.locales"),
        ({"team": ""}, "notifications.team"),
        ({"team": {"es": "el equipo"}}, "notifications.team"),
        ({"teams": {"billing": 3}}, "notifications.teams.billing"),
        ({"reply_to": "not an address"}, "notifications.reply_to"),
        ({"enabled": "yes"}, "notifications.enabled"),
        ({"colour": "blue"}, "notifications.colour"),
    ],
)
def test_notification_settings_name_the_bad_key(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(preferences.PreferencesProblem) as caught:
        preferences.check(raw)
    assert field in caught.value.errors


def test_notification_settings_are_cleaned() -> None:
    assert preferences.check(
        {
            "locale": "de-DE",
            "locales": ["EN", "de"],
            "team": {"en": "the payments team", "de-AT": "das Team"},
            "reply_to": " help@acme.com ",
            "enabled": True,
        }
    ) == {
        "locale": "de",
        "locales": ["en", "de"],
        "team": {"en": "the payments team", "de": "das Team"},
        "reply_to": "help@acme.com",
        "enabled": True,
    }
