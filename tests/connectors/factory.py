"""ReportDocument fixtures for connector and renderer tests.

``make_document()`` is a realistic checkout report ("Pay button does nothing"): every
checklist fact but one, severity reasons, a console TypeError with its stack, a failed
``POST /api/checkout`` answered 500, two media whose ``read()`` yields real bytes (a valid
PNG and a text log), and a duplicate group of 3 reports from 2 people in 1 account.
``hostile()`` is the same report with markup and injection attempts in every text field.
``make_update()`` is the update for a new duplicate. Keyword overrides replace fields:
``make_document(severity="critical", media=())``.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from bugline.connectors.document import (
    ConsoleEntry,
    Duplicates,
    Environment,
    Fact,
    FailedRequest,
    Media,
    ReportDocument,
    Reporter,
    Update,
)

PUBLIC_URL = "https://bugline.example.com"
MEDIA_URL = "https://media.example.com/bugline-media"


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A small, valid RGB PNG (signature, IHDR, IDAT, IEND with real CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xd0\x02\x1b" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png_bytes()
LOG = (
    b"2025-01-14T10:22:31.114Z INFO  checkout: cart loaded (3 items, EUR 127.40)\n"
    b"2025-01-14T10:22:35.902Z ERROR checkout: POST /api/checkout -> 500 Internal Server Error\n"
    b"2025-01-14T10:22:35.903Z ERROR checkout: TypeError: Cannot read properties of undefined "
    b"(reading 'id')\n"
)


def reader(data: bytes, chunk: int = 64) -> Callable[[], AsyncIterator[bytes]]:
    """A ``Media.read`` that streams ``data`` in chunks, fresh on every call."""

    async def read() -> AsyncIterator[bytes]:
        for i in range(0, len(data), chunk):
            yield data[i : i + chunk]

    return read


def make_media(
    name: str = "checkout.png",
    data: bytes = PNG,
    content_type: str = "image/png",
    kind: str = "screenshot",
    url: str | None = None,
) -> Media:
    link = url if url is not None else f"{MEDIA_URL}/r/1f3a/{name}?X-Amz-Expires=3600&X-Amz-Signature=ab12"
    return Media(name=name, content_type=content_type, size=len(data), kind=kind, url=link, read=reader(data))


def _facts() -> tuple[Fact, ...]:
    return (
        Fact("trying_to_do", "Trying to do", "Pay for my order with a saved Visa card", False),
        Fact("expected", "Expected behaviour", "The order is placed and I see the confirmation page", False),
        Fact(
            "actual", "Actual behaviour", "Clicking Pay does nothing: the spinner shows for a second", False
        ),
        Fact("error_text", "Error text", "Something went wrong (code 500)", False),
        Fact(
            "steps_to_reproduce",
            "Steps to reproduce",
            "1. Add any item to the cart\n2. Go to checkout\n3. Choose the saved card\n4. Click Pay",
            False,
        ),
        Fact("frequency", "Frequency", "Every time since this morning", False),
        Fact("affected", "People affected", "", True),
    )


def make_document(**overrides: Any) -> ReportDocument:
    doc = ReportDocument(
        report_id="0f6c1a52-7d1e-4c47-9a51-2b8e3c4d5e6f",
        number=42,
        project="Acme Shop",
        title="Pay button does nothing",
        description=(
            "I tried to pay three times and nothing happens when I click Pay.\n\n"
            "My colleague has the same problem on her laptop. We need this fixed today, "
            "customers are waiting for their orders."
        ),
        facts=_facts(),
        severity="high",
        severity_score=7.5,
        severity_reasons=(
            "+ mentions payment failure",
            "+ error on the checkout route",
            "+ 2 people in 1 account",
        ),
        completeness=86,
        missing=("affected",),
        kind="bug",
        categories=("billing", "checkout"),
        environment=Environment(
            browser="Chrome 131.0",
            os="macOS 14.6",
            device="desktop",
            url="https://shop.example.com/checkout?step=pay",
            viewport="1440x900",
            locale="en-GB",
            user_agent=(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
            ),
        ),
        console=(
            ConsoleEntry(
                "error",
                "TypeError: Cannot read properties of undefined (reading 'id')\n"
                "    at submitPayment (checkout.js:214:31)\n"
                "    at HTMLButtonElement.onClick (checkout.js:88:5)",
                "https://shop.example.com/static/checkout.js:214",
            ),
            ConsoleEntry("warn", "Payment SDK loaded twice", ""),
        ),
        failed_requests=(
            FailedRequest("POST", "https://shop.example.com/api/checkout", 500, 912.4),
            FailedRequest("GET", "https://shop.example.com/api/cart/totals", None, None),
        ),
        duplicates=Duplicates(group_id="g-7a1", reports=3, people=2, accounts=1),
        media=(
            make_media(),
            make_media("console.log", LOG, "text/plain", "log"),
        ),
        reporter=Reporter(
            name="Dana Smith", email="dana@acme.example", account="Acme Retail", plan="Business"
        ),
        link=f"{PUBLIC_URL}/reports/0f6c1a52-7d1e-4c47-9a51-2b8e3c4d5e6f",
        created_at=datetime(2025, 1, 14, 10, 23, tzinfo=UTC),
        metadata={"order_id": "A-10293", "app_version": "4.12.0"},
    )
    return dataclasses.replace(doc, **overrides)


# ---- hostile content ---------------------------------------------------------------------

LONG = "A" * 10_000
SCRIPT = "<script>alert(document.cookie)</script>"
HOSTILE_SNIPPETS: tuple[str, ...] = (
    SCRIPT,
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click me](javascript:alert(1)) ![x](javascript:alert(2))",
    "<javascript:alert(3)>",
    "@channel @here @everyone @octocat <!here> <!channel> <!everyone> <@U123ABC> <#C42|general>",
    "<https://evil.example|https://bank.example> <!subteam^S01|@team>",
    "```\nclosed the fence\n``` ~~~\n",
    "<!-- hidden --> <details><summary>x</summary></details>",
    "# heading\n- item\n> quote\n1. one\n---\n| a | b |\n|---|---|",
    "*bold* _italic_ ~strike~ `code` **strong** &amp; &#64;octocat &lt;b&gt;",
    '{"type":"doc","version":1,"content":[{"type":"inlineCard","attrs":{"url":"javascript:alert(1)"}}]}',
    "fixes #1 GH-2 octo/repo#3",
    "RTL \u202egnp.exe emoji 🧨👩\u200d💻 zero\u200bwidth \ufeffbom",
    "NUL\x00byte bell\x07 escape\x1b[31mred",
    "$\\href{javascript:alert(1)}{x}$",
    LONG,
)
HOSTILE = "\n".join(HOSTILE_SNIPPETS)


def _nasty(label: str) -> str:
    return f"{label} {HOSTILE}"


def hostile(**overrides: Any) -> ReportDocument:
    """The checkout report with markup and injection attempts in every text field."""
    base = make_document()
    doc = dataclasses.replace(
        base,
        project=_nasty("project"),
        title=_nasty("title"),
        description=_nasty("description"),
        facts=tuple(dataclasses.replace(f, label=_nasty("label"), value=_nasty(f.key)) for f in base.facts),
        severity_reasons=(_nasty("reason"), "+ <!channel> payment", "javascript:alert(1)"),
        kind=_nasty("kind"),
        categories=(_nasty("category"), "<script>", "billing"),
        missing=("affected", "<script>alert(1)</script>"),
        environment=Environment(
            browser=_nasty("browser"),
            os=_nasty("os"),
            device=_nasty("device"),
            url="javascript:alert(document.domain)",
            viewport=_nasty("viewport"),
            locale=_nasty("locale"),
            user_agent=_nasty("ua"),
        ),
        console=tuple(
            ConsoleEntry(_nasty("level"), _nasty(f"message {i}"), _nasty("source")) for i in range(8)
        ),
        failed_requests=(
            FailedRequest(_nasty("method"), "javascript:alert(1)", 500, 10.0),
            FailedRequest("POST", _nasty("https://shop.example.com/api/checkout"), None, -1.0),
        ),
        media=(
            make_media(name=_nasty("name"), url="javascript:alert(1)"),
            make_media(
                name="log<script>.txt",
                data=LOG,
                content_type=_nasty("type"),
                kind=_nasty("kind"),
                # A valid URL with every character that means something in some markup.
                url="https://media.example.com/x'*_~(1)[2]$!;,@:=?a=1&b=%3Cscript%3E#frag",
            ),
            make_media(name="data.png", url="data:text/html;base64,PHNjcmlwdD4="),
            make_media(name="quote.png", url='https://media.example.com/x"><script>alert(1)</script>'),
            make_media(name="pipe.png", url="https://evil.example|https://bank.example"),
        ),
        reporter=Reporter(
            name=_nasty("name"), email=_nasty("email"), account=_nasty("account"), plan=_nasty("plan")
        ),
        link="https://bugline.example.com/reports/1?x=%3Cscript%3E&y='&z=(1)",
        metadata={_nasty("key"): _nasty("value"), "<b>": "<!here>"},
    )
    return dataclasses.replace(doc, **overrides)


def make_update(**overrides: Any) -> Update:
    """Another customer reported the same problem (#57): the group now has 4 reports."""
    report = make_document(
        report_id="6e1d9b0c-3c4a-4a4e-8f1e-9d2c7b6a5f40",
        number=57,
        title="Cannot pay, button stuck",
        reporter=Reporter(name="Lee Wong", email="lee@globex.example", account="Globex", plan="Pro"),
        duplicates=Duplicates(group_id="g-7a1", reports=4, people=3, accounts=2),
        media=(make_media("pay-button.png"),),
        link=f"{PUBLIC_URL}/reports/6e1d9b0c-3c4a-4a4e-8f1e-9d2c7b6a5f40",
    )
    fields: dict[str, Any] = {
        "report": report,
        "note": "Another customer reported this problem (#57): 3 people, 2 accounts affected.",
    }
    fields.update(overrides)
    return Update(**fields)


def hostile_update(**overrides: Any) -> Update:
    fields: dict[str, Any] = {"report": hostile(), "note": _nasty("note")}
    fields.update(overrides)
    return Update(**fields)
