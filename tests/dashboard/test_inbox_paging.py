"""The inbox's pages across several projects and searches: every sort walks every report of the
agent's projects once, in the sort's order (ties on time broken by id), whether the rows came
from one index walk per project merged, from the search's window of nearby rows, or from the
full-text index; and never a row of a project the agent is not a member of."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from bugline.db.models import Project, Report
from bugline.inbox import query
from tests.dashboard.conftest import Dash, SignedIn
from tests.dashboard.inboxdata import add_reports

pytestmark = pytest.mark.anyio
_ID = re.compile(r'<td class="title">\s*<a href="/reports/([0-9a-f]{32})">')
_NEXT = re.compile(r'<a rel="next" href="([^"]+)">')
TIERS = ("critical", "high", "medium", "low")


async def walk(agent: SignedIn, path: str) -> list[str]:
    """The report ids of every page, following the next links."""
    page = await agent.get(path)
    assert page.status_code == 200
    seen = _ID.findall(page.text)
    while (link := _NEXT.search(page.text)) is not None:
        page = await agent.get(html.unescape(link.group(1)))
        assert page.status_code == 200
        seen += _ID.findall(page.text)
    return seen


def spec(i: int, word: str) -> dict[str, Any]:
    return dict(
        title=f"{word} report {i}",
        severity=[*TIERS, None][i % 5],
        completeness=None if i % 7 == 0 else (i * 37) % 101,
        group=f"g{i % 4}" if i % 3 else None,
    )


async def three_projects(dash: Dash) -> tuple[list[Project], list[tuple[Report, int | None]]]:
    """Three projects of 40, 30 and 20 reports whose times interleave and often coincide, and an
    outsider's project at the same times. Returns the three and (report, its group's size)."""
    projects = [
        dash.project,
        await dash.bugline.new_project(name="Two"),
        await dash.bugline.new_project(name="Three"),
    ]
    made: list[tuple[Report, int | None]] = []
    for n, (project, count, step) in enumerate(zip(projects, (40, 30, 20), (1, 2, 3), strict=True)):
        specs = [dict(spec(i, "common" if i % 10 else "rare"), minutes=i * step) for i in range(count)]
        if n == 1:
            for s in specs[:25]:
                s["title"] += " often"
        reports = await add_reports(dash.bugline.engine, project, specs)
        sizes = Counter(s["group"] for s in specs if s["group"])
        made += [(r, sizes[s["group"]] if s["group"] else None) for r, s in zip(reports, specs, strict=True)]
    outsider = await dash.bugline.new_project(name="Outsider")
    await add_reports(dash.bugline.engine, outsider, [dict(spec(i, "common"), minutes=i) for i in range(40)])
    return projects, made


def expected(made: list[tuple[Report, int | None]], sort: str) -> list[str]:
    def newest(r: Report) -> tuple[datetime, str]:
        return (r.created_at, r.id)

    if sort == "newest":
        return [r.id for r, _ in sorted(made, key=lambda m: newest(m[0]), reverse=True)]
    if sort == "oldest":
        return [r.id for r, _ in sorted(made, key=lambda m: newest(m[0]))]
    if sort == "severity":
        tier = {t: i for i, t in enumerate(TIERS)}
        out: list[str] = []
        for t in range(len(TIERS) + 1):
            rows = [r for r, _ in made if tier.get(r.severity or "", len(TIERS)) == t]
            out += [r.id for r in sorted(rows, key=newest, reverse=True)]
        return out
    if sort == "completeness":
        rated = sorted(
            (r for r, _ in made if r.completeness is not None), key=lambda r: (r.completeness, *newest(r))
        )
        unrated = sorted((r for r, _ in made if r.completeness is None), key=newest)
        return [r.id for r in [*rated, *unrated]]
    assert sort == "group"
    grouped = sorted(
        ((r, g) for r, g in made if g is not None), key=lambda m: (m[1], *newest(m[0])), reverse=True
    )
    alone = sorted((r for r, g in made if g is None), key=newest, reverse=True)
    return [r.id for r, _ in grouped] + [r.id for r in alone]


@pytest.mark.parametrize("sort", ["newest", "oldest", "severity", "completeness", "group"])
async def test_an_agent_of_several_projects_pages_through_all_of_them_in_order(dash: Dash, sort: str) -> None:
    projects, made = await three_projects(dash)
    agent = await dash.agent(projects=projects)
    suffix = "" if sort == "newest" else f"?sort={sort}"
    assert await walk(agent, "/reports" + suffix) == expected(made, sort)
    # A filter narrows every project's walk alike.
    high = [(r, g) for r, g in made if r.severity == "high"]
    got = await walk(agent, "/reports?severity=high" + (f"&sort={sort}" if suffix else ""))
    assert got == expected(high, sort)
    # One of the projects only.
    mine = [(r, g) for r, g in made if r.project_id == projects[1].id]
    got = await walk(agent, f"/reports?project={projects[1].id}" + (f"&sort={sort}" if suffix else ""))
    assert got == expected(mine, sort)


@pytest.mark.parametrize("window", [1000, 60, 7])
async def test_searches_for_common_rare_and_absent_words_page_exactly(
    dash: Dash, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window smaller than a page, one that holds a page of a common word, and one holding
    everything: the rows and their order are the same."""
    monkeypatch.setattr(query, "WINDOW", window)
    projects, made = await three_projects(dash)
    agent = await dash.agent(projects=projects)
    for word in ("common", "rare", "often", "zeppelin", "repo"):  # repo: a prefix of "report"
        hits = [(r, g) for r, g in made if re.search(rf"\b{word}", r.title)]
        assert await walk(agent, f"/reports?q={word}") == expected(hits, "newest"), word
        assert await walk(agent, f"/reports?q={word}&sort=severity") == expected(hits, "severity"), word
        one = [(r, g) for r, g in hits if r.project_id == projects[1].id]
        assert await walk(agent, f"/reports?q={word}&project={projects[1].id}") == expected(one, "newest"), (
            word
        )
    page = await agent.get("/reports?q=zeppelin")
    assert page.status_code == 200 and not _ID.findall(page.text)
    high = [(r, g) for r, g in made if r.severity == "high" and r.title.startswith("common")]
    assert await walk(agent, "/reports?q=common&severity=high&sort=oldest") == expected(high, "oldest")
