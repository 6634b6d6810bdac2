"""The test suite's own servers survive a port another process took first.

CI once lost every S3 test of one xdist worker because a port chosen for SeaweedFS was taken
before weed bound it. These tests hold a port open as a listener and make sure that a start
which is handed it still ends with a working server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ports, seaweed
from tests.support.ports import free_ports


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_free_ports_are_distinct_bindable_and_outside_the_ephemeral_range() -> None:
    chosen = free_ports(8)
    assert len(set(chosen)) == 8
    top = ports._ephemeral_start()
    assert all(ports._LOWEST <= port < top for port in chosen)
    for port in chosen:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))  # raises if the port was not free


def test_free_ports_skip_a_port_that_is_in_use(taken_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Make the taken port the only one "below the range" besides a few free ones.
    monkeypatch.setattr(ports, "_LOWEST", taken_port)
    monkeypatch.setattr(ports, "_ephemeral_start", lambda: taken_port + 1_200)
    chosen = free_ports(20)
    assert taken_port not in chosen


def test_seaweed_starts_again_when_one_of_its_ports_was_taken(
    taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[list[int]] = []
    real = free_ports

    def first_with_a_clash(count: int) -> list[int]:
        chosen = real(count)
        if not handed:
            chosen[6] = taken_port  # the S3 port, as in the CI failure
        handed.append(chosen)
        return chosen

    monkeypatch.setattr(seaweed, "free_ports", first_with_a_clash)
    with seaweed.start_seaweed(tmp_path) as server:
        assert len(handed) == 2
        assert server.endpoint_url != f"http://127.0.0.1:{taken_port}"
        assert server.client().list_buckets()["Buckets"] == []
