"""Check an HTTP request against a vendor's OpenAPI 3.x or Swagger 2.0 spec.

    validator = SpecValidator(spec_path("zendesk"))
    errors = validator.validate("POST", "/api/v2/tickets", {}, headers, body, "application/json")
    # [] when the request is one the spec allows, else messages such as
    # "POST /api/v2/tickets: body.ticket.priority: 'super' is not one of ['urgent', 'high', 'normal', 'low']"

What is checked:
- the operation exists (method + path template; the request path may carry the server's base path,
  e.g. Slack's ``/api``, or any prefix before the template, e.g. ``/ex/jira/{cloudId}/rest/api/3/...``);
- path, query and header parameters: required ones present, every value valid for its schema
  (query strings are coerced to the schema's type first); query parameters the spec does not
  declare are errors, since a misspelt one is silently ignored by the real vendor;
- credentials, when the spec declares security: an ``Authorization`` header that is well formed
  Basic or Bearer (the vendors here accept both whatever the spec lists, see CONTRACTS.md);
- the body: content type accepted by the operation, JSON parsed and validated with jsonschema
  (OpenAPI 3.0 ``nullable`` and Swagger ``x-nullable`` rewritten to JSON Schema; 3.1 taken as is),
  urlencoded and multipart fields coerced and validated, required multipart parts present, raw
  binary bodies non-empty.

Swagger 2.0 (Slack chat.postMessage) declares its arguments as ``formData`` parameters. A JSON body
is checked against the same parameters (Slack accepts either encoding,
https://api.slack.com/web#posting_json). Parameters the spec types as strings holding "JSON-based"
arrays (``blocks``, ``attachments``) accept the JSON value itself in a JSON body and must parse as
JSON when sent as strings. The spec models the token as a required header parameter named
``token``; we accept it there, as an ``Authorization: Bearer`` header (what Slack documents and
the SDKs send), or as a ``token`` form field.

Where a saved spec is silent about something the vendor really does, a ``Gap`` adds it (each
with the reason and its source); ``GAPS`` lists the known ones per spec file and is applied
automatically. Vendor helpers may pass more with ``SpecValidator(path, gaps=[...])``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import email.parser
import email.policy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema  # type: ignore[import-untyped]  # no stubs shipped; types-jsonschema not in the venv
import jsonschema.exceptions  # type: ignore[import-untyped]
import jsonschema.protocols  # type: ignore[import-untyped]
import referencing
import referencing.jsonschema

Query = Mapping[str, str] | Iterable[tuple[str, str]] | str | None
Headers = Mapping[str, str] | Iterable[tuple[str, str]] | None
Json = Any
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BASE_URI = "urn:bugline:spec"
MAX_MESSAGE = 400


@dataclass(frozen=True)
class Gap:
    """Something the vendor does that its saved spec leaves out, added to one operation.

    ``parameters`` are OpenAPI 3 parameter objects added to the operation; ``body`` is an OpenAPI 3
    requestBody object replacing the spec's (or standing in for a missing one); ``rule`` is a JSON
    schema the body must ALSO satisfy; ``parts`` are multipart parts that must be present;
    ``adds`` creates the operation when the subset does not have it at all.
    """

    method: str
    template: str
    why: str
    parameters: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None
    rule: dict[str, Any] | None = None
    parts: tuple[str, ...] = ()
    adds: bool = False


# Shared by the Jira rules below: Jira Cloud v3 takes Atlassian Document Format, not strings, for
# the description (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
_ADF = {
    "type": "object",
    "required": ["type", "version", "content"],
    "properties": {"type": {"enum": ["doc"]}, "version": {"enum": [1]}, "content": {"type": "array"}},
}

GAPS: dict[str, tuple[Gap, ...]] = {
    "zendesk-tickets-uploads-subset.openapi.json": (
        Gap(
            "POST",
            "/api/v2/uploads",
            "the OAS leaves out the required `filename` query parameter, the optional `token` and the "
            "raw-bytes body that its own description names (CONTRACTS.md 1; "
            "https://developer.zendesk.com/api-reference/ticketing/tickets/ticket-attachments/#upload-files)",
            parameters=(
                {
                    "name": "filename",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1},
                },
                {"name": "token", "in": "query", "required": False, "schema": {"type": "string"}},
            ),
            body={"required": True, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
        ),
        Gap(
            "POST",
            "/api/v2/tickets",
            "the body's `ticket` is not marked required (its `comment` is), yet an empty body creates "
            "nothing; and the OAS has only `requester_id`, not the `requester` object that creates the "
            "requester on the fly "
            "(https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#creating-a-ticket-with-a-new-requester)",
            rule={
                "required": ["ticket"],
                "properties": {
                    "ticket": {
                        "properties": {
                            "requester": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "name": {"type": "string"},
                                    "email": {"type": "string", "format": "email"},
                                    "locale_id": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
            },
        ),
    ),
    "jira-issue-attachments-subset.openapi.json": (
        Gap(
            "POST",
            "/rest/api/3/issue",
            "`fields` is free-form in the spec, but Jira answers 400 without a project, an issue type and "
            "a summary, wants ADF for `description`, and refuses labels with spaces "
            "(https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post)",
            rule={
                "required": ["fields"],
                "properties": {
                    "fields": {
                        "required": ["project", "issuetype", "summary"],
                        "properties": {
                            "project": {"type": "object", "minProperties": 1},
                            "issuetype": {"type": "object", "minProperties": 1},
                            "summary": {"type": "string", "minLength": 1, "maxLength": 255},
                            "priority": {"type": "object", "minProperties": 1},
                            "description": _ADF,
                            "environment": _ADF,
                            "labels": {"type": "array", "items": {"type": "string", "pattern": r"^\S+$"}},
                        },
                    }
                },
            },
        ),
        Gap(
            "POST",
            "/rest/api/3/issue/{issueIdOrKey}/attachments",
            "the operation's description (not its parameters) requires `X-Atlassian-Token: no-check` and "
            "parts named `file`; its body schema describes a Java MultipartFile, not the form",
            parameters=(
                {
                    "name": "X-Atlassian-Token",
                    "in": "header",
                    "required": True,
                    "schema": {"enum": ["no-check"]},
                },
            ),
            body={"required": True, "content": {"multipart/form-data": {"schema": {"type": "object"}}}},
            parts=("file",),
        ),
    ),
    "slack-chat-postMessage-subset.patched.swagger.json": (
        Gap(
            "POST",
            "/chat.postMessage",
            "Slack answers `no_text` unless one of text, blocks or attachments is given "
            "(https://api.slack.com/methods/chat.postMessage#text_usage)",
            rule={"anyOf": [{"required": ["text"]}, {"required": ["blocks"]}, {"required": ["attachments"]}]},
        ),
    ),
}


@dataclass
class _Param:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]
    pointer: str  # where the schema sits in the (rewritten) document


@dataclass
class _Media:
    pointer: str  # of the schema
    schema: dict[str, Any]
    json_strings: frozenset[str] = frozenset()  # form fields that hold JSON text (Swagger 2.0)


@dataclass
class _Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    literal: int
    params: list[_Param] = field(default_factory=list)
    media: dict[str, _Media] = field(default_factory=dict)
    body_required: bool = False
    has_body: bool = False
    parts: tuple[str, ...] = ()
    rules: list[str] = field(default_factory=list)  # pointers of extra body schemas
    secured: bool = False
    token_param: bool = False  # Swagger 2.0 Slack: required `token` header parameter


class SpecValidator:
    """Validates requests against one OpenAPI 3.x / Swagger 2.0 JSON file (see the module doc)."""

    def __init__(self, path: Path | str, gaps: Sequence[Gap] | None = None) -> None:
        self.path = Path(path)
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        self.swagger = str(raw.get("swagger", "")).startswith("2")
        version = str(raw.get("openapi", "2.0"))
        self.title = str(raw.get("info", {}).get("title", self.path.name))
        self.doc: dict[str, Any] = copy.deepcopy(raw)
        if not version.startswith("3.1"):
            _rewrite_nullable(self.doc)
        self.doc["x-bugline"] = {"rules": [], "forms": [], "gaps": []}
        chosen = GAPS.get(self.path.name, ()) if gaps is None else (*GAPS.get(self.path.name, ()), *gaps)
        self.bases = self._base_paths()
        self.operations: list[_Operation] = []
        self._load_operations(chosen)
        spec = (
            referencing.jsonschema.DRAFT202012 if version.startswith("3.1") else referencing.jsonschema.DRAFT4
        )
        self._cls: type[jsonschema.protocols.Validator] = (
            jsonschema.Draft202012Validator if version.startswith("3.1") else jsonschema.Draft4Validator
        )
        resource = spec.create_resource(self.doc)
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resource(BASE_URI, resource)
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    # -- public ---------------------------------------------------------------------------------

    def validate(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: Headers = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]:
        """Every way this request breaks the spec, as readable messages; ``[]`` when it is valid."""
        method = method.upper()
        path = urlsplit(path).path or "/"
        label = f"{method} {path}"
        found = self._find(method, path)
        if isinstance(found, str):
            return [f"{label}: {found}"]
        operation, values = found
        header_map = _headers(headers)
        pairs = _query(query)
        if content_type is None:
            content_type = header_map.get("content-type")
        errors: list[str] = []
        errors += self._check_params(operation, values, pairs, header_map)
        errors += _check_auth(operation, header_map, body, content_type)
        errors += self._check_body(operation, body, content_type)
        return [f"{label}: {e}" for e in dict.fromkeys(errors)]

    def operation_for(self, method: str, path: str) -> str | None:
        """The spec's template for this request (``"/api/v2/tickets/{ticket_id}"``), or None."""
        found = self._find(method.upper(), urlsplit(path).path)
        return None if isinstance(found, str) else found[0].template

    # -- loading --------------------------------------------------------------------------------

    def _base_paths(self) -> list[str]:
        bases = {""}
        if self.swagger:
            bases.add(str(self.doc.get("basePath", "")).rstrip("/"))
        for server in self.doc.get("servers", []):
            url = str(server.get("url", ""))
            for name, var in server.get("variables", {}).items():
                url = url.replace("{" + name + "}", str(var.get("default", "")))
            bases.add(urlsplit(url).path.rstrip("/"))
        return sorted(bases, key=len, reverse=True)

    def _load_operations(self, gaps: Sequence[Gap]) -> None:
        paths = self.doc.get("paths", {})
        for gap in gaps:
            if gap.adds:
                paths.setdefault(gap.template, {}).setdefault(
                    gap.method.lower(), {"x-bugline-added": gap.why}
                )
        for template, item in paths.items():
            for method in HTTP_METHODS:
                if method in item:
                    base = f"/paths/{_escape(template)}"
                    self.operations.append(self._operation(template, method, item, base))
        for gap in gaps:
            matches = [o for o in self.operations if o.method == gap.method and o.template == gap.template]
            if not matches:
                raise ValueError(
                    f"gap for {gap.method} {gap.template} names no operation in {self.path.name}"
                )
            self._apply(matches[0], gap)

    def _operation(self, template: str, method: str, item: dict[str, Any], base: str) -> _Operation:
        regex, literal = _template_regex(template)
        op_pointer = f"{base}/{method}"
        operation: dict[str, Any] = item[method]
        result = _Operation(method.upper(), template, regex, literal)
        declared: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        for source, pointer in ((item, base), (operation, op_pointer)):
            for index, param in enumerate(source.get("parameters", [])):
                resolved, where = self._deref(param, f"{pointer}/parameters/{index}")
                declared[(resolved["name"], resolved["in"])] = (resolved, where)
        forms: list[tuple[dict[str, Any], str]] = []
        for (name, location), (param, where) in declared.items():
            if location == "body":
                self._swagger_body(result, operation, param, where)
            elif location == "formData":
                forms.append((param, where))
            elif self.swagger and location == "header" and name == "token":
                result.token_param = bool(param.get("required"))
            else:
                schema, schema_at = self._param_schema(param, where)
                result.params.append(_Param(name, location, bool(param.get("required")), schema, schema_at))
        if forms:
            self._swagger_form(result, operation, forms)
        if "requestBody" in operation:
            body, where = self._deref(operation["requestBody"], f"{op_pointer}/requestBody")
            self._request_body(result, body, where)
        security: list[dict[str, Any]] = operation.get("security", self.doc.get("security")) or []
        result.secured = any(bool(alternative) for alternative in security)
        return result

    def _param_schema(self, param: dict[str, Any], where: str) -> tuple[dict[str, Any], str]:
        if "schema" in param:
            return self._deref(param["schema"], f"{where}/schema")
        # Swagger 2.0 non-body parameters carry the schema keywords themselves.
        keys = ("type", "format", "items", "enum", "minimum", "maximum", "pattern", "minLength", "maxLength")
        schema = {k: v for k, v in param.items() if k in keys}
        return schema, self._store("forms", schema)

    def _request_body(self, result: _Operation, body: dict[str, Any], where: str) -> None:
        result.has_body = True
        result.body_required = bool(body.get("required"))
        result.media = {}
        for media_type, media in body.get("content", {}).items():
            schema, schema_at = self._deref(
                media.get("schema", {}), f"{where}/content/{_escape(media_type)}/schema"
            )
            result.media[media_type.lower()] = _Media(schema_at, schema)

    def _swagger_body(
        self, result: _Operation, operation: dict[str, Any], param: dict[str, Any], where: str
    ) -> None:
        result.has_body = True
        result.body_required = bool(param.get("required"))
        schema, schema_at = self._deref(param.get("schema", {}), f"{where}/schema")
        for media_type in operation.get("consumes", self.doc.get("consumes", ["application/json"])):
            result.media[media_type.lower()] = _Media(schema_at, schema)

    def _swagger_form(
        self, result: _Operation, operation: dict[str, Any], forms: list[tuple[dict[str, Any], str]]
    ) -> None:
        properties: dict[str, Any] = {}
        required: list[str] = []
        json_strings: set[str] = set()
        for param, _where in forms:
            name = param["name"]
            keys = (
                "type",
                "format",
                "items",
                "enum",
                "minimum",
                "maximum",
                "pattern",
                "minLength",
                "maxLength",
            )
            schema = {k: v for k, v in param.items() if k in keys}
            if schema.get("type") == "file":
                schema = {"type": "string"}
            if schema.get("type") == "string" and "json" in str(param.get("description", "")).lower():
                json_strings.add(name)
                schema = {"anyOf": [schema, {"type": "array"}, {"type": "object"}]}
            properties[name] = schema
            if param.get("required"):
                required.append(name)
        if result.token_param:
            properties["token"] = {"type": "string"}  # Slack also takes the token as a form field
        form_schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        pointer = self._store("forms", form_schema)
        result.has_body = True
        result.body_required = bool(required)
        consumes = operation.get("consumes", self.doc.get("consumes", ["application/x-www-form-urlencoded"]))
        for media_type in consumes:
            result.media[media_type.lower()] = _Media(pointer, form_schema, frozenset(json_strings))

    def _apply(self, operation: _Operation, gap: Gap) -> None:
        for param in gap.parameters:
            schema = param.get("schema", {})
            pointer = self._store("gaps", schema)
            operation.params = [
                p for p in operation.params if (p.name, p.location) != (param["name"], param["in"])
            ]
            operation.params.append(
                _Param(param["name"], param["in"], bool(param.get("required")), schema, pointer)
            )
        if gap.body is not None:
            pointer = self._store("gaps", gap.body)
            self._request_body(operation, gap.body, pointer)
        if gap.rule is not None:
            operation.rules.append(self._store("rules", gap.rule))
        operation.parts = (*operation.parts, *gap.parts)

    def _store(self, kind: str, schema: dict[str, Any]) -> str:
        bucket: list[Any] = self.doc["x-bugline"][kind]
        bucket.append(schema)
        return f"/x-bugline/{kind}/{len(bucket) - 1}"

    def _deref(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            pointer = node["$ref"][1:]
            node = self.doc
            for part in pointer.lstrip("/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            if seen > 32:
                raise ValueError(f"$ref loop at {pointer}")
        return node, pointer

    # -- matching -------------------------------------------------------------------------------

    def _find(self, method: str, path: str) -> tuple[_Operation, dict[str, str]] | str:
        candidates: list[tuple[int, int, _Operation, dict[str, str]]] = []
        other_methods: set[str] = set()
        for operation in self.operations:
            for base in self.bases:
                if not path.startswith(base):
                    continue
                match = operation.regex.fullmatch(path[len(base) :])
                if match is None:
                    continue
                if operation.method != method:
                    other_methods.add(operation.method)
                    continue
                candidates.append((0, -operation.literal, operation, match.groupdict()))
        if not candidates:
            # Any prefix before the template, e.g. Jira's OAuth base /ex/jira/{cloudId}.
            for operation in self.operations:
                match = re.search(operation.regex.pattern + r"\Z", path)
                if match is None:
                    continue
                if operation.method != method:
                    other_methods.add(operation.method)
                    continue
                candidates.append((match.start(), -operation.literal, operation, match.groupdict()))
        if not candidates:
            if other_methods:
                return f"method not in the spec for this path (it allows {', '.join(sorted(other_methods))})"
            return f"no such operation in {self.path.name}"
        candidates.sort(key=lambda c: (c[0], c[1]))
        _, _, operation, raw = candidates[0]
        names = _template_names(operation.template)
        return operation, {names[int(k[1:])]: unquote(v) for k, v in raw.items()}

    # -- checks ---------------------------------------------------------------------------------

    def _check_params(
        self,
        operation: _Operation,
        values: dict[str, str],
        pairs: list[tuple[str, str]],
        headers: dict[str, str],
    ) -> list[str]:
        errors: list[str] = []
        known_query = {p.name for p in operation.params if p.location == "query"}
        for name in dict.fromkeys(k for k, _ in pairs):
            if name not in known_query and name.removesuffix("[]") not in known_query:
                errors.append(f"query parameter {name!r} is not in the spec")
        for param in operation.params:
            raw: list[str]
            if param.location == "path":
                raw = [values[param.name]] if param.name in values else []
            elif param.location == "query":
                raw = [v for k, v in pairs if k in (param.name, f"{param.name}[]")]
            elif param.location == "header":
                sent = headers.get(param.name.lower())
                raw = [] if sent is None else [sent]
            else:
                continue  # cookie parameters: none in these specs
            if not raw:
                if param.required:
                    errors.append(f"missing required {param.location} parameter {param.name!r}")
                continue
            value: Json = self._coerce(param.schema, raw)
            where = f"{param.location}.{param.name}"
            errors += self._schema_errors(param.pointer, value, where)
        return errors

    def _check_body(self, operation: _Operation, body: bytes, content_type: str | None) -> list[str]:
        if not operation.has_body:
            return ["the spec defines no request body for this operation"] if body else []
        if not body:
            return ["a request body is required"] if operation.body_required else []
        if not content_type:
            return ["the request has a body but no Content-Type header"]
        media_type = content_type.split(";", 1)[0].strip().lower()
        media = _pick_media(operation.media, media_type)
        if media is None:
            return [
                f"content type {media_type!r} is not accepted (the spec lists {', '.join(operation.media)})"
            ]
        if media_type == "application/json" or media_type.endswith("+json"):
            return self._check_json(operation, media, body)
        if media_type == "application/x-www-form-urlencoded":
            try:
                pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return ["body: form body is not UTF-8"]
            return self._check_form(operation, media, pairs)
        if media_type == "multipart/form-data":
            return self._check_multipart(operation, media, body, content_type)
        return []  # raw bytes (an upload): the spec says nothing more than "binary"

    def _check_json(self, operation: _Operation, media: _Media, body: bytes) -> list[str]:
        try:
            instance = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return [f"body is not valid JSON: {exc}"]
        errors = self._schema_errors(media.pointer, instance, "body")
        for pointer in operation.rules:
            errors += self._schema_errors(pointer, instance, "body")
        errors += _json_string_errors(media, instance)
        return errors

    def _check_form(self, operation: _Operation, media: _Media, pairs: list[tuple[str, str]]) -> list[str]:
        values: dict[str, Json] = {}
        properties = media.schema.get("properties", {}) if isinstance(media.schema, dict) else {}
        for name in dict.fromkeys(k for k, _ in pairs):
            raw = [v for k, v in pairs if k == name]
            schema = properties.get(name.removesuffix("[]"), {})
            values[name.removesuffix("[]")] = self._coerce(schema, raw)
        errors = self._schema_errors(media.pointer, values, "body")
        for pointer in operation.rules:
            errors += self._schema_errors(pointer, values, "body")
        errors += _json_string_errors(media, values)
        return errors

    def _check_multipart(
        self, operation: _Operation, media: _Media, body: bytes, content_type: str
    ) -> list[str]:
        parts = _multipart(body, content_type)
        if isinstance(parts, str):
            return [f"body: {parts}"]
        errors = [
            f"body: multipart part {name!r} is missing" for name in operation.parts if name not in parts
        ]
        if media.schema.get("type") == "object" and media.schema.get("properties"):
            properties = media.schema["properties"]
            values = {name: self._coerce(properties.get(name, {}), texts) for name, texts in parts.items()}
            errors += self._schema_errors(media.pointer, values, "body")
        return errors

    def _coerce(self, schema: dict[str, Any], raw: list[str]) -> Json:
        schema, _ = self._deref(schema, "")
        kind = schema.get("type")
        if kind == "array":
            items = raw if len(raw) > 1 else [x for x in raw[0].split(",")] if raw[0] else []
            return [_scalar(self._deref(schema.get("items", {}), "")[0].get("type"), x) for x in items]
        return _scalar(kind, raw[0])

    def _schema_errors(self, pointer: str, instance: Json, where: str) -> list[str]:
        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{BASE_URI}#{pointer}"}
            validator = self._cls(schema, registry=self._registry, format_checker=self._cls.FORMAT_CHECKER)
            self._validators[pointer] = validator
        found = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        return [_describe(error, where) for error in found]


# -- helpers ------------------------------------------------------------------------------------


def _rewrite_nullable(node: Json) -> None:
    """OpenAPI 3.0 ``nullable: true`` (Swagger ``x-nullable``) means JSON Schema's "or null"."""
    if isinstance(node, list):
        for item in node:
            _rewrite_nullable(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key not in ("example", "examples", "x-bugline"):
            _rewrite_nullable(value)
    if node.get("nullable") is True or node.get("x-nullable") is True:
        node.pop("nullable", None)
        node.pop("x-nullable", None)
        kind = node.get("type")
        if isinstance(kind, str) and "$ref" not in node:
            node["type"] = [kind, "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        else:
            inner = {k: v for k, v in node.items() if k != "description"}
            for key in inner:
                del node[key]
            node["anyOf"] = [inner, {"type": "null"}]


def _template_names(template: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", template)


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    pattern = ""
    literal = 0
    index = 0
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            pattern += f"(?P<p{index}>[^/]+)"
            index += 1
        else:
            pattern += re.escape(piece)
            literal += len(piece)
    return re.compile(pattern), literal


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _headers(headers: Headers) -> dict[str, str]:
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(k).lower(): str(v) for k, v in items}


def _query(query: Query) -> list[tuple[str, str]]:
    if query is None:
        return []
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if isinstance(query, Mapping):
        multi = getattr(query, "multi_items", None)  # starlette QueryParams, multidicts
        if callable(multi):
            return [(str(k), str(v)) for k, v in multi()]
        return [(str(k), str(v)) for k, v in query.items()]
    return [(str(k), str(v)) for k, v in query]


def _scalar(kind: Any, text: str) -> Json:
    """A query/header/form string as the schema's type; left as text when it does not parse."""
    try:
        if kind == "integer" and re.fullmatch(r"-?\d+", text):
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
    except ValueError:
        pass
    return text


def _pick_media(media: dict[str, _Media], media_type: str) -> _Media | None:
    if media_type in media:
        return media[media_type]
    family = media_type.split("/", 1)[0] + "/*"
    return media.get(family) or media.get("*/*")


def _check_auth(
    operation: _Operation, headers: dict[str, str], body: bytes, content_type: str | None
) -> list[str]:
    authorization = headers.get("authorization", "")
    if operation.token_param:
        # Slack: the spec's required `token` header; Slack's docs and SDKs send a Bearer token instead.
        if headers.get("token") or (
            authorization.lower().startswith("bearer ") and authorization[7:].strip()
        ):
            return []
        if content_type and "x-www-form-urlencoded" in content_type and b"token=" in body:
            return []
        return ["no token: send `Authorization: Bearer xoxb-...` (the spec's `token` parameter)"]
    if not operation.secured:
        return []
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return []
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ["Authorization: Basic credentials are not base64 of user:password"]
        return (
            []
            if ":" in decoded
            else ["Authorization: Basic credentials lack the ':' between user and password"]
        )
    return ["missing credentials: the spec requires authentication (Authorization: Basic or Bearer)"]


def _json_string_errors(media: _Media, instance: Json) -> list[str]:
    errors: list[str] = []
    if not isinstance(instance, dict):
        return errors
    for name in sorted(media.json_strings):
        value = instance.get(name)
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                errors.append(
                    f"body.{name}: the spec wants a JSON-encoded array here, got text that is not JSON"
                )
    return errors


def _multipart(body: bytes, content_type: str) -> dict[str, list[str]] | str:
    """Part name -> values (text parts as text, file parts as their file name)."""
    if "boundary=" not in content_type:
        return "multipart Content-Type has no boundary"
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return "multipart body could not be parsed"
    parts: dict[str, list[str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            return "a multipart part has no name in its Content-Disposition"
        filename = part.get_filename()
        if filename is not None:
            parts.setdefault(name, []).append(filename)
        else:
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            parts.setdefault(name, []).append(text)
    if not parts:
        return "multipart body has no parts"
    return parts


def _describe(error: jsonschema.exceptions.ValidationError, where: str) -> str:
    location = where
    for step in error.absolute_path:
        location += f"[{step}]" if isinstance(step, int) else f".{step}"
    message = error.message
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            message += f" (closest: {best.message})"
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return f"{location}: {message}"
