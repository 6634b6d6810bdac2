"""Check GraphQL requests against a schema (Linear's ``schema.graphql``) with graphql-core.

    validator = GraphQLValidator(spec_path("linear"))
    validator.validate_document(query, variables)      # [] or readable messages
    validator.validate("POST", "/graphql", None, headers, body, "application/json")   # HTTP level

The document must parse and pass graphql-core's validation rules (unknown fields, arguments,
types, missing required arguments...); the variables are coerced against the chosen operation's
variable definitions exactly as a server would before executing it (missing non-null variables,
wrong scalar types, unknown input fields, bad enum values). The built schema is cached per file:
Linear's is 1.2 MB and takes a while to build.

At the HTTP level a request is a POST of ``{"query", "variables", "operationName"}`` as JSON to a
path ending in ``/graphql``, with an ``Authorization`` header (Linear takes a personal API key
bare or an OAuth token as ``Bearer``, CONTRACTS.md 5).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_operation_ast,
    parse,
)
from graphql import validate as validate_document_ast
from graphql.execution.values import get_variable_values

from tests.support.vendors.openapi import MAX_MESSAGE, Headers, Query


@functools.lru_cache(maxsize=4)
def load_schema(path: str) -> GraphQLSchema:
    """The schema built from an SDL file, built once per process."""
    return build_schema(Path(path).read_text(encoding="utf-8"))


class GraphQLValidator:
    """Validates GraphQL documents and their variables against one schema file."""

    def __init__(self, schema_path: Path | str) -> None:
        self.path = Path(schema_path)
        self.schema = load_schema(str(self.path.resolve()))

    def validate_document(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> list[str]:
        """Every problem with this document and these variables; ``[]`` when a server would run it."""
        try:
            document = parse(query)
        except GraphQLError as error:
            return [f"query: {_message(error)}"]
        errors = [f"query: {_message(e)}" for e in validate_document_ast(self.schema, document)]
        if errors:
            return errors
        operation = get_operation_ast(document, operation_name)
        if not isinstance(operation, OperationDefinitionNode):
            named = f" named {operation_name!r}" if operation_name else ""
            return [f"query: no single operation{named} to run (give operationName)"]
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            return [f"variables: {_message(e)}" for e in coerced]
        return []

    def operation(self, query: str, operation_name: str | None = None) -> tuple[str, str]:
        """``("mutation", "issueCreate")``: the operation type and its first root field, for routing."""
        document = parse(query)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            raise ValueError("no single operation in the document")
        first = operation.selection_set.selections[0]
        field = getattr(first, "name", None)
        return operation.operation.value, "" if field is None else str(field.value)

    def validate(
        self,
        method: str,
        path: str,
        query: Query = None,
        headers: Headers = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]:
        """The same checks on an HTTP request (FakeVendor calls this)."""
        label = f"{method.upper()} {path}"
        header_map = {}
        if headers is not None:
            items = headers.items() if hasattr(headers, "items") else headers
            header_map = {str(k).lower(): str(v) for k, v in items}
        problems: list[str] = []
        if method.upper() != "POST":
            problems.append("GraphQL requests must be POST")
        if not path.rstrip("/").endswith("/graphql"):
            problems.append("not the GraphQL endpoint (/graphql)")
        if not header_map.get("authorization", "").strip():
            problems.append("missing Authorization header (API key, or Bearer OAuth token)")
        media_type = (content_type or header_map.get("content-type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            problems.append(f"content type must be application/json, got {media_type or 'none'!r}")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return [f"{label}: {p}" for p in [*problems, f"body is not valid JSON: {exc}"]]
        problems += _payload_errors(payload)
        if not problems:
            problems = self.validate_document(
                payload["query"], payload.get("variables"), payload.get("operationName")
            )
        return [f"{label}: {p}" for p in problems]


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["body must be a JSON object with `query`"]
    problems = []
    if not isinstance(payload.get("query"), str):
        problems.append("body.query must be a string")
    if payload.get("variables") is not None and not isinstance(payload["variables"], dict):
        problems.append("body.variables must be an object")
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        problems.append("body.operationName must be a string")
    unknown = sorted(set(payload) - {"query", "variables", "operationName", "extensions"})
    if unknown:
        problems.append(f"unknown keys in the GraphQL request: {', '.join(unknown)}")
    return problems


def _message(error: GraphQLError) -> str:
    message = error.message
    if len(message) > MAX_MESSAGE:  # graphql-core repeats the whole input value after "found:"
        message = message[: MAX_MESSAGE - 3] + "..."
    if error.locations:
        message += f" (line {error.locations[0].line}, column {error.locations[0].column})"
    return message
