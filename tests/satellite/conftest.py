"""Shared fixtures: speech made once per session with the packaged Piper voice."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from familiar.audio import PcmFormat, convert_pcm

RATE = 16000
PIPER_RATE = 22050


def silence(seconds: float) -> bytes:
    return bytes(round(seconds * RATE) * 2)


def noise(seconds: float, level: float = 0.02, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    samples = rng.normal(0.0, level, round(seconds * RATE))
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


class Speech:
    """Piper (en_US-joe-medium), deterministic, resampled to 16 kHz."""

    def __init__(self) -> None:
        from piper import PiperVoice, SynthesisConfig

        from familiar import models

        path = models.resolve("en_US-joe-medium")
        self._voice = PiperVoice.load(path, config_path=f"{path}.json")
        self._config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
        self._cache: dict[str, bytes] = {}

    def piper(self, text: str) -> bytes:
        """22050 Hz 16-bit mono, as Piper makes it."""
        return b"".join(c.audio_int16_bytes for c in self._voice.synthesize(text, self._config))

    def say(self, text: str) -> bytes:
        if text not in self._cache:
            pcm = self.piper(text)
            self._cache[text] = convert_pcm(pcm, PcmFormat(PIPER_RATE), PcmFormat(RATE))
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
