"""GitHub Issues: one issue per report, a comment per later update.

Vendor rules (../shared/specs/CONTRACTS.md section 4, and the spec subset
github/github-issues-subset.openapi.json, which every request here is checked against):

- ``POST /repos/{owner}/{repo}/issues`` with ``Authorization: Bearer``,
  ``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version: 2022-11-28``
  (https://docs.github.com/rest/issues/issues#create-an-issue).
- No file upload API exists (octokit/octokit.net#1609), so media goes in as links to the
  presigned URLs the renderer lists; ``uploads_files`` is False.
- No priority field: severity is a label (``severity:high``), as the renderer's labels say.
- Rate limits (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api):
  primary limits answer 403/429 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``
  (http.py turns that into ``Retry(after=reset - now)``); secondary limits answer 403/429
  with ``retry-after``, or with nothing, in which case GitHub asks for at least 60 s.
- No idempotency key. See ``_find_earlier`` for how a retry avoids a second issue.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx

from bugline.connectors import http as vendor_http
from bugline.connectors.base import (
    Attempt,
    Connector,
    Delivered,
    Failed,
    InvalidSettings,
    Result,
    Retry,
    Setting,
    Target,
    Ticket,
    https_or_loopback,
    validate_settings,
)
from bugline.connectors.document import ReportDocument, Update
from bugline.render import common, markdown

API_VERSION = "2022-11-28"
BODY_LIMIT = 65_536  # GitHub refuses longer issue and comment bodies with 422
SECONDARY_WAIT = 60.0  # "wait for at least one minute before retrying" (rate-limit docs above)

# How far back a retry looks for the issue an interrupted attempt created (see _find_earlier).
SCAN_LIMIT = 100  # issues read, newest first
CLOCK_SKEW = timedelta(minutes=10)  # GitHub's clock against ours
HOLES_AHEAD = 3  # numbers looked at past an apparent newest issue (deleted/transferred ones)

_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_MENTION = re.compile(r"(?<![\w`])@(?=[\w-])")  # @user, @org/team; not e-mail addresses
_MARKER_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class GitHubConnector(Connector):
    kind: ClassVar[str] = "github"
    title: ClassVar[str] = "GitHub Issues"
    uploads_files: ClassVar[bool] = False
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting(
            "token",
            "a fine-grained token (or GitHub App installation token) with Issues: read and write "
            "on the repository",
            kind="secret",
        ),
        Setting("repo", "the repository, as owner/name (octo-org/shop)"),
        Setting(
            "api_url",
            "the REST API root: https://api.github.com, or https://HOST/api/v3 for GitHub "
            "Enterprise Server (https only; http is accepted for 127.0.0.1/localhost, for tests)",
            kind="url",
            required=False,
            default="https://api.github.com",
        ),
        Setting(
            "assignees", "logins assigned to every new issue, comma-separated", kind="list", required=False
        ),
        Setting("labels", "labels added to every new issue, comma-separated", kind="list", required=False),
        Setting(
            "webhook_secret",
            "the secret of the repository webhook (Issues events, application/json) that reports "
            "closes and reopens to Bugline's /hooks/<connector id>",
            kind="secret",
            required=False,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        try:
            config = validate_settings(cls.settings, raw)
        except InvalidSettings as exc:
            errors.update(exc.errors)
            config = {}
        repo = config.get("repo")
        if repo is not None and repo_parts(repo) is None:
            errors["repo"] = "must be owner/name, e.g. octo-org/shop"
        api_url = config.get("api_url")
        if api_url is not None and not https_or_loopback(api_url):
            errors["api_url"] = "must use https:// (http:// only for 127.0.0.1 or localhost)"
        if errors:
            raise InvalidSettings(errors)
        return config

    # ---- the three operations ------------------------------------------------------------

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        owner, name = self._repo()
        marker = marker_for(attempt.key)
        detail = ""
        if attempt.retry:
            found = await self._find_earlier(owner, name, marker, doc.created_at)
            if isinstance(found, Retry | Failed):
                return found  # not knowing is no reason to risk a second issue
            if isinstance(found, Ticket):
                return Delivered(found, detail="found the issue an earlier attempt created")
            if found == "gave up":
                detail = f"no earlier issue among the newest {SCAN_LIMIT}; created a new one"
        payload: dict[str, Any] = {
            "title": quiet_title(common.title(doc)),
            "body": with_marker(markdown.report(doc), marker),
            "labels": self._labels(doc, target),
        }
        assignees = self._assignees(target)
        if assignees:
            payload["assignees"] = assignees
        what = "GitHub create issue"
        response = await self._call("POST", f"/repos/{owner}/{name}/issues", what, json=payload)
        if not isinstance(response, httpx.Response):
            return response
        issue = vendor_http.json_body(response, what)
        if isinstance(issue, Retry):
            return issue  # the issue may exist: the retry's search finds it by its marker
        ticket = self._ticket(owner, name, issue)
        if ticket is None:
            return Retry(f"{what}: the answer had no issue number")
        return Delivered(ticket, detail=detail)

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        located = _issue_of(ticket)
        if located is None:
            return Failed(f"GitHub comment: {ticket.remote_id!r} is not an owner/name#number issue")
        owner, name, number = located
        # The subset has no "list comments" endpoint, so a retried comment cannot be looked
        # up first: an interrupted attempt can leave the comment twice. The marker is there
        # so a person (or a later version) can tell the two apart.
        body = with_marker(markdown.update(change), marker_for(attempt.key))
        what = "GitHub comment"
        path = f"/repos/{owner}/{name}/issues/{number}/comments"
        response = await self._call("POST", path, what, json={"body": body})
        if not isinstance(response, httpx.Response):
            return response
        comment = vendor_http.json_body(response, what)
        if isinstance(comment, Retry):
            return comment
        link = comment.get("html_url")
        return Delivered(
            ticket, detail=f"comment added: {link}" if isinstance(link, str) else "comment added"
        )

    async def check(self) -> Result:
        """Read one label of the repository: proves the token works and can see the repo,
        and creates nothing. (``/rate_limit`` would only prove the token.)"""
        owner, name = self._repo()
        what = "GitHub check"
        response = await self._call("GET", f"/repos/{owner}/{name}/labels", what, params={"per_page": "1"})
        if not isinstance(response, httpx.Response):
            return response
        listed = _json_any(response)
        if not isinstance(listed, list):
            return Retry(f"{what}: the answer was not a list of labels")
        left = response.headers.get("x-ratelimit-remaining")
        detail = f"the token can read {owner}/{name}"
        if left is not None:
            detail += f"; {left} requests left in this rate-limit window"
        return Delivered(Ticket(remote_id=f"{owner}/{name}", url=self._html_repo(owner, name)), detail=detail)

    # ---- exactly once --------------------------------------------------------------------

    async def _find_earlier(
        self, owner: str, name: str, marker: str, since: datetime
    ) -> Ticket | Retry | Failed | Literal["none", "gave up"]:
        """The issue an interrupted attempt created, found by its marker.

        CONTRACTS.md says to search for the marker, but the spec subset has neither the
        search API nor "list repository issues": its only read of issues is
        ``GET /repos/{owner}/{repo}/issues/{issue_number}``. Issue numbers are sequential
        per repository, so this finds the newest number (galloping, then bisecting on
        "does #n exist"), then reads issues newest first until one is older than the
        report (nothing before it can be ours), looking for the marker. Retries are rare,
        so the few dozen reads this costs are cheap next to a duplicate issue.

        Returns the ticket, "none" (the scan reached issues older than the report), "gave
        up" (``SCAN_LIMIT`` issues read and still newer: the caller creates anyway) or
        Retry/Failed when GitHub did not answer (then creating could duplicate)."""
        seen: dict[int, dict[str, Any] | bool] = {}
        newest = await self._newest(owner, name, seen)
        if isinstance(newest, Retry | Failed):
            return newest
        cutoff = _aware(since) - CLOCK_SKEW
        for number in range(newest, max(0, newest - SCAN_LIMIT), -1):
            issue = seen[number] if number in seen else await self._probe(owner, name, number)
            if isinstance(issue, Retry | Failed):
                return issue
            if not isinstance(issue, dict):
                continue  # deleted, transferred or never there
            body = issue.get("body")
            if isinstance(body, str) and marker in body:
                return self._ticket(owner, name, issue) or Retry("GitHub get issue: the answer had no number")
            created = _parse_time(issue.get("created_at"))
            if created is not None and created < cutoff:
                return "none"
        return "none" if newest <= SCAN_LIMIT else "gave up"

    async def _newest(
        self, owner: str, name: str, seen: dict[int, dict[str, Any] | bool]
    ) -> int | Retry | Failed:
        """The highest issue number in use (0 for a repository without issues)."""

        async def used(number: int) -> bool | Retry | Failed:
            if number in seen:  # the hole check re-visits numbers the bisection read
                return seen[number] is not False
            found = await self._probe(owner, name, number)
            if isinstance(found, Retry | Failed):
                return found
            seen[number] = found
            return found is not False

        low = 0  # highest number known to be in use
        while True:
            step = 1
            while True:  # gallop: low+1, low+2, low+4, ... until one is free
                probe = await used(low + step)
                if isinstance(probe, Retry | Failed):
                    return probe
                if not probe:
                    break
                low, step = low + step, step * 2
            high = low + step
            while high - low > 1:  # bisect (low in use, high free)
                mid = (low + high) // 2
                probe = await used(mid)
                if isinstance(probe, Retry | Failed):
                    return probe
                low, high = (mid, high) if probe else (low, mid)
            # A deleted or transferred issue can answer 404 like a free number; look a
            # little further before trusting ``low``.
            ahead: int | None = None
            for number in range(low + 2, low + 2 + HOLES_AHEAD):
                probe = await used(number)
                if isinstance(probe, Retry | Failed):
                    return probe
                if probe:
                    ahead = number
                    break
            if ahead is None:
                return low
            low = ahead

    async def _probe(self, owner: str, name: str, number: int) -> dict[str, Any] | bool | Retry | Failed:
        """Issue #number: its JSON; True if the number is used but unreadable (410 deleted,
        301 transferred); False if nothing answers to it (404)."""
        what = f"GitHub get issue #{number}"
        response = await self._call(
            "GET", f"/repos/{owner}/{name}/issues/{number}", what, allowed=(301, 404, 410)
        )
        if not isinstance(response, httpx.Response):
            return response
        if response.status_code == 404:
            return False
        if response.status_code in (301, 410):
            return True
        return vendor_http.json_body(response, what)

    # ---- HTTP ----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        allowed: tuple[int, ...] = (),
    ) -> httpx.Response | Retry | Failed:
        request = self.http.build_request(
            method,
            self.config["api_url"] + path,
            json=json,
            params=params,
            headers={
                "Authorization": f"Bearer {self.config['token']}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
        )
        response = await vendor_http.send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        if response.status_code in allowed:
            return response
        problem = vendor_http.failure(response, what)
        if problem is None:
            return response
        return _rate_limited(response, problem)

    # ---- pieces --------------------------------------------------------------------------

    def _repo(self) -> tuple[str, str]:
        parts = repo_parts(self.config["repo"])
        if parts is None:  # validate() makes this unreachable for stored settings
            raise InvalidSettings({"repo": "must be owner/name"})
        return parts

    def _labels(self, doc: ReportDocument, target: Target) -> list[str]:
        """The renderer's labels (severity among them), then the configured labels and the
        route's tags as written: GitHub labels may hold capitals and spaces ("good first
        issue"), and slugging them would create new labels beside the existing ones."""
        raw = [*common.labels(doc), common.label(f"severity:{doc.severity}")]
        raw += [*self.config.get("labels", []), *target.tags]
        cleaned = (common.clean(item).strip()[: common.LABEL_LIMIT].strip() for item in raw)
        return list(dict.fromkeys(item for item in cleaned if item))

    def _assignees(self, target: Target) -> list[str]:
        extra = [a.strip() for a in target.options.get("assignee", "").split(",")]
        logins = [*self.config.get("assignees", []), *extra]
        return list(dict.fromkeys(a.lstrip("@") for a in logins if a.strip()))

    def _ticket(self, owner: str, name: str, issue: Mapping[str, Any]) -> Ticket | None:
        number = issue.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            return None
        url = issue.get("html_url")
        data: dict[str, Any] = {"repo": f"{owner}/{name}", "number": number}
        if isinstance(issue.get("id"), int):
            data["id"] = issue["id"]
        return Ticket(
            remote_id=f"{owner}/{name}#{number}", url=url if isinstance(url, str) else "", data=data
        )

    def _html_repo(self, owner: str, name: str) -> str:
        api = self.config["api_url"]
        if api == "https://api.github.com":
            return f"https://github.com/{owner}/{name}"
        if api.endswith("/api/v3"):  # GitHub Enterprise Server
            return f"{api.removesuffix('/api/v3')}/{owner}/{name}"
        return ""


