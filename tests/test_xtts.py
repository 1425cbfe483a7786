"""The XTTS backend's real code path with a stand-in model (no weights can be installed here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from familiar.config import load_config
from familiar.errors import ConfigError, ModelNotFound
from familiar_hub.config import HubConfig, TtsConfig, XttsConfig
from familiar_hub.tts.backends import choose
from familiar_hub.tts.backends.xtts import XTTS_RATE, XttsTts


class StandInXtts:
    """Implements the coqui ``Xtts`` methods we call, and records how it was used."""

    def __init__(self, chunks: int = 3) -> None:
        self.chunks = chunks
        self.produced = 0
        self.clips: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.threads: set[str] = set()

    def get_conditioning_latents(self, audio_path: list[str]) -> tuple[Any, Any]:
        self.clips = audio_path
        self.threads.add(threading.current_thread().name)
        return ("latent", len(audio_path)), ("speaker", 512)

    def inference_stream(
        self,
        text: str,
        language: str,
        gpt_cond_latent: Any,
        speaker_embedding: Any,
        **kwargs: Any,
    ) -> Iterator[Any]:
        self.threads.add(threading.current_thread().name)
        self.calls.append(
            {
                "text": text,
                "language": language,
                "latent": gpt_cond_latent,
                "speaker": speaker_embedding,
                **kwargs,
            }
        )
        for _ in range(self.chunks):
            self.produced += 1
            yield np.full(2400, 0.25, dtype=np.float32)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    (tmp_path / "xtts").mkdir()
    (tmp_path / "xtts" / "config.json").write_text("{}")
    clips = tmp_path / "clips"
    clips.mkdir()
    for n in range(3):
        (clips / f"clip{n}.wav").write_bytes(b"RIFF")
    return tmp_path


def config(root: Path) -> TtsConfig:
    return TtsConfig(
        engine="xtts", xtts=XttsConfig(model_dir=str(root / "xtts"), clips_dir=str(root / "clips"))
    )


async def test_streams_the_cloned_voice(model_dir: Path) -> None:
    stand_in = StandInXtts()
    cfg = config(model_dir)
    assert choose(cfg) == "xtts"
    async with XttsTts(cfg, load=lambda _: stand_in) as tts:
        assert tts.program().voices[0].name == "persona"
        pieces = [p async for p in tts.synthesize("Hello there.", None)]
    assert [Path(c).name for c in stand_in.clips] == ["clip0.wav", "clip1.wav", "clip2.wav"]
    assert stand_in.calls[0]["text"] == "Hello there."
    assert stand_in.calls[0]["latent"] == ("latent", 3)
    assert stand_in.calls[0]["stream_chunk_size"] == 20
    assert all(p.fmt.rate == XTTS_RATE for p in pieces)
    assert len(pieces) == 3
    assert np.frombuffer(pieces[0].pcm, dtype="<i2")[0] == round(0.25 * 32768)
    assert stand_in.threads == {"xtts_0"}  # never on the event loop's thread


async def test_no_clips_is_a_clear_error(model_dir: Path) -> None:
    for clip in (model_dir / "clips").iterdir():
        clip.unlink()
    with pytest.raises(ModelNotFound, match="no voice clips"):
        async with XttsTts(config(model_dir), load=lambda _: StandInXtts()):
            pass


async def test_consumer_leaving_early_stops_the_stream(model_dir: Path) -> None:
    model = StandInXtts(chunks=10_000)
    async with XttsTts(config(model_dir), load=lambda _: model) as tts:
        stream = tts.synthesize("Long text.", None)
        await anext(stream)
        await stream.aclose()  # returns once the worker has stopped producing
        stopped_at = model.produced
        assert stopped_at < 20  # the bounded hand-over queue, not the whole text
        model.chunks = 2  # the one model thread is free for the next request
        again = [piece async for piece in tts.synthesize("Short.", None)]
        assert len(again) == 2
        assert model.produced == stopped_at + 2


def test_xtts_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(f"tts:\n  engine: xtts\n  xtts:\n    model_dir: {tmp_path}/none\n")
    with pytest.raises(ConfigError) as info:
        load_config(HubConfig, path)
    assert info.value.problems[0].startswith("line 4: tts.xtts.model_dir: file not found")
    path.write_text("tts:\n  engine: xtts\n")
    with pytest.raises(ConfigError, match="engine xtts needs an xtts section"):
        load_config(HubConfig, path)
