"""Capped, jittered exponential backoff for reconnect loops (pure; no clock)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first: float = 0.25
    """Delay after the first failure, in seconds."""
    cap: float = 2.0
    """Longest delay."""
    factor: float = 2.0
    jitter: float = 0.2
    """Each delay is scaled by a random factor in ``[1 - jitter, 1 + jitter]``."""
    rng: random.Random = field(default_factory=random.Random)
    _failures: int = 0

    def next(self) -> float:
        base = min(self.cap, self.first * self.factor**self._failures)
        self._failures += 1
        return min(self.cap, base * self.rng.uniform(1 - self.jitter, 1 + self.jitter))

    def reset(self) -> None:
        self._failures = 0
