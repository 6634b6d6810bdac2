"""Fixtures for the media store tests: one real SeaweedFS per session, a fresh bucket per test,
and a ``store`` fixture that runs each test against both S3Store and LocalStore."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bugline.routes import media
from bugline.storage.base import MediaStore
from bugline.storage.local import LocalStore
from bugline.storage.s3 import S3Store
from tests.support.seaweed import SeaweedServer, start_seaweed

# Where LocalStore's signed URLs point; the test HTTP client routes this host to the app.
LOCAL_PUBLIC_URL = "http://bugline.test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    with start_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def s3_admin(seaweed: SeaweedServer) -> Any:
    """A plain boto3 client, to look at the bucket behind the store's back."""
    return seaweed.client()


@pytest.fixture
def bucket(seaweed: SeaweedServer, s3_admin: Any) -> Iterator[str]:
    name = f"bugline-{uuid.uuid4().hex[:16]}"
    s3_admin.create_bucket(Bucket=name)
    yield name
    s3_admin.delete_bucket(Bucket=name)  # SeaweedFS deletes a non-empty bucket with its objects


@pytest.fixture
def s3_store(seaweed: SeaweedServer, bucket: str) -> S3Store:
    return S3Store(
        bucket,
        endpoint_url=seaweed.endpoint_url,
        public_endpoint_url=None,
        region="us-east-1",
        access_key=seaweed.access_key,
        secret_key=seaweed.secret_key,
    )


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "media", public_url=LOCAL_PUBLIC_URL, secret_key=secrets.token_urlsafe(40))


@pytest.fixture(params=[pytest.param("s3", marks=pytest.mark.s3), "local"])
def store(request: pytest.FixtureRequest) -> MediaStore:
    chosen: MediaStore = request.getfixturevalue(f"{request.param}_store")
    return chosen


@asynccontextmanager
async def browser_like_client(store: MediaStore) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client like a browser's: Bugline's own URLs go to the media routes app, S3
    URLs to SeaweedFS over the network."""
    app = Starlette(routes=media.routes)
    app.state.store = store
    mounts = {LOCAL_PUBLIC_URL: httpx.ASGITransport(app=app)}
    async with httpx.AsyncClient(mounts=mounts, timeout=60) as client:
        yield client


@pytest.fixture
async def http(store: MediaStore) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(store) as client:
        yield client


@pytest.fixture
async def local_http(local_store: LocalStore) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(local_store) as client:
        yield client
