"""Voice enrolment: reference recordings for the cloned voice, each checked and scored.

A clip is measured (sample rate, length, clipping, loudness, SNR estimate, silence ratio),
compared with the other clips for being the same speaker, and -- when it passes -- stored
normalised (mono, 24000 Hz, 16-bit, steady loudness) in the persona's voice folder, readable
by the owner only. The measurements are pure numpy functions.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from familiar.audio import float_to_pcm16, pcm_to_float, resample
from familiar.errors import BackendError
from familiar.threads import Worker
from familiar_hub.persona.backend import ClipAudio, SpeakerEncoder, Vectors
from familiar_hub.persona.config import VoiceCheckConfig
from familiar_hub.persona.store import PersonaStore, VoiceClipRecord, make_private_dir

_LOGGER = logging.getLogger(__name__)

FRAME_SECONDS = 0.03
FULL_SCALE = 0.999
TARGET_DBFS = -20.0
"""Loudness (RMS of speech frames) stored clips are normalised to."""
PEAK_DBFS = -1.0
LOUD_PERCENTILE = 95.0
"""The clip's loud frames: this percentile of its 30 ms frame levels."""
SILENCE_UNDER_LOUD_DB = 30.0
"""A frame this far under the loud frames is silence ..."""
SILENCE_CEILING_DBFS = -35.0
"""... and so is one under this level, however quiet the loud frames are ..."""
SILENCE_FLOOR_DBFS = -60.0
"""... but a frame at this level or above counts as speech, however loud the loud frames are."""
NOISE_PERCENTILE = 10.0
"""The noise floor: this percentile of the frame levels."""
MAX_SNR_DB = 60.0
MIN_DB = 1e-5
"""Levels are floored here (-100 dB) before the logarithm."""


class ClipUnreadable(Exception):
    """The file is not audio we can read."""


@dataclass(frozen=True)
class ClipMeasures:
    seconds: float
    rate: int
    channels: int
    peak_dbfs: float
    clipped_fraction: float
    loudness_dbfs: float
    """RMS level of the frames that hold speech."""
    snr_db: float
    """Speech level over the noise floor (quietest frames); capped at 60."""
    silence_ratio: float
    """Fraction of 30 ms frames that are silence."""


@dataclass
class ClipCheck:
    """Verdict on one clip."""

    name: str
    measures: ClipMeasures | None
    problems: list[str] = field(default_factory=list)
    """Reasons it is rejected; empty when it passes."""
    notes: list[str] = field(default_factory=list)
    """Advice that does not reject it."""
    speaker_similarity: float | None = None
    score: float = 0.0
    """0..1 quality score (0 when rejected)."""
    stored: VoiceClipRecord | None = None

    @property
    def passed(self) -> bool:
        return not self.problems

    def report(self) -> dict[str, Any]:
        return {
            "measures": asdict(self.measures) if self.measures else None,
            "problems": self.problems,
            "notes": self.notes,
            "speaker_similarity": self.speaker_similarity,
            "score": self.score,
        }


def _db(value: float) -> float:
    return float(20.0 * np.log10(max(value, MIN_DB)))


def read_clip(data: bytes) -> tuple[npt.NDArray[np.float32], int, int]:
    """Audio file bytes -> (mono float32, sample rate, channels of the original)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            frames = wav.readframes(wav.getnframes())
        return pcm_to_float(frames, width, channels), rate, channels
    except (wave.Error, EOFError, ValueError):
        pass
    try:
        import soundfile

        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as err:
        raise ClipUnreadable(f"not readable audio: {err}") from err
    channels = int(samples.shape[1])
    mono: npt.NDArray[np.float32] = samples.mean(axis=1).astype(np.float32)
    return mono, int(rate), channels


def frame_levels(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each 30 ms frame."""
    size = max(1, int(rate * FRAME_SECONDS))
    count = samples.size // size
    if count == 0:
        return np.array([_db(float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0)])
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    levels: npt.NDArray[np.float64] = 20.0 * np.log10(np.maximum(rms, MIN_DB))
    return levels


