"""`bugline connector ...` and `bugline route ...` as an operator scripts a deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bugline.connectors import registry
from tests.integration.test_cli import run

KINDS = ["zendesk", "jira", "freshdesk", "github", "linear", "slack", "email", "webhook", "django-helpdesk"]
SECRET = "a-webhook-secret-0123456789"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    assert run(["migrate"], tmp_path).returncode == 0
    assert run(["create-project", "Shop"], tmp_path).returncode == 0
    return tmp_path


def test_kinds_prints_every_registered_kind_one_per_line(tmp_path: Path) -> None:
    out = run(["connector", "kinds"], tmp_path)
    assert out.returncode == 0
    assert out.stdout.splitlines() == KINDS == registry.kinds()


def test_add_list_check_remove(shop: Path) -> None:
    out = run(
        [
            "connector",
            "add",
            "Shop",
            "webhook",
            "url=https://hooks.example.com/in",
            f"secret={SECRET}",
            "name=ops-hook",
            "roles=alerts,helpdesk",
        ],
        shop,
    )
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["name"] == "ops-hook" and shown["roles"] == ["alerts", "helpdesk"]
    assert shown["settings"]["secret"] == "…" + SECRET[-4:]
    listed = run(["connector", "list", "Shop"], shop)
    assert SECRET not in listed.stdout and '"ops-hook"' in listed.stdout
    # Nothing listens there: the check says so and exits 1.
    check = run(["connector", "check", "Shop", "ops-hook"], shop)
    assert check.returncode == 1 and "retry" in check.stdout
    assert run(["connector", "remove", "Shop", "ops-hook"], shop).returncode == 0
    assert run(["connector", "list", "Shop"], shop).stdout.strip() == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["webhook", "url=notaurl", f"secret={SECRET}"], "settings.url"),
        (["webhook", "url=https://x.example"], "settings.secret: required"),
        (["webhook", "url=https://x.example", f"secret={SECRET}", "colour=red"], "settings.colour: unknown"),
        (["pagerduty"], "kind: unknown connector kind 'pagerduty'"),
        (["webhook", "nonsense"], "expected key=value"),
        (["webhook", "url=https://x.example", f"secret={SECRET}", "name=Not A Name"], "name:"),
    ],
)
def test_bad_settings_exit_2_naming_what_to_fix(shop: Path, args: list[str], message: str) -> None:
    out = run(["connector", "add", "Shop", *args], shop)
    assert out.returncode == 2
    assert message in out.stderr
    assert run(["connector", "list", "Shop"], shop).stdout.strip() == ""  # nothing half-added


def test_unknown_project_is_named(shop: Path) -> None:
    out = run(["connector", "list", "Nope"], shop)
    assert out.returncode != 0 and "Nope" in out.stderr


def test_route_set_show_and_dry_run_errors(shop: Path) -> None:
    rules = shop / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "pager"\nwhen = { severity = ["critical"] }\nsend = [{ role = "alerts" }]\n'
    )
    out = run(["route", "set", "Shop", str(rules)], shop)
    assert out.returncode == 0, out.stderr
    assert "alerts" in out.stderr  # warned: no connector has that role yet
    shown = json.loads(run(["route", "show", "Shop"], shop).stdout)
    assert shown[0]["name"] == "pager" and len(shown) > 1  # its own rule first, then the defaults
    bad = shop / "bad.json"
    bad.write_text(json.dumps({"rules": [{"name": "x", "when": {"severity": ["urgent"]}, "send": []}]}))
    out = run(["route", "set", "Shop", str(bad)], shop)
    assert out.returncode == 2 and "routing.rules[0].when.severity" in out.stderr
    out = run(["route", "dry-run", "Shop", "#7"], shop)
    assert out.returncode == 2 and "no report '#7'" in out.stderr


def test_delivery_list_and_retry(shop: Path) -> None:
    assert run(["delivery", "list", "Shop", "--state", "failed"], shop).stdout.strip() == ""
    out = run(["delivery", "retry", "Shop"], shop)
    assert out.returncode == 0 and "0 failed deliveries queued again" in out.stdout
    out = run(["delivery", "list", "Shop", "--state", "lost"], shop)
    assert out.returncode == 2 and "invalid choice" in out.stderr
