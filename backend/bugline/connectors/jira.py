"""Jira Cloud (REST v3): a report becomes an issue, its files become attachments.

Vendor rules (../shared/specs/CONTRACTS.md section 2, and the spec subset
../shared/specs/jira/jira-issue-attachments-subset.openapi.json, which is all this module
calls, so tests can validate every request against it):

- ``POST /rest/api/3/issue`` with Basic ``email:api_token``; ``description`` must be ADF.
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
- ``POST /rest/api/3/issue/{key}/attachments``: multipart part ``file`` and the header
  ``X-Atlassian-Token: no-check``; 413 when a file is over the site's limit.
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-issue-issueidorkey-attachments-post
- ``GET /rest/api/3/priority/search`` lists the site's priorities (names are per site).
- 429 (and some 503) carry ``Retry-After``: ``http.failure`` reads it.

Exactly once. Jira has no idempotency key (CONTRACTS: "none found ❓"), and the spec
subset has no search endpoint (no ``/rest/api/3/search/jql``), so an interrupted create
cannot be looked up before trying again. What this module does instead:

- the issue carries the label ``bugline-<attempt key>``, so a person (or a later search,
  once the subset includes one) finds every issue one delivery made: ``labels = bugline-…``;
- everything after the create (attachments) never turns into ``Retry``: once Jira has
  answered with the issue key, the delivery is ``Delivered`` even if a file could not be
  uploaded (the description links every file), so a retry can only follow a create whose
  answer was lost. The outbox's lease keeps even that rare.

Updates. The subset has no comment endpoint (``POST /rest/api/3/issue/{key}/comment``)
and no issue edit (``PUT /rest/api/3/issue/{key}``). The one way it offers to add to an
existing issue is an attachment, so an update is attached as a small text file
(``bugline-update-<ref>-<hash>.txt``), which Jira shows in the issue's attachments and
history. Its name is derived from the attempt key, so a retried update first reads the
issue's attachments (``GET /rest/api/3/issue/{key}?fields=attachment``, in the subset) and
does not attach the same update twice.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Mapping
from typing import IO, Any, ClassVar
from urllib.parse import quote, urlsplit

from bugline.connectors import http as vendor
from bugline.connectors.base import (
    LOOPBACK,
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
    checked_settings,
)
from bugline.connectors.document import Level, Media, ReportDocument, Update
from bugline.render import adf, common, text

LEVELS: tuple[Level, ...] = ("critical", "high", "medium", "low")
DEFAULT_PRIORITIES = ("Highest", "High", "Medium", "Low")  # Jira's defaults; names are per site ❓
# "Project keys must start with an uppercase letter, followed by one or more uppercase
# alphanumeric characters" (the spec's ErrorCollection example); underscores are allowed too.
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]+$")
_PRIORITY_PAGES = 10  # 10 x 100 priorities: more than any site has


def site_url(url: str) -> str:
    """The site's base URL (scheme and host only: Jira Cloud lives at the root). https is
    required because the API token travels in every request; plain http is accepted for
    localhost only, which is what the tests' fake Jira listens on."""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in LOOPBACK:
        raise ValueError("must be an https:// URL (http:// is accepted for localhost only)")
    return f"{parts.scheme}://{parts.netloc}"


def delivery_label(key: str) -> str:
    """The label that marks every issue one delivery created (CONTRACTS: "put our report id
    in a label ... and search with JQL")."""
    return common.label(f"bugline-{key}")


