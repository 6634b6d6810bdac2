"""Turning a notification's variables into a subject, a plain-text part and an HTML part.

The built-in set is files under ``notify/templates/``: ``<locale>/<kind>.subject.txt``,
``<kind>.txt`` and ``<kind>.html`` per kind, ``<locale>/footer.{txt,html}``, and the shared
``_layout.html`` and ``_macros.html``. HTML is autoescaped, so the customer's own words (the
title) and the team's note can never become markup; the subject is always one line.

A project may replace any part of any kind: ``settings["notifications"]["templates"][kind]``
(or ``[f"{kind}.{locale}"]`` for one language) = ``{"subject", "text", "html"}``, each
optional. Project admins write these, so they run in Jinja's sandbox and are held to a
smaller language than the built-in templates (``audit``): variables, attributes, ``if``,
one level of ``for`` over the variables' own lists, comparisons, ``~`` and a list of plain
filters; no calls, macros, imports, ``set``, ``autoescape`` switches, multiplication or
``|safe``. That closes the sandbox escapes (``''.__class__`` and friends are refused by name
and by the sandbox) and the ways to make a worker spin or fill its memory (``range``,
``'x' * 10**9``, nested loops, recursive macros), and output is capped as it is produced.
A part is checked when saved (``check_override``) and again before each use: one that fails
at render time is replaced by the built-in part, so a bad template never stops a mail.

The layout and the footer (why the customer gets this mail, the unsubscribe link) always come
from the built-in set: a project's template cannot drop the unsubscribe link.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    nodes,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from bugline.notify.locales import TEMPLATES
from bugline.notify.queue import KINDS
from bugline.render import common

PARTS = ("subject", "text", "html")
MAX_SOURCE = 20_000  # characters per part of a project's template
MAX_OUTPUT = {"subject": 2_000, "text": 100_000, "html": 200_000}  # characters, as rendered
SUBJECT_LIMIT = 200
MAX_NUMBER = 10_000  # the biggest number a project's template may write down
MAX_LOOP_DEPTH = 1

# The variables every template gets (the same set for every kind, empty where a kind has
# nothing to say, so a project's template that works for one kind works for all).
VARIABLES = (
    "kind",
    "locale",
    "project",
    "report",
    "reporter",
    "links",
    "questions",
    "note",
    "team",
    "timeframe",
    "close_days",
    "previous_status",
)
FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "indent",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "reverse",
    "round",
    "sort",
    "string",
    "striptags",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
    "wordwrap",
)
TESTS = (
    "!=", "<", "<=", "==", ">", ">=", "defined", "undefined", "none", "number", "string",
    "sequence", "mapping", "odd", "even", "true", "false", "eq", "ne", "lt", "le", "gt", "ge", "in",
)  # fmt: skip
# The expression and statement nodes a project's template may use; anything else is refused.
ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.For,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Concat,
    nodes.Add,
    nodes.Sub,
    nodes.List,
    nodes.Tuple,
    nodes.Keyword,
)


class TemplateProblem(ValueError):
    """A project's template cannot be used; ``errors`` maps each part's path to why."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        path, why = next(iter(self.errors.items()))
        super().__init__(f"{path}: {why}")


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    locale: str
    overridden: tuple[str, ...] = ()  # the parts the project's own templates wrote
    problems: tuple[str, ...] = ()  # the project's parts that could not be used, and why


# ---- the built-in set -----------------------------------------------------------------------


@cache
def builtin_env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def builtin_part(kind: str, part: str, locale: str, variables: Mapping[str, Any]) -> str:
    name = {"subject": f"{kind}.subject.txt", "text": f"{kind}.txt", "html": f"{kind}.html"}[part]
    return builtin_env().get_template(f"{locale}/{name}").render(variables)


