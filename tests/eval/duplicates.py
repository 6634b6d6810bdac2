"""Duplicate grouping on invented customer reports labelled with the bug each one is about.

No shared data set links reports of the same bug, and the ``make bench`` catalogue is
generated (it checks the wiring and the cost, not whether customers' words are matched).
``tests/eval/probes/duplicates/reports.jsonl`` holds reports of three invented products,
written and labelled blind by a helper session that never read the matching rules: each
line names its ``bug``; the same bug is told by different customers in different words,
through the widget (page, console errors, failed requests captured) or by mail (text
only), and the set has hard negatives on purpose (two bugs on one page, one generic error
raised by two bugs, the same words about two different buttons).

The reports go, in the order they arrived, through the real grouping
(:func:`bugline.grouping.assign` on a migrated SQLite store, one project per product,
each reporter a stored customer), exactly as triage places them. What is scored is what
an agent and severity see:

- *arrivals*: each report's placement. A report whose bug was already reported should
  join a group holding an earlier report of that bug; a report of a new bug should start
  its own group. A join elsewhere is a wrong merge (severity's "+N customers" counts
  strangers, and the second bug hides inside the first).
- *pairs*: precision and recall over every pair of reports in one product.
- *counts*: per bug with several reporters, whether the group its last report landed in
  counts exactly that bug's reporters (what "+ N customers reported the same problem"
  says).

Two baselines run on the same reports in the same order: the exact first console error
(what a plain error tracker's fingerprint does), and TF-IDF cosine of title and
description against every earlier report of the product (nearest neighbour, joined at a
fixed 0.5: the threshold is not tuned on these reports).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert

from bugline.db.engine import make_sync_engine
from bugline.db.migrate import upgrade
from bugline.db.models import Project, Report, Reporter, ReportStatus, new_id
from bugline.grouping import assign, suggest
from bugline.triage.duplicates import DuplicateRules, signature
from bugline.triage.engine import bounded
from bugline.triage.report import TriageInput

PROBES = Path(__file__).with_name("probes") / "duplicates"
REPORTS = cast(Table, Report.__table__)
REPORTERS = cast(Table, Reporter.__table__)
PROJECTS = cast(Table, Project.__table__)
TFIDF_THRESHOLD = 0.5

# Where a placement put a report: the label of the group it joined (a group is named by its
# first report's id), or None for a new group.
Placer = Callable[[list[dict[str, Any]]], list[str]]


def rows() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(PROBES.glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def _input(row: dict[str, Any]) -> TriageInput:
    """The engine's view of a report, as the server builds it from the stored one."""
    line = {k: v for k, v in row.items() if k not in ("bug", "note", "project", "reporter", "received")}
    line["received_at"] = row.get("received")  # the server's: when the report was stored
    ctx = row.get("context") or {}
    # The widget's captured browser and OS are report fields, not context, on the server.
    line.update({k: ctx[k] for k in ("browser", "os", "device") if isinstance(ctx.get(k), str)})
    return bounded(TriageInput.from_mapping(line))


