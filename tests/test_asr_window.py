"""Short-window Whisper decoding: the pure decisions."""

from __future__ import annotations

from familiar_hub.asr.backends import choose
from familiar_hub.asr.backends.faster_whisper import repeats_itself, window_frames
from familiar_hub.config import AsrConfig
from familiar_testkit.processes import ROOT


def test_window_frames() -> None:
    assert window_frames(2.5, 15) == 1500  # a command: the minimum window
    assert window_frames(16.2, 15) == 1800  # longer speech: audio + 1 s, rounded up
    assert window_frames(27.5, 15) is None  # close to 30 s: the classic full window
    assert window_frames(2.5, 30) is None  # the default: disabled
    assert AsrConfig().window_seconds == 30


def test_repetition_is_detected() -> None:
    assert repeats_itself("Lock the front door. Lock the front door.")
    assert repeats_itself("Yes. No. no. Maybe")
    assert not repeats_itself("Lock the front door. Then the back door.")
    assert not repeats_itself("")


def test_backend_choice() -> None:
    assert choose(AsrConfig()) == "faster-whisper"
    assert choose(AsrConfig(uri="tcp://10.0.0.1:10300")) == "remote"


def test_tts_backend_choice() -> None:
    from familiar_hub.config import TtsConfig
    from familiar_hub.tts.backends import choose as choose_tts

    assert choose_tts(TtsConfig()) == "piper"
    assert choose_tts(TtsConfig(uri="tcp://10.0.0.1:10200")) == "remote"


def test_the_faster_whisper_internals_of_the_short_window_are_there() -> None:
    """The short window uses faster-whisper internals (no public call encodes less than 30 s):
    this fails loudly when the installed release is not the one they were read from, or when
    what the decoder calls has moved. The backend itself then falls back to the full window."""
    import inspect

    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.feature_extractor import FeatureExtractor
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    from familiar.versions import installed_version
    from familiar_hub.asr.backends.faster_whisper import (
        SHORT_WINDOW_TESTED_WITH,
        short_window_missing,
    )

    assert installed_version("faster-whisper") == SHORT_WINDOW_TESTED_WITH
    pin = f"faster-whisper=={SHORT_WINDOW_TESTED_WITH}"
    assert pin in (ROOT / "pyproject.toml").read_text()
    assert list(inspect.signature(Tokenizer).parameters)[:4] == [
        "tokenizer",
        "multilingual",
        "task",
        "language",
    ]
    assert list(inspect.signature(get_suppressed_tokens).parameters) == [
        "tokenizer",
        "suppress_tokens",
    ]
    assert callable(FeatureExtractor.__call__)
    init = inspect.getsource(WhisperModel.__init__)
    for attribute in ("self.model =", "self.hf_tokenizer =", "self.feature_extractor ="):
        assert attribute in init
    generate = ctranslate2.models.Whisper.generate.__doc__ or ""
    for option in ("return_scores", "return_no_speech_prob", "suppress_blank", "max_length"):
        assert option in generate

    class Moved:  # what a future release could look like to the decoder
        model = object()

    assert short_window_missing(Moved()) == (
        "WhisperModel.hf_tokenizer, WhisperModel.feature_extractor, WhisperModel.model.generate, "
        "WhisperModel.model.is_multilingual"
    )
