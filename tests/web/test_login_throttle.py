"""Failed admin logins are limited per address, in bounded memory (a given clock: no waiting)."""

from __future__ import annotations

import pytest

from familiar_hub.web.security import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_then_one_try_a_minute() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=5, refill_seconds=60, clock=clock)
    for _ in range(5):
        assert throttle.retry_after("192.168.1.20") == 0
        throttle.failed("192.168.1.20")
    assert throttle.retry_after("192.168.1.20") == pytest.approx(60)
    assert throttle.retry_after("192.168.1.21") == 0  # another address is not held back
    clock.now += 45
    assert throttle.retry_after("192.168.1.20") == pytest.approx(15)
    clock.now += 15
    assert throttle.retry_after("192.168.1.20") == 0  # one more try ...
    throttle.failed("192.168.1.20")
    assert throttle.retry_after("192.168.1.20") == pytest.approx(60)  # ... and a wait again
    clock.now += 3600
    throttle.failed("192.168.1.20")  # an hour later: the full five again, less this one
    for _ in range(4):
        assert throttle.retry_after("192.168.1.20") == 0
        throttle.failed("192.168.1.20")
    assert throttle.retry_after("192.168.1.20") > 0


def test_a_successful_login_clears_its_address() -> None:
    throttle = LoginThrottle(attempts=2, clock=Clock())
    throttle.failed("10.0.0.5")
    throttle.succeeded("10.0.0.5")
    throttle.failed("10.0.0.5")
    assert throttle.retry_after("10.0.0.5") == 0 and len(throttle) == 1


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() -> None:
    throttle = LoginThrottle(attempts=1, clock=Clock())
    throttle.failed("2001:db8:1:2::10")
    assert throttle.retry_after("2001:db8:1:2:ffff::99") > 0  # same /64
    assert throttle.retry_after("2001:db8:1:3::10") == 0
    throttle.failed("::ffff:192.168.1.7")
    assert throttle.retry_after("192.168.1.7") > 0


def test_memory_is_bounded_and_the_oldest_failure_goes_first() -> None:
    clock = Clock()
    throttle = LoginThrottle(attempts=1, max_addresses=100, clock=clock)
    for i in range(1000):
        clock.now += 0.001
        throttle.failed(f"10.1.{i // 256}.{i % 256}")
        assert len(throttle) <= 100
    assert throttle.retry_after("10.1.3.231") > 0  # the last one failed: remembered
    assert throttle.retry_after("10.1.0.0") == 0  # the first: forgotten


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        LoginThrottle(attempts=0)
