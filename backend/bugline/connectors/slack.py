"""Slack: an alert message per report, a thread reply per later update.

Two ways in (../shared/specs/CONTRACTS.md section 6):

- a bot token (``xoxb-…``) and a channel: ``chat.postMessage`` with a JSON body and
  ``Authorization: Bearer`` (https://api.slack.com/methods/chat.postMessage; every request
  is checked against slack/slack-chat-postMessage-subset.patched.swagger.json in the tests).
  Slack answers HTTP 200 even for failures, ``{"ok": false, "error": "channel_not_found"}``;
  ``_ERRORS`` says which codes are worth retrying. Updates go in the message's thread.
- an incoming webhook URL (https://api.slack.com/messaging/webhooks): success is HTTP 200
  with the body ``ok``, failures are HTTP statuses with a text body (``invalid_payload``,
  ``channel_is_archived``…). The webhook's channel is fixed by Slack, no thread can be
  named, so updates are new messages.

Rate limits: about one message per second per channel; 429 with ``Retry-After`` seconds
(https://api.slack.com/docs/rate-limits), which http.py reads.

Exactly once: Slack has no idempotency key and the subset has no way to read a channel
back, so a crash between Slack accepting the message and the outbox recording it can post
the alert twice. That is acceptable here and not for ticket trackers: a doubled alert is
noise a person scrolls past, a doubled ticket is work two people may pick up. The subset's
``chat.postMessage`` has no ``metadata`` parameter (the live API added one later), so the
attempt key is not sent either: the spec is what the tests hold requests to.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from bugline.render import blockkit

# chat.postMessage error codes that are Slack's trouble, not ours: try again later. Every
# other code (channel_not_found, not_in_channel, is_archived, invalid_auth, not_authed,
# account_inactive, token_revoked, missing_scope, msg_too_long, invalid_blocks, …) needs a
# person to change a setting or invite the bot, so it stops the delivery.
# Sources: the spec's error enum, https://api.slack.com/methods/chat.postMessage#errors
_RETRY_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_HINTS: dict[str, str] = {
    "not_in_channel": "invite the Bugline app to the channel (/invite @app)",
    "channel_not_found": "check the channel ID, and that the app can see a private channel",
    "is_archived": "the channel is archived; pick another",
    "invalid_auth": "the token is not valid; paste a current bot token",
    "not_authed": "no token reached Slack",
    "account_inactive": "the app or its user was deactivated; reinstall the app",
    "token_revoked": "the token was revoked; reinstall the app",
    "missing_scope": "the app needs the chat:write scope",
}
_TOKEN_PREFIXES = ("xoxb-", "xoxp-")
_TOKEN = "token"  # noqa: S105 - the setting's name; as a literal key, ruff takes its messages for passwords

Mode = Literal["bot", "webhook"]


class SlackConnector(Connector):
    kind: ClassVar[str] = "slack"
    title: ClassVar[str] = "Slack"
    uploads_files: ClassVar[bool] = False  # media are linked; the message stays an alert
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting(
            "token",
            "a bot token (xoxb-…) with chat:write; give either this and channel, or webhook_url",
            kind="secret",
            required=False,
        ),
        Setting("channel", "the channel ID (C0123456789) the bot posts to", required=False),
        Setting(
            "webhook_url",
            "an incoming webhook URL (https://hooks.slack.com/services/…), instead of token and channel",
            kind="secret",
            required=False,
        ),
        Setting(
            "api_url",
            "the Web API root (https only; http is accepted for 127.0.0.1/localhost, for tests)",
            kind="url",
            required=False,
            default="https://slack.com/api",
        ),
        Setting(
            "workspace_url",
            "the workspace address (https://acme.slack.com), to link each alert to its message",
            kind="url",
            required=False,
        ),
        Setting(
            "webhook_secret",
            "the Slack app's signing secret, to accept its interactive status buttons at "
            "Bugline's /hooks/<connector id> (the app's Interactivity Request URL)",
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
            # The rest still gets the checks across settings, so every bad one is named at once.
            config = {k: str(v).strip() for k, v in raw.items() if k not in errors and v not in (None, "")}
        token, webhook = config.get("token"), config.get("webhook_url")
        if "token" not in errors and "webhook_url" not in errors:
            if token and webhook:
                errors["webhook_url"] = "give either token (and channel) or webhook_url, not both"
            elif not token and not webhook:
                errors[_TOKEN] = "required: a bot token and channel, or else a webhook_url"
        if token and not str(token).startswith(_TOKEN_PREFIXES):
            errors[_TOKEN] = "must be a Slack bot token, starting xoxb-"
        if token and not config.get("channel") and "channel" not in errors:
            errors["channel"] = "required with a token: the channel ID the bot posts to"
        for name in ("webhook_url", "api_url", "workspace_url"):
            value = config.get(name)
            if value is None or name in errors:
                continue
            if not https_or_loopback(str(value)):
                errors[name] = "must be an https:// URL (http:// only for 127.0.0.1 or localhost)"
        if errors:
            raise InvalidSettings(errors)
        return config

    @property
    def mode(self) -> Mode:
        return "bot" if self.config.get("token") else "webhook"

    # ---- the three operations ------------------------------------------------------------

    async def deliver(self, doc: ReportDocument, target: Target, attempt: Attempt) -> Result:
        message = blockkit.message(doc)
        if self.mode == "webhook":
            # The webhook's channel was chosen when it was made; target.options["channel"]
            # cannot move it.
            return await self._hook(message, "Slack webhook", attempt)
        channel = target.options.get("channel", "").strip() or self.config["channel"]
        return await self._post(channel, message, thread_ts=None, what="Slack chat.postMessage")

    async def update(self, ticket: Ticket, change: Update, attempt: Attempt) -> Result:
        message = blockkit.update(change)
        channel, ts = ticket.data.get("channel"), ticket.data.get("ts")
        if self.mode == "webhook":
            result = await self._hook(message, "Slack webhook update", attempt)
            return (
                Delivered(ticket, detail="posted as a new message")
                if isinstance(result, Delivered)
                else result
            )
        if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
            # thread_ts must be the parent's ts (the spec: "avoid using a reply's ts").
            result = await self._post(channel, message, thread_ts=ts, what="Slack thread reply")
        else:  # the alert went through a webhook earlier: no thread to answer in
            result = await self._post(self.config["channel"], message, thread_ts=None, what="Slack update")
        if isinstance(result, Delivered):
            return Delivered(ticket, detail=f"posted {result.ticket.remote_id}")
        return result

    async def check(self) -> Result:
        """Ask Slack to post nothing, and read why it refuses.

        The subset has no ``auth.test``, and check() must create nothing. A post without
        text or blocks cannot become a message; Slack checks the token and channel before
        the content (❓ the order is observed behaviour, not documented), so ``no_text``
        means both are good, and ``invalid_auth``/``channel_not_found`` name what is not.
        The webhook is probed the same way: an empty payload is refused with 400 when the
        hook exists, and with 403/404/410 when it was revoked or its channel is gone."""
        if self.mode == "webhook":
            what = "Slack webhook check"
            response = await self._send(self.config["webhook_url"], {}, headers={}, what=what)
            if isinstance(response, Retry):
                return response
            if response.status_code in (400, 200):
                return Delivered(Ticket(remote_id="webhook"), detail="the webhook URL is live")
            return vendor_http.failure(response, what) or Retry(f"{what}: HTTP {response.status_code}")
        what = "Slack check"
        channel = self.config["channel"]
        raw = await self._raw({"channel": channel}, what)
        if isinstance(raw, Retry | Failed):
            return raw
        answer, headers = raw
        if answer.get("error") == "no_text":
            detail = "the token works and the bot can post in the channel"
            return Delivered(Ticket(remote_id=channel, url=self._channel_url(channel)), detail=detail)
        verdict = _verdict(answer, headers, channel, what)
        if isinstance(verdict, dict):  # pragma: no cover - Slack refuses an empty message
            return Retry(f"{what}: Slack accepted an empty message")
        return verdict

    # ---- bot token -----------------------------------------------------------------------

    async def _post(
        self, channel: str, message: Mapping[str, Any], *, thread_ts: str | None, what: str
    ) -> Result:
        payload: dict[str, Any] = {
            "channel": channel,
            **{k: message[k] for k in ("text", "blocks", "attachments") if message.get(k)},
            # No previews: Slack would fetch the customer's page URL and the presigned media
            # links itself, and show previews that outlive the links' expiry.
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            payload["thread_ts"] = thread_ts
        answer = await self._api(channel, payload, what)
        if isinstance(answer, Retry | Failed):
            return answer
        ts, posted_in = answer.get("ts"), answer.get("channel")
        if not isinstance(ts, str) or not ts:
            return Retry(f"{what}: the answer had no ts")
        posted_in = posted_in if isinstance(posted_in, str) and posted_in else channel
        url = self._permalink(posted_in, ts, thread_ts)
        ticket = Ticket(remote_id=f"{posted_in}:{ts}", url=url, data={"channel": posted_in, "ts": ts})
        return Delivered(ticket)

    async def _api(self, channel: str, payload: dict[str, Any], what: str) -> dict[str, Any] | Retry | Failed:
        """chat.postMessage; the ``ok: true`` answer, or what its error code means."""
        raw = await self._raw(payload, what)
        if isinstance(raw, Retry | Failed):
            return raw
        return _verdict(raw[0], raw[1], channel, what)

    async def _raw(
        self, payload: dict[str, Any], what: str
    ) -> tuple[dict[str, Any], httpx.Headers] | Retry | Failed:
        """chat.postMessage's JSON answer as it came (ok or not), with the headers."""
        headers = {"Authorization": f"Bearer {self.config['token']}"}
        url = f"{self.config['api_url']}/chat.postMessage"
        response = await self._send(url, payload, headers=headers, what=what)
        if isinstance(response, Retry):
            return response
        problem = vendor_http.failure(response, what)
        if problem is not None:
            return problem
        answer = vendor_http.json_body(response, what)
        if isinstance(answer, Retry):
            return answer
        return answer, response.headers

    # ---- incoming webhook ----------------------------------------------------------------

    async def _hook(self, message: Mapping[str, Any], what: str, attempt: Attempt) -> Result:
        payload = {k: message[k] for k in ("text", "blocks", "attachments") if message.get(k)}
        payload |= {"unfurl_links": False, "unfurl_media": False}
        response = await self._send(self.config["webhook_url"], payload, headers={}, what=what)
        if isinstance(response, Retry):
            return response
        problem = vendor_http.failure(response, what)
        if problem is not None:
            return problem
        if response.text.strip() != "ok":
            return Retry(f"{what}: expected the answer ok, got {response.text.strip()[:100]!r}")
        # A webhook tells nothing about the message it posted: no ts, no channel, no link.
        return Delivered(Ticket(remote_id=f"webhook:{attempt.key}", data={"mode": "webhook"}))

    # ---- pieces --------------------------------------------------------------------------

    async def _send(
        self, url: str, payload: Mapping[str, Any], *, headers: dict[str, str], what: str
    ) -> httpx.Response | Retry:
        request = self.http.build_request(
            "POST", url, json=payload, headers={**headers, "Content-Type": "application/json; charset=utf-8"}
        )
        return await vendor_http.send(self.http, request, what)

    def _permalink(self, channel: str, ts: str, thread_ts: str | None) -> str:
        """https://acme.slack.com/archives/C123/p1503435956000247 — the format Slack's
        chat.getPermalink returns; built here because the subset has no getPermalink."""
        base = self.config.get("workspace_url")
        if not base:
            return ""
        link = f"{base}/archives/{channel}/p{ts.replace('.', '')}"
        return f"{link}?thread_ts={thread_ts}&cid={channel}" if thread_ts else link

    def _channel_url(self, channel: str) -> str:
        base = self.config.get("workspace_url")
        return f"{base}/archives/{channel}" if base else ""


def _verdict(
    answer: dict[str, Any], headers: httpx.Headers, channel: str, what: str
) -> dict[str, Any] | Retry | Failed:
    """A chat.postMessage answer (HTTP 200 either way): the answer when ``ok`` is true."""
    if answer.get("ok") is True:
        return answer
    error = answer.get("error")
    if answer.get("ok") is not False or not isinstance(error, str):
        return Retry(f"{what}: the answer had neither ok nor an error code")
    if error in _RETRY_ERRORS:
        return Retry(f"{what}: {error}", after=vendor_http.retry_after(headers))
    hint = _HINTS.get(error)
    where = f" (channel {channel})" if error in ("not_in_channel", "channel_not_found", "is_archived") else ""
    return Failed(f"{what}{where}: {error}{' — ' + hint if hint else ''}")
