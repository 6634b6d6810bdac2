"""The soak's figures in words and tables: the test's failure message and the BENCHMARKS.md block."""

from __future__ import annotations

from collections import Counter

from tests.soak.scenario import Result, percentile


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def latency_line(result: Result) -> str:
    every = result.latencies()
    first = result.latencies(first_try_only=True)
    return (
        f"all accepted reports ({len(every)}, retries and backoff included): p50 {_ms(percentile(every, 50))}, "
        f"p95 {_ms(percentile(every, 95))}, p99 {_ms(percentile(every, 99))}; "
        f"those through on the first try ({len(first)}): p50 {_ms(percentile(first, 50))}, "
        f"p95 {_ms(percentile(first, 95))}, p99 {_ms(percentile(first, 99))}"
    )


def _retries(counter: Counter[str] | None) -> str:
    if not counter:
        return "none"
    return ", ".join(f"{what} x{n}" for what, n in counter.most_common())


def summary(result: Result) -> str:
    """Plain text, for the console and a failing test's message."""
    plan = result.plan
    lines = [
        f"soak ({plan.name}): {plan.reporters} reporters, {plan.load_seconds:g} s of load, "
        f"{result.seconds:.0f} s in all (drain {result.drain_seconds:.0f} s)",
        f"submissions {len(result.submissions)} ({result.accepted / plan.load_seconds:.1f}/s accepted), "
        f"accepted {result.accepted}, stored {result.stored}, "
        f"delivered {result.delivered}, report rows {result.report_rows}",
        f"helpdesk: {result.raw_posts} verified POSTs, {result.resent} re-sends of a delivery id it already had",
        f"latency: {latency_line(result)}",
        f"errors: {len(result.errors)}",
    ]
    for w in result.faults:
        lines.append(
            f"fault {w.name} at +{w.start - result.started:.0f} s ({w.note or f'{w.end - w.start:.1f} s'}): "
            f"reporters retried {_retries(result.retries_by_fault.get(w.name))}"
        )
    lines.append(f"failures outside any fault: {_retries(result.retries_by_fault.get('no fault'))}")
    lines.append(
        f"delivery attempts: {result.delivery_attempts} for {result.deliveries} deliveries; "
        + helpdesk_faults(result)
    )
    if result.problems:
        lines.append(f"PROBLEMS ({len(result.problems)}):")
        lines += [f"- {p}" for p in result.problems[:50]]
    return "\n".join(lines)


def helpdesk_faults(result: Result) -> str:
    faults = result.helpdesk_faults
    if not faults:
        return "the helpdesk misbehaved for none"
    return "the helpdesk misbehaved for " + ", ".join(f"{n} ({what})" for what, n in faults.most_common())


def markdown(result: Result, *, date: str, machine: str, command: str) -> str:
    """The ``<!-- bench:soak -->`` block of BENCHMARKS.md."""
    plan = result.plan
    rows = [
        "| Fault | At | What happened | Reporters' failed requests (all retried) |",
        "|---|---|---|---|",
    ]
    for w in result.faults:
        note = w.note or f"took {w.end - w.start:.1f} s"
        rows.append(
            f"| {w.name} | +{w.start - result.started:.0f} s | {note} | {_retries(result.retries_by_fault.get(w.name))} |"
        )
    rows.append(f"| (none) | | | {_retries(result.retries_by_fault.get('no fault'))} |")
    verdict = "**Passed**" if not result.problems else f"**Failed** ({len(result.problems)} problems)"
    return "\n".join(
        [
            f"Last run: {date}, `{command}` ({plan.name} form), {result.seconds / 60:.1f} min. {machine}",
            "",
            f"{plan.reporters} concurrent reporters (asyncio + httpx, retrying as the widget does) sent reports with a "
            f"real PNG screenshot (20-180 KB) for {plan.load_seconds:g} s to 2 `bugline serve` processes, with 2 "
            "`bugline worker` processes triaging and forwarding to a signed webhook receiver, on a private "
            "PostgreSQL cluster and SeaweedFS S3; then the outbox drained "
            f"({result.drain_seconds:.0f} s). Throughput: {result.accepted / plan.load_seconds:.1f} reports "
            "accepted per second; everything (the reporters, the receiver, PostgreSQL, SeaweedFS and the 4 "
            "Bugline processes) shares the machine's cores, so the latencies are this machine's, under "
            "its other load too.",
            "",
            "| Reports | Count |",
            "|---|---|",
            f"| submitted (distinct Idempotency-Keys) | {len(result.submissions)} |",
            f"| accepted (finalize answered `received`) | {result.accepted} |",
            f"| stored (past `awaiting_media`, screenshot verified, size and SHA-256 as sent, in the bucket) | {result.stored} |",
            f"| delivered (distinct reports at the helpdesk, one delivery id each) | {result.delivered} |",
            f"| report rows in the database | {result.report_rows} |",
            f"| errors (a 500, a non-retryable answer, a submission that never got through) | {len(result.errors)} |",
            "",
            f"Latency of create + upload + finalize as the reporter lives it: {latency_line(result)}.",
            "",
            *rows,
            "",
            f"Deliveries: {result.delivery_attempts} attempts for {result.deliveries} deliveries; "
            f"{helpdesk_faults(result)}. The helpdesk took {result.raw_posts} verified POSTs, of which "
            f"{result.resent} re-sent a delivery id it already had (the answer was lost: a hang after the "
            "helpdesk acted, or a worker killed mid-call whose lease ran out): "
            "at-least-once delivery, exactly one ticket per report after the receiver's de-duplication on "
            "`Bugline-Webhook-Id`.",
            "",
            f"{verdict}: accepted = stored = delivered = rows, no duplicate ticket, no delivery pending or failed, "
            "no report left half-written.",
        ]
    )
