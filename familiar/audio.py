"""PCM audio helpers: format conversion, resampling, WAV in memory."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class PcmFormat:
    """Raw little-endian PCM: samples per second, bytes per sample, channels."""

    rate: int = 16000
    width: int = 2
    channels: int = 1

    @property
    def bytes_per_second(self) -> int:
        return self.rate * self.width * self.channels

    def seconds(self, nbytes: int) -> float:
        return nbytes / self.bytes_per_second


def pcm_to_float(data: bytes, width: int, channels: int) -> Float32Array:
    """Interleaved PCM bytes -> mono float32 in [-1, 1]."""
    frame = width * channels
    data = data[: len(data) - (len(data) % frame)]
    if width == 2:
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 4:
        samples = (np.frombuffer(data, dtype="<i4").astype(np.float64) / 2147483648.0).astype(
            np.float32
        )
    elif width == 1:  # WAV convention: unsigned 8-bit
        samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = ints.astype(np.float32) / float(1 << 23)
    else:
        raise ValueError(f"unsupported sample width {width}")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.float32)
    return samples


def float_to_pcm16(samples: Float32Array) -> bytes:
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def _lowpass_kernel(cutoff: float, taps: int = 63) -> Float32Array:
    """Windowed-sinc low-pass; ``cutoff`` as a fraction of the sample rate (0..0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    normalised: Float32Array = (kernel / kernel.sum()).astype(np.float32)
    return normalised


def resample(samples: Float32Array, src_rate: int, dst_rate: int) -> Float32Array:
    """Resample mono float audio (anti-aliased when going down)."""
    if src_rate == dst_rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    if dst_rate < src_rate:
        samples = np.convolve(samples, _lowpass_kernel(0.5 * dst_rate / src_rate * 0.95), "same")
    duration = samples.size / src_rate
    count = max(1, round(duration * dst_rate))
    positions = np.arange(count, dtype=np.float64) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def convert_pcm(data: bytes, src: PcmFormat, dst: PcmFormat) -> bytes:
    """Convert PCM between formats (dst must be 16-bit; channels are duplicated if asked)."""
    if src == dst:
        return data
    if dst.width != 2:
        raise ValueError("only 16-bit output is supported")
    samples = resample(pcm_to_float(data, src.width, src.channels), src.rate, dst.rate)
    if dst.channels > 1:
        samples = np.repeat(samples, dst.channels)
    return float_to_pcm16(samples)


def wav_bytes(pcm: bytes, fmt: PcmFormat) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setframerate(fmt.rate)
        wav.setsampwidth(fmt.width)
        wav.setnchannels(fmt.channels)
        wav.writeframes(pcm)
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[bytes, PcmFormat]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        fmt = PcmFormat(wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
        return wav.readframes(wav.getnframes()), fmt
