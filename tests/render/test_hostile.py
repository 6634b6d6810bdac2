"""A report made of markup and injection attempts renders as inert text in every format."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from urllib.parse import unquote

import pytest

from bugline.connectors.document import FailedRequest
from bugline.render import adf, blockkit, common, html, markdown, text
from tests.connectors.factory import SCRIPT, hostile, hostile_update, make_document, make_media
from tests.render import inspect
from tests.render.formats import FORMATS, Format

DOC = hostile()
UPDATE = hostile_update()
OUR_URLS = {DOC.link, *(m.url for m in DOC.media), UPDATE.report.link, *(m.url for m in UPDATE.report.media)}
SAFE_OUR_URLS = {u for u in map(common.safe_url, OUR_URLS) if u}
LINKING_FORMATS = [f for f in FORMATS if f.name != "text"]  # plain text has no links of its own

# GitHub turns these into pings and cross-references in rendered text (not in code).
GITHUB_MENTION = re.compile(r"(?:^|[^\w`])@[A-Za-z0-9]")
GITHUB_REFERENCE = re.compile(r"#\d|\bGH-\d")
BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def outputs(render_report: Any, render_update: Any) -> list[Any]:
    return [render_report(DOC), render_update(UPDATE)]


# ---- every format ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_customer_markup_is_shown_as_text(fmt: Format) -> None:
    """Escaping, not deleting: the agent sees what the customer typed."""
    shown = fmt.shown(fmt.report(DOC))
    assert SCRIPT in shown
    assert "[click me](javascript:alert(1))" in shown
    assert "*bold* _italic_ ~strike~ `code`" in shown
    assert "<!here>" in shown


def test_hostile_document_has_safe_and_unsafe_urls() -> None:
    assert {DOC.link, DOC.media[1].url} == SAFE_OUR_URLS
    assert len(OUR_URLS - SAFE_OUR_URLS) == 4


@pytest.mark.parametrize("fmt", LINKING_FORMATS, ids=repr)
def test_only_our_links_are_live(fmt: Format) -> None:
    for out in (fmt.report(DOC), fmt.update(UPDATE)):
        # Exactly as given (cmark-gfm percent-encodes [ and ] in hrefs), nothing else.
        hrefs = {unquote(href) for href, _ in fmt.links(out)}
        assert hrefs == {unquote(DOC.link), unquote(DOC.media[1].url)}


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_unsafe_media_url_leaves_the_name_without_a_link(fmt: Format) -> None:
    doc = make_document(media=(make_media("trap.png", url="javascript:alert(1)"),))
    out = fmt.report(doc)
    assert "trap.png" in fmt.shown(out)
    assert all("javascript" not in href for href, _ in fmt.links(out))


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_no_control_or_bidi_characters_survive(fmt: Format) -> None:
    for out in (fmt.report(DOC), fmt.update(UPDATE)):
        serialised = out if isinstance(out, str) else json.dumps(out, ensure_ascii=False)
        assert not BAD_CHARS.search(serialised)
        serialised.encode("utf-8")  # no lone surrogates


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_hostile_text_keeps_other_scripts_and_emoji(fmt: Format) -> None:
    shown = fmt.shown(fmt.report(DOC))
    assert "emoji 🧨👩" in shown
    assert "NULbyte" in shown  # the NUL went, the text around it stayed


@pytest.mark.parametrize("fmt", FORMATS, ids=repr)
def test_ten_thousand_character_fields_are_cut(fmt: Format) -> None:
    out = fmt.report(DOC)
    size = len(out if isinstance(out, str) else json.dumps(out))
    # GitHub bodies take 65,536 characters, Jira text fields 32,767.
    assert size < (32_767 if fmt.name == "adf" else 60_000)
    assert "A" * 10_000 not in fmt.shown(out)
    assert "…" in fmt.shown(out)


# ---- title and labels --------------------------------------------------------------------


def test_title_is_one_clean_line_with_the_reference() -> None:
    title = common.title(DOC)
    assert len(title) <= 250
    assert "\n" not in title and not BAD_CHARS.search(title)
    assert title.startswith("[High] title <script>")
    assert title.endswith("… (#42)")


def test_labels_are_slugs() -> None:
    labels = common.labels(DOC)
    assert labels[:2] == ["bugline", "severity:high"]
    for label in labels:
        assert re.fullmatch(r"[a-z0-9:_.\-]{1,50}", label), label
    assert "category:billing" in labels
    assert "category:script" in labels


# ---- HTML --------------------------------------------------------------------------------

HTML_TAGS = {"h3", "p", "ul", "ol", "li", "strong", "code", "pre", "a", "br"}


@pytest.mark.parametrize("out", outputs(html.report, html.update), ids=["report", "update"])
def test_html_has_only_our_tags_and_attributes(out: str) -> None:
    page = inspect.read_html(out)
    assert {t.name for t in page.tags} <= HTML_TAGS
    assert page.comments == []
    for tag in page.tags:
        if tag.name == "a":
            assert set(tag.attrs) == {"href", "rel", "target"}
            assert tag.attrs["rel"] == "noopener noreferrer"
            assert re.match(r"^https?://", tag.attrs["href"])
        else:
            assert tag.attrs == {}, tag
    assert not any(t.name == "script" or any(k.startswith("on") for k in t.attrs) for t in page.tags)


# ---- Markdown ----------------------------------------------------------------------------

MARKDOWN_TAGS = {"h3", "p", "ul", "ol", "li", "strong", "code", "pre", "a", "br"}


@pytest.mark.parametrize("out", outputs(markdown.report, markdown.update), ids=["report", "update"])
def test_markdown_renders_no_customer_html(out: str) -> None:
    page = inspect.read_markdown(out)
    assert {t.name for t in page.tags} <= MARKDOWN_TAGS, {t.name for t in page.tags}
    assert page.comments == []
    for tag in page.tags:
        if tag.name == "a":
            assert unquote(tag.attrs["href"]) in {unquote(u) for u in SAFE_OUR_URLS}
        elif tag.name == "pre":
            assert tag.attrs == {"lang": "text"}
        else:
            assert tag.attrs == {}


@pytest.mark.parametrize("out", outputs(markdown.report, markdown.update), ids=["report", "update"])
def test_markdown_pings_nobody_and_references_nothing(out: str) -> None:
    prose = inspect.read_markdown(out).prose
    assert not GITHUB_MENTION.search(prose), GITHUB_MENTION.search(prose)
    assert not GITHUB_REFERENCE.search(prose)
    shown = inspect.shown(prose)
    assert "@channel @here @everyone @octocat" in shown  # still readable, just not live
    assert "fixes #1 GH-2 octo/repo#3" in shown


def test_markdown_headings_and_lists_come_only_from_us() -> None:
    page = inspect.read_markdown(markdown.report(DOC))
    ours = markdown.report(make_document())
    assert [t.name for t in page.tags].count("h3") == [
        t.name for t in inspect.read_markdown(ours).tags
    ].count("h3")


@pytest.mark.parametrize("ticks", [3, 4, 7])
def test_markdown_code_fence_outlasts_backticks_in_the_content(ticks: int) -> None:
    fence = "`" * ticks
    doc = make_document(
        console=(
            make_document()
            .console[0]
            .__class__("error", f"boom\n{fence}\n# not a heading\n<b>x</b>\n{fence}"),
        )
    )
    page = inspect.read_markdown(markdown.report(doc))
    names = [t.name for t in page.tags]
    assert names.count("pre") == 1
    assert "b" not in names and "h1" not in names
    assert f"{fence}\n# not a heading\n<b>x</b>" in page.text


def test_markdown_bare_urls_are_not_autolinked() -> None:
    doc = make_document(
        description="see https://evil.example/login and www.evil.example or mailto:x@evil.example"
    )
    page = inspect.read_markdown(markdown.report(doc))
    hrefs = [href for href, _ in page.links]
    assert not any("evil" in h for h in hrefs)
    assert "see https://evil.example/login and www.evil.example or mailto:x@evil.example" in inspect.shown(
        page.text
    )


# ---- Block Kit ---------------------------------------------------------------------------


@pytest.mark.parametrize("out", outputs(blockkit.message, blockkit.update), ids=["message", "update"])
def test_blockkit_is_json_within_slack_limits(out: dict[str, Any]) -> None:
    json.dumps(out, ensure_ascii=False).encode("utf-8")
    blocks = inspect.all_blocks(out)
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
            assert not re.search("[<>]|&(?!amp;|lt;|gt;)", block["text"]["text"])
        else:
            assert block["type"] == "section"
            assert 0 < len(block["text"]["text"]) <= 3000
            assert block["text"]["verbatim"] is True
    assert len(out["text"]) <= 3000


@pytest.mark.parametrize("out", outputs(blockkit.message, blockkit.update), ids=["message", "update"])
def test_blockkit_mentions_nobody_and_links_only_ours(out: dict[str, Any]) -> None:
    for mrkdwn in inspect.mrkdwn_texts(out):
        for control in inspect.slack_controls(mrkdwn):
            url = control.split("|", 1)[0].replace("&amp;", "&")
            assert url in SAFE_OUR_URLS, control
            assert not control.startswith(("!", "@", "#"))
        # Raw "@here" is only parsed when Slack may auto-parse (verbatim text objects are not);
        # a joiner after @ blocks it anyway: everywhere for broadcasts, outside code for names.
        assert not re.search(r"@(here|channel|everyone)", mrkdwn)
        prose = inspect.CODE_SPAN.sub(" ", inspect.CODE_BLOCK.sub(" ", mrkdwn))
        assert not re.search(r"(?<!\w)@octocat", prose)


@pytest.mark.parametrize("out", outputs(blockkit.message, blockkit.update), ids=["message", "update"])
def test_blockkit_customer_formatting_is_inert(out: dict[str, Any]) -> None:
    formatted = [run for mrkdwn in inspect.mrkdwn_texts(out) for run in inspect.slack_formatted(mrkdwn)]
    assert formatted  # our own bold labels are there
    for mrkdwn in inspect.mrkdwn_texts(out):
        outside_code = inspect.CODE_BLOCK.sub(" ", mrkdwn)
        assert not re.search(r"^(&gt;|>)", outside_code, re.M)  # no line quoted
    for run in formatted:
        assert run.strip("*_~`") not in ("bold", "italic", "strike", "code", "strong"), run


def test_blockkit_cut_section_closes_its_code_block() -> None:
    entry = make_document().console[0].__class__("error", "x" * 900 + "\n" + "y" * 900)
    doc = make_document(console=(entry,) * 5)
    for block in inspect.all_blocks(blockkit.message(doc)):
        body = block["text"]["text"]
        assert body.count("```") % 2 == 0, body[-50:]


def test_blockkit_long_section_text_ends_with_ellipsis() -> None:
    cut = blockkit.fit("a &amp; b " * 400, 3000)
    assert len(cut) <= 3000 and cut.endswith("…")
    assert not re.search(r"&[a-z]{0,4}…$", cut)


def test_blockkit_colour_follows_severity() -> None:
    colours = {
        level: blockkit.message(make_document(severity=level))["attachments"][0]["color"]
        for level in ("critical", "high", "medium", "low")
    }
    assert colours == {"critical": "#D0021B", "high": "#F5A623", "medium": "#F8E71C", "low": "#9B9B9B"}


# ---- ADF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("out", outputs(adf.report, adf.update), ids=["report", "update"])
def test_adf_is_structurally_valid(out: dict[str, Any]) -> None:
    assert inspect.adf_errors(out) == []


@pytest.mark.parametrize("out", outputs(adf.report, adf.update), ids=["report", "update"])
def test_adf_json_in_the_report_stays_text(out: dict[str, Any]) -> None:
    types: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            types.add(node["type"])
            for child in node.get("content", []):
                walk(child)

    walk(out)
    assert "inlineCard" not in types
    assert '"type":"inlineCard"' in inspect.adf_text(out)


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        (
            {"type": "doc", "version": 1, "content": [{"type": "inlineCard", "attrs": {"url": "x"}}]},
            "inlineCard",
        ),
        (
            {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text"}]}]},
            "text",
        ),
        (
            {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "marks": [{"type": "strong"}], "content": []}],
            },
            "marks on",
        ),
        (
            {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {
                                "type": "text",
                                "text": "x",
                                "marks": [{"type": "link", "attrs": {"href": "javascript:1"}}],
                            }
                        ],
                    }
                ],
            },
            "link to",
        ),
        ({"type": "doc", "version": 1, "content": [{"type": "bulletList", "content": []}]}, "empty"),
        ({"type": "paragraph", "content": []}, "root"),
    ],
)
def test_adf_checker_catches_broken_documents(broken: dict[str, Any], error: str) -> None:
    errors = inspect.adf_errors(broken)
    assert errors and any(error in e for e in errors), errors


# ---- plain text --------------------------------------------------------------------------


def test_text_is_the_customer_text_verbatim_but_clean() -> None:
    out = text.report(DOC)
    assert SCRIPT in out
    assert "\x00" not in out and "\u202e" not in out
    assert "gnp.exe" in out  # the override went; the letters stay in the order typed


def test_blockkit_stays_within_fifty_blocks_and_says_what_was_left_out() -> None:
    stars = "*" * 1500  # three times as long once escaped
    doc = make_document(
        facts=tuple(dataclasses.replace(f, value=stars) for f in make_document().facts),
        media=tuple(
            make_media(f"f{i}.png", url="https://m.example/" + "a" * 2900 + str(i)) for i in range(20)
        ),
        severity_reasons=tuple("*" * 300 for _ in range(15)),
        metadata={f"k{i}": "*" * 300 for i in range(20)},
        failed_requests=tuple(FailedRequest("GET", "https://x.example/" + "b" * 480, 500) for _ in range(10)),
        description="\n\n".join(["_" * 900] * 6),
    )
    message = blockkit.message(doc)
    blocks = inspect.all_blocks(message)
    assert len(blocks) == 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert inspect.slack_shown(blocks[-1]["text"]["text"]) == "… more in Bugline"


def test_blockkit_packs_a_section_into_several_blocks_rather_than_cutting_it() -> None:
    doc = make_document(
        media=tuple(make_media(f"shot-{i}.png", url="https://m.example/" + "a" * 900) for i in range(12))
    )
    texts = [b["text"]["text"] for b in inspect.all_blocks(blockkit.message(doc))]
    names = [f"shot-{i}.png" for i in range(12)]
    assert all(any(f"|{name}>" in t for t in texts) for name in names)  # every link whole