def bugline_groups(project_rows: list[dict[str, Any]]) -> list[str]:
    """Each report's group id after the real grouping placed the reports one by one."""
    rules = DuplicateRules.default()
    with tempfile.TemporaryDirectory(prefix="bugline-dups-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'dups.db'}"
        upgrade(url)
        engine = make_sync_engine(url)
        try:
            project_id = new_id()
            reporters: dict[str, str] = {}
            out: list[str] = []
            with engine.begin() as conn:
                conn.execute(
                    insert(PROJECTS).values(
                        id=project_id, name="probe", public_key=new_id(), allowed_origins=[]
                    )
                )
            for n, row in enumerate(project_rows):
                who = row.get("reporter") or {}
                email = str(who.get("email") or f"anonymous-{n}")
                with engine.begin() as conn:
                    if email not in reporters:
                        reporters[email] = new_id()
                        conn.execute(
                            insert(REPORTERS).values(
                                id=reporters[email],
                                project_id=project_id,
                                email=email,
                                account=who.get("account"),
                                plan=who.get("plan"),
                            )
                        )
                    report_id = new_id()
                    conn.execute(
                        insert(REPORTS).values(
                            id=report_id,
                            project_id=project_id,
                            number=n + 1,
                            status_token_hash=report_id * 2,
                            status=ReportStatus.RECEIVED,
                            title=str(row.get("title") or "")[:500],
                            reporter_id=reporters[email],
                        )
                    )
                    placed = assign(
                        conn,
                        project_id=project_id,
                        report_id=report_id,
                        reporter_id=reporters[email],
                        sig=signature(_input(row), rules),
                        rules=rules,
                    )
                out.append(placed.group_id)
            return out
        finally:
            engine.dispose()


def suggestion_hits(project_rows: list[dict[str, Any]], groups: list[str]) -> tuple[int, int, int]:
    """For each repeat report grouping did not join to its bug: is an earlier report of its bug
    the first, or among the first three, of what the report page suggests (its own ranking,
    :func:`bugline.grouping.suggest.best`, over every earlier report of another group)?"""
    rules = DuplicateRules.default()
    inputs = [_input(r) for r in project_rows]
    sigs = [signature(x, rules) for x in inputs]
    texts = [suggest.words((x.title, x.description, x.actual), rules) for x in inputs]
    asked = first = top3 = 0
    for i, row in enumerate(project_rows):
        earlier_same = [j for j in range(i) if project_rows[j]["bug"] == row["bug"]]
        if not earlier_same or any(groups[j] == groups[i] for j in earlier_same):
            continue
        asked += 1
        earlier = ((groups[j], sigs[j], texts[j], j) for j in range(i) if groups[j] != groups[i])
        best = [j for _, _, j in suggest.best(sigs[i], texts[i], earlier, rules)]
        first += bool(best) and project_rows[best[0]]["bug"] == row["bug"]
        top3 += any(project_rows[j]["bug"] == row["bug"] for j in best)
    return asked, first, top3


def error_groups(project_rows: list[dict[str, Any]]) -> list[str]:
    """Baseline: the first console error, verbatim, is the fingerprint."""
    first: dict[str, str] = {}
    out: list[str] = []
    for row in project_rows:
        console = (row.get("context") or {}).get("console") or []
        message = next((str(c.get("message")) for c in console if c.get("message")), None)
        if message is None:
            out.append(row["id"])
            continue
        out.append(first.setdefault(message, row["id"]))
    return out


def tfidf_groups(project_rows: list[dict[str, Any]]) -> list[str]:
    """Baseline: the nearest earlier report by TF-IDF cosine of its words, at a fixed 0.5."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{r.get('title') or ''}\n{r.get('description') or ''}" for r in project_rows]
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    sims = (matrix @ matrix.T).toarray()
    out: list[str] = []
    for i in range(len(texts)):
        best = max(range(i), key=lambda j: sims[i, j], default=None)
        out.append(
            out[best] if best is not None and sims[i, best] >= TFIDF_THRESHOLD else project_rows[i]["id"]
        )
    return out


@dataclass
class Score:
    joined_right: int = 0  # its bug was reported before; it joined a group holding that bug
    joined_wrong: int = 0  # joined a group without its bug
    missed: int = 0  # its bug was reported before; it started a new group
    new_right: int = 0  # a new bug, a new group
    new_merged: int = 0  # a new bug joined another bug's group
    pair_tp: int = 0
    pair_fp: int = 0
    pair_fn: int = 0
    counts_right: int = 0  # bugs of several reporters whose last report's group counts exactly them
    counts_bugs: int = 0
    people: int = 0  # reporters of bugs told by several people
    people_seen: int = 0  # of them, those counted in the group of their bug's last report
    inflated: list[str] = field(default_factory=list)  # bugs whose group also counts strangers

    def add(
        self, project_rows: list[dict[str, Any]], groups: list[str], keep: Callable[[dict[str, Any]], bool]
    ) -> None:
        """Scores one product's placements; only reports ``keep`` selects are counted, but each
        is judged against every earlier report (a mail may rightly join a widget report's group)."""
        seen_bugs: set[str] = set()
        members: dict[str, list[int]] = defaultdict(list)
        for i, (row, group) in enumerate(zip(project_rows, groups, strict=True)):
            bug = row["bug"]
            earlier = members[group]
            if keep(row):
                if not earlier:
                    self.missed += bug in seen_bugs
                    self.new_right += bug not in seen_bugs
                elif any(project_rows[j]["bug"] == bug for j in earlier):
                    self.joined_right += 1
                elif bug in seen_bugs:
                    self.joined_wrong += 1
                else:
                    self.new_merged += 1
            earlier.append(i)
            seen_bugs.add(bug)
        kept = [(r, g) for r, g in zip(project_rows, groups, strict=True) if keep(r)]
        for (a, ga), (b, gb) in combinations(kept, 2):
            same_bug, same_group = a["bug"] == b["bug"], ga == gb
            self.pair_tp += same_bug and same_group
            self.pair_fp += same_group and not same_bug
            self.pair_fn += same_bug and not same_group
        last: dict[str, int] = {}
        for i, row in enumerate(project_rows):
            last[row["bug"]] = i
        for bug, i in last.items():
            truth = _people(r for r in project_rows if r["bug"] == bug)
            if len(truth) < 2:
                continue
            self.counts_bugs += 1
            seen = _people(project_rows[j] for j in members[groups[i]] if j <= i)
            self.counts_right += seen == truth
            self.people += len(truth)
            self.people_seen += len(seen & truth)
            if seen - truth:
                self.inflated.append(bug)

    def pairs(self) -> tuple[str, str, str]:
        """Pair precision, recall and F1 as printed ("-" where no pair decides it)."""
        p = self.pair_tp / (self.pair_tp + self.pair_fp) if self.pair_tp + self.pair_fp else None
        r = self.pair_tp / (self.pair_tp + self.pair_fn) if self.pair_tp + self.pair_fn else None
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
        return tuple("-" if v is None else f"{v:.2f}" for v in (p, r, f1))  # type: ignore[return-value]


def _people(project_rows: Iterable[dict[str, Any]]) -> set[str]:
    return {str((r.get("reporter") or {}).get("email") or r["id"]) for r in project_rows}


def by_project(all_rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in all_rows:
        out[r["project"]].append(r)
    return out


def score(place: Placer, all_rows: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> Score:
    s = Score()
    for project_rows in by_project(all_rows).values():
        s.add(project_rows, place(project_rows), keep)
    return s


def _widget(row: dict[str, Any]) -> bool:
    return bool(row.get("context"))


def report(shared: Path | None = None, verdicts: dict[str, dict[str, Any]] | None = None) -> str:
    all_rows = rows()
    bugs = Counter(r["bug"] for r in all_rows)
    placers: list[tuple[str, Placer]] = [
        ("Bugline (`bugline.grouping.assign`)", bugline_groups),
        ("baseline: same first console error, verbatim", error_groups),
        (f"baseline: TF-IDF cosine of the words >= {TFIDF_THRESHOLD}", tfidf_groups),
    ]
    lines = [
        "## Duplicate grouping on invented customer reports",
        "",
        f"{len(all_rows)} reports of {len(bugs)} bugs in {len(by_project(all_rows))} invented products "
        f"({sum(1 for n in bugs.values() if n == 1)} bugs reported once, the largest {max(bugs.values())} "
        f"times; {sum(map(_widget, all_rows))} reports from the widget with captured context, the rest "
        "mail or API text only), `tests/eval/probes/duplicates/`, written and labelled blind by a "
        "helper session that had not read the matching rules. Placed in arrival order by each method; "
        "see `tests/eval/duplicates.py` for what each column counts. A probe, not a benchmark: the "
        "reports are invented, and rules changed after reading the misses are marked in docs/decisions.md.",
        "",
        "| method | reports | repeat: joined its bug | repeat: joined another | repeat: new group "
        "| new bug: new group | new bug: merged | pair P | pair R | pair F1 | reporters counted "
        "| reporter counts right |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    subsets: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
        ("all", lambda r: True),
        ("widget", _widget),
        ("text only", lambda r: not _widget(r)),
    ]
    inflated: list[str] = []
    for name, place in placers:
        cache: dict[str, list[str]] = {}

        def cached(
            project_rows: list[dict[str, Any]], place: Placer = place, cache: dict[str, list[str]] = cache
        ) -> list[str]:
            key = project_rows[0]["project"]
            if key not in cache:
                cache[key] = place(project_rows)
            return cache[key]

        for subset, keep in subsets:
            s = score(cached, all_rows, keep)
            p, r, f1 = s.pairs()
            n = s.joined_right + s.joined_wrong + s.missed + s.new_right + s.new_merged
            counts = (
                f"{s.people_seen} / {s.people} | {s.counts_right} / {s.counts_bugs}"
                if subset == "all"
                else " | "
            )
            lines.append(
                f"| {name if subset == 'all' else '&nbsp;&nbsp;↳ ' + subset} | {n} | {s.joined_right} | "
                f"{s.joined_wrong} | {s.missed} | {s.new_right} | {s.new_merged} | {p} | {r} | {f1} | {counts} |"
            )
            if subset == "all" and place is bugline_groups:
                inflated = s.inflated
    asked = first = top3 = 0
    for project_rows in by_project(all_rows).values():
        a, f, t = suggestion_hits(project_rows, bugline_groups(project_rows))
        asked, first, top3 = asked + a, first + f, top3 + t
    lines += [
        "",
        f"Suggested on the report page (`bugline.grouping.suggest`): of the {asked} repeat reports "
        f"Bugline did not join to their bug's group, {first} have an earlier report of their bug as "
        f"the first suggestion and {top3} among the {suggest.LIMIT} suggested, a click from merging.",
        "",
        "Pairs in the subsets are pairs of reports both in the subset. *Reporters counted*: of the people "
        "who reported a bug several people reported, how many the group of that bug's last report counts "
        '(what severity\'s "+ N customers reported the same problem" reads); *reporter counts right*: '
        "the bugs whose group counts exactly their reporters. Bugline groups that also count strangers: "
        f"{', '.join(sorted(set(inflated))) or 'none'}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
