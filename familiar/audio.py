"""PCM audio: formats, the streaming converter every audio path uses, WAV in memory.

Audio arrives in chunks of any size (Home Assistant's ``/api/stt`` splits uploads at arbitrary
byte counts, a USB microphone gives 48 kHz). :class:`AudioConverter` keeps what one chunk leaves
over (a partial frame, the resampler's filter state) for the next, so a stream converted chunk by
chunk equals the stream converted whole. :class:`WavHeaderSkipper` recognises a RIFF/WAV header at
the start of a stream and says what format it announces.
"""

from __future__ import annotations

import io
import logging
import struct
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import soxr

_LOGGER = logging.getLogger(__name__)

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
    """Interleaved PCM bytes (whole frames) -> mono float32 in [-1, 1].

    A trailing partial frame is an error here: a stream goes through :class:`AudioConverter`,
    which keeps it for the next chunk."""
    frame = width * channels
    if len(data) % frame:
        raise ValueError(f"{len(data)} bytes is not a whole number of {frame}-byte frames")
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
    """Mono or interleaved float in [-1, 1] -> 16-bit PCM (the inverse of pcm_to_float)."""
    scaled = np.clip(np.round(samples * 32768.0), -32768, 32767)
    return scaled.astype("<i2").tobytes()


def resample(samples: Float32Array, src_rate: int, dst_rate: int) -> Float32Array:
    """Resample a whole mono float signal at once (a stream uses :class:`AudioConverter`)."""
    if src_rate == dst_rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    out: Float32Array = soxr.resample(
        samples.astype(np.float32, copy=False), src_rate, dst_rate, quality="HQ"
    )
    return out


class AudioConverter:
    """A stateful, streaming converter of PCM chunks to one output rate and channel count.

    - Bytes that do not make a whole frame are kept and lead the next chunk.
    - Resampling runs through one soxr stream per input format, so filter state carries across
      chunks: no edge noise per chunk, and the output length follows the input exactly
      (n samples in, ``n * dst / src`` out, once :meth:`flush` has drained the filter).
    - The input format may change between chunks (a Wyoming chunk carries its own); what the
      old format left in the filter is drained first.

    The resampler delays a stream by 20-30 ms (soxr HQ: 21 ms for 48 kHz -> 16 kHz, 31 ms for
    24 kHz -> 22.05 kHz); same-rate streams pass without delay or copying.

    :meth:`convert` gives 16-bit PCM in ``dst``; :meth:`convert_float` mono float32 at
    ``dst.rate`` (for a model). Use one or the other on one converter.
    """

    def __init__(self, dst: PcmFormat, quality: str = "HQ") -> None:
        if dst.width != 2:
            raise ValueError("only 16-bit output is supported")
        self.dst = dst
        self._quality = quality
        self._src: PcmFormat | None = None
        self._pending = b""
        self._stream: soxr.ResampleStream | None = None
        self.samples_in = 0
        """Input frames converted so far (diagnostics and tests)."""

    def convert_float(self, data: bytes, src: PcmFormat) -> Float32Array:
        """Convert the next chunk to mono float32 at ``dst.rate``."""
        drained = self._switch(src)
        data = self._pending + data
        frame = src.width * src.channels
        whole = len(data) - len(data) % frame
        self._pending = data[whole:]
        samples = pcm_to_float(data[:whole], src.width, src.channels)
        self.samples_in += samples.size
        if self._stream is not None:
            samples = self._stream.resample_chunk(samples)
        if drained.size:
            samples = np.concatenate([drained, samples])
        return samples

    def flush_float(self) -> Float32Array:
        """End of the stream: what the resampler still holds; a partial frame is dropped."""
        if self._pending:
            _LOGGER.debug("audio stream ended inside a frame; %d bytes dropped", len(self._pending))
        self._pending = b""
        stream, self._stream, self._src = self._stream, None, None
        if stream is None:
            return np.zeros(0, dtype=np.float32)
        out: Float32Array = stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        return out

    def convert(self, data: bytes, src: PcmFormat) -> bytes:
        """Convert the next chunk to 16-bit PCM in ``dst``."""
        if src == self.dst:  # the common case: only whole frames to keep
            drained = self._to_pcm(self._switch(src))
            data = self._pending + data
            frame = src.width * src.channels
            whole = len(data) - len(data) % frame
            self._pending = data[whole:]
            self.samples_in += whole // frame
            return drained + data[:whole]
        return self._to_pcm(self.convert_float(data, src))

    def flush(self) -> bytes:
        """End of the stream: the resampler's tail as 16-bit PCM in ``dst``."""
        return self._to_pcm(self.flush_float())

    def _to_pcm(self, samples: Float32Array) -> bytes:
        if self.dst.channels > 1:
            samples = np.repeat(samples, self.dst.channels)
        return float_to_pcm16(samples)

    def _switch(self, src: PcmFormat) -> Float32Array:
        if src == self._src:
            return np.zeros(0, dtype=np.float32)
        drained = self.flush_float() if self._src is not None else np.zeros(0, np.float32)
        self._src = src
        if src.rate != self.dst.rate:
            self._stream = soxr.ResampleStream(
                src.rate, self.dst.rate, 1, dtype="float32", quality=self._quality
            )
        return drained


