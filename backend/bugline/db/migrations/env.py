"""Alembic environment: the URL comes from the caller (bugline.db.migrate), never from a file."""

from __future__ import annotations

from alembic import context

from bugline.db.engine import make_sync_engine
from bugline.db.models import Base
from bugline.inbox.searchddl import include_name

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "bugline.db.migrate sets sqlalchemy.url"

engine = make_sync_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
        include_name=include_name,  # the search index lives outside the models (0009)
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
