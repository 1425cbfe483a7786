"""Capped, jittered exponential backoff for reconnect loops (pure; no clock)."""

from __future__ import annotations

import random


class Backoff:
    """Capped exponential backoff with jitter: the n-th delay is uniform in [d/2, d],
    d = min(maximum, minimum * 2**n)."""

    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        exponent = min(self.failures, 32)
        cap = min(self.maximum, self.minimum * (2**exponent))
        self.failures += 1
        return self._rng.uniform(cap / 2, cap)

    def reset(self) -> None:
        self.failures = 0