# ---- the sandbox for projects' templates ---------------------------------------------------


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (no private or internal attributes, no unsafe callables), with every
    arithmetic operator that can make a big value refused at run time too (``audit`` already
    refuses them in the source)."""

    intercepted_binops = frozenset({"*", "/", "//", "%", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the operator {operator} is not available in notification templates")


@cache
def sandbox(html: bool) -> Sandbox:
    env = Sandbox(autoescape=html, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.clear()  # no range(), lipsum(), cycler(), namespace(), dict()
    env.filters = {name: env.filters[name] for name in FILTERS if name in env.filters}
    env.tests = {name: env.tests[name] for name in TESTS if name in env.tests}
    return env


def audit(source: str, html: bool) -> list[str]:
    """Why ``source`` may not be a project's template part ([] when it may)."""
    if len(source) > MAX_SOURCE:
        return [f"is {len(source):,} characters; at most {MAX_SOURCE:,}"]
    try:
        tree = sandbox(html).parse(source)
    except TemplateError as exc:
        return [f"does not parse: {exc}"]
    problems: list[str] = []
    _walk(tree, problems, loop_vars=(), depth=0)
    return list(dict.fromkeys(problems))  # once each, in order


def _walk(node: nodes.Node, problems: list[str], loop_vars: tuple[str, ...], depth: int) -> None:
    if not isinstance(node, ALLOWED_NODES):
        problems.append(f"uses {_what(node)}, which notification templates do not allow")
        return
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        problems.append(f"reads the attribute {node.attr!r}: names starting with _ are not available")
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
        and node.arg.value.startswith("_")
    ):
        problems.append(f"reads the key {node.arg.value!r}: names starting with _ are not available")
    if (
        isinstance(node, nodes.Name)
        and node.ctx == "load"
        and node.name not in (*VARIABLES, *loop_vars, "loop")
    ):
        problems.append(f"uses the unknown variable {node.name!r} (known: {', '.join(VARIABLES)})")
    if isinstance(node, nodes.Const):
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            problems.append(f"writes the number {value}; at most {MAX_NUMBER:,}")
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        problems.append(f"uses the filter {node.name!r} (available: {', '.join(FILTERS)})")
    if isinstance(node, nodes.Test) and node.name not in TESTS:
        problems.append(f"uses the test {node.name!r}")
    if isinstance(node, nodes.For):
        if depth >= MAX_LOOP_DEPTH:
            problems.append("nests a for loop in another; one level of loops is available")
            return
        if node.recursive:
            problems.append("uses a recursive for loop")
            return
        root = _root(node.iter)
        if root is None or root not in VARIABLES:
            problems.append(
                "loops over something other than a variable (like questions): loops may only go "
                "over the notification's own lists"
            )
            return
        _walk(node.iter, problems, loop_vars, depth)
        target = node.target
        names = (
            (target.name,)
            if isinstance(target, nodes.Name)
            else tuple(n.name for n in target.find_all(nodes.Name))
        )
        for child in (*node.body, *node.else_):
            _walk(child, problems, (*loop_vars, *names), depth + 1)
        if node.test is not None:
            _walk(node.test, problems, (*loop_vars, *names), depth + 1)
        return
    for child in node.iter_child_nodes():
        _walk(child, problems, loop_vars, depth)


def _root(expr: nodes.Node) -> str | None:
    """The variable an iterable hangs off (``report.title`` -> "report"), or None."""
    while isinstance(expr, nodes.Getattr | nodes.Getitem):
        expr = expr.node
    return expr.name if isinstance(expr, nodes.Name) else None


def _what(node: nodes.Node) -> str:
    names = {
        "Call": "a function or method call",
        "Macro": "a macro",
        "CallBlock": "a call block",
        "Assign": "set",
        "AssignBlock": "set",
        "Include": "include",
        "Import": "import",
        "FromImport": "import",
        "Extends": "extends",
        "Block": "a block",
        "Scope": "an autoescape block",
        "ScopedEvalContextModifier": "an autoescape switch",
        "EvalContextModifier": "an autoescape switch",
        "FilterBlock": "a filter block",
        "With": "with",
        "Mul": "*",
        "Div": "/",
        "FloorDiv": "//",
        "Mod": "%",
        "Pow": "**",
        "Dict": "a dict literal",
    }
    return names.get(type(node).__name__, type(node).__name__)


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    problems = audit(source, html)
    if problems:
        raise SecurityError("; ".join(problems))
    return sandbox(html).from_string(source)


def _capped(chunks: Iterator[str], limit: int) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise SecurityError(f"renders to more than {limit:,} characters")
        out.append(chunk)
    return "".join(out)


def render_override(source: str, part: str, variables: Mapping[str, Any]) -> str:
    """One part of a project's template, in the sandbox; raises SecurityError or
    TemplateError when it cannot be used."""
    template = _compiled(source, part == "html")
    return _capped(template.generate(dict(variables)), MAX_OUTPUT[part])


