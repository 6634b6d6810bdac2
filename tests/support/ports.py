"""Free TCP ports on loopback for servers the tests start.

Ports come from below the kernel's ephemeral range (``ip_local_port_range``), not from
``bind(port 0)``. A port the OS hands out for port 0 is an ephemeral one, and between our check
and the server's own bind the kernel may give that very port to an outgoing connection (a
database client, an HTTP call) as its source port: CI once lost a whole xdist worker's S3 tests
to "bind: address already in use" that way. Ports below the range are never used as source
ports, so only another explicit bind can take one, and picking at random makes two test
processes choosing the same port unlikely; callers that start a server still retry on a clash.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000  # clear of the well-known and common service ports
_rng = random.SystemRandom()


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _bound(port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    return sock


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports nothing is bound to right now, all held at once while checking."""
    top = _ephemeral_start()
    socks: list[socket.socket] = []
    try:
        if top - _LOWEST < 1_000:  # an unusual range leaves no room below it: let the OS pick
            while len(socks) < count:
                sock = _bound(0)
                if sock is not None:
                    socks.append(sock)
        else:
            tried: set[int] = set()
            while len(socks) < count and len(tried) < top - _LOWEST:
                port = _rng.randrange(_LOWEST, top)
                if port in tried:
                    continue
                tried.add(port)
                sock = _bound(port)
                if sock is not None:
                    socks.append(sock)
            if len(socks) < count:
                raise OSError(f"no {count} free loopback ports below {top}")
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def free_port() -> int:
    """A port nothing listens on right now (a tiny race remains until the server binds it)."""
    return free_ports(1)[0]


@contextlib.contextmanager
def refusing_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port that refuses connections for as long as the block runs: bound, never listening.

    A port a stopped server freed can be taken by another test's server at once (the suites run
    in parallel), and then "the server is down" reaches a live one; a bound socket keeps it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        yield sock.getsockname()[1]
