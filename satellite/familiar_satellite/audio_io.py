"""Microphone and speaker as commands that read or write raw PCM (``arecord``/``aplay``,
``cat``, anything), restarted with capped, jittered exponential backoff when they die."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import numpy as np

from familiar.audio import AudioConverter, PcmFormat
from familiar.backoff import Backoff
from familiar.tasks import bounded
from familiar_satellite.config import MicConfig, SndConfig

_LOGGER = logging.getLogger(__name__)

WAKE_FORMAT = PcmFormat(16000, 2, 1)
"""What the satellite works on and streams: 16 kHz, 16-bit, mono."""


async def _stop_process(proc: asyncio.subprocess.Process, grace: float = 2.0) -> None:
    """Terminate, then kill, and always reap."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await bounded(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


class MicCommand:
    """Reads PCM from a command forever; yields 16 kHz mono chunks of ``chunk_seconds``."""

    def __init__(self, config: MicConfig) -> None:
        self.config = config
        self.fmt = config.format.pcm
        frame = self.fmt.width * self.fmt.channels
        self.chunk_bytes = max(frame, round(config.chunk_seconds * self.fmt.rate) * frame)
        self.starts = 0
        self.pid: int | None = None
        self.seconds_read = 0.0
        """Audio delivered so far (diagnostics, tests)."""

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        backoff = Backoff(self.config.restart_seconds, self.config.restart_max_seconds)
        while True:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self.config.command,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            except OSError as err:
                delay = backoff.next_delay()
                _LOGGER.error(
                    "mic: cannot start %s: %s; retrying in %.1f s",
                    self.config.command[0],
                    err,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            self.starts += 1
            self.pid = proc.pid
            _LOGGER.info("mic: started %s (pid %s)", self.config.command[0], proc.pid)
            assert proc.stdout is not None
            got_audio = False
            converter = AudioConverter(WAKE_FORMAT)
            try:
                while True:
                    try:
                        data = await proc.stdout.readexactly(self.chunk_bytes)
                    except asyncio.IncompleteReadError as err:
                        data = err.partial
                        if data:
                            yield self._convert(converter, data)
                        break
                    if not got_audio:
                        got_audio = True
                        backoff.reset()
                    yield self._convert(converter, data)
            finally:
                await _stop_process(proc)
                self.pid = None
            delay = backoff.next_delay()
            _LOGGER.warning(
                "mic: %s exited (code %s); restarting in %.1f s",
                self.config.command[0],
                proc.returncode,
                delay,
            )
            await asyncio.sleep(delay)

    def _convert(self, converter: AudioConverter, data: bytes) -> bytes:
        """One converter per run of the command: its filter state and partial frame carry on."""
        self.seconds_read += self.fmt.seconds(len(data))
        return converter.convert(data, self.fmt)


def scale_volume(pcm16: bytes, volume: float) -> bytes:
    if volume == 1.0:
        return pcm16
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) * volume
    return bytes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())


@dataclass(eq=False)
class Playback:
    """One stream to play: a sound, an answer or an announcement."""

    fmt: PcmFormat
    kind: str
    """``sound``, ``answer`` or ``announcement``."""

    chunks: deque[bytes | None] = field(default_factory=deque)
    buffered: int = 0
    aborted: bool = False
    failed: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    _more: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ended(self) -> bool:
        return bool(self.chunks) and self.chunks[-1] is None


class Speaker:
    """Plays :class:`Playback` streams one after another through a command.

    The command is started for each stream and its standard input closed at the end; the
    stream counts as played when the command has exited (it drained its buffer). A command
    that fails is started again for the next stream after a backoff.
    """

    def __init__(self, config: SndConfig) -> None:
        self.config = config
        self.fmt = config.format.pcm
        self.volume = config.volume
        self._queue: deque[Playback] = deque()
        self._wakeup = asyncio.Event()
        self._current: Playback | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._backoff = Backoff(config.restart_seconds, config.restart_max_seconds)
        self._max_bytes = round(config.max_buffer_seconds * self.fmt.bytes_per_second)
        self.starts = 0

    # --- producer side (event loop, never blocks) ---

    def open(self, fmt: PcmFormat, kind: str) -> Playback:
        playback = Playback(fmt, kind)
        self._queue.append(playback)
        self._wakeup.set()
        return playback

    def write(self, playback: Playback, audio: bytes) -> None:
        if playback.aborted or playback.ended:
            return
        if playback.buffered + len(audio) > self._max_bytes:
            _LOGGER.warning("speaker: buffer full; dropping %d bytes", len(audio))
            return
        playback.chunks.append(audio)
        playback.buffered += len(audio)
        playback._more.set()

    def end(self, playback: Playback) -> None:
        if not playback.ended:
            playback.chunks.append(None)
            playback._more.set()

    def play(self, pcm: bytes, fmt: PcmFormat, kind: str = "sound") -> Playback:
        playback = self.open(fmt, kind)
        self.write(playback, pcm)
        self.end(playback)
        return playback

    def abort(self) -> None:
        """Stop what plays now and drop everything queued."""
        for playback in [*self._queue, *([self._current] if self._current else [])]:
            playback.aborted = True
            playback.chunks.clear()
            playback._more.set()
            playback.finished.set()
        self._queue.clear()
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    # --- the task ---

    async def run(self) -> None:
        try:
            while True:
                while not self._queue:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                playback = self._queue.popleft()
                self._current = playback
                try:
                    await self._play(playback)
                finally:
                    self._current = None
                    playback.finished.set()
        finally:
            self.abort()
            if self._proc is not None:
                await _stop_process(self._proc)

    async def _play(self, playback: Playback) -> None:
        if playback.aborted:
            return
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.config.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as err:
            await self._failed(playback, f"cannot start {self.config.command[0]}: {err}")
            return
        self._proc = proc
        self.starts += 1
        assert proc.stdin is not None
        written = 0
        converter = AudioConverter(self.fmt)
        try:
            while True:
                while not playback.chunks and not playback.aborted:
                    playback._more.clear()
                    await playback._more.wait()
                if playback.aborted:
                    break
                chunk = playback.chunks.popleft()
                if chunk is None:
                    pcm = converter.flush()
                else:
                    playback.buffered -= len(chunk)
                    pcm = converter.convert(chunk, playback.fmt)
                pcm = scale_volume(pcm, self.volume)
                proc.stdin.write(pcm)
                written += len(pcm)
                await proc.stdin.drain()
                if chunk is None:
                    break
            if playback.aborted:
                return
            proc.stdin.close()
            limit = self.fmt.seconds(written) + self.config.play_timeout_seconds
            try:
                code = await bounded(proc.wait(), limit)
            except TimeoutError:
                await self._failed(
                    playback, f"{self.config.command[0]} did not finish in {limit:.1f} s"
                )
                return
            if playback.aborted:
                return
            if code != 0:
                await self._failed(playback, f"{self.config.command[0]} exited with code {code}")
                return
            self._backoff.reset()
        except (BrokenPipeError, ConnectionResetError) as err:
            if not playback.aborted:
                await self._failed(playback, f"{self.config.command[0]} died: {err!r}")
        finally:
            await _stop_process(proc)
            self._proc = None

    async def _failed(self, playback: Playback, reason: str) -> None:
        playback.failed = True
        delay = self._backoff.next_delay()
        _LOGGER.error("speaker: %s; next start in %.1f s at the earliest", reason, delay)
        playback.finished.set()
        await asyncio.sleep(delay)
