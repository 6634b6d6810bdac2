"""(being written: issue 6)"""

from __future__ import annotations

from typing import Any

routes: list[Any] = []