def speech_threshold(levels: npt.NDArray[np.float64]) -> float:
    """Frames below this level are silence: 30 dB under the loud frames, never above -35
    (and never below -60: :data:`SILENCE_FLOOR_DBFS`)."""
    if not levels.size:
        return SILENCE_FLOOR_DBFS
    loud = float(np.percentile(levels, LOUD_PERCENTILE))
    return max(min(loud - SILENCE_UNDER_LOUD_DB, SILENCE_CEILING_DBFS), SILENCE_FLOOR_DBFS)


def live_check(limits: VoiceCheckConfig) -> dict[str, float]:
    """Everything a page needs to measure and judge a clip as :func:`measure` and :func:`judge`
    do while it is being recorded (the admin page's live meter): one source of truth."""
    return {
        "min_seconds": limits.min_seconds,
        "max_seconds": limits.max_seconds,
        "min_rate": limits.min_rate,
        "max_clipped_fraction": limits.max_clipped_fraction,
        "min_loudness_dbfs": limits.min_loudness_dbfs,
        "min_snr_db": limits.min_snr_db,
        "max_silence_ratio": limits.max_silence_ratio,
        "frame_seconds": FRAME_SECONDS,
        "full_scale": FULL_SCALE,
        "loud_percentile": LOUD_PERCENTILE,
        "silence_under_loud_db": SILENCE_UNDER_LOUD_DB,
        "silence_ceiling_dbfs": SILENCE_CEILING_DBFS,
        "silence_floor_dbfs": SILENCE_FLOOR_DBFS,
        "noise_percentile": NOISE_PERCENTILE,
        "max_snr_db": MAX_SNR_DB,
        "min_db": MIN_DB,
    }


def measure(samples: npt.NDArray[np.float32], rate: int, channels: int) -> ClipMeasures:
    levels = frame_levels(samples, rate)
    threshold = speech_threshold(levels)
    speech = levels[levels >= threshold]
    loud = _db(float(np.sqrt(np.mean(np.power(10.0, speech / 10.0))))) if speech.size else -100.0
    noise = float(np.percentile(levels, NOISE_PERCENTILE))
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return ClipMeasures(
        seconds=round(samples.size / rate, 3),
        rate=rate,
        channels=channels,
        peak_dbfs=round(_db(peak), 2),
        clipped_fraction=float(np.mean(np.abs(samples) >= FULL_SCALE)) if samples.size else 0.0,
        loudness_dbfs=round(loud, 2),
        snr_db=round(min(MAX_SNR_DB, loud - noise), 2),
        silence_ratio=round(float(np.mean(levels < threshold)), 3),
    )


def judge(name: str, m: ClipMeasures, limits: VoiceCheckConfig) -> ClipCheck:
    """Problems (rejecting) and notes (advice) from the measures; a 0..1 score."""
    check = ClipCheck(name, m)
    if m.rate < limits.min_rate:
        check.problems.append(f"sample rate {m.rate} Hz is below {limits.min_rate} Hz")
    if m.seconds < limits.min_seconds:
        check.problems.append(f"too short: {m.seconds:.1f} s (at least {limits.min_seconds:g} s)")
    if m.seconds > limits.max_seconds:
        check.problems.append(f"too long: {m.seconds:.1f} s (at most {limits.max_seconds:g} s)")
    if m.clipped_fraction > limits.max_clipped_fraction:
        check.problems.append(f"clipped: {m.clipped_fraction:.2%} of samples at full scale")
    if m.loudness_dbfs < limits.min_loudness_dbfs:
        check.problems.append(f"too quiet: speech at {m.loudness_dbfs:.0f} dBFS")
    if m.snr_db < limits.min_snr_db:
        check.problems.append(
            f"noisy: SNR about {m.snr_db:.0f} dB (at least {limits.min_snr_db:g})"
        )
    if m.silence_ratio > limits.max_silence_ratio:
        check.problems.append(f"mostly silence: {m.silence_ratio:.0%} of the clip")
    if limits.min_seconds <= m.seconds < 10:
        check.notes.append("10-30 s per clip works best")
    if m.channels > 1:
        check.notes.append(f"{m.channels} channels mixed down to mono")
    if m.rate < limits.store_rate:
        check.notes.append(f"{m.rate} Hz is upsampled to {limits.store_rate} Hz")
    score = 1.0
    score -= min(0.3, max(0.0, 30.0 - m.snr_db) / 50.0)
    score -= min(0.2, max(0.0, m.silence_ratio - 0.2))
    score -= 0.1 if m.seconds < 10 else 0.0
    score -= min(0.2, m.clipped_fraction * 200)
    check.score = 0.0 if check.problems else round(max(0.0, score), 3)
    return check


