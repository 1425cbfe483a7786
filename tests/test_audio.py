"""PCM conversion (pure)."""

from __future__ import annotations

import numpy as np

from familiar.audio import PcmFormat, convert_pcm, float_to_pcm16, pcm_to_float, read_wav, wav_bytes


def tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


def test_resample_keeps_pitch_and_duration() -> None:
    pcm = float_to_pcm16(tone(440, 22050))
    out = convert_pcm(pcm, PcmFormat(22050), PcmFormat(16000))
    samples = pcm_to_float(out, 2, 1)
    assert abs(samples.size - 16000) <= 1
    assert abs(dominant(samples, 16000) - 440) < 2


def test_downsampling_removes_what_cannot_be_represented() -> None:
    pcm = float_to_pcm16(tone(7000, 22050))  # above 16 kHz's Nyquist margin? no: 7 kHz < 8 kHz
    kept = pcm_to_float(convert_pcm(pcm, PcmFormat(22050), PcmFormat(16000)), 2, 1)
    assert np.sqrt(np.mean(kept**2)) > 0.2
    alias = float_to_pcm16(tone(10000, 22050))  # above 8 kHz: must be filtered, not folded
    folded = pcm_to_float(convert_pcm(alias, PcmFormat(22050), PcmFormat(16000)), 2, 1)
    assert np.sqrt(np.mean(folded[100:-100] ** 2)) < 0.05


def test_stereo_and_widths_to_mono16() -> None:
    mono = tone(300, 16000, 0.1)
    stereo16 = np.repeat(float_to_pcm16(mono), 1)  # bytes
    interleaved = np.frombuffer(stereo16, dtype="<i2").repeat(2).tobytes()
    out = convert_pcm(interleaved, PcmFormat(16000, 2, 2), PcmFormat(16000, 2, 1))
    assert out == float_to_pcm16(pcm_to_float(float_to_pcm16(mono), 2, 1))
    as32 = (mono.astype(np.float64) * 2147483647).astype("<i4").tobytes()
    back = pcm_to_float(convert_pcm(as32, PcmFormat(16000, 4, 1), PcmFormat(16000)), 2, 1)
    assert np.max(np.abs(back - mono)) < 1e-3
    as8 = ((mono * 127) + 128).astype(np.uint8).tobytes()
    back8 = pcm_to_float(convert_pcm(as8, PcmFormat(16000, 1, 1), PcmFormat(16000)), 2, 1)
    assert np.max(np.abs(back8 - mono)) < 0.02


def test_odd_trailing_bytes_are_ignored() -> None:
    assert pcm_to_float(b"\x00\x10\x00", 2, 1).size == 1


def test_wav_round_trip() -> None:
    pcm = float_to_pcm16(tone(200, 22050, 0.2))
    data, fmt = read_wav(wav_bytes(pcm, PcmFormat(22050)))
    assert data == pcm
    assert fmt == PcmFormat(22050, 2, 1)
