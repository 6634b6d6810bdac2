"""Load and faults, short form (``make test``): reporters on real HTTP against 2 web processes and
2 workers on a private PostgreSQL and SeaweedFS, while PostgreSQL restarts, S3 stops, the
helpdesk answers 500 then hangs, and a worker and a web process are SIGKILLed.

Every report the API accepted is stored and delivered exactly once, every refusal was one the
widget retries (and the retry got through), nothing is half-written. ``SOAK_LONG=1`` runs the
long form here instead; ``make soak`` runs it through ``python -m tests.soak.run`` and records
the figures in BENCHMARKS.md. A missing ``initdb``/``pg_ctl`` or ``weed`` fails, never skips.
"""

from __future__ import annotations

import os

import pytest

from tests.soak.figures import summary
from tests.soak.scenario import Plan, run

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


def test_every_accepted_report_is_stored_and_delivered_once_through_faults() -> None:
    plan = Plan.long() if os.environ.get("SOAK_LONG") == "1" else Plan.short()
    result = run(plan, log=lambda line: None)
    text = summary(result)
    assert result.problems == [], text
    assert result.accepted > 0, text
    assert result.accepted == result.stored == result.delivered == result.report_rows, text
    # The faults were real: reporters met the S3 outage and the app kill, deliveries met the
    # helpdesk's 500s and hangs (a soak whose faults touched nothing would prove nothing).
    hit = {name for name, failures in result.retries_by_fault.items() if failures}
    assert any(name.startswith("s3 outage") for name in hit), text
    assert any(name.startswith("app SIGKILL") for name in hit), text
    assert any(k.startswith("status 500") for k in result.helpdesk_faults), text
    assert any(k.startswith("hang") for k in result.helpdesk_faults), text
