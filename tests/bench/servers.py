"""The Bugline app as the benchmarks serve it: ``uvicorn --factory tests.bench.servers:bugline_app``.

Settings come from ``BENCH_*`` variables set by the benchmark that starts the process
(not ``BUGLINE_*``: those are the product's own, read by ``Settings.from_env``).
Rate limits are set far above anything a benchmark sends. S3 credentials, when a
bucket is set, reach boto3 through its standard chain (``AWS_ACCESS_KEY_ID`` ...).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from starlette.applications import Starlette

from bugline.app import create_app
from bugline.settings import Settings

UNLIMITED = 1_000_000_000


def bench_settings() -> Settings:
    env = os.environ
    settings = Settings(
        database_url=env["BENCH_DATABASE_URL"],
        data_dir=Path(env["BENCH_DATA_DIR"]),
        secret_key=env["BENCH_SECRET_KEY"],
        public_url=env["BENCH_PUBLIC_URL"],
        s3_bucket=env.get("BENCH_S3_BUCKET", ""),
        s3_endpoint_url=env.get("BENCH_S3_ENDPOINT_URL", ""),
        rate_limit_per_key=UNLIMITED,
        rate_limit_per_ip=UNLIMITED,
        log_level="warning",
    )
    settings.validate()
    return settings


def bugline_app() -> Starlette:
    return create_app(bench_settings())


def bugline_web_app() -> Starlette:
    """Web process that only accepts: triage runs in a separate `bugline worker`."""
    return create_app(dataclasses.replace(bench_settings(), triage_in_web=False))
