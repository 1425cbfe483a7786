"""Shared test helpers: free ports, speech made with the packaged Piper voice, a hub process."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from familiar.audio import PcmFormat, convert_pcm

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@cache
def _piper() -> Any:
    from piper import PiperVoice

    from familiar_hub import models

    return PiperVoice.load(models.resolve("en_US-joe-medium"))


def speak(text: str, rate: int = 16000) -> bytes:
    """Deterministic speech (16-bit mono PCM at ``rate``) from the packaged Piper voice."""
    from piper import SynthesisConfig

    voice = _piper()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, config))
    src = PcmFormat(int(voice.config.sample_rate), 2, 1)
    return convert_pcm(pcm, src, PcmFormat(rate, 2, 1))


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words(value: int) -> list[str]:
    if value < 20:
        return [_ONES[value]]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return [_ONES[hundreds], "hundred"] + (_number_words(rest) if rest else [])
    return [str(value)]


def words(text: str) -> list[str]:
    """Normalised words for comparing transcripts and word error rates: lower case, no
    punctuation, digits spelled out ("10" -> "ten"), hyphens split."""
    text = text.lower().replace("’", "'").replace("-", " ")
    text = re.sub(r"(\d+):(\d\d)", r"\1 \2", text)
    words: list[str] = []
    for raw in re.findall(r"[a-z0-9']+", text):
        word = raw.strip("'")
        if not word:
            continue
        if word.isdigit():
            words += _number_words(int(word))
        else:
            words.append(word)
    return words


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


@contextlib.contextmanager
def hub_process(
    tmp: Path, config: dict[str, Any], roles: list[str] | None = None, timeout: float = 120.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``familiar hub`` as a real process; yields its URI."""
    port = free_port()
    config = {
        "endpoint": {"uri": f"tcp://127.0.0.1:{port}"},
        "zeroconf": {"enabled": False},
        **config,
    }
    path = tmp / f"hub-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    log = (tmp / f"hub-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "familiar", "hub", *(roles or []), "-c", str(path)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for_port(port, proc, timeout)
        yield f"tcp://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
