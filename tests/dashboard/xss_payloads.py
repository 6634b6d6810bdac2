"""Stored XSS: a report whose every customer-supplied field carries an attack, and a scan of
the HTML a page made from it (shared by tests/dashboard/test_xss.py and the browser test).

The scan parses the page the way a browser's tokenizer does (html.parser) and reports what
would run: a <script> that is not one of our own files, an on* event handler attribute, a
javascript:/data: URL in a link, form or media attribute, an <iframe>/<object>/<embed>/<base>
that is not ours. Escaped text is fine (it is what the page should show), so every payload is
also expected to appear as text, proving it was rendered rather than dropped.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

MARK = "xss7q"  # in every payload, so its text can be found on the page

SCRIPT = f"<script>alert('{MARK}-script')</script>"
IMG = f'"><img src=x onerror=alert("{MARK}-img")>'
SVG = f"<svg onload=alert('{MARK}-svg')></svg>"
TEXTAREA = f"</textarea><script>alert('{MARK}-textarea')</script>"
ATTR = f"' onmouseover='alert(\"{MARK}-attr\")' x='"
JS_URL = f"javascript:alert('{MARK}-url')"
STYLE = f"</style><style>body{{background:url(javascript:alert('{MARK}'))}}</style>"
IFRAME = f"<iframe src=\"javascript:alert('{MARK}-iframe')\"></iframe>"
FORMULA = f'=HYPERLINK("https://evil.example/{MARK}","open")'

ALL = (SCRIPT, IMG, SVG, TEXTAREA, ATTR, STYLE, IFRAME)


def hostile_report(title: str = SCRIPT) -> dict[str, Any]:
    """Every free-text field of the public API's report, each with an attack."""
    return {
        "title": title,
        "description": f"{SVG} {TEXTAREA} {STYLE}",
        "trying_to_do": f"{IMG} export invoices",
        "expected": f"{ATTR} a CSV",
        "actual": f"{SCRIPT} the export crashes for everyone {IFRAME}",
        "error_text": f"{TEXTAREA}",
        "steps": [f"Open {IMG}", f"Click {SVG}", f"See {SCRIPT}"],
        "frequency": "always",
        "people_affected": "some",
        "reporter": {
            "id": f"u-{MARK}",
            "email": f"ana.{MARK}@example.com",
            "name": f"{IMG}",
            "account": f"{SVG}",
            "plan": f"{SCRIPT}"[:100],
        },
        "context": {
            "url": JS_URL,
            "route": f"/billing/{IMG}",
            "referrer": JS_URL,
            "user_agent": f"Mozilla/5.0 {SCRIPT}",
            "locale": "en-GB",
            "timezone": "Europe/London",
            "console": [
                {"level": "error", "message": f"TypeError {SCRIPT}", "stack": f"at {IMG}", "source": JS_URL},
                {"level": "log", "message": f"{SVG} {TEXTAREA}"},
            ],
            "network": [
                {"method": "GET", "url": JS_URL, "status": 500, "error": f"{IMG}"},
                {"method": "POST", "url": f"https://api.example.com/{IMG}", "status": 0, "error": SCRIPT},
            ],
        },
        "metadata": {
            f"{SCRIPT}"[:100]: f"{IMG}",
            "homepage": JS_URL,
            "plan": f"{SVG}",
            "note": TEXTAREA,
        },
    }


# Attachment file names (the stored name may be made safe: then the safe name is shown).
FILE_NAMES = (f'"><img src=x onerror=alert("{MARK}")>.png', f"<svg onload=alert('{MARK}')>.txt")


URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc"})
FOREIGN = frozenset({"iframe", "object", "embed", "base", "frame", "frameset", "applet"})


class _Scan(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.problems: list[str] = []
        self.text: list[str] = []
        self._raw: str | None = None  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs)}>"[:300]
        for name, value in attrs:
            v = "".join((value or "").split()).lower()
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name}: {where}")
            if name in URL_ATTRS and v.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"script URL in {name}: {where}")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith((f"{self.base}/static/", f"{self.base}/widget/")):
                self.problems.append(f"a script that is not ours: {where}")
        if tag in FOREIGN:
            self.problems.append(f"<{tag}> on a dashboard page: {where}")
        if tag in ("script", "style"):
            self._raw = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "script" and data.strip():
            self.problems.append(f"inline script: {data[:200]!r}")
        elif self._raw == "style" and MARK in data:
            self.problems.append(f"customer text inside <style>: {data[:200]!r}")
        else:
            self.text.append(data)


def scan(html: str, base: str = "") -> tuple[list[str], str]:
    """(what would run, the page's text as a person reads it)."""
    parser = _Scan(base)
    parser.feed(html)
    parser.close()
    return parser.problems, "".join(parser.text)
