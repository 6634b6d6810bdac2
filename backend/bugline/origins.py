"""Which web origins may embed a project's widget (pure).

An allowed origin is ``scheme://host[:port]``; ``https://*.example.com`` allows every
subdomain of example.com (but not example.com itself). Browsers send the Origin
header on every cross-origin request; servers and curl send none, and the public
key alone is then enough, as with Sentry's DSN: the key is public by design and
origin checks protect against other sites' pages, not against scripts.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginError(ValueError):
    pass


def normalize_origin(value: str) -> str:
    """``HTTPS://Example.com:443/`` -> ``https://example.com``; raise OriginError if it is not an origin."""
    raw = value.strip()
    parts = urlsplit(raw)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise OriginError(f"{value!r} is not an origin like https://app.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise OriginError(f"{value!r} must be only scheme://host[:port], without a path")
    host = parts.hostname.lower()
    if "*" in host and not (host.startswith("*.") and "*" not in host[2:] and "." in host[2:]):
        raise OriginError(f"{value!r}: a wildcard may only stand for subdomains, as in https://*.example.com")
    try:
        port = parts.port
    except ValueError:
        raise OriginError(f"{value!r} has an invalid port") from None
    if ":" in host:
        host = f"[{host}]"
    if port and port != DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    try:
        origin = normalize_origin(origin)
    except OriginError:
        return False  # "null" (sandboxed iframes, file://) and garbage are never allowed
    scheme, _, rest = origin.partition("://")
    for pattern in allowed:
        if pattern == origin:
            return True
        if "://*." in pattern:
            p_scheme, _, p_rest = pattern.partition("://*.")
            if p_scheme == scheme and rest.endswith("." + p_rest):
                return True
    return False