def speaker_similarities(vectors: Sequence[npt.NDArray[np.float32]]) -> list[float | None]:
    """For each clip, the median cosine similarity to every other clip (None when alone)."""
    if len(vectors) < 2:
        return [None] * len(vectors)
    matrix = np.stack([np.asarray(v, dtype=np.float64) for v in vectors])
    sims = matrix @ matrix.T
    out: list[float | None] = []
    for index in range(len(vectors)):
        others = np.delete(sims[index], index)
        out.append(round(float(np.median(others)), 3))
    return out


def normalise_clip(
    samples: npt.NDArray[np.float32], rate: int, store_rate: int
) -> npt.NDArray[np.float32]:
    """Mono at ``store_rate``, leading/trailing silence trimmed, speech at -20 dBFS, peaks
    under -1 dBFS."""
    out = resample(samples, rate, store_rate)
    levels = frame_levels(out, store_rate)
    threshold = speech_threshold(levels)
    active = np.nonzero(levels >= threshold)[0]
    size = int(store_rate * FRAME_SECONDS)
    if active.size:
        pad = int(0.2 * store_rate)
        start = max(0, int(active[0]) * size - pad)
        end = min(out.size, (int(active[-1]) + 1) * size + pad)
        out = out[start:end]
    loud = measure(out, store_rate, 1).loudness_dbfs
    gain = 10 ** ((TARGET_DBFS - loud) / 20.0)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0:
        gain = min(gain, 10 ** (PEAK_DBFS / 20.0) / peak)
    result: npt.NDArray[np.float32] = (out * gain).astype(np.float32)
    return result


