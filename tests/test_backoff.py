"""The one backoff of every reconnect loop (MQTT link, mic and speaker commands)."""

from __future__ import annotations

import random

from familiar.backoff import Backoff


def test_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(0.5, 8.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    caps = [min(8.0, 0.5 * 2**n) for n in range(10)]
    for delay, cap in zip(delays, caps, strict=True):
        assert cap / 2 <= delay <= cap
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next_delay() <= 0.5
    many = Backoff(1.0, 30.0, random.Random(1))
    assert max(many.next_delay() for _ in range(200)) <= 30.0
