"""The dry-run as text: where a report would go and, rule by rule, why (for ``bugline route dry-run``)."""

from __future__ import annotations

import re

from bugline.routing.engine import Plan

# Plans quote the customer's own values (plan, account, page URL): a terminal must never
# receive their control characters (an escape sequence could rewrite what the agent sees).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def explain(plan: Plan) -> str:
    f = plan.facts
    facts = [f"{f.severity} {str(f.kind).replace('_', ' ')}"]
    facts.append(f"categories {', '.join(sorted(f.categories))}" if f.categories else "no category")
    facts.append(f"completeness {f.completeness}")
    facts.extend(
        f"{label} {value}"
        for label, value in (("plan", f.plan), ("account", f.account), ("page", f.page_url))
        if value
    )
    if f.status != "received":
        facts.append(f"status {f.status}")
    lines = [f"Report: {'; '.join(facts)}", f"Result: {plan.summary}"]
    if plan.targets:
        lines += ["", "Destinations:"]
        for d in plan.targets:
            lines.append(f"  {d.connector} ({d.kind})")
            lines.extend(f"      {key}: {value}" for key, value in d.options.items())
            if d.tags:
                lines.append(f"      tags: {', '.join(d.tags)}")
            lines.append(f"      chosen by: {', '.join(d.rules)}")
    if plan.trace:
        lines += ["", "Rules, in order:"]
        for i, step in enumerate(plan.trace, 1):
            if not step.evaluated:
                lines.append(
                    f"  {i}. {step.rule}: skipped, {step.reasons[0].removeprefix('not evaluated: ')}"
                )
                continue
            if step.matched:
                sent = f" -> {', '.join(step.sent_to)}" if step.sent_to else " -> nothing sent"
                lines.append(f"  {i}. {step.rule}: MATCHED{sent}")
            else:
                lines.append(f"  {i}. {step.rule}: no match")
            lines.extend(f"       - {reason}" for reason in step.reasons)
            lines.extend(f"       ! {note}" for note in step.notes)
    elif not plan.blocked:
        lines += ["", "No rules: the project replaced the defaults with an empty list."]
    return "\n".join(_CONTROL.sub("?", line) for line in lines) + "\n"