def write_private_wav(path: Path, samples: npt.NDArray[np.float32], rate: int) -> None:
    """A 16-bit mono WAV readable by the owner only, written atomically."""
    tmp = path.with_suffix(".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file, wave.open(file, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(float_to_pcm16(samples))
    os.replace(tmp, path)


@dataclass(frozen=True)
class Readiness:
    score: int
    """0..100: enough clean speech from one speaker for a good clone."""
    clips: int
    seconds: float
    notes: list[str]


def readiness(records: Sequence[VoiceClipRecord], limits: VoiceCheckConfig) -> Readiness:
    seconds = sum(r.seconds for r in records)
    quality = sum(r.score for r in records) / len(records) if records else 0.0
    amount = min(1.0, seconds / limits.recommended_total_seconds)
    count = min(1.0, len(records) / 5)
    score = round(100 * (0.5 * amount + 0.2 * count + 0.3 * quality)) if records else 0
    notes = []
    if seconds < limits.recommended_total_seconds:
        missing = limits.recommended_total_seconds - seconds
        notes.append(
            f"add about {missing:.0f} s more speech ({limits.recommended_total_seconds:g} s"
            " recommended)"
        )
    if len(records) < 5:
        notes.append(f"add {5 - len(records)} more clip(s): 5-10 clips of 10-30 s work best")
    if len(records) > 10:
        notes.append("more than 10 clips: the extra ones add little")
    return Readiness(score, len(records), round(seconds, 1), notes)


class VoiceLibrary:
    """The persona's enrolled voice clips (files + rows in the store)."""

    def __init__(
        self,
        store: PersonaStore,
        voice_dir: Path,
        limits: VoiceCheckConfig,
        encoder: SpeakerEncoder | None,
    ) -> None:
        self.store = store
        self.voice_dir = voice_dir
        self.limits = limits
        self.encoder = encoder
        self._worker = Worker("voice")

    async def __aenter__(self) -> VoiceLibrary:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._worker.close()

    async def _io(self, fn: Any, *args: Any) -> Any:
        return await self._worker.run(fn, *args)

    def _load(self, path: Path) -> tuple[str, ClipAudio, ClipMeasures]:
        data = path.read_bytes()
        samples, rate, channels = read_clip(data)
        return (
            hashlib.sha256(data).hexdigest(),
            ClipAudio(samples, rate),
            measure(samples, rate, channels),
        )

    def _load_stored(self, record: VoiceClipRecord) -> ClipAudio:
        samples, rate, _ = read_clip(Path(record.path).read_bytes())
        return ClipAudio(samples, rate)

    async def add(self, paths: Sequence[Path]) -> list[ClipCheck]:
        """Check every clip; store the ones that pass. Returns one verdict per path."""
        existing = await self.store.voice_clips()
        known = {r.sha256 for r in existing}
        checks: list[ClipCheck] = []
        audio: dict[int, ClipAudio] = {}
        digests: dict[int, str] = {}
        for path in paths:
            try:
                digest, clip, measures = await self._io(self._load, path)
            except (OSError, ClipUnreadable) as err:
                checks.append(ClipCheck(path.name, None, [str(err)]))
                continue
            check = judge(path.name, measures, self.limits)
            if digest in known:
                check.problems.append("already enrolled")
            checks.append(check)
            if not check.problems:
                audio[len(checks) - 1] = clip
                digests[len(checks) - 1] = digest
        await self._check_speakers(checks, audio, existing)
        make_private_dir(self.voice_dir)
        for index, clip in audio.items():
            check = checks[index]
            if check.problems:
                continue
            stem = Path(check.name).stem[:40] or "clip"
            name = f"{stem}-{digests[index][:8]}"
            target = self.voice_dir / f"{name}.wav"
            normalised = normalise_clip(clip.samples, clip.rate, self.limits.store_rate)
            await self._io(write_private_wav, target, normalised, self.limits.store_rate)
            check.stored = await self.store.add_voice_clip(
                name=name,
                path=str(target),
                sha256=digests[index],
                seconds=round(normalised.size / self.limits.store_rate, 2),
                score=check.score,
                report=check.report(),
            )
            known.add(digests[index])
        return checks

    async def _check_speakers(
        self,
        checks: list[ClipCheck],
        audio: dict[int, ClipAudio],
        existing: Sequence[VoiceClipRecord],
    ) -> None:
        if self.encoder is None or not audio:
            for index in audio:
                checks[index].notes.append("speaker check skipped (no speaker encoder)")
            return
        stored = [await self._io(self._load_stored, r) for r in existing]
        vectors: list[Vectors | None] = []
        order = list(audio)
        for index in order:
            try:
                vectors.append(await self.encoder.embed_speaker(audio[index]))
            except BackendError as err:
                checks[index].problems.append(str(err))
                checks[index].score = 0.0
                vectors.append(None)
        reference = [await self.encoder.embed_speaker(clip) for clip in stored]
        usable = [(i, v) for i, v in zip(order, vectors, strict=True) if v is not None]
        sims = speaker_similarities([v for _, v in usable] + reference)
        if len(sims) < 2:
            for index, _ in usable:
                checks[index].notes.append("speaker check needs at least two clips")
            return
        for (index, _), similarity in zip(usable, sims, strict=False):
            check = checks[index]
            check.speaker_similarity = similarity
            if similarity is not None and similarity < self.limits.min_speaker_similarity:
                check.problems.append(
                    f"different speaker? similarity {similarity:.2f} to the other clips"
                    f" (at least {self.limits.min_speaker_similarity:.2f})"
                )
                check.score = 0.0

    async def list(self) -> list[VoiceClipRecord]:
        return await self.store.voice_clips()

    async def remove(self, key: str) -> VoiceClipRecord | None:
        """Remove a clip by id or name: its file and its row."""
        for record in await self.store.voice_clips():
            if key in (str(record.id), record.name, Path(record.path).name):
                await self._io(Path(record.path).unlink, True)
                await self.store.remove_voice_clip(record.id)
                return record
        return None
