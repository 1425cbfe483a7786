"""The satellite's microphone and speaker paths with real processes, at the rates real devices
use, fed in chunks of awkward sizes: the audio that comes out is the tone that went in."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import numpy as np

from familiar.audio import PcmFormat, float_to_pcm16, pcm_to_float
from familiar_satellite.audio_io import MicCommand, Speaker
from familiar_satellite.config import MicConfig, SndConfig
from tests.test_audio import chunked, out_of_tone_db, tone

# A command that writes its input file in odd-sized pieces, flushing each one.
DRIP = (
    "import sys\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "out = sys.stdout.buffer\n"
    "for i in range(0, len(data), 1001):\n"
    "    out.write(data[i : i + 1001]); out.flush()\n"
)


async def test_usb_microphone_at_48k_arrives_clean_at_16k(tmp_path: Path) -> None:
    recording = tmp_path / "mic.raw"
    recording.write_bytes(float_to_pcm16(tone(440, 48000, 3.0)))
    config = MicConfig.model_validate(
        {
            "command": [sys.executable, "-c", DRIP, str(recording)],
            "format": {"rate": 48000},
            "chunk_seconds": 0.0123,  # 590.4 samples: never a whole number of output samples
            "restart_seconds": 60,
        }
    )
    mic = MicCommand(config)
    pieces: list[bytes] = []
    chunks = mic.chunks()
    async with contextlib.aclosing(chunks):
        async for piece in chunks:
            pieces.append(piece)
            if mic.seconds_read >= 2.0:
                break
    got = pcm_to_float(b"".join(pieces), 2, 1)
    # all but what the resampler still holds (its delay: ~21 ms) came through; nothing extra
    expected = round(mic.seconds_read * 16000)
    assert expected - 0.03 * 16000 < got.size <= expected
    assert out_of_tone_db(got[8000:24000], 16000, 440) < -85


async def test_speaker_converts_24k_answer_in_odd_chunks_to_22k(tmp_path: Path) -> None:
    """XTTS speaks at 24 kHz, the speaker plays 22.05 kHz: the issue measured -41 dB of noise
    and 22,055 samples per second when each chunk was converted on its own."""
    out = tmp_path / "out.raw"
    config = SndConfig.model_validate(
        {"command": ["sh", "-c", f"cat > {out}"], "format": {"rate": 22050}}
    )
    speaker = Speaker(config)
    task = asyncio.create_task(speaker.run())
    try:
        playback = speaker.open(PcmFormat(24000), "answer")
        for piece in chunked(float_to_pcm16(tone(440, 24000, 2.0)), [1001, 4096, 3]):
            speaker.write(playback, piece)
        speaker.end(playback)
        await asyncio.wait_for(playback.finished.wait(), 30)
        assert not playback.failed
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    got = pcm_to_float(out.read_bytes(), 2, 1)
    assert got.size == 2 * 22050  # exactly: no drift, the filter's tail flushed at the end
    assert out_of_tone_db(got[5512 : 5512 + 22050], 22050, 440) < -85
    assert np.max(np.abs(got)) < 0.51
