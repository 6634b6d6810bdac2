"""The customer's pages, server-rendered, no script: a report's status and public timeline,
answering the team's questions, "still broken", and unsubscribing (the public links of
issue 6; ``bugline.notify.links`` builds them for the mails).

    GET       /s/{status_token}          status and public timeline
    GET/POST  /s/{status_token}/answer   the triage engine's questions; answers re-run triage
    GET/POST  /s/{status_token}/reopen   "still broken": GET only shows, POST reopens
    GET/POST  /u/{token}                 unsubscribe; POST also takes RFC 8058 one-click

GET never changes anything: mail scanners fetch every link in a message. Every POST carries
a signed form token from the page that showed the form (``pages.formtoken``), is rate
limited per client IP like the API (``edge.limit_ip``) and has its body capped. Any token
that finds nothing gets the same 404 page, whatever its shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bugline.db.models import Project, Report, Reporter, ReportEvent, ReportStatus, utcnow
from bugline.errors import ApiError
from bugline.lifecycle import status as lifecycle
from bugline.notify import links, locales
from bugline.notify.context import notifications_settings
from bugline.pages import answers as answer_flow
from bugline.pages import formtoken, language, timeline
from bugline.pages.formbody import FormError, clean, read_form
from bugline.pages.language import Words
from bugline.pages.view import page
from bugline.routes.edge import app_state, limit_ip
from bugline.state import AppState
from bugline.tokens import token_hash
from bugline.triage.report import OWN_WORDS_FIELDS

# Status tokens are URL-safe base64 of an HMAC (tokens.status_token): anything else finds nothing.
STATUS_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
MAX_EVENTS = 500  # the newest public events of one report: a page, not an export
# Eight answers of up to 20,000 characters each, percent-encoded (a non-Latin character is
# nine bytes on the wire), would not fit: a long answer or two do, which is what people write.
ANSWER_BODY = 1024 * 1024
REOPEN_BODY = 64 * 1024
UNSUBSCRIBE_BODY = 8 * 1024
COMMENT_CAP = 2_000
REOPENABLE = (ReportStatus.RESOLVED, ReportStatus.CLOSED, ReportStatus.CANNOT_REPRODUCE)
ANSWER, REOPEN, UNSUBSCRIBE = "answer", "reopen", "unsubscribe"


# --- shared -----------------------------------------------------------------------------


def _page(state: AppState, t: Words, name: str, **context: Any) -> Response:
    return page(name, public_url=state.settings.effective_public_url, words=t, **context)


def _visitor(request: Request) -> Words:
    """The words for a page that knows no report: the visitor's Accept-Language alone."""
    return language.choose(language.accepted(request.headers.get("accept-language", "")), {})


