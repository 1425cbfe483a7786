"""Piper in process: the voice we load says what ``PiperVoice.load`` makes it say, decoded in
pieces so the first goes out early, with its ONNX threads sleeping between operators (the hub's
cores are shared); short texts said again are replayed from memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from familiar.audio import PcmFormat
from familiar_hub import models
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backend import SpeechAudio
from familiar_hub.tts.backends.piper import PiperTts
from familiar_hub.tts.backends.piper_split import FIRST_FRAMES, SplitVoice, limited, spans
from familiar_hub.tts.cache import PhraseCache

TEXT = "Okay, the kitchen light is on now."


@pytest.mark.models
async def test_the_voice_says_in_pieces_what_piper_says_whole_without_spinning_threads() -> None:
    import numpy as np
    from piper import PiperVoice, SynthesisConfig

    text = "Okay, the kitchen light is on now, and the front door is locked for the night."
    config = TtsConfig(noise_scale=0.0, noise_w_scale=0.0)  # deterministic synthesis
    async with PiperTts(config) as tts:
        assert tts._split is not None
        for half in (tts._split.text_half, tts._split.decoder):
            options = half.get_session_options()
            assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        pieces = [piece.pcm async for piece in tts.synthesize(text, None)]
        gain = tts._split.gain
    reference = PiperVoice.load(models.resolve(config.voice))
    settings = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
    [whole] = list(reference.synthesize(text, settings))
    theirs = np.clip(limited(whole.audio_float_array * gain) * 32767, -32767, 32767)
    ours = np.frombuffer(b"".join(pieces), dtype=np.int16)
    assert len(pieces) >= 2  # the first piece went out before the rest was decoded
    assert len(pieces[0]) // 2 == FIRST_FRAMES * reference.config.hop_length
    assert ours.size == theirs.size > 16000
    assert np.max(np.abs(ours - theirs.astype(np.int16).astype(np.int32))) <= 2
    assert 0.5 < np.max(np.abs(ours)) / 32767 <= 1.0  # a level like Piper's own


def test_pieces_double_and_a_short_tail_joins_the_piece_before() -> None:
    assert spans(0) == []
    assert spans(20, first=32) == [(0, 20)]  # shorter than a first piece: whole
    assert spans(124, first=32) == [(0, 32), (32, 124)]
    assert spans(300, first=32) == [(0, 32), (32, 96), (96, 300)]
    assert spans(1000, first=32) == [(0, 32), (32, 96), (96, 224), (224, 480), (480, 1000)]


def test_loud_peaks_are_bent_under_full_scale_and_the_rest_is_untouched() -> None:
    import numpy as np

    audio = np.array([0.0, 0.5, -0.8, 0.9, -1.2, 3.0], dtype=np.float32)
    out = limited(audio)
    assert list(out[:3]) == list(audio[:3])
    assert np.all(np.abs(out) <= 1.0) and np.all(np.sign(out[3:]) == np.sign(audio[3:]))
    assert 0.85 < out[3] < 0.9 and abs(out[4]) < out[5]  # still in order of loudness


def test_a_graph_without_a_decoder_to_cut_at_is_decoded_whole(tmp_path: Path) -> None:
    from onnx import TensorProto, helper, save

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"], name="/whole/Identity")],
        "old-export",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1])],
    )
    save(helper.make_model(graph), tmp_path / "voice.onnx")
    made: list[object] = []
    assert SplitVoice.split(tmp_path / "voice.onnx", made.append) is None
    assert made == []


@pytest.mark.models
async def test_a_short_text_said_again_is_replayed_not_synthesised() -> None:
    long_text = "The spare key is with Lakshmi aunty next door, in the brass pot on her shelf."
    async with PiperTts(TtsConfig(cache_chars=40)) as tts:
        first = [piece async for piece in tts.synthesize(TEXT, None)]
        # a stream its reader stops is not kept: only a whole synthesis is
        async with aclosing(tts.synthesize("Goodnight, sleep well.", None)) as cut:
            async for _ in cut:
                break
        calls = 0
        make = tts._sentences

        def counting(text: str) -> Iterator[SpeechAudio]:
            nonlocal calls
            calls += 1
            return make(text)

        tts._sentences = counting  # type: ignore[method-assign]
        again = [piece async for piece in tts.synthesize(TEXT, None)]
        assert calls == 0 and again == first  # the same audio, at once
        [piece async for piece in tts.synthesize("Goodnight, sleep well.", None)]
        assert calls == 1
        [piece async for piece in tts.synthesize(long_text, None)]
        [piece async for piece in tts.synthesize(long_text, None)]
        assert calls == 3  # longer than cache_chars: made each time


def test_the_phrase_cache_is_bounded_in_bytes_least_recently_used_out() -> None:
    fmt = PcmFormat(16000, 2, 1)
    cache = PhraseCache(max_chars=20, max_bytes=1000)

    def audio(size: int) -> list[SpeechAudio]:
        return [SpeechAudio(fmt, b"\x00" * size)]

    cache.put("one", audio(400))
    cache.put("two", audio(400))
    assert cache.get("one") is not None  # "two" is now the least recently used
    cache.put("three", audio(400))
    assert cache.get("two") is None and cache.get("one") and cache.get("three")
    assert cache.nbytes == 800 and len(cache) == 2
    cache.put("huge", audio(2000))  # more than the whole cache: not kept
    cache.put("a text longer than twenty", audio(10))
    assert len(cache) == 2 and cache.get("huge") is None
    assert PhraseCache(max_chars=0, max_bytes=1000).wanted("Done.") is False


def test_a_graph_the_extractor_cannot_cut_is_decoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import onnx.utils
    from onnx import TensorProto, helper, save

    nodes = [
        helper.make_node("Identity", ["input"], ["z"], name="/flow/Identity"),
        helper.make_node("Identity", ["z"], ["output"], name="/dec/conv_pre/Conv"),
    ]
    graph = helper.make_graph(
        nodes,
        "odd-export",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1])],
    )
    save(helper.make_model(graph), tmp_path / "voice.onnx")

    class Refusing:
        def __init__(self, model: object) -> None:
            raise ValueError("unsupported graph")

    monkeypatch.setattr(onnx.utils, "Extractor", Refusing)
    assert SplitVoice.split(tmp_path / "voice.onnx", lambda model: model) is None
    assert "cannot cut voice.onnx at its decoder (unsupported graph)" in caplog.text


@pytest.mark.models
def test_the_halves_are_kept_and_read_back_and_a_damaged_keep_is_cut_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import onnx.utils
    import onnxruntime

    def session(model: bytes | str) -> object:
        return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])

    voice = models.resolve(TtsConfig().voice)
    first = SplitVoice.split(voice, session, tmp_path)
    assert first is not None
    [folder] = list(tmp_path.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == [
        "decoder.onnx",
        "names.json",
        "text-half.onnx",
    ]

    class Refusing:
        def __init__(self, model: object) -> None:
            raise AssertionError("cut again")

    with monkeypatch.context() as patched:
        patched.setattr(onnx.utils, "Extractor", Refusing)
        again = SplitVoice.split(voice, session, tmp_path)  # read back, not cut
    assert again is not None and (again.latent, again.carried) == (first.latent, first.carried)
    inputs = {
        "input": np.array([[1, 20, 0, 30, 0, 40, 2]], dtype=np.int64),
        "input_lengths": np.array([7], dtype=np.int64),
        "scales": np.array([0.0, 1.0, 0.0], dtype=np.float32),
    }
    ours = np.concatenate(list(again.pieces(inputs)))
    assert np.array_equal(ours, np.concatenate(list(first.pieces(inputs))))
    (folder / "decoder.onnx").write_bytes(b"damaged")
    assert SplitVoice.split(voice, session, tmp_path) is not None  # cut again, kept again
    assert (folder / "decoder.onnx").stat().st_size > 1000
