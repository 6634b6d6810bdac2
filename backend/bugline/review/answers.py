"""The sentence on top of each of the SOP's four questions, pure: the answer first, the
tables and charts below are the evidence. Plain text (the page escapes it): report titles
are the customers' words."""

from __future__ import annotations

from bugline.review.data import Ref, Review
from bugline.review.figures import Timing, span
from bugline.sla.targets import SEVERITIES

# A share of hand-changed severities above which the page suggests revisiting the
# definitions: one report in ten re-rated means agents disagree with triage routinely,
# not on the odd edge case (the SOP: "Are the severity definitions still accurate?").
REVISIT_SHARE = 10


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def name(ref: Ref) -> str:
    title = " ".join(ref.title.split())
    title = title if len(title) <= 80 else title[:79] + "…"
    return f"#{ref.number}" + (f" “{title}”" if title else "")


def late(timings: list[Timing]) -> int:
    return sum(t.count - t.within for t in timings if t.target is not None)


def slowest(r: Review) -> str:
    if not r.resolved:
        text = f"No report was resolved in {r.month.title}."
        if r.received:
            text += f" {r.still_open} of the {plural(r.received, 'report')} received then are still open."
        return text
    text = (
        f"{plural(r.resolved, 'report was', 'reports were')} resolved in {r.month.title}; "
        f"{late(r.resolution)} took longer than their resolution target."
    )
    if r.slowest:
        s = r.slowest[0]
        text += (
            f" The slowest was {name(s.report)} ({s.report.severity or 'unrated'}, {span(s.took)} "
            f"against a {span(s.target)} target): {s.why}."
        )
    return text


def responses(r: Review) -> str:
    if not r.received:
        return f"No report was received in {r.month.title}."
    return (
        f"{r.responded} of the {plural(r.received, 'report')} received in {r.month.title} "
        f"had a first response; {late(r.first_response)} of those came later than the target."
    )


def failures(r: Review) -> str:
    if not (r.breaches or r.failure_count or r.unheard):
        return f"No SLA target was missed and no escalation failed in {r.month.title}."
    parts: list[str] = []
    if r.breaches:
        first = sum(1 for b in r.breaches if b.target == "first_response")
        reports = len({b.report_id for b in r.breaches})
        still = sum(1 for b in r.breaches if b.open)
        worst = r.breaches[0]
        parts.append(
            f"{plural(len(r.breaches), 'SLA target was', 'SLA targets were')} missed on "
            f"{plural(reports, 'report')} ({plural(first, 'first response')}, "
            f"{plural(len(r.breaches) - first, 'resolution')}), {still} still unmet; the worst: "
            f"#{worst.number} ({worst.severity}, {span(worst.overdue)} past its "
            f"{worst.target.replace('_', ' ')} target)."
        )
    else:
        parts.append("No SLA target was missed.")
    if r.failure_count:
        parts.append(
            f"{plural(r.failure_count, 'delivery', 'deliveries')} to the team failed for good "
            f"({r.failed_escalations} of them SLA escalations)."
        )
    else:
        parts.append("No delivery to the team failed.")
    if r.unheard:
        parts.append(
            f"{plural(r.unheard, 'SLA escalation')} of {r.escalations} reached no team lead: "
            "no connector has the lead role."
        )
    return " ".join(parts)


def severity(r: Review) -> str:
    if not r.change_count:
        return f"No severity was changed by hand in {r.month.title}: triage's severities stood."
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    raised = sum(n for (b, a), n in r.change_pairs.items() if b in rank and a in rank and rank[a] < rank[b])
    lowered = sum(n for (b, a), n in r.change_pairs.items() if b in rank and a in rank and rank[a] > rank[b])
    share = r.changed_reports * 100 // r.rated if r.rated else None
    text = (
        f"Agents changed the severity by hand {plural(r.change_count, 'time')} on "
        f"{plural(r.changed_reports, 'report')}"
        + (f" ({share}% of the {r.rated} rated this month)" if share is not None else "")
        + f": {raised} raised, {lowered} lowered."
    )
    if r.change_pairs:
        (b, a), n = next(iter(r.change_pairs.items()))
        text += f" Most often {b} → {a} ({n})."
    if share is not None and share >= REVISIT_SHARE:
        text += " That is one report in ten or more: the severity definitions may need another look."
    return text


def repeated(r: Review) -> str:
    if not r.repeated_groups:
        text = f"No problem was reported more than once in {r.month.title}."
    else:
        top = r.repeated[0]
        text = (
            f"{plural(r.repeated_groups, 'problem was', 'problems were')} reported more than once "
            f"({plural(r.repeated_reports, 'report')} this month)"
        )
        if top.primary is not None:
            text += (
                f"; the most repeated: {name(top.primary)}, {plural(top.this_month, 'report')} this month "
                f"({plural(top.people, 'person', 'people')}, {plural(top.accounts, 'account')} in all)"
            )
        text += "."
    grown = [(k, now, before) for k, now, before in r.categories if now > before]
    if grown:
        k, now, before = max(grown, key=lambda c: (c[1] - c[2], c[0]))
        text += f" Reports in {k} grew the most: {before} the month before, {now} this month."
    return text
