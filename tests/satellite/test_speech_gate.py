"""The speech gate in front of the wake word models (pure, counted in audio seconds)."""

from __future__ import annotations

from familiar_satellite.wake import SpeechGate

STEP = 0.08


def chunk(n: int) -> bytes:
    return n.to_bytes(2, "little")


def test_quiet_audio_never_reaches_the_models() -> None:
    gate = SpeechGate(preroll_seconds=0.4, hold_seconds=0.3)
    assert all(gate.feed(chunk(n), STEP, speech=False) == [] for n in range(100))
    assert not gate.open


def test_speech_opens_it_with_the_audio_just_before() -> None:
    gate = SpeechGate(preroll_seconds=0.4, hold_seconds=0.3)
    for n in range(10):
        gate.feed(chunk(n), STEP, speech=False)
    # 0.4 s of pre-roll = the last 5 chunks, then the one with speech
    assert gate.feed(chunk(10), STEP, speech=True) == [chunk(n) for n in range(5, 11)]
    assert gate.open


def test_it_stays_open_for_the_hold_after_the_last_speech_then_shuts() -> None:
    gate = SpeechGate(preroll_seconds=0.4, hold_seconds=0.3)
    gate.feed(chunk(0), STEP, speech=True)
    passed = [gate.feed(chunk(n), STEP, speech=False) for n in range(1, 8)]
    # 0.3 s of hold = the next 4 chunks (the last partly), then quiet again
    assert passed[:4] == [[chunk(1)], [chunk(2)], [chunk(3)], [chunk(4)]]
    assert passed[4:] == [[], [], []]
    # speech again: the pre-roll holds only what came after the gate shut
    assert gate.feed(chunk(8), STEP, speech=True) == [chunk(5), chunk(6), chunk(7), chunk(8)]


def test_reset_forgets_the_preroll_and_shuts() -> None:
    gate = SpeechGate(preroll_seconds=1.0, hold_seconds=1.0)
    gate.feed(chunk(0), STEP, speech=False)
    gate.feed(chunk(1), STEP, speech=True)
    gate.feed(chunk(2), STEP, speech=False)
    gate.reset()
    assert not gate.open
    assert gate.feed(chunk(3), STEP, speech=True) == [chunk(3)]
