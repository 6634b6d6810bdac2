"""The inbox (issue 7): which reports an agent sees, filtered, searched, sorted and paged.

    filters.py    the query string -> a typed Filter (pure; FilterError names the field)
    cursor.py     opaque keyset cursors (pure; CursorError)
    search.py     a search box's words -> an FTS5 MATCH string / a PostgreSQL tsquery (pure)
    searchddl.py  the full-text index objects the migration creates outside the models
    query.py      Filter -> SQLAlchemy statements and a Page of rows (tenant-scoped)

The dashboard page (routes/inbox.py) and the agent API (routes/reportsapi.py) share all of it,
so the same filters mean the same thing in both.
"""