# ---- helpers (module level: pure) ------------------------------------------------------------


def repo_parts(repo: str) -> tuple[str, str] | None:
    owner, slash, name = repo.strip().partition("/")
    if not slash or not _OWNER.match(owner) or not _REPO.match(name) or name in (".", ".."):
        return None
    return owner, name


def quiet_title(title: str) -> str:
    """The title with a zero-width joiner after each ``@`` that could start a mention: a
    title is plain text (nothing to escape), but a customer's "@here"/"@octocat" must not
    reach anyone; the body's renderer does the same (render/markdown.py)."""
    return _MENTION.sub("@\u200d", title)


def marker_for(key: str) -> str:
    """``<!-- bugline:KEY -->``: hidden in the rendered issue, found again by a retry.

    A key that could end the HTML comment early (``--``, ``>``) is replaced by its hash."""
    token = key if _MARKER_KEY.match(key) and "--" not in key else hashlib.sha256(key.encode()).hexdigest()
    return f"<!-- bugline:{token} -->"


def with_marker(body: str, marker: str) -> str:
    """``body`` and the marker, cut so the whole stays under GitHub's body limit: the
    marker always survives, since the retry's search depends on it."""
    room = BODY_LIMIT - len(marker) - 2
    if len(body) > room:
        body = common.clip(body, room)
    return f"{body}\n\n{marker}"


