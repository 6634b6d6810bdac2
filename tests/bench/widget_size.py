"""Widget size: Bugline's loader and chunks next to peers' feedback widgets, in bytes, gzip and brotli.

Bugline's files are the committed build in backend/bugline/static/widget/ (manifest.json says
which chunks each one imports, so "with shared chunks" follows those imports). The peers are
installed from npm into .bench/peers/ (git-ignored, outside the package) and bundled the way an
app ships them: esbuild, bundled, minified, ESM, tree-shaken, NODE_ENV=production. The same
scratch folder holds the screenshot libraries widget_screenshot.py compares against.

gzip is level 9 (as the widget build's manifest), brotli is quality 11 (what a server that
precompresses static files uses). A sum is the sum of each file's own compressed size: the
browser fetches each chunk separately.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import brotli  # type: ignore[import-untyped]

from tests.bench.common import ROOT, BenchError

# BENCH_WIDGET_DIR measures another build (say `node widget/build.mjs --outdir DIR`) instead.
WIDGET_DIR = Path(os.environ.get("BENCH_WIDGET_DIR") or ROOT / "backend" / "bugline" / "static" / "widget")
PEERS_DIR = ROOT / ".bench" / "peers"
PEERS_DIST = PEERS_DIR / "dist"  # bundled peers; widget_screenshot.py serves its libraries from here
NPM_TIMEOUT = 300.0
ESBUILD_TIMEOUT = 120.0
# Budgets from the issue, in gzip bytes.
LOADER_BUDGET = 3 * 1024
CORE_BUDGET = 20 * 1024
# Major versions, so a later run measures the same generation of each package.
PEER_PACKAGES = {
    "@sentry/browser": "11",
    "@sentry/feedback": "11",
    "gleap": "16",
    "html2canvas": "1",
    "modern-screenshot": "4",
    "@zumer/snapdom": "3",
    "esbuild": "0.25",
}
DSN = "https://0123456789abcdef0123456789abcdef@o0.ingest.sentry.io/0"


@dataclass(frozen=True)
class PeerEntry:
    name: str  # as shown in the table
    package: str  # the npm package it needs
    source: str  # the app's entry module
    base: str | None = None  # the row this one adds to (its increment is shown)


PEER_ENTRIES = [
    PeerEntry(
        "Sentry base (`@sentry/browser`, `init` with its default integrations)",
        "@sentry/browser",
        f'import * as Sentry from "@sentry/browser";\nSentry.init({{ dsn: "{DSN}" }});\n',
    ),
    PeerEntry(
        "Sentry base + `feedbackIntegration()` (form and screenshot bundled)",
        "@sentry/browser",
        'import * as Sentry from "@sentry/browser";\n'
        f'Sentry.init({{ dsn: "{DSN}", integrations: [Sentry.feedbackIntegration()] }});\n',
        base="sentry-base",
    ),
    PeerEntry(
        "Sentry base + `feedbackAsyncIntegration()` (form fetched from Sentry's CDN on use)",
        "@sentry/browser",
        'import * as Sentry from "@sentry/browser";\n'
        f'Sentry.init({{ dsn: "{DSN}", integrations: [Sentry.feedbackAsyncIntegration()] }});\n',
        base="sentry-base",
    ),
    PeerEntry(
        "`@sentry/feedback` alone (the integration, with the parts of `@sentry/core` it uses)",
        "@sentry/feedback",
        "import { buildFeedbackIntegration, feedbackModalIntegration, feedbackScreenshotIntegration }"
        ' from "@sentry/feedback";\n'
        "export const feedback = buildFeedbackIntegration({ getModalIntegration: () => feedbackModalIntegration,"
        " getScreenshotIntegration: () => feedbackScreenshotIntegration })();\n",
    ),
    PeerEntry(
        "Gleap (`gleap`, `Gleap.initialize`)",
        "gleap",
        'import Gleap from "gleap";\nGleap.initialize("bench");\n',
    ),
]
PEER_IDS = ["sentry-base", "sentry-feedback", "sentry-feedback-async", "sentry-feedback-alone", "gleap"]
# The screenshot libraries, bundled as ES modules the benchmark page imports.
LIBRARY_ENTRIES = {
    "html2canvas": ("html2canvas", 'export { default } from "html2canvas";\n'),
    "modern-screenshot": (
        "modern-screenshot",
        'export { domToPng, domToCanvas } from "modern-screenshot";\n',
    ),
    "snapdom": ("@zumer/snapdom", 'export { snapdom } from "@zumer/snapdom";\n'),
}


@dataclass(frozen=True)
class Sizes:
    bytes: int
    gzip: int
    brotli: int

    def __add__(self, other: Sizes) -> Sizes:
        return Sizes(self.bytes + other.bytes, self.gzip + other.gzip, self.brotli + other.brotli)


ZERO = Sizes(0, 0, 0)


def measure(data: bytes) -> Sizes:
    return Sizes(
        len(data), len(gzip.compress(data, compresslevel=9, mtime=0)), len(brotli.compress(data, quality=11))
    )


@dataclass
class PeerRow:
    id: str
    name: str
    version: str | None  # None: not installed
    sizes: Sizes | None
    increment: Sizes | None = None  # over its base row
    error: str = ""


@dataclass
class SizeResult:
    source: str  # "manifest.json" or "*.js"
    files: dict[str, Sizes]  # Bugline file -> sizes ({} when not built)
    imports: dict[str, list[str]]
    groups: dict[str, tuple[list[str], Sizes]]  # "loader", "core", "everything" -> (files, sum)
    peers: list[PeerRow] = field(default_factory=list)
    missing_chunks: list[str] = field(default_factory=list)  # named chunks not in the build


# --- peers: install and bundle -------------------------------------------------------------


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )


def installed_version(package: str) -> str | None:
    try:
        data = json.loads((PEERS_DIR / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return str(data.get("version") or "") or None


def ensure_peers(log: Callable[[str], None]) -> dict[str, str]:
    """Install the peer packages into .bench/peers/ once; returns package -> version or "error: ...".

    One `npm install` of everything; if that fails, each package alone, so one package that
    cannot be installed does not hide the others.
    """
    npm = shutil.which("npm")
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{major}" for name, major in PEER_PACKAGES.items()]
    marker = PEERS_DIR / ".installed"
    status: dict[str, str] = {}
    if not (marker.exists() and marker.read_text() == "\n".join(specs)):
        if npm is None:
            return {name: "error: npm not found" for name in PEER_PACKAGES}
        log(f"widget: npm install into {PEERS_DIR.relative_to(ROOT)}: {' '.join(specs)}")
        if not (PEERS_DIR / "package.json").exists():
            (PEERS_DIR / "package.json").write_text('{"name": "bugline-bench-peers", "private": true}\n')
        base = [npm, "install", "--prefix", str(PEERS_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            all_ok = _run([*base, *specs], PEERS_DIR, NPM_TIMEOUT).returncode == 0
        except subprocess.TimeoutExpired:
            all_ok = False
        if not all_ok:
            for spec, name in zip(specs, PEER_PACKAGES, strict=True):
                try:
                    proc = _run([*base, spec], PEERS_DIR, NPM_TIMEOUT)
                    if proc.returncode != 0:
                        last = (proc.stderr.strip().splitlines() or ["npm failed"])[-1]
                        status[name] = f"error: {last[:160]}"
                except subprocess.TimeoutExpired:
                    status[name] = f"error: npm install timed out after {NPM_TIMEOUT:.0f} s"
        if not status:
            marker.write_text("\n".join(specs))
    for name in PEER_PACKAGES:
        if name not in status:
            version = installed_version(name)
            status[name] = version if version else "error: not installed"
    return status


def esbuild_bundle(source: str, out: Path) -> bytes:
    """Bundle ``source`` as an app would ship it; returns the output bytes."""
    esbuild = PEERS_DIR / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise BenchError("esbuild is not installed in .bench/peers")
    entries = PEERS_DIR / "entries"
    entries.mkdir(exist_ok=True)
    entry = entries / (out.stem + ".js")
    entry.write_text(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(
        [
            str(esbuild),
            str(entry),
            "--bundle",
            "--minify",
            "--format=esm",
            "--target=es2020",
            "--platform=browser",
            "--legal-comments=none",
            "--log-level=error",
            "--define:process.env.NODE_ENV='production'".replace("'", '"'),
            f"--outfile={out}",
        ],
        PEERS_DIR,
        ESBUILD_TIMEOUT,
    )
    if proc.returncode != 0:
        raise BenchError(f"esbuild failed for {out.name}: {proc.stderr.strip()[-400:]}")
    return out.read_bytes()


def bundle_libraries(status: dict[str, str]) -> dict[str, str]:
    """The screenshot libraries as ES modules in .bench/peers/dist/; returns name -> version or error."""
    result: dict[str, str] = {}
    for name, (package, source) in LIBRARY_ENTRIES.items():
        version = status.get(package, "error: not installed")
        if version.startswith("error"):
            result[name] = version
            continue
        try:
            esbuild_bundle(source, PEERS_DIST / f"{name}.mjs")
            result[name] = version
        except (BenchError, subprocess.TimeoutExpired) as exc:
            result[name] = f"error: {exc}"[:200]
    return result


def measure_peers(status: dict[str, str]) -> list[PeerRow]:
    rows: list[PeerRow] = []
    by_id: dict[str, PeerRow] = {}
    for pid, entry in zip(PEER_IDS, PEER_ENTRIES, strict=True):
        version = status.get(entry.package, "error: not installed")
        if version.startswith("error"):
            row = PeerRow(pid, entry.name, None, None, error=version.removeprefix("error: "))
        else:
            try:
                data = esbuild_bundle(entry.source, PEERS_DIST / f"size-{pid}.js")
                row = PeerRow(pid, entry.name, version, measure(data))
            except (BenchError, subprocess.TimeoutExpired) as exc:
                row = PeerRow(pid, entry.name, version, None, error=str(exc)[:200])
        base = by_id.get(entry.base) if entry.base else None
        if base and base.sizes and row.sizes:
            row.increment = Sizes(
                row.sizes.bytes - base.sizes.bytes,
                row.sizes.gzip - base.sizes.gzip,
                row.sizes.brotli - base.sizes.brotli,
            )
        by_id[pid] = row
        rows.append(row)
    return rows


# --- Bugline's own files --------------------------------------------------------------------


def read_build() -> tuple[str, dict[str, bytes], dict[str, list[str]]]:
    """The built widget: (where the file list came from, name -> bytes, name -> static imports)."""
    if not WIDGET_DIR.is_dir():
        return "not built", {}, {}
    manifest = WIDGET_DIR / "manifest.json"
    imports: dict[str, list[str]] = {}
    if manifest.exists():
        files = json.loads(manifest.read_text()).get("files", {})
        names = sorted(n for n in files if n.endswith(".js") and (WIDGET_DIR / n).exists())
        imports = {n: list(files[n].get("imports") or []) for n in names}
        source = "manifest.json"
    else:
        names = sorted(p.name for p in WIDGET_DIR.glob("*.js"))
        source = "*.js"
    return source, {n: (WIDGET_DIR / n).read_bytes() for n in names}, imports


def closure(names: list[str], imports: dict[str, list[str]], available: set[str]) -> list[str]:
    """``names`` and every chunk they import, transitively (only files that exist)."""
    seen: list[str] = []
    todo = [n for n in names if n in available]
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.append(name)
        todo += [i for i in imports.get(name, []) if i in available and i not in seen]
    return seen


def run_size(log: Callable[[str], None], status: dict[str, str] | None = None) -> SizeResult:
    source, blobs, imports = read_build()
    files = {name: measure(data) for name, data in blobs.items()}
    available = set(files)
    groups: dict[str, tuple[list[str], Sizes]] = {}

    def group(key: str, names: list[str]) -> None:
        members = closure(names, imports, available)
        total = ZERO
        for n in members:
            total = total + files[n]
        groups[key] = (members, total)

    if files:
        group("loader", ["loader.js"])
        group("core", ["loader.js", "dialog.js", "capture.js"])
        group("everything", sorted(available))
    missing = [
        n for n in ("loader.js", "dialog.js", "capture.js", "screenshot.js", "recorder.js") if n not in files
    ]
    result = SizeResult(source, files, imports, groups, missing_chunks=missing)
    if status is None:
        status = ensure_peers(log)
    log("widget: bundling the peers with esbuild")
    result.peers = measure_peers(status)
    return result


def kb(value: int) -> str:
    return f"{value / 1024:,.1f}"


def size_block(result: SizeResult, status: dict[str, str]) -> str:
    lines = [
        "Bytes of Bugline's built widget ([backend/bugline/static/widget/](backend/bugline/static/widget/), "
        f"file list from `{result.source}`) next to peers' feedback widgets installed from npm into a scratch "
        "folder (`.bench/peers/`, git-ignored) and bundled as an app ships them: esbuild, bundled, minified, ESM, "
        "tree-shaken, `NODE_ENV=production` ([widget_size.py](tests/bench/widget_size.py)). KB = 1,024 bytes; "
        "gzip level 9, brotli quality 11; a sum of Bugline files is the sum of each file's own compressed size "
        '(each is a separate request). "With shared chunks" adds every chunk the named ones import.',
        "",
        "| what | files | KB | KB gzip | KB brotli |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    if not result.files:
        lines.append("| Bugline | not built yet (no `backend/bugline/static/widget/`) | | | |")
    for name, s in result.files.items():
        imported = result.imports.get(name) or []
        note = f"imports {', '.join(imported)}" if imported else ""
        lines.append(f"| Bugline `{name}` | {note} | {kb(s.bytes)} | {kb(s.gzip)} | {kb(s.brotli)} |")
    labels = {
        "loader": "**Bugline: loader**",
        "core": "**Bugline: loader + dialog + capture (with shared chunks)**",
        "everything": "**Bugline: everything**",
    }
    for key, label in labels.items():
        if key in result.groups:
            members, s = result.groups[key]
            lines.append(
                f"| {label} | {', '.join(members)} | **{kb(s.bytes)}** | **{kb(s.gzip)}** | **{kb(s.brotli)}** |"
            )
    for row in result.peers:
        if row.sizes is None:
            why = "could not be installed" if row.version is None else "could not be bundled"
            lines.append(f"| {row.name} | {why}: {row.error} | | | |")
            continue
        pkg = next(e.package for pid, e in zip(PEER_IDS, PEER_ENTRIES, strict=True) if pid == row.id)
        s = row.sizes
        lines.append(
            f"| {row.name} | one bundle, {pkg} {row.version} | {kb(s.bytes)} | {kb(s.gzip)} | {kb(s.brotli)} |"
        )
        if row.increment is not None:
            i = row.increment
            lines.append(
                f"| &nbsp;&nbsp;↳ increment over Sentry base | | +{kb(i.bytes)} | +{kb(i.gzip)} | +{kb(i.brotli)} |"
            )
    lines += [
        "",
        "Marker.io, Userback and Usersnap are installed as 1-2 KB loader snippets that fetch their code from "
        "their own servers at run time, so their weight cannot be measured from a package and is not in the table.",
    ]
    if result.missing_chunks and result.files:
        lines.append(f"Not in the build yet: {', '.join(result.missing_chunks)}.")
    loader = result.groups.get("loader")
    core = result.groups.get("core")
    lines.append("")
    if (
        loader is None
        or core is None
        or "dialog.js" in result.missing_chunks
        or "capture.js" in result.missing_chunks
    ):
        got = f" (loader {kb(loader[1].gzip)} KB gzip)" if loader and loader[0] else ""
        lines.append(
            f"Target: loader < {kb(LOADER_BUDGET)} KB gzip; loader + dialog + capture < {kb(CORE_BUDGET)} KB gzip. "
            f"**Not measurable yet**: the build lacks {', '.join(result.missing_chunks) or 'files'}{got}."
        )
    else:
        loader_ok = loader[1].gzip < LOADER_BUDGET
        core_ok = core[1].gzip < CORE_BUDGET
        lines.append(
            f"Target: loader < {kb(LOADER_BUDGET)} KB gzip; loader + dialog + capture < {kb(CORE_BUDGET)} KB gzip. "
            f"**{'Met' if loader_ok and core_ok else 'Not met'}** (loader {kb(loader[1].gzip)} KB: "
            f"{'met' if loader_ok else 'not met'}; loader + dialog + capture {kb(core[1].gzip)} KB: "
            f"{'met' if core_ok else 'not met'})."
        )
    return "\n".join(lines)


def env_flag(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default
