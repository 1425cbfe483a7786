"""Writes the feedback sounds in this folder (run once; the WAVs are committed).

    python satellite/familiar_satellite/sounds/make_sounds.py

Short sine beeps with 10 ms fades, 22050 Hz 16-bit mono, each well under 50 KB.
"""

from __future__ import annotations

import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

RATE = 22050


def tone(freq: float, seconds: float, volume: float = 0.35) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    wave_ = np.sin(2 * np.pi * freq * t) * volume
    fade = min(len(t) // 2, round(0.01 * RATE))
    ramp = np.linspace(0.0, 1.0, fade)
    wave_[:fade] *= ramp
    wave_[-fade:] *= ramp[::-1]
    return wave_


def gap(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE))


SOUNDS: dict[str, Callable[[], np.ndarray]] = {
    "awake": lambda: np.concatenate([tone(880, 0.07), gap(0.02), tone(1320, 0.09)]),
    "done": lambda: np.concatenate([tone(1320, 0.07), gap(0.02), tone(880, 0.09)]),
    "error": lambda: np.concatenate([tone(330, 0.12), gap(0.04), tone(247, 0.2)]),
    "timer": lambda: np.concatenate(
        [np.concatenate([tone(1047, 0.12), gap(0.08)]) for _ in range(3)] + [gap(0.2)]
    ),
}


def write(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setframerate(RATE)
        wav.setsampwidth(2)
        wav.setnchannels(1)
        wav.writeframes(pcm)


def main() -> int:
    here = Path(__file__).parent
    for name, make in SOUNDS.items():
        path = here / f"{name}.wav"
        write(path, make())
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
