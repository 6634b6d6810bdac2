"""`make eval`: the triage engine on the shared, human-labelled data sets, next to baselines.

    .venv/bin/python -m tests.eval.run [--shared DIR] [--only completeness|severity|styles|duplicates|classify]
                                       [--no-write]

Reads ``../shared/datasets/`` (relative to the repository) when it is there; nothing from it
is copied into the project. Each part's module (tests/eval/completeness.py, severity.py)
builds the input lines, this runner feeds them to the real ``bugline triage`` command (the
same path the held-out judge uses) and hands the verdicts back to the module, which prints
its metrics and the baselines it computed in the same run. The Markdown sections land in
BENCHMARKS.md between ``<!-- bench:eval-... -->`` markers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.bench.common import ROOT
from tests.bench.run import BENCHMARKS, replace_block
from tests.eval import classify, completeness, duplicates, severity, styles

DEFAULT_SHARED = ROOT.parent / "shared"
PARTS: dict[str, ModuleType] = {
    "completeness": completeness,
    "severity": severity,
    "styles": styles,
    "duplicates": duplicates,
    "classify": classify,
}
OWN = {
    "styles",
    "duplicates",
    "classify",
}  # parts that read the project's own probes, not the shared data sets
# Parts that run the real code in-process instead of `bugline triage` (which gives no group).
IN_PROCESS = {"duplicates"}


def triage_cli(
    inputs: list[dict[str, Any]], workdir: Path, name: str
) -> tuple[dict[str, dict[str, Any]], float]:
    """Runs `bugline triage` on the inputs; returns the verdicts by id and the wall time."""
    src, out = workdir / f"{name}.in.jsonl", workdir / f"{name}.out.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in inputs), encoding="utf-8")
    bugline = Path(sys.executable).with_name("bugline")
    started = time.perf_counter()
    proc = subprocess.run(
        [str(bugline), "triage", "--in", str(src), "--out", str(out)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"bugline triage failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    verdicts: dict[str, dict[str, Any]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        v = json.loads(line)
        verdicts[str(v["id"])] = v
    if len(verdicts) != len(inputs):
        raise SystemExit(f"bugline triage returned {len(verdicts)} verdicts for {len(inputs)} reports")
    return verdicts, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the triage engine on the shared labelled data.")
    parser.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder (holds datasets/)"
    )
    parser.add_argument("--only", choices=sorted(PARTS), help="evaluate one part")
    parser.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    datasets = args.shared / "datasets"
    present = datasets.is_dir()
    if not present:
        print(f"make eval: no data sets at {datasets} (they are not part of the project); the probes only")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    blocks: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bugline-eval-") as tmp:
        for name, module in PARTS.items():
            if (args.only and name != args.only) or (not present and name not in OWN):
                continue
            if name in IN_PROCESS:
                started = time.perf_counter()
                section = module.report()
                print(f"\n== {name}: {time.perf_counter() - started:.1f} s\n", flush=True)
                print(section, flush=True)
                blocks[f"eval-{name}"] = f"Measured {date} by `make eval`.\n\n{section}"
                continue
            inputs = module.build_inputs(args.shared)
            verdicts, seconds = triage_cli(inputs, Path(tmp), name)
            print(
                f"\n== {name}: `bugline triage` scored {len(inputs):,} reports in {seconds:.1f} s\n",
                flush=True,
            )
            section = module.report(args.shared, verdicts)
            # A report taken for a language the rules do not read is never asked for facts: on
            # these English and German/French sets that must not happen, so it is counted.
            foreign = sum(1 for v in verdicts.values() if v["completeness"].get("unread_language"))
            blocks[f"eval-{name}"] = (
                f"Measured {date} by `make eval` (`bugline triage` over {len(inputs):,} reports, "
                f"{seconds:.1f} s including start-up; {foreign} taken for a language the rules do "
                f"not read).\n\n{section}"
            )
    if not args.no_write:
        text = BENCHMARKS.read_text(encoding="utf-8")
        for name, block in blocks.items():
            text = replace_block(text, name, block)
        BENCHMARKS.write_text(text, encoding="utf-8")
        print(f"\nrecorded in {BENCHMARKS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
