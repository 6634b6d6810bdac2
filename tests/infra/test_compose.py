"""infra/compose/compose.yaml: valid against the Compose Specification's JSON schema after
interpolation (as `docker compose config` checks it), secrets required rather than defaulted,
services started in the right order, and Bugline's environment accepted by Settings."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from bugline.settings import Settings, SettingsError, describe
from tests.infra.files import (
    COMPOSE,
    COMPOSE_ENV_EXAMPLE,
    REPO,
    MissingVariable,
    compose_variables,
    env_file,
    interpolate,
)

SETTINGS = {name for name, _, _ in describe()}
REQUIRED = {"POSTGRES_PASSWORD", "BUGLINE_SECRET_KEY", "S3_ACCESS_KEY", "S3_SECRET_KEY"}
# What an operator puts in infra/compose/.env: the example plus the secrets filled in.
FILLED = {
    **env_file(COMPOSE_ENV_EXAMPLE),
    "POSTGRES_PASSWORD": "0123456789abcdef0123456789abcdef",
    "BUGLINE_SECRET_KEY": "k" * 48,
    "S3_ACCESS_KEY": "AKIDEXAMPLE",
    "S3_SECRET_KEY": "s" * 40,
}


def compose_schema() -> dict[str, Any]:
    # The Compose Specification's schema, as shipped (offline) by check-jsonschema.
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def project(raw: dict[str, Any]) -> dict[str, Any]:
    """The file as compose sees it with .env filled in: variables interpolated, then the
    `<<` merge keys (YAML anchors) already resolved by the loader."""
    return interpolate(raw, FILLED)


def test_valid_against_the_compose_specification(project: dict[str, Any]) -> None:
    schema = compose_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(project), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors[:10])


def test_the_schema_check_catches_a_broken_file(project: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(project))
    broken["services"]["app"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["worker"]["restart_policy"] = "always"
    errors = list(jsonschema.Draft202012Validator(compose_schema()).iter_errors(broken))
    assert len(errors) >= 2


def test_secrets_have_no_defaults_and_compose_refuses_to_start_without_them(raw: dict[str, Any]) -> None:
    variables = compose_variables(COMPOSE.read_text())
    required = {name for name, op in variables.items() if op == ":?"}
    assert required == REQUIRED
    for name in REQUIRED:
        env = {k: v for k, v in FILLED.items() if k != name}
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, env)
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, {**env, name: ""})  # `:?` refuses an empty value too


def test_the_env_example_lists_every_variable_with_secrets_left_empty() -> None:
    example = env_file(COMPOSE_ENV_EXAMPLE)
    variables = set(compose_variables(COMPOSE.read_text()))
    assert variables - set(example) == set(), "document every variable compose reads in .env.example"
    assert set(example) - variables == set(), ".env.example sets a variable compose never reads"
    for name in REQUIRED:
        assert example[name] == "", f"{name} must be filled in by the operator, not shipped"
    assert (COMPOSE.parent / ".gitignore").read_text().splitlines().count(".env") == 1


def test_services_start_in_order_migrate_first(project: dict[str, Any]) -> None:
    services = project["services"]
    assert set(services) == {"postgres", "s3", "migrate", "app", "worker"}
    for name in ("postgres", "s3"):
        assert services[name]["healthcheck"]["test"], f"{name} needs a health check for depends_on"
    assert services["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "s3": {"condition": "service_healthy"},
    }
    assert services["migrate"]["restart"] == "no"
    for name in ("app", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["app"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    # A worker has no HTTP port: the image's /healthz check would mark it unhealthy forever.
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert "healthcheck" not in services["app"], "the app keeps the image's /healthz check"


def test_bugline_services_build_the_one_image(project: dict[str, Any]) -> None:
    images = {project["services"][n]["image"] for n in ("migrate", "app", "worker")}
    assert len(images) == 1
    for name in ("migrate", "app", "worker"):
        build = project["services"][name]["build"]
        context = (COMPOSE.parent / build["context"]).resolve()
        assert context == REPO
        assert (context / build["dockerfile"]).is_file()


def test_third_party_images_are_pinned(project: dict[str, Any]) -> None:
    for name in ("postgres", "s3"):
        image = project["services"][name]["image"]
        tag = image.rpartition(":")[2]
        assert tag and tag != "latest" and any(c.isdigit() for c in tag), f"{name}: pin {image}"


def test_bugline_reads_its_settings_from_this_environment(project: dict[str, Any]) -> None:
    env = project["services"]["app"]["environment"]
    for name in ("migrate", "worker"):
        assert project["services"][name]["environment"] == env
    unknown = sorted(k for k in env if k.startswith("BUGLINE_") and k not in SETTINGS)
    assert not unknown, f"Bugline refuses to start on unknown settings {unknown}"
    settings = Settings.from_env({k: str(v) for k, v in env.items()})
    assert settings.secret_key == FILLED["BUGLINE_SECRET_KEY"]
    assert not settings.triage_in_web and not settings.outbox_in_web and not settings.notify_in_web

    db = urlsplit(settings.database_url)
    pg = project["services"]["postgres"]["environment"]
    assert (db.hostname, db.port, db.username, db.password, db.path.lstrip("/")) == (
        "postgres",
        5432,
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        pg["POSTGRES_DB"],
    )
    s3 = urlsplit(settings.s3_endpoint_url)
    s3_service = project["services"]["s3"]
    assert s3.hostname == "s3" and f"-s3.port={s3.port}" in s3_service["command"]
    # boto3 (Bugline) and SeaweedFS (its admin identity) use the same credentials.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key] == s3_service["environment"][key] != ""
    published = [p for p in s3_service["ports"] if str(p).endswith(f":{s3.port}")]
    assert published, "browsers upload to S3: publish its port"
    assert urlsplit(settings.s3_public_endpoint_url).port == int(str(published[0]).split(":")[-2])


def test_a_short_secret_key_is_refused_by_settings(project: dict[str, Any]) -> None:
    env = {k: str(v) for k, v in project["services"]["app"]["environment"].items()}
    with pytest.raises(SettingsError, match="32"):
        Settings.from_env({**env, "BUGLINE_SECRET_KEY": "short"})
