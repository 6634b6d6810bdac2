"""SLA targets: the SOPs' numbers by default, a project's overrides on top, and every bad
setting refused with the path of its key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bugline.sla.targets import Escalation, SlaError, check, parse_duration, phrase, targets_for

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def test_defaults_follow_the_sops() -> None:
    t = targets_for({})
    # "initial response within 30 minutes and Level 2 escalation within 2 hours ... Level 3
    # occurs if the issue remains unresolved after 4 hours"
    assert t.first_response("critical") == 30 * M
    assert t.escalations("critical") == (Escalation(2, 2 * H), Escalation(3, 4 * H))
    assert t.resolution("critical") == 4 * H
    # "If no resolution in 24 hrs -> escalate to Support Team Lead"; "expect a response within 24 hours"
    assert t.resolution("medium") == D
    assert t.escalations("medium")[0] == Escalation(2, D)
    # High and low: the SOPs give no number; chosen between, and a sprint for minor bugs.
    assert t.resolution("high") == 8 * H and t.first_response("high") == H
    assert t.resolution("low") == 14 * D and t.escalations("low") == (Escalation(2, 14 * D),)
    # "every 48 hours until resolved"; "Keep the ticket open for 14 days before closing"
    assert t.follow_up == 48 * H and t.cannot_reproduce_close == 14 * D
    assert t.lead_role == "lead" and t.owner_role == "helpdesk"


def test_every_severity_escalates_to_the_lead_within_a_day_except_queued_minor_bugs() -> None:
    t = targets_for(None)
    for severity in ("critical", "high", "medium"):
        assert t.escalations(severity)[0].after <= D
    # "minor bugs can be queued for future sprints"
    assert t.escalations("low")[0].after > D


def test_an_unrated_report_is_held_to_the_medium_targets() -> None:
    t = targets_for({})
    assert t.resolution(None) == t.resolution("medium") == t.resolution("unknown")


def test_the_customers_promise_is_the_resolution_target_in_words() -> None:
    t = targets_for({})
    assert t.promise("critical") == "within 4 hours"
    assert t.promise("high") == "within 8 hours"
    assert t.promise("medium") == "within a working day"
    assert t.promise("low") == "within 2 weeks"


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (30 * M, "within 30 minutes"),
        (H, "within an hour"),
        (90 * M, "within 2 hours"),  # rounded up: never promise less time than the target
        (36 * H, "within 36 hours"),
        (D, "within a working day"),
        (3 * D, "within 3 working days"),
        (7 * D, "within a week"),
    ],
)
def test_phrases(delta: timedelta, words: str) -> None:
    assert phrase(delta) == words


def test_a_project_overrides_single_keys_and_keeps_the_rest() -> None:
    t = targets_for(
        {
            "sla": {
                "critical": {"first_response": "15m", "escalation": {"level_3": "off"}},
                "medium": {"resolution": "3d"},
                "follow_up": "1d",
                "lead_role": "support-leads",
            },
            "triage": {"anything": "else"},  # other settings are not the SLA's business
        }
    )
    assert t.first_response("critical") == 15 * M
    assert t.escalations("critical") == (Escalation(2, 2 * H),)
    assert t.resolution("critical") == 4 * H
    assert t.resolution("medium") == 3 * D and t.promise("medium") == "within 3 working days"
    assert t.follow_up == D and t.lead_role == "support-leads"


def test_durations() -> None:
    assert parse_duration("30m", "k") == 30 * M
    assert parse_duration("2h", "k") == 2 * H
    assert parse_duration(" 1d12h ", "k") == 36 * H
    assert parse_duration("2w", "k") == 14 * D
    assert parse_duration("OFF", "k", allow_off=True) is None


@pytest.mark.parametrize(
    ("sla", "message"),
    [
        ({"critical": {"first_response": "soon"}}, "sla.critical.first_response must be a duration"),
        ({"critical": {"first_response": 30}}, "sla.critical.first_response must be a duration"),
        ({"critical": {"first_response": "0m"}}, "sla.critical.first_response must be longer than zero"),
        ({"critical": {"first_respons": "30m"}}, "unknown setting sla.critical.first_respons"),
        ({"urgent": {"resolution": "1h"}}, "unknown setting sla.urgent"),
        ({"high": {"resolution": "off"}}, "sla.high.resolution must be a duration"),
        ({"high": {"escalation": {"level_4": "1d"}}}, "unknown setting sla.high.escalation.level_4"),
        ({"high": {"escalation": "2h"}}, "sla.high.escalation must be a table"),
        ({"high": {"escalation": {"level_3": "1h"}}}, "sla.high.escalation.level_3 (1h) must be later than"),
        ({"low": {"first_response": "3w"}}, "sla.low.first_response (21d) must not be later than"),
        ({"follow_up": "10m"}, "sla.follow_up must be at least 1h"),
        ({"cannot_reproduce_close": "400d"}, "sla.cannot_reproduce_close must be at most 366 days"),
        ({"lead_role": "Team Lead"}, "sla.lead_role must be a role name"),
        ("fast", "sla must be a table"),
    ],
)
def test_bad_settings_name_their_key(sla: object, message: str) -> None:
    with pytest.raises(SlaError) as err:
        check(sla)
    assert message in str(err.value)
