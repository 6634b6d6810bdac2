"""The per-process token buckets, and what the shared buckets ask of them."""

from __future__ import annotations

from bugline.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_refused_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # 6 a minute: one token every 10 s
    assert [limiter.hit("a") for _ in range(6)] == [0.0] * 6
    assert limiter.hit("a") == 10.0
    assert limiter.hit("b") == 0.0  # another identity has its own bucket
    clock.now += 10
    assert limiter.hit("a") == 0.0


def test_a_blocked_identity_is_refused_for_the_time_given_then_let_through() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    limiter.block("a", 30)
    assert limiter.hit("a") == 30.0 and limiter.wait("a") == 30.0
    assert limiter.hit("b") == 0.0
    clock.now += 29
    assert limiter.wait("a") == 1.0
    clock.now += 1
    assert limiter.wait("a") == 0.0 and limiter.hit("a") == 0.0
    limiter.block("a", 5)
    limiter.block("a", 2)  # a shorter block does not shorten a longer one
    assert limiter.hit("a") == 5.0


def test_only_a_shared_limiter_counts_what_it_lets_through() -> None:
    limiter = RateLimiter(3, clock=Clock())
    limiter.hit("a")
    assert limiter.take_pending() == {}
    limiter.shared = True
    for identity in ("a", "a", "b", "a"):
        limiter.hit(identity)
    assert limiter.take_pending() == {"a": 2, "b": 1}  # a's third was refused: not counted
    assert limiter.take_pending() == {}


def test_blocks_stay_bounded_under_many_identities() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock, max_keys=100)
    for i in range(100):
        limiter.block(f"old{i}", 1)
    clock.now += 2  # those have run out: room is made by dropping them
    limiter.block("new", 30)
    assert limiter.wait("new") == 30.0
    for i in range(200):
        limiter.block(f"live{i}", 60)
    assert len(limiter._blocked) <= 100


def test_what_waits_to_be_shared_stays_bounded_and_can_be_given_back() -> None:
    limiter = RateLimiter(60, clock=Clock(), max_keys=3)
    limiter.shared = True
    for identity in ("a", "b", "c", "d", "a"):
        limiter.hit(identity)
    taken = limiter.take_pending()
    assert taken == {"a": 2, "b": 1, "c": 1}  # "d" came when the table was full
    limiter.hit("b")
    limiter.give_back(taken)  # the database did not answer: shared with the next ones
    assert limiter.take_pending() == {"b": 2, "a": 2, "c": 1}
