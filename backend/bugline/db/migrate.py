"""Run Alembic migrations programmatically: `bugline migrate`, tests and benchmarks use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bugline.db.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolates '%': escape it so passwords with % survive.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    if make_url(url).get_backend_name() == "sqlite" and make_url(url).database:
        Path(make_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
