"""Readers for the deployment files, as the tools that consume them read them: Dockerfile
instructions, .dockerignore matching, compose variable interpolation, multi-document YAML.

Pure functions; the tests in this folder check the files with them (no container engine or
cluster runs here)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
DOCKERFILE = INFRA / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = INFRA / "compose" / "compose.yaml"
COMPOSE_ENV_EXAMPLE = INFRA / "compose" / ".env.example"
K8S = INFRA / "k8s"
S3 = INFRA / "s3"


# --- Dockerfile ---------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the logical line, continuations joined
    line: int


@dataclass
class Stage:
    base: str  # the FROM image with global ARG defaults substituted
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Logical instructions: comments and blank lines dropped, backslash continuations joined
    (a comment line inside a continuation is skipped, as BuildKit does)."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        logical = " ".join(p for p in pending if p)
        pending = []
        keyword, _, args = logical.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
    if pending:
        raise ValueError(f"line {start}: the file ends inside a continued instruction")
    return out


def dockerfile_stages(text: str) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages in order)."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in dockerfile_instructions(text):
        if ins.keyword == "ARG" and not stages:
            name, _, default = ins.args.partition("=")
            args[name.strip()] = default.strip()
        elif ins.keyword == "FROM":
            words = [w for w in ins.args.split() if not w.startswith("--")]
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], m[0]), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif stages:
            stages[-1].instructions.append(ins)
        else:
            raise ValueError(f"line {ins.line}: {ins.keyword} before the first FROM")
    return args, stages


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD, or None (shell form)."""
    import json

    if not args.startswith("["):
        return None
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def env_pairs(args: str) -> dict[str, str]:
    """ENV key=value key2=value2 (quoted values allowed) or the legacy ENV key value."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(w.split("=", 1) for w in words)


def copy_sources(ins: Instruction) -> tuple[str | None, list[str], str]:
    """(--from stage or None, sources, destination) of a COPY/ADD."""
    words = shlex.split(ins.args)
    from_stage = None
    rest = []
    for w in words:
        if w.startswith("--from="):
            from_stage = w.split("=", 1)[1]
        elif not w.startswith("--"):
            rest.append(w)
    return from_stage, rest[:-1], rest[-1]


# --- .dockerignore --------------------------------------------------------------------------


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: `**` any number of path parts, `*` within one part, `?` one
    character (the moby patternmatcher rules)."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("^") else re.escape(body)) + "]"
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "$")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = pattern.strip("/") or "."
        rules.append((negated, pattern_regex(pattern)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the builder leaves ``path`` (relative to the context) out: the last rule that
    matches the path or one of its parent folders decides, as in Docker."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negated, regex in rules:
        if any(regex.match(c) for c in candidates):
            ignored = not negated
    return ignored


# --- compose ----------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


class MissingVariable(ValueError):
    pass


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation over a loaded document: ${VAR}, $VAR, ${VAR:-default},
    ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt} and $$ (a literal dollar)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        if match["bare"]:
            return env.get(match["bare"], "")
        expr = match["braced"]
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])(.*))?", expr, re.S)
        if not m:
            raise ValueError(f"invalid interpolation ${{{expr}}}")
        name, colon, op, arg = m[1], m[2], m[3], m[4] or ""
        present = name in env and (not colon or env[name] != "")
        if op is None:
            return env.get(name, "")
        if op == "-":
            return env[name] if present else interpolate(arg, env)
        if op == "?":
            if not present:
                raise MissingVariable(f"{name}: {arg}")
            return env[name]
        return interpolate(arg, env) if present else ""  # op == "+"

    return _VARIABLE.sub(one, value)


def compose_variables(text: str) -> dict[str, str | None]:
    """Every variable the compose file reads: name -> its operator ('-', ':-', ':?', ...) or None."""
    found: dict[str, str | None] = {}
    for m in _VARIABLE.finditer(text):
        if m["bare"]:
            found.setdefault(m["bare"], None)
        elif m["braced"]:
            v = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?", m["braced"])
            if v:
                found[v[1]] = v[2] if v[2] else found.get(v[1])
    return found


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of a compose .env file (comments and blanks skipped)."""
    out = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: {raw!r} is not KEY=value"
            out[key.strip()] = value.strip()
    return out


# --- YAML -------------------------------------------------------------------------------------


def yaml_documents(text: str) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    for d in docs:
        assert isinstance(d, dict), f"a YAML document is not a mapping: {d!r}"
    return docs
