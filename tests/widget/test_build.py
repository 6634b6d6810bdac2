"""The widget build committed in backend/bugline/static/widget is exactly what the sources build
today, and it stays inside its size budgets (from the build's manifest.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WIDGET = REPO / "widget"
BUILT = REPO / "backend" / "bugline" / "static" / "widget"
KB = 1024


def node() -> str:
    path = shutil.which("node")
    if not path:
        pytest.fail("Node.js 20+ is needed to build the widget (apt-get install nodejs)")
    return path


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (WIDGET / "node_modules" / "esbuild").is_dir():
        npm = shutil.which("npm") or pytest.fail("npm is needed to install the widget's build tools")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WIDGET, check=True, timeout=300)
    out = tmp_path_factory.mktemp("widget-build")
    done = subprocess.run(
        [node(), "build.mjs", "--outdir", str(out)], cwd=WIDGET, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return out


def test_committed_build_matches_a_fresh_build(fresh: Path) -> None:
    committed = {p.name: p.read_bytes() for p in BUILT.iterdir() if p.is_file()}
    rebuilt = {p.name: p.read_bytes() for p in fresh.iterdir() if p.is_file()}
    assert sorted(committed) == sorted(rebuilt), "run `npm run build` in widget/ and commit the result"
    stale = [name for name in rebuilt if committed[name] != rebuilt[name]]
    assert not stale, f"stale build output {stale}: run `npm run build` in widget/ and commit the result"


def test_the_build_is_deterministic(fresh: Path, tmp_path: Path) -> None:
    subprocess.run([node(), "build.mjs", "--outdir", str(tmp_path)], cwd=WIDGET, check=True, timeout=180,
                   capture_output=True)
    for path in fresh.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def closure(files: dict[str, dict], roots: list[str]) -> set[str]:
    """The files and the shared chunks they import statically."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(files[name]["imports"])
    return seen


def test_size_budgets(fresh: Path) -> None:
    files = json.loads((fresh / "manifest.json").read_text())["files"]
    for name in ("loader.js", "dialog.js", "capture.js"):
        assert name in files, f"{name} was not built"
    assert files["loader.js"]["gzip"] < 3 * KB, f"loader.js is {files['loader.js']['gzip']} B gzip"
    core = closure(files, ["loader.js", "dialog.js", "capture.js"])
    total = sum(files[n]["gzip"] for n in core)
    assert total < 20 * KB, f"loader + dialog + capture = {total} B gzip ({sorted(core)})"


# A string of each lazily loaded dictionary that no other file carries (the launcher labels are
# in loader.js on purpose), and the budget of its chunk.
DICTIONARIES = {"de": "Meldung senden", "fr": "Dites-nous ce qui ne va pas", "ar": "إرسال البلاغ"}


def test_each_dictionary_is_its_own_small_lazy_chunk(fresh: Path) -> None:
    files = json.loads((fresh / "manifest.json").read_text())["files"]
    core = closure(files, ["loader.js", "dialog.js", "capture.js"])
    for lang, text in DICTIONARIES.items():
        holders = [name for name in files if text in (fresh / name).read_text()]
        assert len(holders) == 1 and holders[0].startswith("chunk-"), f"{lang}: {holders}"
        assert holders[0] not in core, f"the {lang} dictionary is loaded with the dialog"
        assert files[holders[0]]["gzip"] < 3 * KB, f"{lang}: {files[holders[0]]['gzip']} B gzip"
        assert f'"./{holders[0]}"' in (fresh / "dialog.js").read_text(), f"dialog.js does not import() {lang}"


def test_the_loader_is_a_classic_script_and_chunks_are_modules(fresh: Path) -> None:
    loader = (fresh / "loader.js").read_text()
    assert loader.removeprefix('"use strict";').startswith("(()=>{"), "loader.js must be an IIFE"
    assert "eval(" not in loader and "new Function" not in loader  # strict CSP: no eval
    dialog = (fresh / "dialog.js").read_text()
    assert "export{" in dialog.replace(" ", "")
