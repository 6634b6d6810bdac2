"""The monthly review with a full month in it (reviewseed.py: every section, table and chart
drawn), in real Chromium: axe-core finds no serious or critical violation, the page's CSP
blocks nothing (the charts are inline SVG without styles or scripts), and a screenshot lands
in var/screenshots/dashboard/ for a person to look at."""

from __future__ import annotations

import json

from playwright.sync_api import BrowserContext
from sqlalchemy import select
from tests.conftest import run_async
from tests.dashboard.reviewseed import seed_month
from tests.e2e.dashboard_fixtures import (
    Site,
    axe_violations,
    browser,
    context,
    screenshot,
    serious,
    sign_in,
    site,
    watched,
)

from bugline.db.engine import make_async_engine, make_sessionmaker
from bugline.db.models import Project

__all__ = ["browser", "context", "site"]  # module-scoped fixtures used by the test below


async def _seed(site: Site) -> None:
    engine = make_async_engine(site.db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            project = (await s.execute(select(Project).where(Project.id == site.project.id))).scalar_one()
        await seed_month(engine, project, offset=1000)
    finally:
        await engine.dispose()


def test_a_full_month_is_accessible(site: Site, context: BrowserContext) -> None:
    run_async(_seed(site))
    w = watched(context)
    page = w.page
    sign_in(page, site, site.lead)
    response = page.goto(f"{site.url}/review?project={site.project.id}&month=2024-03")
    assert response is not None and response.status == 200
    page.wait_for_load_state("load")
    assert page.locator("svg.chart").count() == 6
    assert screenshot(page, "review-month").stat().st_size > 0
    bad = serious(axe_violations(page))
    assert not bad, "the review has serious axe violations:\n" + json.dumps(bad, indent=2)
    blocked = [c for c in w.console if "Content Security Policy" in c or "Refused to" in c]
    assert not w.errors and not blocked and not w.dialogs, (w.errors, blocked, w.dialogs)
