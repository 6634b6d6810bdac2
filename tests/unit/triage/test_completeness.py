"""Which checklist facts a report holds, from the widget's fields or from free text."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bugline.triage.completeness import CompletenessRules, assess
from bugline.triage.errors import RulesError
from bugline.triage.report import ConsoleLine, TriageInput
from bugline.triage.result import FACTS, Completeness
from tests.support.bounded import terminates

RULES = CompletenessRules.default()


def defaults() -> dict[str, Any]:
    text = resources.files("bugline.triage").joinpath("defaults", "completeness.toml").read_text("utf-8")
    return tomllib.loads(text)


def check(**fields: Any) -> Completeness:
    return assess(TriageInput(**fields), RULES)


def present(result: Completeness, fact: str) -> bool:
    return fact not in result.missing


COMPLETE_WIDGET = dict(
    trying_to_do="Pay for my order",
    expected="The order is confirmed and I get a receipt",
    actual="The spinner turns forever and no receipt arrives",
    error_text="Payment failed: card_declined",
    steps="1. Add a pen to the cart\n2. Open the checkout\n3. Click Pay",
    frequency="always",
    people_affected="everyone",
    browser="Chrome 131",
    os="Windows 11",
    page_url="https://shop.example/checkout",
    attachments=("screenshot",),
)


def test_a_complete_widget_report_scores_100_and_asks_nothing() -> None:
    result = check(**COMPLETE_WIDGET)
    assert result.score == 100
    assert result.missing == ()
    assert result.questions == {}


def test_an_empty_report_misses_everything_and_asks_about_each_gap() -> None:
    result = check()
    assert result.score == 0
    assert set(result.missing) == set(FACTS)
    assert set(result.questions) == set(FACTS)


@pytest.mark.parametrize("vague", ["it doesn't work", "Broken!", "not working", "error"])
def test_a_vague_actual_behaviour_does_not_count(vague: str) -> None:
    result = check(**{**COMPLETE_WIDGET, "actual": vague, "error_text": ""})
    assert not present(result, "actual")
    assert [f.note for f in result.findings if f.fact == "actual"] == ["too vague"]


def test_one_bare_step_is_not_steps_to_reproduce() -> None:
    result = check(**{**COMPLETE_WIDGET, "steps": "1. click"})
    assert not present(result, "steps_to_reproduce")
    assert (
        check(**{**COMPLETE_WIDGET, "steps": "Click Pay on the checkout page with a saved card"}).missing
        == ()
    )


def test_expected_identical_to_actual_is_not_an_expectation() -> None:
    same = "The page reloads"
    result = check(**{**COMPLETE_WIDGET, "expected": same, "actual": same})
    assert not present(result, "expected")
    assert [f.note for f in result.findings if f.fact == "expected"] == ["expected is the same as actual"]


def test_steps_expected_and_actual_weigh_more_than_the_rest() -> None:
    without_steps = check(**{**COMPLETE_WIDGET, "steps": ""}).score
    without_frequency = check(**{**COMPLETE_WIDGET, "frequency": None}).score
    assert without_steps < without_frequency < 100


def test_labelled_free_text_from_a_tracker_template() -> None:
    result = check(
        title="Crash when saving",
        description=(
            "Reproducible: Always Steps to Reproduce: 1 Open a new document 2 Type some text 3 Press Ctrl+S "
            "Actual Results: The app closes without saving. Expected Results: The file is saved."
        ),
    )
    for fact in ("steps_to_reproduce", "expected", "actual", "frequency"):
        assert present(result, fact), fact


def test_a_label_with_an_empty_answer_is_still_missing() -> None:
    result = check(description="Steps to reproduce:\n\nExpected results: n/a\n\nIt crashes on start.")
    assert not present(result, "steps_to_reproduce")
    assert not present(result, "expected")
    assert present(result, "actual")


def test_expectation_and_instructions_found_in_prose() -> None:
    result = check(
        title="Invoice total ignores the discount",
        description="Open an invoice with a 10% coupon. Click Recalculate. "
        "The total should drop by 10% but it stays the same.",
    )
    assert present(result, "expected")
    assert present(result, "steps_to_reproduce")


def test_a_plain_complaint_lacks_steps_and_expectation() -> None:
    result = check(
        title="Dashboard broken", description="The dashboard is broken since this morning. Very annoying."
    )
    assert not present(result, "steps_to_reproduce")
    assert not present(result, "expected")
    assert "expected" in result.questions


def test_as_expected_is_not_an_expectation() -> None:
    result = check(description="The export works as expected. The import fails with a blank page.")
    assert not present(result, "expected")


def test_commands_and_when_i_narratives_count_as_steps() -> None:
    shell = check(description="The volume disappears.\n\n$ docker volume create data\n$ docker restart web")
    assert present(shell, "steps_to_reproduce")
    # a sentence that opens with its trigger is a one-step reproduction
    trigger = "When I upload a PDF from the files page, I get a blank preview."
    assert present(check(description=trigger), "steps_to_reproduce")
    # a "when I ..." inside a sentence, or a state rather than an action, is a weak sign...
    aside = "The preview is blank since Monday, it happens when I upload a PDF."
    assert not present(check(description=aside), "steps_to_reproduce")
    state = "When I was on the files page, the preview was blank."
    assert not present(check(description=state), "steps_to_reproduce")
    # ...that adds up to steps with a second one
    with_instruction = aside + " Open the files page and upload any PDF."
    assert present(check(description=with_instruction), "steps_to_reproduce")


def test_a_command_line_quoted_in_prose_or_pasted_without_a_prompt_counts_as_steps() -> None:
    inline = check(
        description="I start the shop with `shopctl serve --port 8080` and the admin page is blank."
    )
    assert present(inline, "steps_to_reproduce")
    pasted = check(description="The import hangs.\n\n```\nshopctl import --file orders.csv\n```")
    assert present(pasted, "steps_to_reproduce")
    # a version probe or a bare file name in backticks is not a step
    probe = check(description="The admin page is blank. Output of `uname -a` is attached, see `admin.log`.")
    assert not present(probe, "steps_to_reproduce")


@pytest.mark.parametrize(
    "text",
    [
        "The invoice shows the old price instead of the sale price.",
        "I suggest keeping the cart after logout.",
    ],
)
def test_phrasings_that_state_the_expected_behaviour(text: str) -> None:
    assert present(check(description=text), "expected")


@pytest.mark.parametrize(
    "text",
    [
        "The invoice shows the old price instead.",  # says what happened, not what should
        "Not sure if I should file this here, but the export button is grey.",  # about the report
        "After installing the app, should you log out, the cart is emptied.",  # a condition
        "Our logs suggest the worker restarts at night.",
        "If anyone could look at this it should be great, the export button is grey.",
    ],
)
def test_phrasings_that_only_look_like_an_expectation(text: str) -> None:
    assert not present(check(description=text), "expected")


@pytest.mark.parametrize(
    "text",
    [
        # contractions whose apostrophe an export turned into a space
        "The coupon field shouldn t accept expired codes.",
        "I d like the report to keep my column order.",
        # normative "must" / "shall", the language of specifications
        "Trailing spaces in the header must be ignored.",
        "The exporter must never overwrite an existing file.",
        "The spec says an empty list shall be rendered as a dash.",
        # hedged wishes
        "It might be nice if the search box kept its last query.",
        "It would also be nice to sort the table by date.",
        # requests and their synonyms
        "The placeholder text shows in lieu of the saved name.",
        "Maybe you could keep the filter when I go back to the list.",
        "I'd be fine with it if the dialog at least remembered the folder.",
        "Could the export date be shown in the file name?",
        "Please restore the old shortcut for printing.",
        "It would help to name the field that failed the check.",
        "It makes more sense to save the draft before closing.",
        "The switch behaves opposite the description in the help page.",
        "Add an option to hide archived projects from the list.",
    ],
)
def test_more_phrasings_that_state_the_expected_behaviour(text: str) -> None:
    assert present(check(description=text), "expected")


@pytest.mark.parametrize(
    "text",
    [
        # "as it should" confirms what happened, like "as expected"
        "Some rows are sorted as they should, the rest come in random order.",
        # "instead of that" points back at what the reporter did
        "The wizard crashed, so instead of that I edited the config file by hand.",
        # a cue inside an error message or test output is the machine talking
        "The log shows: ERROR 17: value expected near line 4, the import stops.",
        "Run ended with test-fail | cart.js | total should be 0 after clearing, got 12",
        # "must be" as a guess about the cause
        "The cache must be corrupted, the page shows yesterday's prices.",
        # remarks about the report, not the behaviour
        "The login page is blank, any help would be much appreciated.",
        "Some ideas on where to look are welcome, the export is empty.",
        "The upload stalls at 99%, this needs to be investigated.",
        "Created attachment 812 proposed patch",
        "If you know of a related report, please make it block this one.",
        "Please add the right priority, the cart total is off by a cent.",
        # a program's own nag pasted with its output
        "server version: 1.2.0, last stable version: 1.2.1, please update shopd",
        # idioms and assumptions
        "Please correct me if I am wrong, but the upload stops at 99%.",
        "The disk has space and the permissions should be fine, but the upload still fails.",
        # a guess, not a request
        "Maybe it could be a timing issue, the export sometimes stops halfway.",
        # where the fix should go, not how the product should behave
        "The export stops halfway. If there is another 2.4 release, this should probably be back ported.",
        "The totals are off by a cent; the fix should be backported to 3.1.",
        # asking, not stating
        "Is it expected that the export drops hidden columns? The file has 4 of 6 columns.",
    ],
)
def test_more_phrasings_that_only_look_like_an_expectation(text: str) -> None:
    assert not present(check(description=text), "expected")


def test_an_expected_box_that_repeats_the_actual_box_states_no_expectation() -> None:
    swapped = check(
        description="Steps to Reproduce: 1 Open the cart 2 Press Pay\n\n"
        "Actual Results: the app closes\n\nExpected Results:\nThe app closed."
    )
    assert not present(swapped, "expected")
    proper = check(
        description="Steps to Reproduce: 1 Open the cart 2 Press Pay\n\n"
        "Actual Results: the app closes\n\nExpected Results:\nThe payment page opens."
    )
    assert present(proper, "expected")


def test_an_empty_expected_box_followed_by_a_template_label_with_a_note_is_missing() -> None:
    result = check(
        description="Current behavior:\n\nExpected behavior:\n\n"
        "Platform (if different from the browser): Windows 10 Pro\n\nThe preview is blank."
    )
    assert not present(result, "expected")


def test_a_sentence_that_repeats_the_title_is_not_an_expectation_either() -> None:
    title = "Export should keep the column order"
    assert not present(check(title=title, description=title + ". It shuffles the columns."), "expected")
    assert present(
        check(title=title, description=title + ". Columns should stay where I put them."), "expected"
    )


@pytest.mark.parametrize(
    "template",
    [
        "### What did you expect to happen?\n\n### What happened instead?\nThe cart empties.",
        "## Expected Behavior\n<!-- Tell us what should happen -->\n\n## Current Behavior\nThe cart empties.",
        "**Expected behavior**\nA clear and concise description of what you expected to happen.\n\n"
        "**Screenshots**\nnone",
        "*Expected result:*\n\n*Actual result:* the cart empties",
        "**Describe the results you expected:**\n\n**Anything else we should know (logs, versions)?**\nno",
    ],
)
def test_an_issue_template_left_unanswered_states_no_expectation(template: str) -> None:
    assert not present(check(description="The cart empties on reload.\n\n" + template), "expected")


@pytest.mark.parametrize(
    "template",
    [
        "### What did you expect to happen?\nThe cart keeps its items.\n\n### What happened instead?\nIt empties.",
        "## Expected Behavior\n<!-- Tell us what should happen -->\nThe cart keeps its items.",
        "Erwartetes Verhalten:\nDer Warenkorb behält seine Artikel.",
        "Comportement attendu :\nLe panier garde ses articles.",
        "Resultado esperado:\nEl carrito conserva sus artículos.",
    ],
)
def test_an_answered_issue_template_states_the_expectation(template: str) -> None:
    assert present(check(description="The cart empties on reload.\n\n" + template), "expected")


def test_a_template_answer_ends_at_the_next_heading_even_one_no_label_names() -> None:
    # An app's issue template: the reporter filled in only what happened.
    result = check(
        title="Stats screen shows zero views",
        description=(
            "### Expected behavior\n\n### Actual behavior\nThe stats screen says 0 views for today.\n\n"
            "### Steps to reproduce the behavior\n\n##### Tested on [device], Android [version], App [version]"
        ),
    )
    assert not present(result, "steps_to_reproduce")
    assert not present(result, "expected")
    assert present(result, "actual")


GITLAB_TEMPLATE = (
    "### Summary\n\nThe editor drops unsaved edits when switching branches.\n\n"
    "### Steps to reproduce\n\n{steps}\n\n"
    "### What is the current *bug* behavior?\n\n{actual}\n\n"
    "### What is the expected *correct* behavior?\n\n{expected}\n\n"
    "### Relevant logs and/or screenshots\n\n(Paste any relevant logs - please use code blocks (```) to format\n"
    "console output, logs, and code as it's tough to read otherwise.)\n\n"
    "### Possible fixes\n\n(If you can, link to the line of code that might be responsible for the problem)"
)


def test_a_template_s_own_guidance_in_parentheses_is_not_an_answer() -> None:
    untouched = check(
        title="Editor loses changes",
        description=GITLAB_TEMPLATE.format(
            steps="(How one can reproduce the issue - this is very important)",
            actual="(What actually happens)",
            expected="(What you should see instead)",
        ),
    )
    assert not present(untouched, "steps_to_reproduce")
    assert not present(untouched, "expected")
    answered = check(
        title="Editor loses changes",
        description=GITLAB_TEMPLATE.format(
            steps="1. Open the editor\n2. Edit the file\n3. Switch to another branch",
            actual="The edits are gone without a warning.",
            expected="A dialog asks before discarding the edits.",
        ),
    )
    notes = {f.fact: f.note for f in answered.findings if f.present}
    assert notes["steps_to_reproduce"] == notes["expected"] == notes["actual"] == "labelled"


def test_a_template_s_html_comments_and_empty_form_answers_are_not_answers() -> None:
    left_in_place = check(
        title="Drafts vanish",
        description=(
            "### Steps to reproduce\n<!-- Describe how one can reproduce the issue, step by step -->\n\n"
            "### Expected behavior\n\n_No response_\n\n### Actual behavior\nThe draft list is empty."
        ),
    )
    assert not present(left_in_place, "steps_to_reproduce")
    assert not present(left_in_place, "expected")
    answered = check(
        title="Drafts vanish",
        description=(
            "### Steps to reproduce\n<!-- Describe how -->\n1. Write a draft offline\n2. Go back online\n\n"
            "### Expected behavior\n<!-- What should happen? -->\nThe draft is kept.\n\n"
            "### Actual behavior\nThe draft list is empty."
        ),
    )
    assert present(answered, "steps_to_reproduce")
    assert present(answered, "expected")


@pytest.mark.parametrize(
    "text",
    [
        "Swipe left on a message in the inbox. Rotate the phone. The message comes back after a second.",
        "I ran rsync -a --delete --exclude=cache/ src/ backup/ and the cache folder was removed too.",
    ],
)
def test_steps_told_the_way_phone_and_shell_users_tell_them(text: str) -> None:
    assert present(check(title="It loses data", description=text), "steps_to_reproduce")


def test_an_android_logcat_paste_is_the_error_text() -> None:
    for paste in (
        "03-14 10:22:31.418 12873 12873 E AndroidRuntime: FATAL EXCEPTION: main",
        "E/AndroidRuntime( 1234): FATAL EXCEPTION: main",
    ):
        result = check(title="The editor closes", description="The editor closes when the upload ends.\n\n" + paste)
        assert present(result, "error_text"), paste


@pytest.mark.parametrize(
    "text",
    [
        # several orders in one sentence, as orders or told in the first person
        "Share a link from the browser to the app, choose Add as new post. The post is empty.",
        "I write a post, add three photos and tap Publish, and the photos are missing.",
        # the orders a colon introduces, and "fill in" as an order, not "X in ..."
        "I tried it myself on my laptop in Chrome: fill in name and email, press Sign up, and it reloads.",
        # the reporter's own code, then what it did
        "```\nOrder order = session.get(Order.class, 1L);\nsession.merge(order);\n```\n"
        "java.lang.IllegalStateException: detached entity\n\tat org.shop.Orders.save(Orders.java:12)",
        "```\nselect o from Order o where o.total > 10\n```\nThe query returns cancelled orders too.",
        # a Jira heading over the pasted code
        "h3. Mapping\n{code}\n@Entity class Order { @Version long version; }\n{code}\nBoot fails.",
    ],
)
def test_steps_told_in_one_sentence_or_as_code_that_ran(text: str) -> None:
    assert present(check(title="Orders break", description=text), "steps_to_reproduce")


def test_one_order_and_a_symptom_in_one_sentence_are_not_steps() -> None:
    result = check(title="Export", description="We use the export every day and it fails since Monday.")
    assert not present(result, "steps_to_reproduce")


def test_a_template_s_bracketed_step_placeholders_are_not_steps() -> None:
    result = check(
        title="Drafts vanish",
        description="Steps to reproduce:\n1. [First Step]\n2. [Second Step]\n3. [and so on...]\n\nDrafts vanish.",
    )
    assert not present(result, "steps_to_reproduce")


@pytest.mark.parametrize(
    "text, has_expectation",
    [
        ("The editor loses my draft. Please fix!!", False),
        ("According to the JPA spec, merge() must copy the version too. It is left at 0.", True),
        ("The list would be much easier to scan with dates. Now it only shows titles.", True),
    ],
)
def test_a_plea_is_no_expectation_but_a_spec_or_a_better_way_is(text: str, has_expectation: bool) -> None:
    assert present(check(title="Drafts", description=text), "expected") is has_expectation


@pytest.mark.parametrize(
    "description, fact, held",
    [
        # braces in prose or in a fenced paste are not Jira's {code}
        ("The API should return {code: 404} for a missing order. It returns {code: 500}.", "expected", True),
        # a "# comment" in a fenced paste is not the template's next heading
        (
            "### Steps to reproduce\n```\n# Clone\ngit clone https://example.org/shop.git\ncd shop && make test\n```\n"
            "### Actual behavior\nThe build fails.",
            "steps_to_reproduce",
            True,
        ),
        # the reporter's own words in parentheses are answers, the template's guidance is not
        ("### Actual behavior\n(the total shows 0 instead of 12)\n", "actual", True),
        ("### Steps to reproduce\n(open the app, tap Settings, tap Privacy)\n\n### Actual\nIt closes.",
         "steps_to_reproduce", True),
        ("**Expected behavior**\n(the total should include tax)\n\n**Actual behavior**\nIt does not.", "expected", True),
        # verbs listed as nouns, a failure, the set-up: not orders in a row
        ("Open, save and close buttons do not work.", "steps_to_reproduce", False),
        ("Update, delete and insert queries fail on Postgres.", "steps_to_reproduce", False),
        ("We use Hibernate and run our tests with Maven.", "steps_to_reproduce", False),
        ("Sign in and sign out both fail.", "steps_to_reproduce", False),
        # idioms, not a command run
        ("I ran into a problem with the --force flag, the push is refused.", "steps_to_reproduce", False),
        ("We run out of memory with -Xmx512m when the import starts.", "steps_to_reproduce", False),
    ],
)
def test_what_the_tracker_readings_leave_alone(description: str, fact: str, held: bool) -> None:
    assert present(check(title="It breaks", description=description), fact) is held


@pytest.mark.parametrize(
    "fact, text, held",
    [
        # how often, the way customers say it
        ("frequency", "It's been like this since Monday, the invoices page is empty.", True),
        ("frequency", "Third time this week the order list is empty.", True),
        ("frequency", "I keep getting logged out of the booking page.", True),
        ("frequency", "Seit dem Update ist die Rechnungsliste leer.", True),
        ("frequency", "L'export plante une fois sur deux.", True),
        # what happened, without a failure word
        ("actual", "I press Book and the page just sits there.", True),
        ("actual", "After I pay it sends me back to the start page.", True),
        # a message quoted without quote marks
        ("error_text", "A red box pops up saying Payment method declined.", True),
        ("error_text", "Then it said: Your session has expired. I logged in again.", True),
        # who else, in the customer's own nouns; a question says nothing
        ("affected", "Our patients cannot book appointments anymore.", True),
        ("affected", "Bookings fail. Is it just me or everyone?", False),
        # what they were doing
        ("trying_to_do", "I'm uploading the photos for the newsletter and the page freezes.", True),
        ("trying_to_do", "I'm writing because the newsletter page freezes.", False),
    ],
)
def test_facts_in_customers_words(fact: str, text: str, held: bool) -> None:
    assert present(check(title="Problem", description=text), fact) is held


def test_a_bold_question_ends_the_answer_before_it() -> None:
    result = check(
        title="Export is empty",
        description="**Steps to reproduce:**\n\n**Anything else we should know?**\nOpen the reports page and export.",
    )
    steps = next(f for f in result.findings if f.fact == "steps_to_reproduce")
    assert steps.note != "labelled"  # the answer under the next question may be steps, not this one


JIRA_REPORT = (
    "h3. Steps to reproduce\n# Log in as an admin\n# Open the patient dashboard\n"
    "# Start a new visit and add an empty group\n## Click Save\n\n"
    "h3. Expected\nThe visit is saved without the empty group.\n\n"
    "h3. Actual\nA validation message is shown and nothing is saved."
)


def test_a_report_in_jira_wiki_markup_is_read_like_markdown() -> None:
    result = check(title="Saving a visit fails", description=JIRA_REPORT)
    read = {f.fact: (f.present, f.note) for f in result.findings}
    steps, expected, actual = (read[fact] for fact in ("steps_to_reproduce", "expected", "actual"))
    assert steps == expected == actual == (True, "labelled")


def test_jira_bold_labels_are_labels_empty_or_answered() -> None:
    result = check(
        title="Wrong rows returned",
        description="*Steps to reproduce:*\n\n*Expected result:*\n\n*Actual result:* deleted rows are returned too",
    )
    assert not present(result, "expected")
    assert not present(result, "steps_to_reproduce")
    assert present(result, "actual")
    answered = check(
        title="Wrong rows returned",
        description="*Expected result:* only live rows\n*Actual result:* deleted rows are returned too",
    )
    expected = next(f for f in answered.findings if f.fact == "expected")
    assert (expected.present, expected.note) == (True, "labelled")


def test_a_jira_numbered_list_counts_as_steps() -> None:
    result = check(
        title="Lazy collection not initialised after merge",
        description="# Load an order in one session\n# Close it and merge the order in another\n"
        "# Read the order's lines\n\nThe lines are empty.",
    )
    assert present(result, "steps_to_reproduce")


def test_a_stack_trace_or_log_pasted_in_a_fence_is_the_error_text() -> None:
    for paste in (
        "```\njava.lang.NullPointerException: view was null\n    at com.shop.Cart.render(Cart.kt:31)\n```",
        "```\n2024-03-02 10:11:12.345 E/Runtime: FATAL EXCEPTION: main\n```",
        "{noformat}\njava.lang.IllegalStateException: closed\n\tat com.shop.Db.read(Db.java:9)\n{noformat}",
    ):
        result = check(title="The cart closes", description="Opening the cart closes the app.\n\n" + paste)
        assert present(result, "error_text"), paste


def test_goto_written_as_one_word_is_an_instruction_to_go_somewhere() -> None:
    result = check(
        description="goto the orders page, then the invoices page. The menu moves by a few pixels."
    )
    assert present(result, "steps_to_reproduce")


def test_an_expectation_in_the_title_alone_is_not_the_expected_behaviour() -> None:
    body = "The console jumps to the end of the document when long lines are written."
    titled = check(title="Console should scroll to the last line", description=body)
    assert not present(titled, "expected")
    assert present(
        check(title="Console jumps", description=body + " It should scroll to the last line."), "expected"
    )
    data = defaults()
    data["text"]["title_states_expected"] = True
    rules = CompletenessRules.from_mapping(data)
    report = TriageInput(title="Console should scroll to the last line", description=body)
    assert "expected" not in assess(report, rules).missing
    data["text"]["title_states_expected"] = "yes"
    with pytest.raises(RulesError, match="title_states_expected"):
        CompletenessRules.from_mapping(data)


def test_captured_context_counts_for_environment_error_and_evidence() -> None:
    result = check(
        description="Pay does nothing",
        browser="Firefox 128",
        console=(ConsoleLine("error", "TypeError: x is undefined"),),
    )
    assert present(result, "environment")
    assert present(result, "error_text")
    assert present(result, "evidence")


def test_environment_named_in_text() -> None:
    assert present(check(description="On Safari 17 on macOS the button is grey."), "environment")
    assert not present(check(description="The button is grey."), "environment")


def test_findings_follow_the_checklist_order() -> None:
    assert tuple(f.fact for f in check().findings) == FACTS


def test_the_shipped_defaults_load_from_their_mapping() -> None:
    rules = CompletenessRules.from_mapping(defaults())
    assert rules.weights == RULES.weights
    assert 0 < rules.threshold <= 100


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"score": {"weights": {"steps_to_reproduce": -1}}}, "score.weights.steps_to_reproduce"),
        ({"score": {"weights": {"vibes": 3}}}, "score.weights.vibes"),
        ({"patterns": {"expected": ["(unclosed"]}}, "patterns.expected[0]"),
        ({"labels": {"colour": ["x"]}}, "labels.colour"),
        ({"quality": {"min_steps": "two"}}, "quality.min_steps"),
        ({"steps": {"points": {"telepathy": 2}}}, "steps.points.telepathy"),
    ],
)
def test_a_bad_override_names_its_key(change: dict[str, Any], key: str) -> None:
    data = {k: dict(v) for k, v in defaults().items()}
    for section, values in change.items():
        data[section] = {**data[section], **values}
    with pytest.raises(RulesError, match=key.replace("[", r"\[").replace("]", r"\]")):
        CompletenessRules.from_mapping(data)


HOSTILE = [
    "\x00\xff\xfe" * 300_000,
    "<script>alert(1)</script>" * 40_000,
    "# " * 500_000,
    "1. " * 300_000,
    "should " * 150_000,
    "```" + "a" * 1_000_000,
    "    at a.b(C.java:1)\n" * 50_000,
    "🐛💥" * 250_000 + "كسر " * 1000 + "壊れた" * 1000,
    "Steps to reproduce:" * 50_000,
    ("a" * 299 + ";\n") * 3000,
    "# a\n" * 5000,  # one Jira numbered list of 5,000 steps
    "{code}\n" * 20_000 + "```\n" * 20_000,
    "### A\n(How " + "x" * 599 + ")\n" * 2000,
    "<!-- " * 100_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_gets_an_answer_in_bounded_time(text: str) -> None:
    result = terminates(
        lambda: check(title=text[:5000], description=text, steps=text, expected=text, actual=text)
    )
    assert 0 <= result.score <= 100


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=2000),
    st.text(max_size=300),
    st.sampled_from(["", "1. open\n2. click", "```\nx\n```", "Expected: y\nActual: z"]),
)
def test_any_text_gives_a_score_and_never_raises(title: str, description: str, extra: str) -> None:
    result = check(title=title, description=description + extra, steps=extra)
    assert 0 <= result.score <= 100
    assert set(result.questions) == set(result.missing)


def test_two_orders_in_prose_are_steps_one_is_not() -> None:
    one = "The sidebar flickers. Collapse the sidebar with the arrow."
    assert not present(check(description=one), "steps_to_reproduce")
    two = "Collapse the sidebar with the arrow. Resize the window. The sidebar flickers."
    assert present(check(description=two), "steps_to_reproduce")


def test_a_polite_request_to_the_developers_is_not_an_instruction() -> None:
    asks = "The export has no CSV option. Please add a CSV option. Sort the columns by date."
    assert not present(check(description=asks), "steps_to_reproduce")


def test_a_command_pasted_as_its_own_paragraph_counts_as_steps() -> None:
    pasted = check(
        description="The sync never finishes.\n\nsyncctl push --all --target backup01\n\nNo output."
    )
    assert present(pasted, "steps_to_reproduce")
    # a sentence that mentions an option, or prose quoting shell code, is not a command line
    prose = check(description="I always start it with -v set.\n\nin 3.1 you wrote: [ -z $x ] && x=1")
    assert not present(prose, "steps_to_reproduce")


def test_a_trigger_sentence_with_any_verb_is_a_one_step_reproduction() -> None:
    # "query" is not one of the narrative's verbs: the trigger alone still says what to do
    trigger = "When I query the api with two ids, the response is empty."
    assert present(check(description=trigger), "steps_to_reproduce")


def test_a_field_name_with_a_colon_is_not_an_instruction() -> None:
    fields = "Log file: see app.log in the zip. The sidebar flickers. Collapse the sidebar with the arrow."
    assert not present(check(description=fields), "steps_to_reproduce")


def test_jira_code_blocks_count_as_pasted_code() -> None:
    # Jira text often arrives with its markers inside the lines: {noformat}...{noformat}
    jira = "Here is the config: {noformat}queue.size 40 queue.mode strict{noformat} and the last row is lost."
    assert present(check(description=jira), "steps_to_reproduce")
    # the same sentence without the block is only an introduction
    bare = "Here is the config: queue.size 40 queue.mode strict and the last row is lost."
    assert not present(check(description=bare), "steps_to_reproduce")


def test_an_order_after_a_field_name_or_starting_with_try_to_counts() -> None:
    text = "Example: start two workers on the same port. Then try to stop the first one. It hangs."
    assert present(check(description=text), "steps_to_reproduce")


@pytest.mark.parametrize(
    "label", ["Steps to recreate:", "Steps to reproduce the behavior", "How to replicate:", "Steps to repro:"]
)
def test_labelled_steps_in_other_words(label: str) -> None:
    text = f"The badge count is wrong.\n\n{label}\nOpen the inbox, then archive one message.\n\nActual: 3"
    result = check(description=text)
    assert present(result, "steps_to_reproduce")
    assert next(f for f in result.findings if f.fact == "steps_to_reproduce").note == "labelled"


def test_a_list_of_steps_told_in_the_past_tense_counts() -> None:
    told = "1. Opened the invoice\n2. Chose Export\n3. Dragged the file to the inbox\n\nThe inbox shows two copies."
    assert present(check(description=told), "steps_to_reproduce")
    # a list of things, not actions, is still only a list
    things = "Affected pages:\n1. Invoices\n2. Orders\n3. The weekly summary"
    assert not present(check(description=things), "steps_to_reproduce")


def test_a_steps_label_answered_with_cannot_reproduce_means_no_steps() -> None:
    text = (
        "Steps to reproduce: Unsure how to reproduce. I was editing a long invoice and switched tabs "
        "when the dialog came up.\n\nActual: the dialog says the save failed."
    )
    result = check(description=text)
    assert not present(result, "steps_to_reproduce")
    assert (
        next(f for f in result.findings if f.fact == "steps_to_reproduce").note
        == "the reporter cannot reproduce it"
    )
    told = (
        "Steps to reproduce: Open a long invoice, switch tabs and wait for the dialog.\n\nActual: it fails."
    )
    assert present(check(description=told), "steps_to_reproduce")


def test_a_steps_template_left_unfilled_is_not_steps() -> None:
    template = (
        "Steps to reproduce:\n1. Go to '...'\n2. Click on '....'\n3. Scroll down to '....'\n4. See error"
    )
    assert not present(check(description=template), "steps_to_reproduce")
    flat = "The export fails. To Reproduce: 1. Go to '...' 2. Click on '....' 3. See error"
    assert not present(check(description=flat), "steps_to_reproduce")
    filled = "Steps to reproduce:\n1. Go to the orders page\n2. Click on 'Export'\n3. See error"
    assert present(check(description=filled), "steps_to_reproduce")


def test_a_click_or_go_to_mentioned_in_passing_is_not_steps() -> None:
    symptom = "Some customers cannot click the Subscribe button on the pricing page."
    assert not present(check(description=symptom), "steps_to_reproduce")
    aside = "Rather than go to the receipt, the link goes to an empty page."
    assert not present(check(description=aside), "steps_to_reproduce")
    # told as an order it is a step, and the phrase makes it enough
    order = "Go to the pricing page. The footer covers the Subscribe button."
    assert present(check(description=order), "steps_to_reproduce")


def test_phrasal_verbs_are_orders() -> None:
    # "log in", "search for": the particle does not make the verb a noun
    text = "Log in as an admin. Search for any invoice number. The results page is empty."
    assert present(check(description=text), "steps_to_reproduce")


def test_a_step_verb_used_as_a_noun_in_the_subject_is_not_an_order() -> None:
    nouns = "Print preview shows the wrong margins. Open the settings dialog."
    assert not present(check(description=nouns), "steps_to_reproduce")
    limit = "Upload limit is too low for our scans. Open the settings dialog."
    assert not present(check(description=limit), "steps_to_reproduce")
    # an order followed by its result after a comma is still an order
    orders = "Click Save, it shows an error. Reload the page."
    assert present(check(description=orders), "steps_to_reproduce")


@pytest.mark.parametrize(
    "text",
    [
        "Export answers error 500 'Internal Server Error'.",
        "It says 'Export failed' in a red banner.",
        "The dialog said \u2018Session expired\u2019 and logged me out.",  # typographic quotes
        "HTTP 404 on the invoice page.",
        "I get a 502 error after a minute.",
    ],
)
def test_an_error_message_in_single_quotes_or_an_http_status_is_error_text(text: str) -> None:
    assert present(check(description=text), "error_text")


def test_apostrophes_do_not_pair_up_into_an_error_message() -> None:
    result = check(description="The message doesn't show up and it's broken, the popup won't close.")
    assert not present(result, "error_text")


def test_a_phrasal_verb_as_the_subject_of_a_symptom_is_not_an_order() -> None:
    symptoms = "Sign in with Google fails with error 400. Log in with SSO fails too."
    assert not present(check(description=symptoms), "steps_to_reproduce")
    assert not present(check(description="Switch to dark mode is broken. Wait for the sync is too long."),
                       "steps_to_reproduce")
    orders = "Log in as an admin. Switch to the billing tab. The invoice list is empty."
    assert present(check(description=orders), "steps_to_reproduce")


def test_a_present_tense_account_of_what_i_do_is_steps() -> None:
    told = "I enter my email and password, click Sign in, and the page just reloads."
    assert present(check(description=told), "steps_to_reproduce")
    # one present-tense action alone is a weak sign, not steps
    assert not present(check(description="I open the app and it is slow today."), "steps_to_reproduce")


def test_a_whole_team_is_people_affected() -> None:
    assert present(check(description="The export fails for the whole finance team."), "affected")
    assert present(check(description="My colleagues have the same problem."), "affected")


@pytest.mark.parametrize(
    "text",
    [
        "I can't renew my subscription, the page just reloads.",
        "We are unable to add a second shipping address.",
        "When I attach a PDF to the message the send button greys out.",
        "The app crashes after we switch to the dark theme.",
        "Getting a timeout while uploading the price list.",
        "It logs me out in the middle of filling in the survey.",
        "I tap Renew and the spinner never stops.",
        "Is there a way to merge two customer records?",
        "Quand je valide le panier, la page reste blanche.",
        "Je n'arrive plus à imprimer les factures.",
        "Wenn ich den Bericht exportiere, kommt eine leere Datei.",
    ],
)
def test_the_action_a_customer_names_is_what_they_were_trying_to_do(text: str) -> None:
    # Asking "What were you trying to do?" after "I can't renew my subscription" reads as not
    # having listened.
    result = check(title="Problem", description=text)
    finding = next(f for f in result.findings if f.fact == "trying_to_do")
    assert finding.present, text
    assert "trying_to_do" not in result.questions


@pytest.mark.parametrize(
    "text",
    [
        "The totals on the dashboard are wrong since the update.",
        "I can't see the footer on the pricing page.",  # what is wrong, not what they were doing
        "When nothing is selected the toolbar is still enabled.",
        "The logo looks blurry on the invoices.",
    ],
)
def test_a_report_naming_no_action_is_still_asked_what_they_were_doing(text: str) -> None:
    result = check(title="Problem", description=text)
    assert "trying_to_do" in result.missing, text
    assert result.questions["trying_to_do"].endswith("?")


@pytest.mark.parametrize(
    "description, fact",
    [
        # a quoted message of two sentences is still the message (the split cut it in two)
        ("The toast says 'Something went wrong. Please try again later.'", "error_text"),
        # what happened, typed without the apostrophe or told as a change undone by itself
        ("I cant save the form.", "actual"),
        ("When I tick the box it flips back a second later.", "actual"),
        ("Every hour the app logs me out.", "actual"),
    ],
)
def test_what_customers_write_in_their_own_way_is_found(description: str, fact: str) -> None:
    assert present(check(title="Help", description=description), fact)
