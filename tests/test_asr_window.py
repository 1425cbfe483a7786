"""Short-window Whisper decoding: the pure decisions."""

from __future__ import annotations

from familiar_hub.asr.backends import choose
from familiar_hub.asr.backends.faster_whisper import repeats_itself, window_frames
from familiar_hub.config import AsrConfig


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