def _message(
    state: AppState,
    t: Words,
    status: int,
    title: str,
    text: str,
    *,
    back: str = "",
    project_name: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    return _page(
        state,
        t,
        "message.html",
        status=status,
        title=title,
        text=text,
        back=back,
        project_name=project_name,
        headers=headers,
    )


def _not_found(state: AppState, t: Words) -> Response:
    # One page for every token that finds nothing, whatever its shape: nothing to learn by probing.
    return _message(state, t, 404, t("not_found_title"), t("not_found"))


def _limited(request: Request) -> Response | None:
    try:
        limit_ip(request)
    except ApiError as exc:
        t = _visitor(request)
        return _message(
            app_state(request), t, exc.status, t("limited_title"), t("limited"), headers=exc.headers
        )
    return None


def _form_error(state: AppState, t: Words, exc: FormError, back: str, project_name: str) -> Response:
    return _message(
        state, t, exc.status, t("unreadable_title"), t(exc.key), back=back, project_name=project_name
    )


def _forged(state: AppState, t: Words, back: str, project_name: str) -> Response:
    return _message(state, t, 403, t("forged_title"), t("forged"), back=back, project_name=project_name)


async def _report(state: AppState, token: str) -> tuple[Report, Project, str | None] | None:
    """The report a status token leads to, and its reporter's language. The token is looked
    up by its SHA-256 (only the hash is stored), so no secret is compared character by character."""
    if not STATUS_TOKEN.match(token):
        return None
    async with state.readers() as session:
        row = (
            await session.execute(
                select(Report, Project, Reporter.locale)
                .join(Project, Project.id == Report.project_id)
                .outerjoin(Reporter, Reporter.id == Report.reporter_id)
                .where(Report.status_token_hash == token_hash(token))
            )
        ).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


@dataclass(frozen=True, slots=True)
class Opened:
    """A customer's page request whose status token led to a report."""

    state: AppState
    report: Report
    project: Project
    token: str
    t: Words  # the language of the report's mails (see pages/language.py)

    @property
    def back(self) -> str:
        return f"/s/{self.token}"


async def _open(request: Request) -> Opened | Response:
    """Every page's prologue: rate limit, then the report the token leads to, or the one 404."""
    state = app_state(request)
    if (limited := _limited(request)) is not None:
        return limited
    token = request.path_params["token"]
    found = await _report(state, token)
    if found is None:
        return _not_found(state, _visitor(request))
    report, project, reporter_locale = found
    # Exactly the mails' choice, so the page a mail links to reads in the mail's language.
    written = [getattr(report, name) for name in OWN_WORDS_FIELDS]
    candidates = locales.of_report(reporter_locale, report.environment, written)
    t = language.choose(candidates, notifications_settings(project.settings or {}))
    return Opened(state, report, project, token, t)


async def _posted(
    request: Request, opened: Opened, purpose: str, limit: int
) -> tuple[dict[str, str], formtoken.Check] | Response:
    """A POST's form and its form token's check; an unreadable or forged form is answered here
    (a genuine but expired token is the caller's to handle: it shows the form again)."""
    state, project = opened.state, opened.project
    try:
        form = await read_form(request, limit)
    except FormError as exc:
        return _form_error(state, opened.t, exc, opened.back, project.name)
    checked = formtoken.check(
        state.settings.secret_keys, purpose, opened.report.id, form.get("form_token"), utcnow()
    )
    if checked is formtoken.Check.INVALID:
        return _forged(state, opened.t, opened.back, project.name)
    return form, checked


def _urls(state: AppState, token: str) -> dict[str, str]:
    base = f"/s/{token}"
    return {"status_url": base, "answer_url": f"{base}/answer", "reopen_url": f"{base}/reopen"}


def _reference(report: Report) -> str:
    return f"#{report.number}"


def _title(report: Report, t: Words) -> str:
    return report.title or report.actual[:120] or t("your_bug_report")


def _about(report: Report, project: Project, t: Words) -> dict[str, Any]:
    label, meaning = timeline.status_words(report.status, t)
    return {
        "project_name": project.name,
        "reference": _reference(report),
        "report_title": _title(report, t),
        "report_status": report.status,
        "status_label": label,
        "status_meaning": meaning,
    }


# --- status page ------------------------------------------------------------------------


async def status_page(request: Request) -> Response:
    opened = await _open(request)
    if not isinstance(opened, Opened):
        return opened
    state, report, project, token, t = opened.state, opened.report, opened.project, opened.token, opened.t
    async with state.readers() as session:
        events = list(
            (
                await session.execute(
                    select(ReportEvent)
                    .where(ReportEvent.report_id == report.id, ReportEvent.public.is_(True))
                    .order_by(ReportEvent.id.desc())
                    .limit(MAX_EVENTS)
                )
            ).scalars()
        )
    events.reverse()
    return _page(
        state,
        t,
        "status.html",
        **_about(report, project, t),
        **_urls(state, token),
        entries=timeline.entries(events, t),
        questions=answer_flow.questions(report, t) if report.status == ReportStatus.NEEDS_INFO else [],
        can_answer=report.status in answer_flow.OPEN_TO_ANSWERS,
        can_reopen=report.status in (ReportStatus.RESOLVED, ReportStatus.CLOSED),
        created_at=report.created_at,
    )


# --- answering the questions ------------------------------------------------------------


def _answer_form(
    opened: Opened,
    *,
    status: int = 200,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    state, report, project, token, t = opened.state, opened.report, opened.project, opened.token, opened.t
    secret = state.settings.secret_key
    return _page(
        state,
        t,
        "answer.html",
        status=status,
        **_about(report, project, t),
        **_urls(state, token),
        questions=answer_flow.questions(report, t),
        more=answer_flow.MORE,
        labels={name: t(f"field_{name}") for name in answer_flow.BY_NAME},
        typed=typed or {},
        errors=errors or {},
        form_token=formtoken.issue(secret, ANSWER, report.id, utcnow()),
    )


def _nothing_to_answer(opened: Opened, status: int) -> Response:
    t, report = opened.t, opened.report
    label, _ = timeline.status_words(report.status, t)
    return _message(
        opened.state,
        t,
        status,
        t("no_questions_title"),
        t("no_questions", reference=_reference(report), label=label),
        back=opened.back,
        project_name=opened.project.name,
    )


async def answer_page(request: Request) -> Response:
    opened = await _open(request)
    if not isinstance(opened, Opened):
        return opened
    if request.method == "GET":
        if opened.report.status not in answer_flow.OPEN_TO_ANSWERS:
            return _nothing_to_answer(opened, 200)
        return _answer_form(opened)
    return await _answer_post(request, opened)


async def _answer_post(request: Request, opened: Opened) -> Response:
    state, report, project, token, t = opened.state, opened.report, opened.project, opened.token, opened.t
    posted = await _posted(request, opened, ANSWER, ANSWER_BODY)
    if not isinstance(posted, tuple):
        return posted
    form, checked = posted
    if report.status not in answer_flow.OPEN_TO_ANSWERS:
        return _nothing_to_answer(opened, 409)
    asked = answer_flow.questions(report, t)
    given = answer_flow.read(form, asked, report, t)
    if checked is formtoken.Check.EXPIRED:
        # Genuine but old: the same form again with everything typed, and a fresh token.
        return _answer_form(opened, status=403, typed=given.typed, errors={"": t("answers_expired")})
    if given.errors:
        return _answer_form(opened, status=422, typed=given.typed, errors=given.errors)
    before, now = report.status, utcnow()
    stored = await state.writer.run(
        lambda conn: answer_flow.store(
            conn,
            report_id=report.id,
            project_id=report.project_id,
            reporter_id=report.reporter_id,
            before=before,
            answers=given,
            now=now,
        )
    )
    if stored is None:  # answered twice at once, or the team moved it meanwhile
        return _nothing_to_answer(opened, 409)
    if stored.retriage:
        state.backlog.poke()  # triage it again now; complete, it is routed like any report
    if stored.tell:
        state.outbox.poke()
    label, meaning = timeline.status_words(stored.status, t)
    return _page(
        state,
        t,
        "answered.html",
        **{
            **_about(report, project, t),
            "report_status": stored.status,
            "status_label": label,
            "status_meaning": meaning,
        },
        **_urls(state, token),
        retriage=stored.retriage,
    )


# --- still broken -----------------------------------------------------------------------


def _reopen_form(opened: Opened, *, status: int = 200, comment: str = "", error: str = "") -> Response:
    state, report, project, token, t = opened.state, opened.report, opened.project, opened.token, opened.t
    return _page(
        state,
        t,
        "reopen.html",
        status=status,
        **_about(report, project, t),
        **_urls(state, token),
        comment=comment,
        error=error,
        comment_cap=COMMENT_CAP,
        form_token=formtoken.issue(state.settings.secret_key, REOPEN, report.id, utcnow()),
    )


def _not_reopenable(opened: Opened, status: int) -> Response:
    t, report = opened.t, opened.report
    label, _ = timeline.status_words(report.status, t)
    return _message(
        opened.state,
        t,
        status,
        t("nothing_to_reopen_title"),
        t("nothing_to_reopen", reference=_reference(report), label=label),
        back=opened.back,
        project_name=opened.project.name,
    )


async def reopen_page(request: Request) -> Response:
    opened = await _open(request)
    if not isinstance(opened, Opened):
        return opened
    state, report, project, token, t = opened.state, opened.report, opened.project, opened.token, opened.t
    if request.method == "GET":  # shows, never changes: mail scanners fetch every link
        if report.status not in REOPENABLE:
            return _not_reopenable(opened, 200)
        return _reopen_form(opened)
    posted = await _posted(request, opened, REOPEN, REOPEN_BODY)
    if not isinstance(posted, tuple):
        return posted
    form, checked = posted
    comment = clean(form.get("comment", ""))
    if report.status not in REOPENABLE:
        return _not_reopenable(opened, 409)
    if checked is formtoken.Check.EXPIRED:
        return _reopen_form(opened, status=403, comment=comment, error=t("reopen_expired"))
    if len(comment) > COMMENT_CAP:
        return _reopen_form(
            opened,
            status=422,
            comment=comment,
            error=t("comment_too_long", length=len(comment), cap=COMMENT_CAP),
        )
    now = utcnow()
    changed = await state.writer.run(
        lambda conn: lifecycle.change(
            conn,
            [report.id],
            ReportStatus.REOPENED,
            source=lifecycle.Source("reporter", None, via="still-broken link"),
            now=now,
            public_note=comment,
            only_from=REOPENABLE,
        )
    )
    if not changed:  # reopened twice at once, or moved meanwhile
        return _not_reopenable(opened, 409)
    state.outbox.poke()  # lifecycle told the group's tickets; send it now
    label, meaning = timeline.status_words(ReportStatus.REOPENED, t)
    return _page(
        state,
        t,
        "reopened.html",
        **{**_about(report, project, t), "status_label": label, "status_meaning": meaning},
        **_urls(state, token),
    )


# --- unsubscribe ------------------------------------------------------------------------

ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058 section 3.1


async def unsubscribe_page(request: Request) -> Response:
    state = app_state(request)
    if (limited := _limited(request)) is not None:
        return limited
    token = request.path_params["token"]
    reporter_id = links.verify_unsubscribe(state.settings.secret_keys, token)
    if reporter_id is None:
        return _not_found(state, _visitor(request))
    async with state.readers() as session:
        row = (
            await session.execute(
                select(Reporter, Project)
                .join(Project, Project.id == Reporter.project_id)
                .where(Reporter.id == reporter_id)
            )
        ).one_or_none()
    if row is None:
        return _not_found(state, _visitor(request))
    reporter, project = row
    t = language.choose((reporter.locale,), notifications_settings(project.settings or {}))
    context = {"project_name": project.name, "email": _masked(reporter.email or "")}
    if request.method == "GET":
        return _page(
            state,
            t,
            "unsubscribe.html",
            **context,
            done=reporter.unsubscribed,
            form_token=formtoken.issue(state.settings.secret_key, UNSUBSCRIBE, reporter.id, utcnow()),
        )
    try:
        form = await read_form(request, UNSUBSCRIBE_BODY)
    except FormError as exc:
        return _form_error(state, t, exc, "", project.name)
    one_click = form.get(ONE_CLICK[0]) == ONE_CLICK[1]
    if not one_click:
        # Our own confirm button; a one-click POST from a mail client needs no form token (RFC 8058).
        checked = formtoken.check(
            state.settings.secret_keys, UNSUBSCRIBE, reporter.id, form.get("form_token"), utcnow()
        )
        if checked is not formtoken.Check.VALID:
            return _forged(state, t, f"/u/{token}", project.name)
    await state.writer.run(lambda conn: _unsubscribe(conn, reporter.id, reporter.project_id, one_click))
    return _page(state, t, "unsubscribe.html", **context, done=True, form_token="")


def _unsubscribe(conn: Connection, reporter_id: str, project_id: str, one_click: bool) -> bool:
    """Sets the flag once; the team sees it on the reporter's open reports (an internal note:
    the customer will not hear about them by email any more)."""
    now = utcnow()
    moved = conn.execute(
        update(Reporter)
        .where(Reporter.id == reporter_id, Reporter.unsubscribed.is_(False))
        .values(unsubscribed=True, updated_at=now)
    ).rowcount
    if not moved:
        return False
    open_reports = conn.execute(
        select(Report.id)
        .where(
            Report.project_id == project_id,
            Report.reporter_id == reporter_id,
            Report.status.in_(list(lifecycle.OPEN)),
        )
        .order_by(Report.created_at.desc())
        .limit(50)
    ).scalars()
    rows = [
        {
            "project_id": project_id,
            "report_id": report_id,
            "at": now,
            "kind": "unsubscribed",
            "actor_type": "reporter",
            "actor": reporter_id,
            "public": False,
            "data": {"via": "one-click (RFC 8058)" if one_click else "unsubscribe page"},
        }
        for report_id in open_reports
    ]
    if rows:
        conn.execute(insert(ReportEvent), rows)
    return True


def _masked(email: str) -> str:
    """ "a***@example.com": enough to recognise one's own address, not to harvest it."""
    local, at, domain = email.partition("@")
    if not at:
        return ""
    return f"{local[:1]}***@{domain}"


# --- anything else under /s/ and /u/ ----------------------------------------------------


async def not_found(request: Request) -> Response:
    """Paths that match no page (a token with a slash in it, a traversal attempt): the same 404
    page as an unknown token."""
    return _not_found(app_state(request), _visitor(request))


routes = [
    Route("/s/{token}", status_page, methods=["GET"]),
    Route("/s/{token}/answer", answer_page, methods=["GET", "POST"]),
    Route("/s/{token}/reopen", reopen_page, methods=["GET", "POST"]),
    Route("/u/{token}", unsubscribe_page, methods=["GET", "POST"]),
    Route("/s/{rest:path}", not_found, methods=["GET", "POST"]),
    Route("/u/{rest:path}", not_found, methods=["GET", "POST"]),
]
