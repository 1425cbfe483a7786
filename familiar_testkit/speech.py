"""Deterministic speech from the packaged Piper voice, and one word normaliser for transcripts
(tests and the speech benchmark compare transcripts the same way)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from familiar.audio import PcmFormat, convert_pcm


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