def convert_pcm(data: bytes, src: PcmFormat, dst: PcmFormat) -> bytes:
    """Convert a whole PCM buffer between formats (16-bit output; channels duplicated)."""
    if src == dst:
        return data
    converter = AudioConverter(dst)
    return converter.convert(data, src) + converter.flush()


WAV_HEADER_LIMIT = 4096
"""The most bytes a WAV header may take before the samples (RIFF, fmt and e.g. LIST chunks)."""


class WavHeaderSkipper:
    """Recognises a RIFF/WAVE header at the start of an audio stream and removes it.

    Feed the stream's chunks in order: the header may be split over several. While the first
    bytes could still be a header they are held back (at most :data:`WAV_HEADER_LIMIT`). When a
    header is complete, :attr:`fmt` says what it announced and the samples after it pass on.
    A stream that does not start with ``RIFF....WAVE`` passes unchanged.
    """

    def __init__(self) -> None:
        self._head = b""
        self._done = False
        self.fmt: PcmFormat | None = None
        """The format the header announced, once one was skipped."""
        self.skipped = 0
        """Header bytes removed."""

    def feed(self, data: bytes) -> bytes:
        if self._done:
            return data
        head = self._head + data
        if len(head) < 12:
            if b"RIFF".startswith(head[:4]) and (len(head) < 8 or b"WAVE".startswith(head[8:])):
                self._head = head
                return b""
            return self._pass(head)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return self._pass(head)
        offset = 12
        fmt: PcmFormat | None = None
        while offset + 8 <= len(head):
            chunk_id = head[offset : offset + 4]
            (size,) = struct.unpack_from("<I", head, offset + 4)
            body = offset + 8
            if chunk_id == b"data":
                self.fmt = fmt
                self.skipped = body
                _LOGGER.debug("skipped a %d-byte WAV header (%s)", body, fmt)
                if fmt is None:
                    _LOGGER.warning("WAV header without a fmt chunk; format left as announced")
                return self._pass(head[body:])
            if chunk_id == b"fmt " and body + 16 <= len(head):
                _tag, channels, rate, _bps, _align, bits = struct.unpack_from("<HHIIHH", head, body)
                if channels and rate and bits in (8, 16, 24, 32):
                    fmt = PcmFormat(rate, bits // 8, channels)
            offset = body + size + (size & 1)
        if len(head) > WAV_HEADER_LIMIT:
            _LOGGER.warning("RIFF header longer than %d bytes; treated as audio", WAV_HEADER_LIMIT)
            return self._pass(head)
        self._head = head
        return b""

    def finish(self) -> bytes:
        """End of the stream: anything held back that never became a header."""
        return b"" if self._done else self._pass(self._head)

    def _pass(self, data: bytes) -> bytes:
        self._done = True
        self._head = b""
        return data


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