# ---- rendering a notification ---------------------------------------------------------------


def overrides_for(kind: str, locale: str, notifications: Mapping[str, Any]) -> Mapping[str, Any]:
    """The project's own parts for this kind and language: ``kind.locale`` first, then ``kind``."""
    templates = notifications.get("templates")
    if not isinstance(templates, Mapping):
        return {}
    chosen: dict[str, Any] = {}
    for key in (kind, f"{kind}.{locale}"):  # the specific one last, so it wins
        value = templates.get(key)
        if isinstance(value, Mapping):
            chosen.update({p: value[p] for p in PARTS if isinstance(value.get(p), str) and value[p]})
    return chosen


def render(
    kind: str, locale: str, variables: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Rendered:
    """Subject, text and HTML for ``kind`` in ``locale``: each part from the project's override
    when it has a usable one, else from the built-in set."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    values = {**variables, "kind": kind, "locale": locale}
    parts: dict[str, str] = {}
    overridden: list[str] = []
    problems: list[str] = []
    for part in PARTS:
        source = (overrides or {}).get(part)
        if isinstance(source, str) and source:
            try:
                parts[part] = render_override(source, part, values)
                overridden.append(part)
                continue
            except Exception as exc:  # whatever a project's template does, the mail still goes out
                problems.append(f"{part}: {common.one_line(str(exc), 300)}")
        parts[part] = builtin_part(kind, part, locale, values)
    subject = common.one_line(parts["subject"], SUBJECT_LIMIT)
    if not subject:  # a project's subject that renders empty: a mail needs one
        subject = common.one_line(builtin_part(kind, "subject", locale, values), SUBJECT_LIMIT)
        if "subject" in overridden:
            overridden.remove("subject")
            problems.append("subject: renders empty")
    env = builtin_env()
    text = parts["text"].strip("\n") + "\n\n" + env.get_template(f"{locale}/footer.txt").render(values)
    # Both are autoescaped HTML already (ours, or the sandbox's with autoescape on): Markup only
    # stops the layout from escaping them a second time.
    footer = Markup(env.get_template(f"{locale}/footer.html").render(values))  # noqa: S704
    content = Markup(parts["html"])  # noqa: S704
    html = env.get_template("_layout.html").render(
        {**values, "subject": subject, "content": content, "footer": footer}
    )
    return Rendered(subject, text.rstrip("\n") + "\n", html, locale, tuple(overridden), tuple(problems))


# ---- checking a project's templates when they are saved ---------------------------------------


def check_override(key: str, raw: Any, samples: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The cleaned ``{"subject", "text", "html"}`` for ``templates[key]``; raises
    TemplateProblem naming each bad part. ``key`` is a kind or ``kind.locale``; ``samples``
    maps each kind to sample variables, and every part must render with them."""
    kind, _, locale = key.partition(".")
    base = f"notifications.templates.{key}"
    if kind not in KINDS:
        raise TemplateProblem({base: f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})"})
    if locale and not locale.replace("-", "").isalnum():
        raise TemplateProblem({base: f"{locale!r} is not a language tag"})
    if not isinstance(raw, Mapping):
        raise TemplateProblem({base: 'must be an object with "subject", "text" and/or "html"'})
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - set(PARTS))
    if unknown:
        errors[base] = f"unknown part {unknown[0]!r} (parts: subject, text, html)"
    cleaned: dict[str, str] = {}
    for part in PARTS:
        if part not in raw or raw[part] in (None, ""):
            continue
        source = raw[part]
        path = f"{base}.{part}"
        if not isinstance(source, str):
            errors[path] = "must be a string (a Jinja template)"
            continue
        problems = audit(source, part == "html")
        if problems:
            errors[path] = "; ".join(problems)
            continue
        try:
            out = render_override(source, part, {**samples[kind], "kind": kind, "locale": locale or "en"})
        except Exception as exc:  # any way it fails to render is a reason to refuse it
            errors[path] = f"does not render: {common.one_line(str(exc), 300)}"
            continue
        if part == "subject" and not common.one_line(out, SUBJECT_LIMIT):
            errors[path] = "renders empty; a mail needs a subject"
            continue
        cleaned[part] = source
    if not cleaned and not errors:
        errors[base] = 'give at least one of "subject", "text", "html"'
    if errors:
        raise TemplateProblem(errors)
    return cleaned
