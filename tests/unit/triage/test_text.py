"""Cutting free text into the pieces the completeness rules read."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bugline.triage.text import (
    MAX_CHARS,
    command_line,
    inline_commands,
    inline_items,
    normalise,
    segment,
    sentences,
    until_heading,
    wiki_to_markdown,
)
from tests.support.bounded import terminates


def kinds(text: str) -> list[str]:
    return [s.kind for s in segment(normalise(text))]


def test_numbered_steps_become_items_with_their_numbers() -> None:
    segs = segment(normalise("Steps:\n1. Open the checkout\n2) Click Pay\n   with a saved card"))
    items = [s for s in segs if s.kind == "item"]
    assert [(s.number, s.text) for s in items] == [
        (1, "Open the checkout"),
        (2, "Click Pay with a saved card"),
    ]


def test_a_list_written_on_one_line_is_split_in_order() -> None:
    head, items = inline_items("Steps to Reproduce: 1 go to the demo page 2 put a URL in 3 Hit enter.")
    assert head == "Steps to Reproduce:"
    assert items == ["go to the demo page", "put a URL in", "Hit enter."]


def test_numbers_out_of_order_are_not_a_list() -> None:
    assert inline_items("I have 2 tabs and 3 windows open") == ("I have 2 tabs and 3 windows open", [])


def test_fenced_code_commands_traces_and_logs_are_told_apart() -> None:
    text = (
        "It broke.\n```\nconst x = f();\n```\n$ docker run -it alpine sh\n"
        'Exception in thread "main" java.lang.NullPointerException\n    at com.acme.Pay.charge(Pay.java:42)\n'
        "[Mon Jan 01 10:00:00 2024] [error] client denied by server configuration\n"
    )
    assert kinds(text) == ["prose", "code", "command", "trace", "log"]


def test_a_fence_holding_a_trace_or_a_log_holds_a_trace_or_a_log() -> None:
    text = (
        "It broke.\n```\nE/AndroidRuntime: FATAL EXCEPTION: main\n"
        "java.lang.IllegalStateException: closed\n    at com.acme.Pay.charge(Pay.java:42)\n```\n"
        "```\n2024-03-02 10:11:12,345 ERROR: pool exhausted\n```\n```\nconst x = f();\n```"
    )
    assert kinds(text) == ["prose", "code", "trace", "log", "code"]


def test_a_dotted_failure_class_opens_a_trace() -> None:
    assert kinds("org.hibernate.AssertionFailure: null id in entry\n\tat org.hibernate.Session.flush(S.java:3)") == [
        "trace"
    ]


def test_jira_wiki_markup_becomes_markdown() -> None:
    text = (
        "h3. Steps to reproduce\n# Log in\n## Open the cart\n# Click Pay\n\n"
        "*Expected:* a receipt\n{code:java}\npay();\n{code}\nThe {{total}} is 0."
    )
    assert wiki_to_markdown(text) == (
        "### Steps to reproduce\n1. Log in\n2. Open the cart\n3. Click Pay\n\n"
        "**Expected:** a receipt\n\n```\n\npay();\n\n```\n\nThe `total` is 0."
    )


def test_markdown_and_pasted_config_are_not_taken_for_jira_markup() -> None:
    text = (
        "# One heading\n\nText with * a star and **bold**.\n"
        "<Location />\n\t# Insert filter\n\t# the above will not work\n</Location>\n* a bullet\n"
    )
    assert wiki_to_markdown(text) == text


def test_an_answer_ends_at_the_next_markdown_heading() -> None:
    assert until_heading("\n##### Tested on [device]\n") == "\n"
    assert until_heading("1. Open it\n2. Save\n### Logs\nboom") == "1. Open it\n2. Save\n"
    root_prompt = "# ./configure --prefix=/opt\nmake"
    assert until_heading(root_prompt) == root_prompt


def test_a_dollar_sign_starts_a_command_only_when_a_space_follows() -> None:
    assert kinds("$ make invoices") == ["command"]
    assert kinds("$total = $cart->sum();") == ["code"]  # a PHP or Perl variable, not a prompt


def test_command_lines_quoted_in_a_sentence_are_found() -> None:
    text = "I start it with `shopctl serve --port 8080` and open `/admin`, then `make docs` fails."
    assert inline_commands(text) == ["shopctl serve --port 8080"]
    # a version probe says where it happened, not what the customer did
    assert inline_commands("Output of `uname -a` and `shopctl --version` below.") == []
    assert inline_commands("No code spans here -v at all") == []


def test_a_command_line_runs_a_program_with_an_option() -> None:
    assert command_line("sudo shopctl import -f orders.csv")
    assert not command_line("The import finished without errors")
    assert not command_line("shopctl -V")


def test_one_line_fenced_code_still_counts_as_code() -> None:
    assert "code" in kinds("Run ```docker exec -it web sh``` and nothing is logged")


def test_sentences_keep_abbreviations_and_versions_whole() -> None:
    assert sentences("It fails on v1.2.3, e.g. on login. Then it hangs! Why?") == [
        "It fails on v1.2.3, e.g. on login.",
        "Then it hangs!",
        "Why?",
    ]


def test_normalise_caps_and_removes_invisible_characters() -> None:
    text = normalise("don\u2019t\u200b\x00 work " + "x" * (MAX_CHARS * 2))
    assert text.startswith("don't work")
    assert len(text) <= MAX_CHARS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_segments_without_error(text: str) -> None:
    for s in segment(normalise(text)):
        assert s.text.strip()


def test_hostile_megabyte_is_cut_in_bounded_time() -> None:
    hostile = ("1 a " * 50_000) + ("```" * 10_000) + ("    at x(" * 20_000) + ("a" * 300_000 + ";")
    terminates(lambda: segment(normalise(hostile)), "a hostile megabyte")
