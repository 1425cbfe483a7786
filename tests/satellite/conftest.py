"""Shared fixtures: speech made once per session with the packaged Piper voice."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from familiar_testkit.speech import speak

RATE = 16000
PIPER_RATE = 22050


def silence(seconds: float) -> bytes:
    return bytes(round(seconds * RATE) * 2)


def noise(seconds: float, level: float = 0.02, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, level, round(seconds * RATE))
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


class Speech:
    """Piper (en_US-joe-medium), deterministic; ``say`` is resampled to 16 kHz and cached."""

    def __init__(self) -> None:
        self._cache: dict[str, bytes] = {}

    def piper(self, text: str) -> bytes:
        """22050 Hz 16-bit mono, as Piper makes it."""
        return speak(text, rate=PIPER_RATE)

    def say(self, text: str) -> bytes:
        if text not in self._cache:
            self._cache[text] = speak(text, rate=RATE)
        return self._cache[text]


@pytest.fixture(scope="session")
def speech() -> Speech:
    return Speech()


def pad(audio: bytes, chunk_bytes: int = 2560) -> bytes:
    """Pad with silence to whole microphone chunks (80 ms at 16 kHz)."""
    return audio + bytes(-len(audio) % chunk_bytes)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


async def wait_until(predicate: object, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll ``predicate()`` until true; fails the test past ``timeout``."""
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polls files and processes too
            await asyncio.sleep(interval)


PYTHON = sys.executable
REALTIME_SINK = str(Path(__file__).parent / "realtime_sink.py")
os.environ.setdefault("FAMILIAR_TEST", "1")
