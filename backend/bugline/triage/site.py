"""Whose request it was: the app's own (its site) or someone else's (pure).

A browser's failed requests include third parties': analytics beacons an ad blocker
stopped (status 0), a chat widget's API, a CDN. Those say nothing about the app's health,
so an outage and the "failed on the server" severity sign read only requests to the page's
own site: the page's host or another host under the same registrable domain
(``app.shop.example`` and ``api.shop.example``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL_CHARS = 2048
# Gateway statuses (no response at all, bad gateway, unavailable, timeout): the service behind
# the request is down, not one action failing (a 500).
DOWN_STATUSES = frozenset({0, 502, 503, 504})


def host_of(url: str | None) -> str:
    """The lower-case host of a URL ("" when there is none or it does not parse)."""
    if not isinstance(url, str) or not url:
        return ""
    try:
        return (urlsplit(url[:MAX_URL_CHARS].strip()).hostname or "")[:253]
    except ValueError:
        return ""


def site_of(host: str) -> str:
    """The registrable domain, approximately: the last two labels, or three under a short
    second-level label of a country code ("shop.co.uk", "app.com.au"). No public-suffix list:
    a wrong guess only makes two of the same company's hosts count as different sites."""
    labels = [x for x in host.split(".") if x]
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same(host: str, page: str) -> bool:
    """Whether a request's host is on the page's own site (False when either is unknown).
    Both are ``host_of`` results: a caller reads the page's host once for all its requests."""
    return bool(host and page) and (host == page or site_of(host) == site_of(page))
