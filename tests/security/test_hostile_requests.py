"""Hostile request shapes the generated requests do not reach: JSON a parser or a database
chokes on, header and unicode tricks, origin spoofing, and what CORS never allows."""

from __future__ import annotations

import pytest

from tests.conftest import ORIGIN, Bugline

pytestmark = pytest.mark.anyio

JSON = {"Content-Type": "application/json"}


def key(b: Bugline) -> dict[str, str]:
    return {"X-Bugline-Key": b.key}


async def post(b: Bugline, body: bytes, **headers: str) -> tuple[int, dict[str, object]]:
    res = await b.client.post("/api/v1/reports", content=body, headers=key(b) | JSON | headers)
    return res.status_code, res.json()


NESTED = 10_000
REFUSED_JSON = [
    ("10k nested arrays", b'{"actual": "x", "metadata": {"a": ' + b"[" * NESTED + b"]" * NESTED + b"}}", 400),
    (
        "10k nested objects",
        b'{"actual": "x", "metadata": ' + b'{"a":' * NESTED + b"1" + b"}" * NESTED + b"}",
        400,
    ),
    ("NaN", b'{"actual": "x", "metadata": {"n": NaN}}', 400),
    ("Infinity", b'{"actual": "x", "metadata": {"n": -Infinity}}', 400),
    (
        "huge number",
        b'{"actual": "x", "context": {"viewport": {"width": 1' + b"0" * 400 + b', "height": 1}}}',
        422,
    ),
    (
        "number overflowing a float",
        b'{"actual": "x", "context": {"viewport": {"width": 1e400, "height": 1}}}',
        422,
    ),
    ("lone surrogate", b'{"actual": "\\ud800"}', 422),
    ("lone surrogate in metadata", b'{"actual": "x", "metadata": {"k": "\\udfff"}}', 422),
]


STORED_AS_TEXT = [
    ("NUL in a text field", b'{"actual": "a\\u0000b"}'),
    ("NUL in metadata", b'{"actual": "x", "metadata": {"k\\u0000": "v\\u0000"}}'),
    ("NUL in console", b'{"actual": "x", "context": {"console": [{"level": "log", "message": "\\u0000"}]}}'),
]


@pytest.mark.parametrize(("case", "body"), STORED_AS_TEXT, ids=[c[0] for c in STORED_AS_TEXT])
async def test_nul_characters_are_refused_before_the_database(
    bugline: Bugline, case: str, body: bytes
) -> None:
    code, answer = await post(bugline, body)
    assert code == 400 and answer["error"]["code"] == "nul_character", answer  # type: ignore[index]
    # An escaped backslash before "u0000" is just text.
    code, answer = await post(bugline, b'{"actual": "C:\\\\u0000dir"}')
    assert code == 201, answer


async def test_nul_in_a_form_field_is_no_server_error(bugline: Bugline) -> None:
    res = await bugline.client.post("/api/v1/reports/form", data={"actual": "a\x00b"}, headers=key(bugline))
    assert res.status_code == 400 and res.json()["error"]["code"] == "nul_character", res.text


@pytest.mark.parametrize(("case", "body", "status"), REFUSED_JSON, ids=[c[0] for c in REFUSED_JSON])
async def test_json_a_parser_or_database_would_choke_on_is_refused(
    bugline: Bugline, case: str, body: bytes, status: int
) -> None:
    code, answer = await post(bugline, body)
    assert code == status, answer
    error = answer["error"]
    assert isinstance(error, dict) and len(str(error["message"])) > 10


async def test_duplicate_keys_take_the_last_value_like_every_json_parser(bugline: Bugline) -> None:
    code, answer = await post(bugline, b'{"actual": "first", "actual": "second"}')
    assert code == 201
    status = await bugline.client.get(f"/api/v1/status/{answer['status_token']}")
    assert status.status_code == 200


async def test_a_utf8_byte_order_mark_is_read_past(bugline: Bugline) -> None:
    code, _ = await post(bugline, b'\xef\xbb\xbf{"actual": "x"}')
    assert code == 201


CONTENT_TYPES = [
    ("text/json", 415),
    ("application/jsonx", 415),
    ("application/x-www-form-urlencoded", 415),
    ("APPLICATION/JSON; charset=UTF-8", 201),
]


@pytest.mark.parametrize(("ctype", "status"), CONTENT_TYPES, ids=[c[0] for c in CONTENT_TYPES])
async def test_content_type_confusion(bugline: Bugline, ctype: str, status: int) -> None:
    code, _ = await post(bugline, b'{"actual": "x"}', **{"Content-Type": ctype})
    assert code == status


KEYS = [
    ("huge key", "pk_" + "a" * 100_000),
    ("zero-width in key", "pk_\u200b"),
    ("homoglyph key", "\u0440k_abc"),  # Cyrillic er, looks like p
]


@pytest.mark.parametrize(("case", "value"), KEYS, ids=[c[0] for c in KEYS])
async def test_hostile_keys_are_a_plain_403(bugline: Bugline, case: str, value: str) -> None:
    res = await bugline.client.post(
        "/api/v1/reports", json={"actual": "x"}, headers={"X-Bugline-Key": value.encode()}
    )
    assert res.status_code == 403 and res.json()["error"]["code"] == "invalid_key"


SPOOFED = [
    "https://app.example.com.evil.com",
    "https://evilapp.example.com",
    "https://app.example.co",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://app.example.com@evil.com",
    "https://\u0430pp.example.com",  # Cyrillic a: looks the same, is another host
    "https://app\u200b.example.com",
    "https://APP.EXAMPLE.COM.",
    "null",
    "*",
]


@pytest.mark.parametrize("origin", SPOOFED)
async def test_spoofed_origins_get_neither_the_api_nor_cors(bugline: Bugline, origin: str) -> None:
    sent = origin.encode()  # headers travel as bytes: the server gets the UTF-8
    res = await bugline.client.post(
        "/api/v1/reports", json={"actual": "x"}, headers=key(bugline) | {"Origin": sent}
    )
    assert res.status_code == 403 and res.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in res.headers
    ask = {
        "Origin": sent,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    pre = await bugline.client.options(f"/api/v1/reports?key={bugline.key}", headers=ask)
    assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers


async def test_credentials_are_never_allowed_cross_origin(bugline: Bugline) -> None:
    ask = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    pre = await bugline.client.options(f"/api/v1/reports?key={bugline.key}", headers=ask)
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == ORIGIN
    res = await bugline.client.post(
        "/api/v1/reports", json={"actual": "x"}, headers=key(bugline) | {"Origin": ORIGIN}
    )
    assert res.status_code == 201 and res.headers["access-control-allow-origin"] == ORIGIN
    for answer in (pre, res):
        assert "access-control-allow-credentials" not in answer.headers
        assert answer.headers["access-control-allow-origin"] != "*"
    # Methods other than the widget's are never allowed.
    put = await bugline.client.options(
        f"/api/v1/reports?key={bugline.key}", headers=ask | {"Access-Control-Request-Method": "DELETE"}
    )
    assert put.status_code == 403


async def test_the_agent_api_answers_no_cross_origin_caller(bugline: Bugline) -> None:
    from tests.integration.test_agent_api import auth, token_for

    token = await token_for(bugline, "agent")
    res = await bugline.client.get(
        f"/api/v1/projects/{bugline.project.id}/connectors", headers=auth(token) | {"Origin": ORIGIN}
    )
    assert res.status_code == 200
    assert "access-control-allow-origin" not in res.headers  # a page cannot read it with a stolen token
