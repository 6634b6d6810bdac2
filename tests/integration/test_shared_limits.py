"""Rate limits shared by several server processes through the database, on SQLite and
PostgreSQL: two apps on one database stand for two pods behind a load balancer."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bugline.db.models import RateBucket
from bugline.settings import Settings
from tests.conftest import Bugline, make_settings, start_bugline
from tests.integration.test_bad_input import GOOD, key

pytestmark = pytest.mark.anyio


async def two_pods(db_url: str, tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[Bugline, Bugline]]:
    secret = secrets.token_urlsafe(40)  # pods of one deployment share the secret key
    async with AsyncExitStack() as stack:
        a, b = [
            await stack.enter_async_context(pod(make_settings(db_url, tmp_path / n, secret_key=secret, **settings)))
            for n in ("a", "b")
        ]
        yield a, b


@asynccontextmanager
async def pod(settings: Settings) -> AsyncIterator[Bugline]:
    async for b in start_bugline(settings):
        yield b


async def post(b: Bugline) -> int:
    return (await b.client.post("/api/v1/reports", json=GOOD, headers=key(b))).status_code


async def share(*pods: Bugline) -> None:
    for b in pods:
        await b.app.state.bugline.limits.share()


async def test_two_pods_allow_one_per_ip_budget_not_two(db_url: str, tmp_path: Path) -> None:
    async for a, b in two_pods(db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=6):
        # Within one second each pod lets through what its own bucket holds...
        assert [await post(a) for _ in range(4)] == [201] * 4
        assert [await post(b) for _ in range(4)] == [201] * 4
        await share(a, b)  # a shares first, so only b learns now
        # ...then b knows the client has used 8 of its 6 and refuses it, until the overshoot is
        # paid back (6 a minute: 10 s a token, 3 tokens short).
        res = await b.client.post("/api/v1/reports", json=GOOD, headers=key(b))
        assert res.status_code == 429 and res.json()["error"]["code"] == "rate_limited"
        assert 29 <= int(res.headers["retry-after"]) <= 30
        # a learns at its next share: one more request in that second, then refused too.
        assert await post(a) == 201
        await share(a)
        res = await a.client.post("/api/v1/reports", json=GOOD, headers=key(a))
        assert res.status_code == 429 and 39 <= int(res.headers["retry-after"]) <= 40


async def test_without_sharing_each_pod_keeps_its_own_budget(db_url: str, tmp_path: Path) -> None:
    async for a, b in two_pods(
        db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=6, rate_limit_share_seconds=0
    ):
        assert [await post(a) for _ in range(4)] == [201] * 4
        assert [await post(b) for _ in range(4)] == [201] * 4
        await share(a, b)
        assert await post(a) == 201  # what the setting's help warns of: N pods, N budgets


async def test_one_pod_alone_keeps_its_limit_as_before(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=3):
        codes = []
        for _ in range(4):
            codes.append(await post(a))
            await share(a)  # sharing after every request changes nothing for a lone client
        assert codes == [201, 201, 201, 429]


async def test_the_shared_table_names_no_ip_and_forgets_full_buckets(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=6, trusted_proxies=1):
        h = key(a) | {"X-Forwarded-For": "203.0.113.7"}
        assert (await a.client.post("/api/v1/reports", json=GOOD, headers=h)).status_code == 201
        limits = a.app.state.bugline.limits
        assert await limits.share() == 2  # the client's IP and the project's key
        async with a.engine.connect() as conn:
            rows = (await conn.execute(select(RateBucket))).all()
        assert {r.scope for r in rows} == {"ip", "key"}
        assert all("203.0.113.7" not in r.identity and a.key not in r.identity for r in rows)
        assert {r.scope: r.tokens for r in rows} == {"ip": 5.0, "key": 999.0}
        now = limits.clock()
        limits.clock = lambda: now + 301  # five minutes on: every bucket is full again
        assert await limits.share() == 0
        async with a.engine.connect() as conn:
            assert (await conn.execute(select(RateBucket))).all() == []


async def test_every_limit_of_the_app_is_shared(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path):
        limits = a.app.state.bugline.limits
        assert set(limits.limiters) == {"key", "ip", "failed_auth", "login_ip", "login_email"}
        assert all(lim.shared for lim in limits.limiters.values())
