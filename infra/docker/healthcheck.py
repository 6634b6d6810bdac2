#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit 0 when the web process on this container answers /healthz.

Liveness only (the process serves HTTP); /readyz, which also checks the database and the
media store, is for load balancers deciding where to send traffic, not for restarts.
The slim runtime has no curl: the standard library does it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 4.0


def main() -> int:
    port = os.environ.get("PORT", "8000")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
