"""`bugline triage --in FILE --out FILE`: the evaluation command, as a script or a judge runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bugline.cli import main
from bugline.triage.result import EVAL_FACTS, LEVELS

REPORTS = [
    {
        "id": "r1",
        "title": "Crash when saving a draft",
        "description": "Steps to reproduce:\n1. Open the editor\n2. Type a title\n3. Press Save\n\n"
        "Expected: the draft is saved.\nActual: the page crashes with 'TypeError: draft is null'.",
    },
    {"id": 2, "title": "it doesn't work", "description": ""},
    {"id": "r3", "title": "Please add dark mode", "description": "It would be great to have a dark theme."},
]


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_one_verdict_per_report_in_order(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["triage", "--in", str(write(tmp_path / "in.jsonl", REPORTS)), "--out", str(out)]) == 0
    verdicts = lines(out)
    assert [v["id"] for v in verdicts] == ["r1", 2, "r3"]
    for v in verdicts:
        completeness = v["completeness"]
        assert isinstance(completeness, dict)
        assert 0 <= completeness["score"] <= 100
        assert set(completeness["missing"]) <= EVAL_FACTS
        severity = v["severity"]
        assert isinstance(severity, dict)
        assert severity["level"] in LEVELS
        assert v["kind"] in {"bug", "feature_request", "question"}
    full, vague, feature = verdicts
    assert "steps_to_reproduce" not in full["completeness"]["missing"]  # type: ignore[index]
    assert "expected" not in full["completeness"]["missing"]  # type: ignore[index]
    assert {"steps_to_reproduce", "expected"} <= set(vague["completeness"]["missing"])  # type: ignore[index]
    assert full["completeness"]["score"] > vague["completeness"]["score"]  # type: ignore[index]
    assert feature["kind"] == "feature_request"


def test_a_report_in_a_language_the_rules_do_not_read_says_so(tmp_path: Path) -> None:
    spanish = {
        "id": "es1",
        "title": "No puedo pagar",
        "description": "Cuando hago clic en Pagar aparece el error 'Pago rechazado' y no puedo terminar "
        "la compra. Esperaba que se procesara el pedido. Pasa siempre, a todos nuestros clientes.",
    }
    out = tmp_path / "out.jsonl"
    assert main(["triage", "--in", str(write(tmp_path / "in.jsonl", [spanish, REPORTS[0]])), "--out", str(out)]) == 0
    foreign, english = (v["completeness"] for v in lines(out))
    assert isinstance(foreign, dict) and isinstance(english, dict)
    assert foreign["unread_language"] == "es" and foreign["missing"] == []
    assert {"steps_to_reproduce", "expected"} <= set(foreign["unchecked"])
    assert set(foreign["unchecked"]) <= EVAL_FACTS
    assert "unread_language" not in english and "unchecked" not in english


def test_a_bad_line_costs_only_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps(REPORTS[0]) + "\n{not json\n[1, 2]\n\n" + json.dumps(REPORTS[2]) + "\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    assert main(["triage", "--in", str(src), "--out", str(out)]) == 1
    verdicts = lines(out)
    assert [v.get("id") for v in verdicts] == ["r1", None, None, "r3"]
    assert verdicts[1] == {"line": 2, "error": verdicts[1]["error"]}
    err = capsys.readouterr().err
    assert "line 2: not JSON" in err and "line 3:" in err


def test_a_byte_order_mark_opening_the_file_is_read_past(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    # Windows tools write UTF-8 with a BOM, and CRLF line ends.
    src.write_bytes(("\r\n".join(json.dumps(r) for r in REPORTS[:2]) + "\r\n").encode("utf-8-sig"))
    out = tmp_path / "out.jsonl"
    assert main(["triage", "--in", str(src), "--out", str(out)]) == 0
    assert [v["id"] for v in lines(out)] == ["r1", 2]


def test_rules_file_overrides_defaults(tmp_path: Path) -> None:
    src = write(tmp_path / "in.jsonl", [REPORTS[1]])
    rules = tmp_path / "rules.toml"
    rules.write_text("[completeness.score]\nthreshold = 0\n", encoding="utf-8")
    assert main(["triage", "--in", str(src), "--out", str(tmp_path / "o.jsonl"), "--rules", str(rules)]) == 0
    rules.write_text("[completeness.score]\nthreshhold = 10\n", encoding="utf-8")
    assert main(["triage", "--in", str(src), "--out", str(tmp_path / "o.jsonl"), "--rules", str(rules)]) == 2


def test_unknown_rule_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[severity]\nno_such_knob = 1\n", encoding="utf-8")
    src = write(tmp_path / "in.jsonl", [REPORTS[0]])
    assert main(["triage", "--in", str(src), "--out", str(tmp_path / "o.jsonl"), "--rules", str(rules)]) == 2
    assert "triage.severity.no_such_knob" in capsys.readouterr().err


def test_missing_input_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", "--in", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_installed_command_reads_stdin_and_writes_stdout() -> None:
    bugline = Path(sys.executable).with_name("bugline")
    proc = subprocess.run(
        [str(bugline), "triage", "--in", "-", "--out", "-"],
        input="".join(json.dumps(r) + "\n" for r in REPORTS),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["r1", 2, "r3"]
