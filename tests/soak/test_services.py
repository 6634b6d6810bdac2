"""The soak's own services: a SeaweedFS whose port was taken between the check and weed's bind
starts again on new ports instead of failing the soak (a clean-clone run lost it that way)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.soak import services
from tests.support.ports import free_ports

pytestmark = [pytest.mark.s3]


def test_seaweed_starts_on_new_ports_when_one_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    handed: list[list[int]] = []

    def ports(n: int) -> list[int]:
        chosen = [*free_ports(n - 1), busy] if not handed else free_ports(n)
        handed.append(chosen)
        return chosen

    monkeypatch.setattr(services, "free_ports", ports)
    try:
        server = services.start_seaweed(tmp_path / "seaweed")
        try:
            assert len(handed) == 2 and server.ports == handed[1]  # the first try lost its S3 gRPC port
            server.client().list_buckets()  # and the second one serves
        finally:
            server.stop()
    finally:
        taken.close()