def _rate_limited(response: httpx.Response, problem: Retry | Failed) -> Retry | Failed:
    """GitHub's secondary rate limits without ``retry-after``: wait at least 60 s.

    http.py already retries 429 and 403-with-rate-limit-headers; a 403 secondary limit can
    come with neither, recognisable only by its message ("You have exceeded a secondary
    rate limit", formerly "abuse detection mechanism")."""
    status = response.status_code
    if status not in (403, 429):
        return problem
    if isinstance(problem, Retry):
        return (
            problem
            if problem.after is not None
            else Retry(problem.reason, after=SECONDARY_WAIT, status=status)
        )
    message = response.text.lower() if response.content else ""
    if "secondary rate limit" in message or "abuse" in message or "rate limit" in message:
        return Retry(problem.reason, after=SECONDARY_WAIT, status=status)
    return problem


def _issue_of(ticket: Ticket) -> tuple[str, str, int] | None:
    repo = ticket.data.get("repo")
    number = ticket.data.get("number")
    if not (isinstance(repo, str) and isinstance(number, int)):
        repo, _, num = ticket.remote_id.rpartition("#")
        number = int(num) if num.isdigit() else None
    if number is None or not isinstance(repo, str):
        return None
    parts = repo_parts(repo)
    return (parts[0], parts[1], number) if parts else None


def _json_any(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None
