"""A hang guard for hostile input, not a speed test.

Inputs built to trigger catastrophic regex backtracking or quadratic loops take minutes or
never end; normal work on them takes milliseconds. ``terminates`` fails only past ``HANG``
seconds, far above anything a loaded machine adds, so it proves "bounded" without asserting
how fast (speed is measured in `make bench`, never asserted in tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
HANG = 10.0


def terminates(work: Callable[[], T], what: str = "this input") -> T:
    started = time.perf_counter()
    result = work()
    took = time.perf_counter() - started
    assert took < HANG, f"{what} took {took:.1f} s: unbounded work (backtracking or a quadratic loop?)"
    return result
