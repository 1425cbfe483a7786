"""Logging setup. Transcripts, prompts and answers are only ever logged at DEBUG."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT, force=True)
    # Chatty libraries stay at WARNING unless we are debugging ourselves.
    for name in ("faster_whisper", "zeroconf", "asyncio", "urllib3", "httpx"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


class LogLimiter:
    """At most ``burst`` messages per ``period`` seconds for one kind of noise (refused or
    malformed traffic), then one line saying how many were suppressed.

    An attacker who sends 60,000 bad frames must not write 60,000 log lines.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 10,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._period = period
        self._clock = clock
        self._window_start = -period
        self._count = 0
        self.suppressed = 0
        """Messages not written since the last summary."""

    def log(self, level: int, message: str, *args: object, exc_info: bool = False) -> None:
        now = self._clock()
        if now - self._window_start >= self._period:
            if self.suppressed:
                self._logger.log(
                    level,
                    "%d similar message(s) suppressed in the last %.0f s",
                    self.suppressed,
                    now - self._window_start,
                )
            self._window_start, self._count, self.suppressed = now, 0, 0
        if self._count < self._burst:
            self._count += 1
            self._logger.log(level, message, *args, exc_info=exc_info)
        else:
            self.suppressed += 1
