"""`make soak`: the long form of the load-and-faults suite, its figures written into BENCHMARKS.md.

    .venv/bin/python -m tests.soak.run [--short] [--no-write]

Only the block between ``<!-- bench:soak -->`` and ``<!-- /bench:soak -->`` is rewritten (appended
with a heading when missing). A run that finds a problem prints it, writes nothing and exits 1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import subprocess
import sys

from tests.bench.run import BENCHMARKS, cpu_model, nproc, replace_block, seaweed_version
from tests.soak.figures import markdown, summary
from tests.soak.scenario import Plan, run
from tests.soak.services import pg_bindir

HEADING = "## Load and faults (`make soak`)"


def postgres_version() -> str:
    """The version of the binaries the private cluster runs (the shared server is never asked)."""
    out = subprocess.run(
        [str(pg_bindir() / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
    )
    found = re.search(r"\(PostgreSQL\) (\d+(?:\.\d+)*)", out.stdout)
    return found.group(1) if found else out.stdout.strip()


def machine() -> str:
    load = os.getloadavg()[0]
    return (
        f"Machine: {nproc()} cores, {cpu_model()}; PostgreSQL {postgres_version()} (a private cluster), "
        f"SeaweedFS {seaweed_version()}. Load average before the run: {load:.2f} (the machine is shared)."
    )


def write(block: str) -> None:
    text = BENCHMARKS.read_text()
    if "<!-- bench:soak -->" not in text:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\n<!-- bench:soak -->\n<!-- /bench:soak -->\n"
    BENCHMARKS.write_text(replace_block(text, "soak", block))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="the short form (what make test runs)")
    parser.add_argument(
        "--no-write", action="store_true", help="print the figures, leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the clusters and processes are still stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    plan = Plan.short() if args.short else Plan.long()
    info = machine()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = run(plan, log=lambda line: print(line, flush=True))
    print(summary(result), flush=True)
    if result.problems:
        return 1
    if not args.no_write:
        write(markdown(result, date=date, machine=info, command="make soak"))
        print(f"wrote the soak block of {BENCHMARKS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
