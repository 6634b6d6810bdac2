"""GET /widget/{name}: the built widget files, loadable from any origin, cached by name."""

from __future__ import annotations

import pytest

from tests.conftest import Bugline

pytestmark = pytest.mark.anyio


async def test_loader_is_served_as_javascript_for_any_origin(bugline_local: Bugline) -> None:
    res = await bugline_local.client.get("/widget/loader.js", headers={"Origin": "https://elsewhere.example"})
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/javascript; charset=utf-8"
    assert res.headers["access-control-allow-origin"] == "*"
    assert res.headers["cross-origin-resource-policy"] == "cross-origin"
    assert res.headers["cache-control"] == "public, max-age=300"
    assert res.headers["x-content-type-options"] == "nosniff"
    etag = res.headers["etag"]
    again = await bugline_local.client.get("/widget/loader.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_hashed_chunks_are_immutable(bugline_local: Bugline) -> None:
    from bugline.routes.widget import STATIC

    chunks = sorted(p.name for p in STATIC.glob("chunk-*.js"))
    names = chunks[:1] or ["dialog.js"]
    res = await bugline_local.client.get(f"/widget/{names[0]}")
    assert res.status_code == 200
    expected = "public, max-age=31536000, immutable" if chunks else "public, max-age=300"
    assert res.headers["cache-control"] == expected


@pytest.mark.parametrize(
    "name", ["nope.js", "..%2Fapp.py", "..%2F..%2Fsettings.py", "loader.js.map", ".manifest.json", "demo.css"]
)
async def test_unknown_names_and_traversal_are_404(bugline_local: Bugline, name: str) -> None:
    res = await bugline_local.client.get(f"/widget/{name}")
    assert res.status_code == 404
    assert res.json()["error"]["code"] == "not_found"
