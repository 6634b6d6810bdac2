"""Severity: the SOP's tiers, the score and the reasons an agent reads."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bugline.triage.errors import RulesError
from bugline.triage.report import ConsoleLine, FailedRequest, GroupStats, TriageInput
from bugline.triage.result import LEVELS
from bugline.triage.rules import load_rules
from bugline.triage.severity import SeverityRules, assess
from tests.support.bounded import terminates

RULES = SeverityRules.default()
PLAIN = TriageInput(
    title="Report export shows the wrong column order", description="The CSV has columns swapped."
)


def sev(report: TriageInput, rules: SeverityRules = RULES, group: GroupStats | None = None):
    return assess(report, rules, group)


def test_payment_failure_for_many_customers_is_critical_with_its_reasons():
    s = sev(
        TriageInput(
            title="Checkout broken: payment failed for all customers",
            description="Since this morning every card payment fails with an error and nobody can pay.",
            page_url="https://shop.example.com/checkout/confirm",
        )
    )
    assert s.level == "critical"
    assert "+ mentions payment failure" in s.reasons
    assert "+ happened on the checkout page" in s.reasons
    assert "+ says many customers are affected" in s.reasons


def test_a_typo_is_low_and_says_why():
    s = sev(
        TriageInput(
            title="Typo on the settings page", description="The label says 'Setings' instead of 'Settings'."
        )
    )
    assert s.level == "low"
    assert "- looks cosmetic (wording, typo, layout)" in s.reasons


def test_security_and_data_loss_outrank_a_plain_report():
    plain = sev(PLAIN).score
    assert sev(TriageInput(title="XSS vulnerability in the comment form")).score > plain
    assert sev(TriageInput(title="Saving a draft corrupts the document, data is lost")).score > plain


def test_duplicate_group_size_moves_the_score_with_a_reason():
    alone = sev(PLAIN, group=GroupStats())
    many = sev(PLAIN, group=GroupStats(reports=14, reporters=14, accounts=9))
    assert many.score > alone.score
    assert "+ 14 customers reported the same problem" in many.reasons
    assert "+ 9 customer accounts affected" in many.reasons
    assert not any("customers reported" in r for r in alone.reasons)


def test_the_group_bonus_is_capped():
    a = sev(PLAIN, group=GroupStats(reports=50, reporters=50, accounts=1)).score
    b = sev(PLAIN, group=GroupStats(reports=5000, reporters=5000, accounts=1)).score
    assert a == b


def test_an_enterprise_plan_raises_the_score_and_an_unknown_plan_does_not():
    base = sev(PLAIN).score
    enterprise = sev(TriageInput(title=PLAIN.title, description=PLAIN.description, plan="Enterprise"))
    assert enterprise.score > base
    assert "+ enterprise account" in enterprise.reasons
    assert sev(TriageInput(title=PLAIN.title, description=PLAIN.description, plan="mystery")).score == base


def test_login_page_console_errors_and_server_failures_each_add_a_reason():
    report = TriageInput(
        title=PLAIN.title,
        description=PLAIN.description,
        page_url="https://app.example.com/login?next=/",
        console=(ConsoleLine("error", "TypeError: x is undefined"), ConsoleLine("error", "Failed to fetch")),
        network=(FailedRequest("POST", "/api/session", 502),),
    )
    s = sev(report)
    assert s.score > sev(PLAIN).score
    assert "+ happened on the login page" in s.reasons
    assert "+ 2 console errors captured" in s.reasons
    assert "+ 1 request failed on the server" in s.reasons


def test_frequency_and_people_affected_move_the_score():
    def with_(**kw: str) -> float:
        return sev(TriageInput(title=PLAIN.title, description=PLAIN.description, **kw)).score

    assert with_(frequency="always") > with_(frequency="once")
    assert with_(people_affected="everyone") > with_(people_affected="just_me")


def test_reasons_are_strongest_first_and_signed():
    s = sev(TriageInput(title="Payment failed, but there is a workaround", description="Retrying works."))
    assert all(r[:2] in ("+ ", "- ") for r in s.reasons)  # "= " only when nothing moved it
    assert s.reasons.index("+ mentions payment failure") < s.reasons.index("- a workaround exists")


def test_the_text_model_explains_its_push_with_words_from_the_report():
    s = sev(TriageInput(title="Fix typo in the docs", description="Trivial typo in the documentation."))
    model = [r for r in s.reasons if "text model" in r]
    assert model and model[0].startswith("- ") and "typo" in model[0]


def test_a_project_can_reweigh_disable_and_add_signals():
    base = load_rules().severity
    quiet = load_rules({"severity": {"keywords": {"payment": {"weight": 0}}}}).severity
    report = TriageInput(title="Payment failed at checkout")
    assert "+ mentions payment failure" in assess(report, base).reasons
    assert not any("payment" in r for r in assess(report, quiet).reasons)

    custom = load_rules(
        {"severity": {"keywords": {"gdpr": {"reason": "mentions GDPR", "weight": 30, "patterns": ["gdpr"]}}}}
    ).severity
    s = assess(TriageInput(title="GDPR export request not processed"), custom)
    assert "+ mentions GDPR" in s.reasons


def test_thresholds_are_configurable():
    strict = load_rules({"severity": {"levels": {"critical": 100, "high": 100, "medium": 100}}}).severity
    lenient = load_rules({"severity": {"levels": {"critical": 0, "high": 0, "medium": 0}}}).severity
    assert assess(PLAIN, strict).level == "low" or assess(PLAIN, strict).score >= 100
    assert assess(PLAIN, lenient).level == "critical"


def test_without_the_model_rules_still_decide():
    rules = load_rules({"severity": {"model": {"enabled": False}}}).severity
    s = assess(TriageInput(title="Site is down for everyone", description="Outage since 9:00."), rules)
    assert s.level == "critical"
    assert not any("text model" in r for r in s.reasons)
    # no keyword family fires on this one ("wrong" in PLAIN is a consequence word)
    neutral = TriageInput(
        title="Report export lists the columns in another order", description="See the CSV."
    )
    assert assess(neutral, rules).score == rules.base


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"levels": {"critical": 10, "high": 50}}, "severity.levels"),
        (
            {"keywords": {"broken": {"reason": "x", "weight": 1, "patterns": ["(unclosed"]}}},
            "severity.keywords.broken",
        ),
        ({"keywords": {"payment": {"weight": "lots"}}}, "severity.keywords.payment.weight"),
        ({"model": {"file": "../../etc/passwd"}}, "severity.model.file"),
        ({"frequency": {"always": "often"}}, "severity.frequency.always"),
    ],
)
def test_bad_settings_name_the_key(override, key):
    with pytest.raises(RulesError, match=key.replace(".", r"\.")):
        load_rules({"severity": override})


hostile = st.one_of(
    st.text(max_size=3000),
    st.binary(max_size=2000).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["<script>alert(1)</script>" * 200, "🔥💳" * 3000, "a" * 1_000_000, "(" * 100_000 + "x"]),
)


@settings(max_examples=150, deadline=None)
@given(
    title=hostile,
    description=hostile,
    plan=st.none() | st.text(max_size=50),
    url=st.none() | st.text(max_size=300),
)
def test_any_input_gets_a_verdict(title, description, plan, url):
    s = assess(
        TriageInput(title=title, description=description, plan=plan, page_url=url), RULES, GroupStats(3, 2, 2)
    )
    assert s.level in LEVELS
    assert 0 <= s.score <= 100
    assert s.level == RULES.level(s.score)


def test_a_megabyte_of_text_is_scored_quickly():
    report = TriageInput(
        title="x" * 1_000_000, description="error payment crash " * 50_000, actual="a b " * 250_000
    )
    terminates(lambda: assess(report, RULES), "a megabyte of text")


def test_housekeeping_ranks_below_a_harmful_consequence_and_both_say_why():
    chore = assess(
        TriageInput(
            title="Unused variable and misleading code comments in parser.c", description="Should be removed."
        ),
        RULES,
    )
    harm = assess(
        TriageInput(
            title="Parser fails to check the length", description="This could result in loss of telemetry."
        ),
        RULES,
    )
    assert harm.score > chore.score
    assert any(r.startswith("- looks like housekeeping") for r in chore.reasons)
    assert any(r.startswith("+ describes a harmful consequence") for r in harm.reasons)


SECURITY = "+ mentions a security problem"


@pytest.mark.parametrize(
    "code",
    [
        "Set hadoop.security.authentication=kerberos and dfs.permissions.enabled=true, then restart.",
        "java.lang.SecurityException: denied\n"
        "\tat org.apache.hadoop.security.UserGroupInformation.doAs(UserGroupInformation.java:1657)",
        "See hadoop-common/src/main/java/org/apache/hadoop/security/ for the class.",
        "The SECURITY_MODE flag and the SecurityManager class are read at startup.",
    ],
)
def test_a_config_key_class_name_or_stack_frame_is_not_a_security_problem(code: str) -> None:
    s = sev(TriageInput(title="NameNode restart takes ten minutes", description=code))
    assert SECURITY not in s.reasons


def test_the_same_word_in_prose_is_a_security_problem() -> None:
    s = sev(
        TriageInput(
            title="NameNode restart takes ten minutes",
            description="This is a security hole: any user can read other tenants' files.",
        )
    )
    assert SECURITY in s.reasons


def test_prose_next_to_a_pasted_config_key_still_counts() -> None:
    s = sev(
        TriageInput(
            title="Security: hadoop.security.authentication=simple lets anyone impersonate hdfs",
            description="Pasted core-site.xml below.",
        )
    )
    assert SECURITY in s.reasons


def test_long_dotted_and_slashed_runs_are_scored_quickly() -> None:
    report = TriageInput(title="a." * 500_000, description="x/" * 500_000, actual=("y" * 2999 + " ") * 300)
    terminates(lambda: assess(report, RULES), "dotted and slashed text")


def test_the_sops_broken_checkout_in_a_customers_own_words_is_critical() -> None:
    # No page URL, no structured answers: only the words an email or API client sends.
    s = sev(
        TriageInput(
            title="Pay button broken",
            description="When I click Pay on the checkout page nothing happens. "
            "Happens every time, all our customers are affected.",
        )
    )
    assert s.level == "critical"
    assert "+ mentions payment failure" in s.reasons and "+ says many customers are affected" in s.reasons
    dead = sev(TriageInput(title="Checkout", description="The Place order button does nothing."))
    assert "+ mentions payment failure" in dead.reasons
    # paying for something else is not a payment failure
    assert (
        "+ mentions payment failure"
        not in sev(TriageInput(description="I click Pay later and it works")).reasons
    )


def test_one_internal_server_error_is_a_broken_action_not_an_outage() -> None:
    one = sev(TriageInput(title="Export", description="Export answers 500 'Internal Server Error'."))
    assert one.level != "critical" and "+ mentions an outage, crash or hang" not in one.reasons
    down = sev(TriageInput(title="Site down", description="Every page answers 503, the site is down."))
    assert down.level == "critical" and "+ mentions an outage, crash or hang" in down.reasons


def test_a_level_nothing_moved_still_says_why() -> None:
    s = sev(TriageInput(title="It does not work", description="It does not work."))
    assert s.reasons and s.reasons[0].startswith("= no strong sign either way")
    assert all(not r.startswith("=") for r in sev(TriageInput(title="Typo on the pricing page")).reasons)


def test_one_customer_seeing_anothers_data_is_a_security_problem() -> None:
    for text in (
        "I can see another company's invoices in my account.",
        "When I open the reports tab I see someone else\u2019s reports.",
        "We are seeing other customers' orders on our dashboard.",
    ):
        s = sev(TriageInput(title="Wrong account", description=text))
        assert s.level == "critical" and "+ mentions a security problem" in s.reasons, text
    shared = sev(
        TriageInput(title="Sharing", description="I shared the report with another user and they see it.")
    )
    assert "+ mentions a security problem" not in shared.reasons


_SAME_EVERYWHERE = """
import json
from bugline.triage.severity import SeverityRules, assess
from bugline.triage.report import TriageInput
rules = SeverityRules.default()
cases = [
    ("ADLFS: bump the SDK", "Update the ADLFS SDK version to the latest release."),
    ("ADLFS: update SDK", "ADLFS update of the SDK version."),
    ("Erasure coding: remove unused code", "Remove dead code in erasure coding."),
    ("ADL Gen1: fix the error for the client", "ADL Gen1 client error."),
    ("Erasure Coding: remove dead code", "Remove dead code from the erasure coding side."),
]
print(json.dumps([assess(TriageInput(title=t, description=d), rules).reasons for t, d in cases]))
"""


def test_the_text_models_reasons_are_the_same_in_every_process() -> None:
    """The model's features come from a set, whose order changes with the hash seed; the words
    a reason names must not (an agent would see them change on a re-triage)."""
    outputs = {
        subprocess.run(
            [sys.executable, "-c", _SAME_EVERYWHERE],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(1, 7)
    }
    assert len(outputs) == 1, outputs


@pytest.mark.parametrize(
    "description",
    [
        "Bottom nav icons are a bit blurry on Android. Not urgent.",
        "The logo is a bit blurry, nothing critical, no rush.",
    ],
)
def test_a_reporter_playing_it_down_is_not_calling_it_urgent(description: str) -> None:
    result = sev(TriageInput(title="Blurry icons", description=description))
    assert not any("urgent" in r for r in result.reasons)
    assert any("minor" in r for r in result.reasons)
    assert result.level == "low"


def test_login_typed_without_an_apostrophe_for_the_whole_team_is_critical() -> None:
    result = sev(
        TriageInput(title="cant log in", description="I cant log in, it says wrong password. Whole team.")
    )
    assert result.level == "critical"
    assert any("login" in r for r in result.reasons) and any("many" in r for r in result.reasons)


# A customer's report from the widget: the page, a captured error, nothing in its words that
# the SOP calls critical (a coupon typed in lower case is refused).
COUPON = TriageInput(
    title="Coupon code not accepted",
    description="I type my code spring25 at checkout and it says the code is invalid. It works when I type it in capitals.",
    page_url="https://shop.example.com/checkout/8812",
    console=(
        ConsoleLine("error", "AxiosError: Request failed with status code 422"),
        ConsoleLine("error", "Uncaught TypeError: Cannot read properties of undefined (reading 'discount')"),
    ),
)


LENIENT = load_rules({"severity": {"levels": {"critical_from_circumstances": True}}}).severity


def test_the_page_and_captured_errors_alone_do_not_make_a_report_critical() -> None:
    s = sev(COUPON)
    assert s.score >= RULES.critical  # the circumstances do raise it: it ranks first among the high ones
    assert s.level == "high"
    assert "+ happened on the checkout page" in s.reasons
    assert any(
        r.startswith("= high, not critical: only the page, plan or what the browser captured")
        for r in s.reasons
    )
    assert sev(COUPON, LENIENT).level == "critical"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"description": "Nobody can pay: the payment fails for every card."}, "+ mentions payment failure"),
        ({"people_affected": "everyone"}, "+ affects everyone"),
        (
            {
                "network": (
                    FailedRequest("GET", "https://shop.example.com/api/cart", 503),
                    FailedRequest("GET", "https://shop.example.com/api/session", 503),
                    FailedRequest("POST", "https://shop.example.com/api/checkout", 503),
                )
            },
            "+ 3 requests failed on the server",
        ),
    ],
)
def test_what_the_sop_calls_critical_still_makes_it_critical(change: dict[str, object], why: str) -> None:
    s = sev(dataclasses.replace(COUPON, **change))
    assert s.level == "critical"
    assert why in s.reasons
    assert not any(r.startswith("= high, not critical") for r in s.reasons)


def test_many_customers_in_its_group_make_it_critical() -> None:
    s = sev(COUPON, group=GroupStats(reports=5, reporters=5, accounts=4))
    assert s.level == "critical"
    assert "+ 5 customers reported the same problem" in s.reasons


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=200), description=st.text(max_size=400))
def test_a_report_without_circumstances_is_judged_as_before(title: str, description: str) -> None:
    """The labelled data sets are text only: the rule must not move a verdict of theirs. It
    would, if anything read from the customer's words were counted as a circumstance (the
    console's words are; the report's fields must not be)."""
    report = TriageInput(title=title, description=description)
    assert sev(report) == sev(report, LENIENT)


def test_what_the_console_says_is_a_circumstance_not_the_customers_words() -> None:
    """A captured "payment failed" or "503" in the console is the app's text: it may lift the
    report up to high, never into critical on its own."""
    for line in ("Error: payment failed: card declined", "AxiosError: Request failed with status code 503"):
        s = sev(dataclasses.replace(COUPON, console=(ConsoleLine("error", line),)))
        assert s.level == "high", (line, s)
        assert any(r.endswith("(in the captured console)") for r in s.reasons), s.reasons
    said = dataclasses.replace(COUPON, description="Payment failed for every card I tried.")
    assert sev(said).level == "critical"


def test_beacons_and_one_endpoint_with_ids_are_not_an_outage() -> None:
    blocked = tuple(FailedRequest("POST", f"https://t{n}.tracker.example/collect", 0) for n in range(5))
    s = sev(dataclasses.replace(COUPON, network=blocked))
    assert not any("failed on the server" in r for r in s.reasons)  # someone else's, stopped by a blocker
    thumbs = tuple(
        FailedRequest("GET", f"https://shop.example.com/api/thumbnails/{n}", 500) for n in range(3)
    )
    s = sev(dataclasses.replace(COUPON, network=thumbs))
    assert "+ 3 requests failed on the server" in s.reasons and s.level == "high"  # one action failing
