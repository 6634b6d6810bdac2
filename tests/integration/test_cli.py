"""The `bugline` command as a newcomer uses it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ARCHITECTURE = Path(__file__).resolve().parents[2] / "widget" / "ARCHITECTURE.md"


def documented_snippet(base: str, key: str) -> str:
    """The embed snippet as widget/ARCHITECTURE.md shows it, for this server and key."""
    block = re.search(r"## Embedding\n\n```html\n(.*?)\n```", ARCHITECTURE.read_text(), re.S)
    assert block, "widget/ARCHITECTURE.md has no ## Embedding html block"
    return block.group(1).replace("https://bugline.example.com", base).replace("pk_...", key)


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")}
    clean |= {"BUGLINE_DATA_DIR": str(tmp_path / "var"), **env}
    return subprocess.run([sys.executable, "-m", "bugline", *args], capture_output=True, text=True,
                          env=clean, timeout=60, check=False)


def test_migrate_then_create_project_prints_key_and_snippet(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    out = run(["create-project", "Shop", "--origin", "https://shop.example.com/", "--origin",
               "http://localhost:3000"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Public key: pk_" in out.stdout
    assert "https://shop.example.com, http://localhost:3000" in out.stdout or \
        "http://localhost:3000, https://shop.example.com" in out.stdout
    key = re.search(r"Public key: (pk_\S+)", out.stdout)
    assert key
    # Exactly the documented copy-paste snippet: the queue stub, then the loader tag.
    expected = documented_snippet("http://127.0.0.1:8000", key.group(1))
    assert "Bugline.q" not in expected and "b.q=b.q||[]" in expected  # the stub is part of it
    printed = out.stdout.split("Embed snippet (paste it into your pages' <head>):\n", 1)[1]
    assert printed.rstrip("\n") == expected


def test_create_project_refuses_a_url_that_is_not_an_origin(tmp_path: Path) -> None:
    run(["migrate"], tmp_path)
    out = run(["create-project", "Shop", "--origin", "https://shop.example.com/path"], tmp_path)
    assert out.returncode != 0
    assert "without a path" in out.stderr


def test_demo_creates_project_and_admin_once(tmp_path: Path) -> None:
    run(["migrate"], tmp_path)
    first = run(["demo"], tmp_path)
    assert "Admin account: admin@example.com / " in first.stdout
    assert "curl -F" in first.stdout
    second = run(["demo"], tmp_path)
    assert "Admin account" not in second.stdout  # not created twice
    key = [line for line in first.stdout.splitlines() if line.startswith("Demo project key")]
    assert key and key[0] in second.stdout
    assert documented_snippet("http://127.0.0.1:8000", key[0].split(": ")[1]) in first.stdout


def test_create_user_and_duplicate(tmp_path: Path) -> None:
    run(["migrate"], tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "bugline", "create-user", "Agent@Example.com", "--password-stdin"],
        input="correct horse battery\n", capture_output=True, text=True, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")},
             "BUGLINE_DATA_DIR": str(tmp_path / "var")},
    )
    assert proc.returncode == 0, proc.stderr
    assert "agent@example.com" in proc.stdout
    again = subprocess.run(
        [sys.executable, "-m", "bugline", "create-user", "agent@example.com", "--password-stdin"],
        input="correct horse battery\n", capture_output=True, text=True, check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BUGLINE_")},
             "BUGLINE_DATA_DIR": str(tmp_path / "var")},
    )
    assert again.returncode != 0 and "already exists" in again.stderr


def test_unknown_setting_stops_start_with_a_clear_message(tmp_path: Path) -> None:
    out = run(["migrate"], tmp_path, BUGLINE_S3_BUKET="x")
    assert out.returncode == 2
    assert "unknown setting BUGLINE_S3_BUKET" in out.stderr


def test_create_project_refuses_a_too_wide_wildcard(tmp_path: Path) -> None:
    run(["migrate"], tmp_path)
    out = run(["create-project", "Shop", "--origin", "https://*.com"], tmp_path)
    assert out.returncode != 0
    assert "wildcard" in out.stderr
    ok = run(["create-project", "Shop", "--origin", "https://*.Shop.example.com"], tmp_path)
    assert ok.returncode == 0 and "https://*.shop.example.com" in ok.stdout