class JiraConnector(Connector):
    kind: ClassVar[str] = "jira"
    title: ClassVar[str] = "Jira Cloud"
    uploads_files: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("url", "Your Jira Cloud site, e.g. https://example.atlassian.net", "url"),
        Setting("email", "Email of the Atlassian account the API token belongs to", "email"),
        Setting("api_token", "API token from https://id.atlassian.com/manage-profile/security", "secret"),
        Setting("project_key", "Key of the project issues are created in, e.g. WEB"),
        Setting("issue_type", "Issue type for bugs and questions", required=False, default="Bug"),
        Setting("feature_issue_type", "Issue type for feature requests", required=False, default="Story"),
        Setting(
            "priorities",
            "Your site's priority names for critical, high, medium and low, comma separated",
            "list",
            required=False,
            default=",".join(DEFAULT_PRIORITIES),
        ),
        Setting(
            "webhook_secret",
            "the secret of the Jira admin webhook (issue updated) that reports status changes to "
            "Bugline's /hooks/<connector id>; Jira signs only webhooks saved with a secret",
            "secret",
            required=False,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        config, errors = checked_settings(cls.settings, raw)
        if "url" in config and "url" not in errors:
            try:
                config["url"] = site_url(config["url"])
            except ValueError as exc:
                errors["url"] = str(exc)
        if "project_key" in config:
            config["project_key"] = str(config["project_key"]).upper()
            if not _PROJECT_KEY.match(config["project_key"]):
                errors["project_key"] = "must be a Jira project key: a letter, then letters, digits or _"
        if "priorities" in config and "priorities" not in errors:
            names = config["priorities"]
            if isinstance(names, str):  # the default, not coerced by validate_settings
                names = [n.strip() for n in names.split(",") if n.strip()]
            if len(names) != len(LEVELS):
                errors["priorities"] = "must name exactly 4 priorities: for critical, high, medium, low"
            config["priorities"] = list(names)
        if errors:
            raise InvalidSettings(errors)
        return config

    # ---- requests ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return vendor.basic_json_headers(self.config["email"], self.config["api_token"])

    def _url(self, path: str) -> str:
        return f"{self.config['url']}{path}"

    def browse_url(self, key: str) -> str:
        # The human link https://{site}/browse/{key} is ❓ in CONTRACTS (not in the spec);
        # it is the link Jira's own UI shares.
        return f"{self.config['url']}/browse/{quote(key, safe='')}"

    # ---- deliver ----------------------------------------------------------------------

    def fields(self, doc: ReportDocument, target: Target, attempt: Attempt) -> dict[str, Any]:
        """The create request's ``fields``: what the issue says."""
        feature = doc.kind == "feature_request"
        issue_type = (
            target.options.get("issue_type") or self.config["feature_issue_type" if feature else "issue_type"]
        )
        priority = self.config["priorities"][LEVELS.index(doc.severity)]
        raw = [*common.labels(doc), *target.tags, delivery_label(attempt.key)]
        labels = list(dict.fromkeys(x for x in (common.label(r) for r in raw) if x))
        return {
            "project": {"key": target.options.get("project") or self.config["project_key"]},
            "issuetype": {"name": issue_type},
            "summary": common.title(doc),  # at most 250 characters; Jira allows 255
            "description": adf.report(doc),
            "priority": {"name": priority},
            "labels": labels,  # common.label: no spaces, which Jira refuses in labels
        }

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        project = target.options.get("project")
        if project is not None and not _PROJECT_KEY.match(project):
            return Failed(f"routing chose Jira project {project!r}, which is not a project key")
        request = self.http.build_request(
            "POST",
            self._url("/rest/api/3/issue"),
            json={"fields": self.fields(doc, target, attempt)},
            headers=self._headers(),
        )
        response = await vendor.send(self.http, request, "Jira create issue")
        if isinstance(response, Retry):
            return response
        problem = vendor.failure(response, "Jira create issue")
        if problem is not None:
            return problem
        body = vendor.json_body(response, "Jira create issue")
        if isinstance(body, Retry):
            return body
        key = body.get("key")
        if not isinstance(key, str) or not key:
            return Retry("Jira create issue: the answer had no issue key")
        notes = [f"{key} created"]
        if attempt.retry:
            notes.append(
                f"Jira has no idempotency key: if an earlier attempt's answer was lost, "
                f"its issue carries the label {delivery_label(attempt.key)} too"
            )
        uploaded, problems = await self._attach_all(key, doc.media)
        if doc.media:
            notes.append(f"{uploaded} of {len(doc.media)} files attached")
        notes.extend(problems)
        ticket = Ticket(key, self.browse_url(key), {"id": str(body.get("id", "")), "key": key})
        return Delivered(ticket, "; ".join(notes))

    async def _attach_all(self, key: str, media: tuple[Media, ...]) -> tuple[int, list[str]]:
        """Attach every file, one request each (one too-large file does not stop the rest).
        A failure here is only noted: the issue exists, and the description links the file."""
        uploaded = 0
        problems: list[str] = []
        for item in media:
            problem = await self._attach(key, item)
            if problem is None:
                uploaded += 1
            else:
                problems.append(problem)
        return uploaded, problems

    async def _attach(self, key: str, item: Media) -> str | None:
        with tempfile.TemporaryFile() as spool:
            try:
                await _spool(item, spool)
            except Exception as exc:  # the issue exists: note it, never raise or retry
                return f"{item.name}: could not be read from storage ({type(exc).__name__}); linked instead"
            problem = await self._upload(key, item.name, spool, vendor.content_type(item.content_type))
        if problem is None:
            return None
        if problem.status == 413:
            return f"{item.name}: over the site's attachment limit (413); linked instead"
        return f"{item.name}: not attached ({problem.reason}); linked instead"

    async def _upload(
        self, key: str, name: str, data: IO[bytes] | bytes, media_type: str
    ) -> Retry | Failed | None:
        what = f"Jira attach {name}"
        request = self.http.build_request(
            "POST",
            self._url(f"/rest/api/3/issue/{quote(key, safe='')}/attachments"),
            files={"file": (name, data, media_type)},
            headers={**self._headers(), "X-Atlassian-Token": "no-check"},  # else Jira blocks it (XSRF)
        )
        response = await vendor.send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        return vendor.failure(response, what)

    # ---- update -----------------------------------------------------------------------

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        key = ticket.data.get("key") or ticket.remote_id
        digest = hashlib.sha256(attempt.key.encode()).hexdigest()[:10]
        name = f"bugline-update-{change.report.number}-{digest}.txt"
        if attempt.retry:
            found = await self._has_attachment(key, name)
            if isinstance(found, Retry | Failed):
                return found
            if found:
                return Delivered(ticket, f"{key}: an earlier attempt attached {name}")
        problem = await self._upload(
            key, name, text.update(change).encode("utf-8"), "text/plain; charset=utf-8"
        )
        if problem is not None:
            return problem
        return Delivered(ticket, f"{key}: update attached as {name} (the Jira spec subset has no comments)")

    async def _has_attachment(self, key: str, name: str) -> bool | Retry | Failed:
        what = f"Jira read {key}"
        request = self.http.build_request(
            "GET",
            self._url(f"/rest/api/3/issue/{quote(key, safe='')}"),
            params={"fields": "attachment"},
            headers=self._headers(),
        )
        response = await vendor.send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        problem = vendor.failure(response, what)
        if problem is not None:
            return problem
        body = vendor.json_body(response, what)
        if isinstance(body, Retry):
            return body
        fields = body.get("fields")
        attachments = fields.get("attachment") if isinstance(fields, dict) else None
        if not isinstance(attachments, list):
            return False
        return any(isinstance(a, dict) and a.get("filename") == name for a in attachments)

    # ---- check ------------------------------------------------------------------------

    async def check(self) -> Result:
        """Credentials work and every configured priority name exists on the site.

        The spec marks ``priority/search`` deprecated (CHANGE-1655 changes what it returns
        for priority schemes) but it is the priority listing the subset has."""
        names: list[str] = []
        start = 0
        for _ in range(_PRIORITY_PAGES):
            page = await self._priorities(start)
            if isinstance(page, Retry | Failed):
                return page
            values = page.get("values")
            if not isinstance(values, list):
                return Retry("Jira priorities: the answer had no values")
            names += [str(v["name"]) for v in values if isinstance(v, dict) and "name" in v]
            if page.get("isLast", True) or not values:
                break
            start += len(values)
        unknown = [n for n in self.config["priorities"] if n not in names]
        if unknown:
            return Failed(
                f"Jira has no priority named {', '.join(unknown)}; "
                f"this site's priorities: {', '.join(names) or '(none)'} (setting: priorities)"
            )
        site = self.config["url"]
        return Delivered(Ticket(site, site), f"signed in to {site}; priorities {', '.join(names)}")

    async def _priorities(self, start: int) -> dict[str, Any] | Retry | Failed:
        what = "Jira priorities"
        request = self.http.build_request(
            "GET",
            self._url("/rest/api/3/priority/search"),
            params={"startAt": str(start), "maxResults": "100"},
            headers=self._headers(),
        )
        response = await vendor.send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        problem = vendor.failure(response, what)
        if problem is not None:
            return problem
        return vendor.json_body(response, what)


async def _spool(item: Media, spool: IO[bytes]) -> None:
    """The file's bytes into a temporary file, so a large recording is never all in memory
    (httpx streams a multipart body from a file object)."""
    async for chunk in item.read():
        spool.write(chunk)
    spool.seek(0)


__all__ = ["JiraConnector", "delivery_label", "site_url"]
