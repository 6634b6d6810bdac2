"""`bugline worker`: triage in its own process, beside web processes that only accept."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Bugline
from tests.integration.test_intake import headers
from tests.integration.test_triage import VAGUE, stored

pytestmark = pytest.mark.anyio


async def test_worker_process_triages_what_the_web_accepted(bugline: Bugline, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")}
    env |= {
        "BUGLINE_DATABASE_URL": bugline.settings.effective_database_url,
        "BUGLINE_DATA_DIR": str(tmp_path),
        "BUGLINE_SECRET_KEY": "w" * 40,
        "BUGLINE_TRIAGE_IN_WEB": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bugline", "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        res = await bugline.client.post("/api/v1/reports", json=VAGUE, headers=headers(bugline))
        assert res.status_code == 201 and res.json()["status"] == "received"
        report_id = res.json()["id"]
        # The worker polls every second; starting a Python process can take many seconds on a
        # loaded 2-core machine, so the wait is generous (it ends as soon as triage is seen).
        for _ in range(1200):
            report = await stored(bugline, report_id)
            if report.triaged_at is not None:
                break
            await asyncio.sleep(0.05)
        assert report.triaged_at is not None, "the worker never triaged the report"
        assert report.status == "needs_info"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, out.decode()
    assert b"worker stopped" in out
