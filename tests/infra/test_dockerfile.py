"""The production image's Dockerfile and .dockerignore, checked as the builder reads them:
stages, pinned bases, a non-root runtime with a health check, nothing secret baked in, and
every file it copies actually in the build context. Plus the package it installs: a
non-editable install must carry every data file the app reads."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from bugline.settings import describe
from tests.infra.files import (
    DOCKERFILE,
    DOCKERIGNORE,
    REPO,
    Stage,
    copy_sources,
    dockerfile_instructions,
    dockerfile_stages,
    dockerignore_rules,
    env_pairs,
    exec_form,
    is_ignored,
    pattern_regex,
)

SETTINGS = {name for name, _, _ in describe()}


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return dockerfile_stages(DOCKERFILE.read_text())[1]


def stage(stages: list[Stage], name: str) -> Stage:
    found = [s for s in stages if s.name == name]
    assert found, f"no stage named {name!r}; stages: {[s.name for s in stages]}"
    return found[0]


def test_the_parser_reads_continuations_and_skips_comments() -> None:
    text = "FROM a:1.2.3 AS x\n# note\nRUN one \\\n  # inside\n  && two\nUSER 1\n"
    ins = dockerfile_instructions(text)
    assert [(i.keyword, i.args) for i in ins] == [
        ("FROM", "a:1.2.3 AS x"),
        ("RUN", "one && two"),
        ("USER", "1"),
    ]
    with pytest.raises(ValueError, match="continued"):
        dockerfile_instructions("FROM a\nRUN x \\\n")


def test_three_stages_widget_then_python_build_then_runtime(stages: list[Stage]) -> None:
    assert [s.name for s in stages] == ["widget", "build", "runtime"]
    assert stages[0].base.startswith("node:")
    assert stages[1].base.startswith("python:") and "slim" in stages[1].base
    # The virtualenv is copied from build to runtime: its python symlink and compiled wheels
    # only work on the very same Python.
    assert stages[1].base == stages[2].base


def test_base_images_are_pinned_to_a_full_version_tag(stages: list[Stage]) -> None:
    for s in stages:
        image, _, tag = s.base.partition("@")[0].rpartition(":")
        assert image and tag, f"{s.name}: {s.base} has no tag"
        assert "$" not in s.base, f"{s.name}: {s.base} uses an ARG without a default"
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{s.name}: pin {s.base} to a full version (x.y.z)"


def test_the_widget_is_built_from_source_and_must_match_the_committed_build(stages: list[Stage]) -> None:
    widget = stage(stages, "widget")
    runs = " ; ".join(i.args for i in widget.all("RUN"))
    assert "npm ci" in runs, "install the widget's locked dependencies"
    build = re.search(r"node build\.mjs --outdir (\S+)", runs)
    assert build, "build the widget with build.mjs into a folder of its own"
    out = build[1]
    committed = [copy_sources(i) for i in widget.all("COPY") if "backend/bugline/static/widget/" in i.args]
    assert committed, "copy the committed build in to compare"
    assert re.search(rf"diff -r \S+ {re.escape(out)}", runs), "compare the fresh build with the committed one"
    assert "exit 1" in runs, "a mismatch must fail the build"
    # The package is built with the freshly built widget in place of the committed one.
    into = [copy_sources(i) for i in stage(stages, "build").all("COPY")]
    assert ("widget", [out.rstrip("/") + "/"], "backend/bugline/static/widget/") in into


def test_the_runtime_runs_as_an_unprivileged_user_with_a_health_check(stages: list[Stage]) -> None:
    runtime = stages[-1]
    users = runtime.all("USER")
    assert users, "the runtime stage must switch to a non-root USER"
    user = users[-1].args.split(":")[0]
    assert user.isdigit() and int(user) >= 1000, "a numeric uid, so Kubernetes' runAsNonRoot can check it"
    # The user exists in the image (useradd with that uid) and owns the data folder.
    setup = " ".join(i.args for i in runtime.all("RUN"))
    assert f"--uid {user}" in setup and f"chown {user}:" in setup
    last_user = max(i.line for i in users)
    assert all(i.line < last_user for i in runtime.instructions if i.keyword == "RUN"), (
        "no RUN as root after USER"
    )

    (health,) = runtime.all("HEALTHCHECK")
    cmd = exec_form(health.args[health.args.index("CMD") + 3 :].strip())
    assert cmd, "exec-form health check (the slim image has no curl, and no shell quoting surprises)"
    installed = {
        Path(dest).name: srcs[0]
        for _, srcs, dest in map(copy_sources, stage(stages, "build").all("COPY"))
        if srcs
    }
    assert cmd[0] in installed, f"the health check runs {cmd[0]}, which the image does not install"
    script = (REPO / installed[cmd[0]]).read_text()
    assert "/healthz" in script and "PORT" in script
    assert re.search(r"--timeout=\d+s", health.args) and re.search(r"--start-period=\d+s", health.args)


def test_the_runtime_serves_by_default_on_the_exposed_port(stages: list[Stage]) -> None:
    runtime = stages[-1]
    env: dict[str, str] = {}
    for i in runtime.all("ENV"):
        env.update(env_pairs(i.args))
    assert exec_form(runtime.all("ENTRYPOINT")[-1].args) == ["bugline"]
    assert exec_form(runtime.all("CMD")[-1].args) == ["serve"]
    assert env["BUGLINE_HOST"] == "0.0.0.0", "listen on the container's interface, not loopback"
    (expose,) = runtime.all("EXPOSE")
    assert expose.args.split("/")[0] == env["PORT"]
    assert "/opt/bugline/bin" in env["PATH"].split(":")[0]
    volumes = " ".join(i.args for i in runtime.all("VOLUME"))
    assert env["BUGLINE_DATA_DIR"] in volumes


def test_no_secret_is_baked_into_the_image(stages: list[Stage]) -> None:
    secretish = re.compile(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY|DATABASE_URL|CREDENTIAL", re.I)
    for s in stages:
        for i in s.all("ENV"):
            for key, value in env_pairs(i.args).items():
                assert not secretish.search(key), f"{s.name}: ENV {key} would ship in every image layer"
                if key.startswith("BUGLINE_"):
                    assert key in SETTINGS, f"{s.name}: ENV {key} is not a setting (`bugline settings`)"
        for i in s.all("ARG"):
            assert not secretish.search(i.args), f"{s.name}: ARG {i.args} ends up in the image history"
        for i in s.all("COPY") + s.all("ADD"):
            _, sources, _ = copy_sources(i)
            for src in sources:
                assert not re.search(r"(^|/)\.env|\.pem$|\.key$|secret", src), f"{s.name}: COPY {src}"


def test_the_context_excludes_local_state_and_secrets() -> None:
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    for path in [
        ".env",
        "infra/compose/.env",
        "widget/.env.local",
        "var/bugline.db",
        "var/secret_key",
        ".git/config",
        ".venv/bin/python",
        "widget/node_modules/esbuild/package.json",
        "backend/bugline/__pycache__/app.cpython-311.pyc",
        "backend/bugline.egg-info/PKG-INFO",
        "tests/conftest.py",
        "backend/tls.key",
    ]:
        assert is_ignored(path, rules), f"{path} would be sent to the builder"


def test_everything_the_dockerfile_copies_is_in_the_context(stages: list[Stage]) -> None:
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    names = {s.name for s in stages}
    checked = 0
    for s in stages:
        for i in s.all("COPY"):
            from_stage, sources, _ = copy_sources(i)
            if from_stage:
                assert from_stage in names, f"COPY --from={from_stage}: no such stage"
                continue
            for src in sources:
                path = REPO / src
                assert path.exists(), f"{s.name}: COPY {src}: not in the repository"
                files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
                tracked = [f for f in files if "node_modules" not in f.parts and "__pycache__" not in f.parts]
                assert tracked, f"{src} is empty"
                for f in tracked:
                    rel = f.relative_to(REPO).as_posix()
                    if rel.endswith((".pyc", ".egg-info")) or ".egg-info/" in rel:
                        continue
                    assert not is_ignored(rel, rules), (
                        f"{s.name}: COPY {src} needs {rel}, which .dockerignore drops"
                    )
                    checked += 1
    assert checked > 50


def test_the_dockerignore_matcher_follows_docker_rules() -> None:
    rules = dockerignore_rules("*\n!backend/\nbackend/**/*.py[cod]\n!backend/keep.pyc\n")
    assert is_ignored("README.md", rules)
    assert not is_ignored("backend/a/b.py", rules)
    assert is_ignored("backend/a/b.pyc", rules)
    assert not is_ignored("backend/keep.pyc", rules)
    assert is_ignored("docs/x/y.md", rules), "a file inside an ignored folder is ignored"


def test_the_installed_package_carries_every_data_file_the_app_reads() -> None:
    """The image installs the package for real (`pip install .`, not editable): a data file
    that no [tool.setuptools.package-data] pattern names works in a checkout and is missing
    from the image. The patterns are matched as setuptools does (relative to the package's
    folder, `**` across folders)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]
    rules = [
        (package.replace(".", "/"), pattern_regex(pattern))
        for package, globs in patterns.items()
        for pattern in globs
    ]
    listed = subprocess.run(
        ["git", "ls-files", "backend/bugline"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    data = [p.removeprefix("backend/") for p in listed if not p.endswith(".py") and (REPO / p).is_file()]
    assert "bugline/static/widget/loader.js" in data

    def shipped(path: str) -> bool:
        return any(
            path.startswith(base + "/") and regex.match(path[len(base) + 1 :]) for base, regex in rules
        )

    missing = [p for p in data if not shipped(p)]
    assert not missing, (
        f"the image's install would lack {missing[:10]}: add them to "
        "[tool.setuptools.package-data] in pyproject.toml"
    )
    assert shipped("bugline/templates/dash/base.html") and not shipped("bugline/README.unlisted")
