"""Linear (GraphQL): files go to Linear's storage first, then the issue links them.

Vendor rules (../shared/specs/CONTRACTS.md section 5; the schema is
../shared/specs/linear/schema.graphql, against which tests validate every request):

- ``POST https://api.linear.app/graphql`` with ``Authorization: <personal API key>`` (no
  ``Bearer``) or ``Bearer <OAuth token>``; the setting is sent exactly as given.
  https://github.com/linear/linear/blob/master/packages/sdk/src/client.ts
- Files: ``fileUpload(contentType, filename, size)`` answers ``uploadUrl``, ``assetUrl`` and
  ``headers``; the bytes are PUT to ``uploadUrl`` with the same Content-Type,
  ``Cache-Control: public, max-age=31536000`` and every returned header; the issue's
  markdown links ``assetUrl``. https://github.com/linear/linear/tree/master/examples/nextjs-file-upload
- Priority: 0 none, 1 urgent, 2 high, 3 medium, 4 low.
- Rate limits: HTTP 429, or a GraphQL error with ``extensions.type == "ratelimited"``
  (sometimes on HTTP 400, so the body is read before the status). Headers ``retry-after``
  and ``x-ratelimit-requests-reset`` (a Unix time).
  https://github.com/linear/linear/blob/master/packages/sdk/src/error.ts

Exactly once. ``IssueCreateInput.id`` and ``CommentCreateInput.id`` let the client choose
the id ("The identifier in UUID v4 format", schema), so the id is derived from the attempt
key: every retry of one delivery asks for the same id. What Linear answers to a second
create with an id that exists is ❓ (CONTRACTS), so this module does not depend on it: a
retry first looks the id up (``issues(filter: {id: {eq}})``, which answers an empty list
rather than an error when there is none), and a create that fails for any reason other
than a retryable one looks the id up again before reporting the failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

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
from bugline.render import common, markdown

ENDPOINT = "https://api.linear.app/graphql"
PRIORITY: dict[Level, int] = {"critical": 1, "high": 2, "medium": 3, "low": 4}
CACHE_CONTROL = "public, max-age=31536000"  # what Linear's upload example sends
# extensions.type values from the SDK's error.ts. "ratelimited" is documented as a rate
# limit; retrying "lock timeout", "internal error" and "network error" is our reading of
# their names ❓.
RETRY_TYPES = frozenset({"ratelimited", "lock timeout", "internal error", "network error"})
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_NAMESPACE = b"bugline.linear/"

ISSUE_CREATE = """
mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}"""
FIND_ISSUE = """
query FindIssue($id: ID!) {
  issues(filter: {id: {eq: $id}}, includeArchived: true, first: 1) { nodes { id identifier url } }
}"""
FILE_UPLOAD = """
mutation FileUpload($contentType: String!, $filename: String!, $size: Int!) {
  fileUpload(contentType: $contentType, filename: $filename, size: $size) {
    success uploadFile { uploadUrl assetUrl headers { key value } }
  }
}"""
COMMENT_CREATE = """
mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id url } }
}"""
FIND_COMMENT = """
query FindComment($id: ID!) {
  comments(filter: {id: {eq: $id}}, first: 1) { nodes { id url } }
}"""
CHECK = """
query Check($teamId: String!) {
  viewer { id name }
  team(id: $teamId) { id key name }
}"""


def client_id(kind: str, key: str) -> str:
    """A UUID v4-formatted id derived from the attempt key: the same on every retry.
    (uuid5 would be stable too, but the schema asks for "UUID v4 format"; the version and
    variant bits are set to v4's and the rest comes from a hash.)"""
    digest = hashlib.sha256(_NAMESPACE + kind.encode() + b"/" + key.encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def endpoint_url(url: str) -> str:
    """https is required because the API key travels in every request; plain http is
    accepted for localhost only, which is what the tests' fake Linear listens on."""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in LOOPBACK:
        raise ValueError("must be an https:// URL (http:// is accepted for localhost only)")
    return url


class LinearConnector(Connector):
    kind: ClassVar[str] = "linear"
    title: ClassVar[str] = "Linear"
    uploads_files: ClassVar[bool] = True
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", "Linear personal API key, or 'Bearer <OAuth token>' for an OAuth app", "secret"),
        Setting("team_id", "ID (a UUID) of the team issues are created in"),
        Setting("url", "GraphQL endpoint", "url", required=False, default=ENDPOINT),
        Setting(
            "label_ids", "IDs (UUIDs) of labels every issue gets, comma separated", "list", required=False
        ),
        Setting("state_id", "ID (a UUID) of the workflow state new issues start in", required=False),
        Setting(
            "webhook_secret",
            "the signing secret of the Linear webhook (Issues) that reports state changes to "
            "Bugline's /hooks/<connector id>",
            "secret",
            required=False,
        ),
    )

    @classmethod
    def validate(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        config, errors = checked_settings(cls.settings, raw)
        if "url" in config:
            try:
                config["url"] = endpoint_url(config["url"])
            except ValueError as exc:
                errors["url"] = str(exc)
        for name in ("team_id", "state_id"):
            if name in config and not _UUID.match(config[name]):
                errors[name] = "must be a Linear ID (a UUID such as 0b6f8f5e-3c1e-4c8e-9a51-1f2d3c4b5a69)"
        bad = [x for x in config.get("label_ids", []) if not _UUID.match(x)]
        if bad:
            errors["label_ids"] = f"must be Linear label IDs (UUIDs); not: {', '.join(bad)}"
        if errors:
            raise InvalidSettings(errors)
        return config

    # ---- GraphQL ----------------------------------------------------------------------

    async def graphql(
        self, query: str, variables: dict[str, Any], what: str
    ) -> dict[str, Any] | Retry | Failed:
        """The answer's ``data``, or what the outbox should do about a failure."""
        request = self.http.build_request(
            "POST",
            self.config["url"],
            json={"query": query, "variables": variables},
            headers={"Authorization": self.config["api_key"], "Accept": "application/json"},
        )
        response = await vendor.send(self.http, request, what)
        if isinstance(response, Retry):
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = _errors(body)
        if errors:
            retry = next((e for e in errors if e[0] in RETRY_TYPES), None)
            if retry is not None or response.status_code == 429 or response.status_code >= 500:
                after = _wait(response.headers)
                reason = f"{what}: {retry[1] if retry else errors[0][1]}"
                return Retry(reason, after=after, status=response.status_code)
            return Failed(f"{what}: {'; '.join(m for _, m in errors)}"[:500], status=response.status_code)
        problem = vendor.failure(response, what)
        if problem is not None:
            return problem
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            return Retry(f"{what}: the answer had no data")
        return data

    # ---- deliver ----------------------------------------------------------------------

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        issue_id = client_id("issue", attempt.key)
        if attempt.retry:
            found = await self._find_issue(issue_id)
            if not isinstance(found, Ticket | None):
                return found
            if found is not None:
                return Delivered(found, f"{found.remote_id}: found the issue an earlier attempt created")
        media: list[Media] = []
        notes: list[str] = []
        for item in doc.media:
            uploaded = await self._upload(item)
            if isinstance(uploaded, Retry):
                return uploaded
            if isinstance(uploaded, Failed):
                notes.append(f"{item.name}: not uploaded ({uploaded.reason}); linked instead")
                media.append(item)
            else:
                media.append(dataclasses.replace(item, url=uploaded))
        # The renderer links each file's url: for uploaded files, that is now Linear's asset.
        description = markdown.report(dataclasses.replace(doc, media=tuple(media)))
        created = await self._create(doc, target, issue_id, description)
        if isinstance(created, Retry | Failed):
            return created
        uploaded_count = sum(1 for a, b in zip(media, doc.media, strict=True) if a.url != b.url)
        if doc.media:
            notes.insert(0, f"{uploaded_count} of {len(doc.media)} files uploaded")
        return Delivered(created, "; ".join([f"{created.data['identifier']} created", *notes]))

    def issue_input(
        self, doc: ReportDocument, target: Target, issue_id: str, description: str
    ) -> dict[str, Any]:
        labels = [*self.config.get("label_ids", []), *_split(target.options.get("label_ids", ""))]
        fields: dict[str, Any] = {
            "id": issue_id,
            "teamId": target.options.get("team_id") or self.config["team_id"],
            "title": common.title(doc),
            "description": description,
            "priority": PRIORITY[doc.severity],
        }
        if labels:
            fields["labelIds"] = list(dict.fromkeys(labels))
        state = target.options.get("state_id") or self.config.get("state_id")
        if state:
            fields["stateId"] = state
        return fields

    async def _create(
        self, doc: ReportDocument, target: Target, issue_id: str, description: str
    ) -> Ticket | Retry | Failed:
        what = "Linear issueCreate"
        data = await self.graphql(
            ISSUE_CREATE, {"input": self.issue_input(doc, target, issue_id, description)}, what
        )
        if isinstance(data, Retry):
            return data
        if isinstance(data, Failed):
            # Perhaps an earlier attempt (whose answer was lost) already used this id.
            found = await self._find_issue(issue_id)
            return found if isinstance(found, Ticket) else data
        payload = data.get("issueCreate")
        issue = payload.get("issue") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or not payload.get("success") or not isinstance(issue, dict):
            return Failed(f"{what}: Linear did not create the issue (success: false)")
        return _ticket(issue) or Retry(f"{what}: the answer had no issue id")

    async def _find_issue(self, issue_id: str) -> Ticket | Retry | Failed | None:
        data = await self.graphql(FIND_ISSUE, {"id": issue_id}, "Linear issue lookup")
        if isinstance(data, Retry | Failed):
            return data
        issues = data.get("issues")
        nodes = issues.get("nodes") if isinstance(issues, dict) else None
        if not isinstance(nodes, list):
            return Retry("Linear issue lookup: the answer had no nodes")
        for node in nodes:
            if isinstance(node, dict) and node.get("id") == issue_id:
                return _ticket(node)
        return None

    async def _upload(self, item: Media) -> str | Retry | Failed:
        """Upload one file; its asset URL, ``Retry``, or ``Failed`` when Linear will not take
        it (then the issue links the file in Bugline instead)."""
        what = f"Linear fileUpload {item.name}"
        declared = vendor.content_type(item.content_type)
        variables = {"contentType": declared, "filename": item.name, "size": item.size}
        data = await self.graphql(FILE_UPLOAD, variables, what)
        if isinstance(data, Retry | Failed):
            return data
        payload = data.get("fileUpload")
        upload = payload.get("uploadFile") if isinstance(payload, dict) else None
        if not isinstance(upload, dict):
            return Failed(f"{what}: no upload URL (success: false)")
        upload_url, asset_url = upload.get("uploadUrl"), upload.get("assetUrl")
        if not isinstance(upload_url, str) or not isinstance(asset_url, str):
            return Retry(f"{what}: the answer had no uploadUrl or assetUrl")
        headers = {
            "Content-Type": declared,
            "Cache-Control": CACHE_CONTROL,
            "Content-Length": str(item.size),  # a known length: no chunked upload to the bucket
        }
        for header in upload.get("headers") or []:
            if isinstance(header, dict) and isinstance(header.get("key"), str):
                headers[header["key"]] = str(header.get("value", ""))
        put = f"Linear upload {item.name}"
        try:
            request = self.http.build_request("PUT", upload_url, content=item.read(), headers=headers)
            response = await vendor.send(self.http, request, put)
        except Exception as exc:  # reading from our storage failed mid-stream: no issue yet, try later
            return Retry(f"{put}: {type(exc).__name__}: {exc}"[:300])
        if isinstance(response, Retry):
            return response
        problem = vendor.failure(response, put)
        return asset_url if problem is None else problem

    # ---- update -----------------------------------------------------------------------

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        comment_id = client_id("comment", attempt.key)
        if attempt.retry:
            found = await self._find_comment(comment_id)
            if not isinstance(found, str | None):
                return found
            if found is not None:
                return Delivered(ticket, "found the comment an earlier attempt added")
        what = "Linear commentCreate"
        body = {"id": comment_id, "issueId": ticket.remote_id, "body": markdown.update(change)}
        data = await self.graphql(COMMENT_CREATE, {"input": body}, what)
        if isinstance(data, Retry):
            return data
        if isinstance(data, Failed):
            found = await self._find_comment(comment_id)
            return (
                Delivered(ticket, "found the comment an earlier attempt added")
                if isinstance(found, str)
                else data
            )
        payload = data.get("commentCreate")
        if not isinstance(payload, dict) or not payload.get("success"):
            return Failed(f"{what}: Linear did not add the comment (success: false)")
        return Delivered(ticket, "comment added")

    async def _find_comment(self, comment_id: str) -> str | Retry | Failed | None:
        data = await self.graphql(FIND_COMMENT, {"id": comment_id}, "Linear comment lookup")
        if isinstance(data, Retry | Failed):
            return data
        comments = data.get("comments")
        nodes = comments.get("nodes") if isinstance(comments, dict) else None
        if not isinstance(nodes, list):
            return Retry("Linear comment lookup: the answer had no nodes")
        ids = [n.get("id") for n in nodes if isinstance(n, dict)]
        return comment_id if comment_id in ids else None

    # ---- check ------------------------------------------------------------------------

    async def check(self) -> Result:
        """The key works and the team exists (and is visible to the key's user)."""
        data = await self.graphql(CHECK, {"teamId": self.config["team_id"]}, "Linear check")
        if isinstance(data, Retry | Failed):
            return data
        viewer, team = data.get("viewer"), data.get("team")
        if not isinstance(viewer, dict) or not isinstance(team, dict):
            return Failed(f"Linear check: no team {self.config['team_id']} for this key (setting: team_id)")
        name = f"{team.get('name', '')} ({team.get('key', '')})"
        return Delivered(
            Ticket(str(team.get("id", "")), "", {"team": name}),
            f"signed in as {viewer.get('name', '?')}; team {name}",
        )


def _ticket(issue: dict[str, Any]) -> Ticket | None:
    issue_id = issue.get("id")
    if not isinstance(issue_id, str) or not issue_id:
        return None
    identifier = str(issue.get("identifier") or issue_id)
    return Ticket(issue_id, str(issue.get("url") or ""), {"identifier": identifier})


def _errors(body: Any) -> list[tuple[str, str]]:
    """GraphQL errors as (extensions.type, readable message); the SDK prefers
    ``extensions.userPresentableMessage`` over ``message``."""
    raw = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(raw, list):
        return []
    out: list[tuple[str, str]] = []
    for error in raw:
        if not isinstance(error, dict):
            continue
        raw_ext = error.get("extensions")
        ext: dict[str, Any] = raw_ext if isinstance(raw_ext, dict) else {}
        message = ext.get("userPresentableMessage") or error.get("message") or ext.get("type") or "error"
        out.append((str(ext.get("type", "")), " ".join(str(message).split())[:200]))
    return out


def _wait(headers: httpx.Headers) -> float | None:
    """Seconds to wait: Retry-After, else the requests window's reset time (a Unix time;
    milliseconds in Linear's docs ❓, so both units are read)."""
    after = vendor.retry_after(headers)
    if after is not None:
        return after
    for name in ("x-ratelimit-requests-reset", "x-ratelimit-complexity-reset"):
        value = headers.get(name, "")
        if value.isdigit():
            reset = int(value) / 1000 if int(value) > 10**11 else int(value)
            return max(0.0, reset - time.time())
    return None


def _split(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


__all__ = ["LinearConnector", "client_id"]
