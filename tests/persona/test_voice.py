"""Voice enrolment: measures on synthetic signals, then real speech (Piper's joe voice and
espeak-ng as a different speaker) through resemblyzer's speaker encoder."""

from __future__ import annotations

import asyncio
import io
import shutil
import stat
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from familiar.audio import float_to_pcm16
from familiar_hub import models
from familiar_hub.persona.backend import SpeakerEncoder
from familiar_hub.persona.config import VoiceCheckConfig
from familiar_hub.persona.store import PersonaStore, VoiceClipRecord
from familiar_hub.persona.voice import (
    PEAK_DBFS,
    TARGET_DBFS,
    VoiceLibrary,
    judge,
    measure,
    read_clip,
    readiness,
)

RATE = 22050
TEXTS = [
    "Good morning! I walked down to the market early today, because the mangoes were finally"
    " in season, and the old man at the corner stall saved the best ones for me again.",
    "When the rain started we ran for the bus shelter, laughing, and waited there for nearly"
    " half an hour while the whole street turned into a shallow, muddy river around us.",
    "My grandmother always said that a good cup of filter coffee needs patience, fresh milk,"
    " and a little bit of gossip with the neighbours while the decoction slowly drips.",
]


def wav_file(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(float_to_pcm16(samples.astype(np.float32)))
    return path


def tone_with_pauses(seconds: float, noise: float, rate: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(int(seconds * rate)) / rate
    voiced = 0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.5 * t) > -0.3)
    return (voiced + noise * rng.standard_normal(t.size)).astype(np.float32)


def test_measures_of_a_clean_signal() -> None:
    m = measure(tone_with_pauses(12, 0.0005), 16000, 1)
    assert m.seconds == 12.0 and m.clipped_fraction == 0.0
    assert m.snr_db > 30 and 0.1 < m.silence_ratio < 0.5
    assert -20 < m.loudness_dbfs < -5
    assert judge("a.wav", m, VoiceCheckConfig()).passed


def test_noise_clipping_length_and_rate_are_rejected() -> None:
    limits = VoiceCheckConfig()
    noisy = judge("n.wav", measure(tone_with_pauses(12, 0.08), 16000, 1), limits)
    assert not noisy.passed and any("noisy" in p for p in noisy.problems)
    loud = np.clip(tone_with_pauses(12, 0.0005) * 8, -1, 1)
    clipped = judge("c.wav", measure(loud, 16000, 1), limits)
    assert any("clipped" in p for p in clipped.problems)
    short = judge("s.wav", measure(tone_with_pauses(2, 0.0005), 16000, 1), limits)
    assert any("too short" in p for p in short.problems)
    low = judge("l.wav", measure(tone_with_pauses(12, 0.0005, 8000), 8000, 1), limits)
    assert any("sample rate" in p for p in low.problems)
    silent = judge("q.wav", measure(np.zeros(16000 * 12, np.float32), 16000, 1), limits)
    assert not silent.passed


def test_read_clip_mixes_stereo_down() -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(np.array([1000, 3000] * 10, dtype="<i2").tobytes())
    samples, rate, channels = read_clip(buffer.getvalue())
    assert (rate, channels, samples.size) == (44100, 2, 10)
    assert abs(float(samples[0]) - 2000 / 32768) < 1e-6


# --------------------------------------------------------------------- real speech


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from piper import PiperVoice

    root = tmp_path_factory.mktemp("speech")
    voice_path = models.resolve("en_US-joe-medium")
    voice = PiperVoice.load(voice_path, config_path=f"{voice_path}.json")
    clips: dict[str, Path] = {}
    for index, text in enumerate(TEXTS):
        audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text)])
        pause = np.zeros(int(0.3 * RATE), np.float32)
        clips[f"joe{index}"] = wav_file(root / f"joe{index}.wav", np.concatenate([pause, audio]))
    first, _, _ = read_clip(clips["joe0"].read_bytes())
    clips["short"] = wav_file(root / "short.wav", first[: int(2.5 * RATE)])
    clips["clipped"] = wav_file(root / "clipped.wav", np.clip(first * 12, -1, 1))
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is needed (apt-get install -y espeak-ng)")
    other = root / "other.wav"
    subprocess.run([espeak, "-v", "en-us", "-w", str(other), TEXTS[1] + " " + TEXTS[2]], check=True)
    clips["other"] = other
    return clips


@pytest.fixture(scope="session")
def speaker_encoder() -> Iterator[SpeakerEncoder]:
    from familiar_hub.persona.backends.resemblyzer import ResemblyzerEncoder

    encoder = ResemblyzerEncoder()
    asyncio.run(encoder.__aenter__())
    yield encoder
    asyncio.run(encoder.__aexit__(None, None, None))


def check_stored(records: list[VoiceClipRecord], voice_dir: Path) -> None:
    """Stored clips: private, 24 kHz mono 16-bit, normalised loudness."""
    for record in records:
        path = Path(record.path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with wave.open(str(path)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        samples, _, _ = read_clip(path.read_bytes())
        stored = measure(samples, 24000, 1)
        # Speech at -20 dBFS, unless that would push a peak over -1 dBFS: then the peak
        # sets the gain and the speech stays quieter (Piper's varied prosody does that).
        peak_limited = abs(stored.peak_dbfs - PEAK_DBFS) < 0.2
        assert stored.loudness_dbfs < TARGET_DBFS + 1.5
        assert peak_limited or abs(stored.loudness_dbfs - TARGET_DBFS) < 1.5
    assert stat.S_IMODE(voice_dir.stat().st_mode) == 0o700


@pytest.mark.models
async def test_enrol_checks_and_stores_clips(
    tmp_path: Path, speech: dict[str, Path], speaker_encoder: SpeakerEncoder
) -> None:
    limits = VoiceCheckConfig()
    voice_dir = tmp_path / "data" / "voice"
    async with (
        PersonaStore(tmp_path / "data" / "persona.db") as store,
        VoiceLibrary(store, voice_dir, limits, speaker_encoder) as library,
    ):
        checks = await library.add(
            [speech["joe0"], speech["joe1"], speech["short"], speech["clipped"]]
        )
        verdicts = {c.name: c for c in checks}
        assert verdicts["joe0.wav"].passed and verdicts["joe1.wav"].passed
        assert verdicts["joe0.wav"].speaker_similarity is not None
        assert verdicts["joe0.wav"].speaker_similarity > limits.min_speaker_similarity
        assert any("too short" in p for p in verdicts["short.wav"].problems)
        assert any("clipped" in p for p in verdicts["clipped.wav"].problems)

        later = await library.add([speech["other"], speech["joe2"], speech["joe0"]])
        verdicts = {c.name: c for c in later}
        assert any("different speaker" in p for p in verdicts["other.wav"].problems)
        assert verdicts["joe2.wav"].passed
        assert verdicts["joe0.wav"].problems == ["already enrolled"]

        records = await library.list()
        assert sorted(Path(r.path).name.split("-")[0] for r in records) == ["joe0", "joe1", "joe2"]
        check_stored(records, voice_dir)
        ready = readiness(records, limits)
        assert 0 < ready.score < 100 and any("more speech" in n for n in ready.notes)

        removed = await library.remove(records[0].name)
        assert removed is not None
        assert not await asyncio.to_thread(Path(removed.path).exists)
        assert len(await library.list()) == 2
