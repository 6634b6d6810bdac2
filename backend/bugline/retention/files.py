"""Deleting stored files whose rows say ``deleting``: the one path by which the retention sweep,
an erasure request and an abandoned report's drop remove bytes from the store. A row is
marked ``deleting`` in the transaction that decides it, before the store is asked, so a crash
or a store outage in between leaves a row the next sweep finishes (``erase.unfinished``)
rather than an object no row points to."""

from __future__ import annotations

import logging

from bugline.db.engine import Writer
from bugline.retention import erase as steps
from bugline.storage.base import MediaStore, StoreError

log = logging.getLogger("bugline.retention")


async def delete_files(writer: Writer, store: MediaStore, files: list[tuple[str, str]]) -> int:
    """Delete the objects (and any unverified upload left beside one); mark those that are gone.
    A file the store would not delete stays ``deleting`` for the next sweep."""
    gone: list[str] = []
    for attachment_id, key in files:
        try:
            await store.delete(key)
            await store.delete(f"incoming/{key}")
        except StoreError as exc:
            log.warning("could not delete %s (kept for the next sweep): %s", key, exc)
            continue
        gone.append(attachment_id)
    await writer.run(lambda conn: steps.mark_deleted(conn, gone))
    return len(gone)
