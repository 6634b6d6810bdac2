"""Rate limits shared by several server processes through the database, on SQLite and
PostgreSQL: two apps on one database stand for two pods behind a load balancer."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from bugline.db.models import RateBucket
from bugline.settings import Settings
from bugline.sharedlimits import CHUNK
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
        async with a.engine.begin() as conn:  # the database outlives one test: start empty
            await conn.execute(delete(RateBucket))
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


async def buckets(b: Bugline) -> dict[str, float]:
    async with b.engine.connect() as conn:
        return {r.scope: r.tokens for r in (await conn.execute(select(RateBucket))).all()}


async def age_buckets(b: Bugline, seconds: float) -> None:
    """As if the last share were ``seconds`` earlier (the buckets keep the database's time)."""
    async with b.engine.begin() as conn:
        await conn.execute(update(RateBucket).values(updated=RateBucket.updated - seconds))


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
        assert await buckets(a) == {"ip": 5.0, "key": 999.0}
        await age_buckets(a, 299)
        limits._next_sweep = 0.0  # a sweep is due
        await limits.share()
        assert set(await buckets(a)) == {"ip", "key"}  # not yet full for certain: kept
        await age_buckets(a, 2)
        limits._next_sweep = 0.0
        await limits.share()
        assert await buckets(a) == {}


async def test_a_shared_bucket_refills_with_time_up_to_its_size(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=6):
        limits = a.app.state.bugline.limits
        ip = limits.limiters["ip"]
        for _ in range(6):
            assert ip.hit("198.51.100.1") == 0.0
        await limits.share()
        assert (await buckets(a))["ip"] == 0.0
        assert ip.wait("198.51.100.1") > 0  # empty: one token is 10 s away
        await age_buckets(a, 30)  # 30 s later by the database's clock: 3 tokens back
        ip._buckets.clear()
        ip._blocked.clear()  # as another pod that has not met the client would be
        assert ip.hit("198.51.100.1") == 0.0
        await limits.share()
        assert 1.9 < (await buckets(a))["ip"] < 2.1
        assert ip.wait("198.51.100.1") == 0.0
        await age_buckets(a, 3600)  # an hour idle fills it, no more
        assert ip.hit("198.51.100.1") == 0.0
        await limits.share()
        assert (await buckets(a))["ip"] == 5.0


async def test_a_pod_whose_clock_is_wrong_shares_like_the_others(db_url: str, tmp_path: Path) -> None:
    async for a, b in two_pods(db_url, tmp_path, rate_limit_per_key=1000, rate_limit_per_ip=6):
        b.app.state.bugline.limits.clock = lambda: time.monotonic() + 10_000  # far ahead
        assert [await post(a) for _ in range(3)] == [201] * 3
        await share(a)
        assert [await post(b) for _ in range(3)] == [201] * 3
        await share(b)  # its own clock plays no part in refill or sweep
        assert (await buckets(a))["ip"] < 0.1
        assert await post(b) == 429


async def test_a_flood_of_identities_is_shared_in_chunks(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path):
        limits = a.app.state.bugline.limits
        ip = limits.limiters["ip"]
        for i in range(CHUNK * 2 + 500):  # more than one statement can carry on PostgreSQL
            ip.hit(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        assert await limits.share() == CHUNK * 2 + 500
        async with a.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(RateBucket))).scalar_one() == CHUNK * 2 + 500


async def test_hits_taken_when_the_database_fails_are_shared_next_time(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path, rate_limit_per_ip=6):
        limits = a.app.state.bugline.limits
        ip = limits.limiters["ip"]
        for _ in range(4):
            ip.hit("198.51.100.9")
        real = limits.writer.run

        async def down(work: Any) -> Any:
            raise OSError("connection refused")

        limits.writer.run = down  # type: ignore[method-assign]
        with pytest.raises(OSError):
            await limits.share()
        limits.writer.run = real  # type: ignore[method-assign]
        assert await limits.share() == 1
        assert (await buckets(a))["ip"] == 2.0  # the four hits were not lost


async def test_the_app_starts_sharing_with_its_lifespan(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path, rate_limit_share_seconds=0.05):
        limits = a.app.state.bugline.limits
        async with a.app.router.lifespan_context(a.app):
            limits.limiters["ip"].hit("198.51.100.7")
            for _ in range(100):
                await asyncio.sleep(0.05)
                if await buckets(a):
                    break
            assert await buckets(a) == {"ip": 99_999.0}  # the loop shared it, nobody called share()


async def test_every_limit_of_the_app_is_shared(db_url: str, tmp_path: Path) -> None:
    async for a, _ in two_pods(db_url, tmp_path):
        limits = a.app.state.bugline.limits
        assert set(limits.limiters) == {"key", "ip", "failed_auth", "login_ip", "login_email", "connector_try"}
        assert all(lim.shared for lim in limits.limiters.values())
