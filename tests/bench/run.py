"""`make bench`: run every benchmark, print the tables, and record them in BENCHMARKS.md.

    .venv/bin/python -m tests.bench.run [--only intake|upload|widget|duplicates|triage|outbox|inbox|reportpage]
                                        [--no-write]

Only the blocks between the ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` markers of
BENCHMARKS.md are rewritten (run, intake, upload, widget-size, widget-host, widget-screenshot,
duplicates, triage, outbox, inbox, reportpage); any other text in the file is kept.
A block whose markers are missing is appended. Nothing is written when a benchmark fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from tests.bench import duplicates, inbox, intake, outbox, reportpage, triage, upload, widget_screenshot
from tests.bench.common import PG_ADMIN_DSN, ROOT, event_loop_name, http_impl_name
from tests.support.seaweed import find_weed

BENCHMARKS = ROOT / "BENCHMARKS.md"
RESULTS_JSON = ROOT / ".bench" / "results.json"  # the raw numbers of the last run (git-ignored)
COMMAND = "make bench"
BENCHES = ["intake", "upload", "widget", "duplicates", "triage", "outbox", "inbox", "reportpage"]
HEADER = """# Benchmarks

What `make bench` measures and what it found on the machine described below. The code is in
[tests/bench/](tests/bench/); each section says what it compares, how, and against which target.
The benchmarks measure and report; they never fail on a number.
"""


def log(message: str) -> None:
    print(message, flush=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


def postgres_version() -> str:
    try:
        with psycopg.connect(PG_ADMIN_DSN) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split(" ")[0] if row else "unknown"
    except psycopg.Error:
        return "unknown"


def seaweed_version() -> str:
    try:
        out = subprocess.run([find_weed(), "version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError, RuntimeError):
        return "unknown"
    match = re.search(r"\b(\d+\.\d+)\b", out)
    return match.group(1) if match else "unknown"


def machine() -> dict[str, str]:
    load = os.getloadavg()
    return {
        "cores": nproc(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "postgresql": postgres_version(),
        "seaweedfs": seaweed_version(),
        "server": f"uvicorn, 1 worker, loop {event_loop_name()}, HTTP {http_impl_name()}, no access log",
        "load_before": f"{load[0]:.2f}",
    }


def run_block(info: dict[str, str], date: str, seconds: float, ran: list[str]) -> str:
    ran = list(dict.fromkeys(name.split("-")[0] for name in ran))  # widget-size, widget-host... -> widget
    command = COMMAND if len(ran) == len(BENCHES) else f"{COMMAND} ({' and '.join(ran)} only)"
    return (
        f"Last run: {date}, `{command}` (took {seconds / 60:.1f} min).\n"
        f"Machine: {info['cores']} cores (`nproc` = {info['cores']}), {info['cpu']}, {info['system']}; "
        f"Python {info['python']}, PostgreSQL {info['postgresql']}, SeaweedFS {info['seaweedfs']}. "
        f"Servers run as {info['server']}, on 127.0.0.1. "
        f"Load average before the run: {info['load_before']} (the machine is shared; other work "
        "running at the same time slows some rounds down)."
    )


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def intake_block(results: list[intake.IntakeResult]) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

    def cpu(res: intake.LoadResult) -> str:
        return fmt(res.cpu_ms, 2) if res.cpu_ms is not None else ""

    body_bytes = results[0].bugline.body_bytes if results else 0
    lines = [
        "`POST /api/v1/reports` with a realistic widget report (no files) against a bare Starlette app "
        "([baseline.py](tests/bench/baseline.py)) that parses the same JSON and inserts the same `reports` row "
        "with the same SQLAlchemy async engine and driver (aiosqlite, psycopg 3) into a database migrated the "
        "same way, but validates nothing, looks up no project, stores no reporter and no timeline events. "
        "Each server runs alone in its own uvicorn process on a fresh database; the load generator "
        f"([load.py](tests/bench/load.py)) is another process: httpx, HTTP/1.1 keep-alive, {intake.CONCURRENCY} "
        f"requests in flight, {intake.WARMUP} warm-up requests, then {intake.REQUESTS:,} measured ones, each with "
        f"its own `Idempotency-Key`, the project's key and an allowlisted `Origin` (body {body_bytes:,} bytes). "
        f"Best of {intake.ROUNDS} rounds per server (baseline and Bugline alternate). "
        "Every accepted report is also triaged (engine and duplicate group: see the two triage sections "
        "below), in one of two deployments: *triage in the web process* (the default, "
        "`BUGLINE_TRIAGE_IN_WEB=true`: the app's own loop, on the same core as the requests) and "
        "*web + `bugline worker`* (the web process only accepts; one worker process triages). "
        "*Triaged after* is how long after the last response the last report got its verdict. "
        "On this two-core machine the load generator, the server and the worker share the cores, so "
        "*CPU per request* is also given: the server process's (and the worker's) user + system CPU time from the "
        "first measured request until every report was triaged, divided by the requests (PostgreSQL's own "
        "backends not included); unlike requests/s it hardly moves when other work shares the machine.",
        "",
        "| database | server | requests/s | p50 latency (ms) | p99 latency (ms) | triaged after (s) "
        "| CPU per request (ms) | Bugline / baseline |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        db = names.get(r.database, r.database)
        lines.append(
            f"| {db} | baseline | {fmt(r.baseline.rps, 0)} | {fmt(r.baseline.p50_ms)} | {fmt(r.baseline.p99_ms)} "
            f"| | {cpu(r.baseline)} | |"
        )
        for label, res, ratio in (
            ("Bugline, triage in the web process", r.bugline, r.ratio),
            ("Bugline, web + `bugline worker`", r.worker, r.worker_ratio),
        ):
            if res is None or ratio is None:
                continue
            drained = fmt(res.drain_s) if res.drain_s is not None else ""
            lines.append(
                f"| {db} | {label} | {fmt(res.rps, 0)} | {fmt(res.p50_ms)} | {fmt(res.p99_ms)} | {drained} "
                f"| {cpu(res)} | **{ratio:.2f}** |"
            )
    met = all(r.met for r in results)
    ratios = ", ".join(f"{names.get(r.database, r.database)} {r.ratio:.2f}" for r in results)
    worker_ratios = ", ".join(
        f"{names.get(r.database, r.database)} {r.worker_ratio:.2f}" for r in results if r.worker_ratio
    )
    lines += [
        "",
        f"Target: Bugline's throughput at least {intake.TARGET_RATIO} of the baseline's on each database. "
        f"Default deployment: **{'Met' if met else 'Not met'}** ({ratios}); with a worker: {worker_ratios}.",
    ]
    return "\n".join(lines)


def upload_block(result: upload.UploadResult) -> str:
    base = result.baseline.mb_per_s
    p, f = result.presigned, result.form
    size = upload.FILE_SIZE // upload.MB

    def rss(value: float | None) -> str:
        return "" if value is None else f"{value:.1f} MB"

    lines = [
        f"A {size} MB screen recording (a WebM header, then incompressible bytes) into a real SeaweedFS S3 on "
        "loopback, three ways: plain boto3 `upload_file` with its default TransferConfig (the baseline); "
        "Bugline's browser flow (create the report with a `recording` slot, PUT the parts to the presigned part "
        f"URLs streaming from the file, {upload.PARTS_IN_FLIGHT} in flight, `complete_url`, then `finalize_url`, "
        "where Bugline reads the whole object back to check its type and SHA-256); and the "
        "`POST /api/v1/reports/form` endpoint with the file as the `recording` field, streamed by the client, "
        "which Bugline spools to a temporary file and then uploads to S3. MB = 10^6 bytes. A "
        f"{upload.WARMUP_SIZE // upload.MB} MB recording goes through every path first, unmeasured. "
        f"Median of {result.rounds} rounds; the memory column is the largest growth of the Bugline server's peak "
        "resident set (VmHWM after, reset with `clear_refs`, minus VmRSS before) seen in any round.",
        "",
        "| path | seconds | MB/s | ratio to baseline | Bugline peak RSS growth |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| baseline: boto3 `upload_file` | {result.baseline.seconds:.2f} | {fmt(base)} | 1.00 | |",
    ]
    if p.upload_seconds and p.upload_mb_per_s:
        lines.append(
            f"| presigned parts: the part uploads alone | {p.upload_seconds:.2f} | {fmt(p.upload_mb_per_s)} "
            f"| {p.upload_mb_per_s / base:.2f} | |"
        )
    lines += [
        f"| presigned parts: create + upload + complete + finalize | {p.seconds:.2f} | {fmt(p.mb_per_s)} "
        f"| {p.mb_per_s / base:.2f} | {rss(p.rss_growth_mb)} |",
        f"| `POST /api/v1/reports/form` (multipart/form-data) | {f.seconds:.2f} | {fmt(f.mb_per_s)} "
        f"| {f.mb_per_s / base:.2f} | {rss(f.rss_growth_mb)} |",
        "",
        f"Target: the Bugline server's peak RSS grows by less than {upload.TARGET_RSS_MB:.0f} MB on either path. "
        f"**{'Met' if result.rss_met else 'Not met'}** (presigned {rss(p.rss_growth_mb)}, "
        f"form {rss(f.rss_growth_mb)}). The warm-up pass ({upload.WARMUP_SIZE // upload.MB} MB, the first "
        "request of each kind the server saw) grew it by "
        f"{rss(result.warmup_growth_mb.get('presigned'))} (presigned) and {rss(result.warmup_growth_mb.get('form'))} "
        "(form): one-time loading, not proportional to the file.",
    ]
    return "\n".join(lines)


def replace_block(text: str, name: str, content: str) -> str:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{content.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip("\n") + f"\n\n{block}\n"


def default_document() -> str:
    return (
        HEADER
        + "\n<!-- bench:run -->\n<!-- /bench:run -->\n"
        + "\n## Intake throughput and latency\n\n<!-- bench:intake -->\n<!-- /bench:intake -->\n"
        + "\n## A 200 MB recording upload\n\n<!-- bench:upload -->\n<!-- /bench:upload -->\n"
        + "\n## Widget size\n\n<!-- bench:widget-size -->\n<!-- /bench:widget-size -->\n"
        + "\n## Widget cost to the host page\n\n<!-- bench:widget-host -->\n<!-- /bench:widget-host -->\n"
        + "\n## Screenshot capture\n\n<!-- bench:widget-screenshot -->\n<!-- /bench:widget-screenshot -->\n"
        + "\n## Duplicate matching as the store grows\n\n<!-- bench:duplicates -->\n<!-- /bench:duplicates -->\n"
        + "\n## Triage scoring per report\n\n<!-- bench:triage -->\n<!-- /bench:triage -->\n"
        + "\n## Inbox page server time\n\n<!-- bench:inbox -->\n<!-- /bench:inbox -->\n"
        + "\n## Report page: suggested duplicates\n\n<!-- bench:reportpage -->\n<!-- /bench:reportpage -->\n"
    )


def write_benchmarks(blocks: dict[str, str]) -> None:
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else default_document()
    for name, content in blocks.items():
        text = replace_block(text, name, content)
    BENCHMARKS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and record them in BENCHMARKS.md.")
    parser.add_argument("--only", choices=BENCHES, help="run one benchmark")
    parser.add_argument("--no-write", action="store_true", help="print the tables, leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    # A stopped run still stops its servers and drops its databases: SIGTERM unwinds like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    info = machine()
    started = time.monotonic()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    blocks: dict[str, str] = {}
    raw: dict[str, Any] = {"machine": info, "date": date}
    with tempfile.TemporaryDirectory(prefix="bugline-bench-") as tmp:
        tmpdir = Path(tmp)
        if args.only in (None, "intake"):
            (tmpdir / "intake").mkdir()
            results = intake.run_intake(tmpdir / "intake", log)
            blocks["intake"] = intake_block(results)
            raw["intake"] = [dataclasses.asdict(r) | {"ratio": r.ratio} for r in results]
        if args.only in (None, "upload"):
            (tmpdir / "upload").mkdir()
            result = upload.run_upload(tmpdir / "upload", log)
            blocks["upload"] = upload_block(result)
            raw["upload"] = dataclasses.asdict(result)
        if args.only in (None, "widget"):
            (tmpdir / "widget").mkdir()
            widget_blocks, raw["widget"] = widget_screenshot.run_widget(tmpdir / "widget", log)
            blocks.update(widget_blocks)
        if args.only in (None, "duplicates"):
            (tmpdir / "duplicates").mkdir()
            dup_results = duplicates.run_duplicates(tmpdir / "duplicates", log)
            blocks["duplicates"] = duplicates.duplicates_block(dup_results)
            raw["duplicates"] = [dataclasses.asdict(r) for r in dup_results]
        if args.only in (None, "triage"):
            triage_result = triage.run_triage(log)
            blocks["triage"] = triage.block(triage_result)
            raw["triage"] = dataclasses.asdict(triage_result) | {"ratio": triage_result.ratio}
        if args.only in (None, "outbox"):
            blocks["outbox"], raw["outbox"] = outbox.run_outbox(tmpdir, log)
        if args.only in (None, "inbox"):
            blocks["inbox"], raw["inbox"] = inbox.run_inbox(tmpdir, log)
        if args.only in (None, "reportpage"):
            blocks["reportpage"], raw["reportpage"] = reportpage.run_reportpage(tmpdir, log)
    seconds = time.monotonic() - started
    blocks = {"run": run_block(info, date, seconds, list(blocks)), **blocks}
    print()
    for name, content in blocks.items():
        print(f"## {name}\n\n{content}\n")
    if not args.no_write:
        write_benchmarks(blocks)
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(raw, indent=2) + "\n")
        print(f"Wrote {BENCHMARKS.relative_to(ROOT)} (raw numbers in {RESULTS_JSON.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
