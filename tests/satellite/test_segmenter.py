"""End of speech from synthetic VAD decisions: durations in, segments out."""

from __future__ import annotations

from familiar_satellite.segmenter import Segment, SpeechSegmenter

FRAME = 0.01


def run(
    segmenter: SpeechSegmenter, pattern: list[tuple[float, bool]]
) -> list[tuple[float, Segment]]:
    """Feed ``(seconds, is_speech)`` spans in 10 ms frames; return (time, segment) reports."""
    out: list[tuple[float, Segment]] = []
    elapsed = 0.0
    for seconds, speech in pattern:
        for _ in range(round(seconds / FRAME)):
            elapsed += FRAME
            result = segmenter.process(FRAME, speech)
            if result is not None:
                out.append((round(elapsed, 2), result))
    return out


def test_command_with_trailing_silence() -> None:
    seg = SpeechSegmenter(speech_seconds=0.3, silence_seconds=0.8, max_seconds=15)
    reports = run(seg, [(0.5, False), (2.0, True), (0.3, False), (0.5, True), (2.0, False)])
    assert reports == [(0.8, Segment.STARTED), (4.1, Segment.SILENCE)]


def test_short_blips_are_not_speech() -> None:
    seg = SpeechSegmenter(speech_seconds=0.3, no_speech_seconds=3.0)
    pattern = [(0.2, True), (0.1, False)] * 10
    assert run(seg, pattern) == [(3.0, Segment.NO_SPEECH)]


def test_pause_shorter_than_silence_keeps_listening() -> None:
    seg = SpeechSegmenter(speech_seconds=0.1, silence_seconds=1.0)
    reports = run(seg, [(1.0, True), (0.9, False), (1.0, True), (1.0, False)])
    assert reports == [(0.1, Segment.STARTED), (3.9, Segment.SILENCE)]


def test_max_length() -> None:
    seg = SpeechSegmenter(speech_seconds=0.3, silence_seconds=0.8, max_seconds=5.0)
    assert run(seg, [(10.0, True)]) == [(0.3, Segment.STARTED), (5.0, Segment.MAX_LENGTH)]


def test_nothing_after_the_end_until_reset() -> None:
    seg = SpeechSegmenter(speech_seconds=0.1, silence_seconds=0.2)
    assert run(seg, [(0.5, True), (0.5, False)]) == [(0.1, Segment.STARTED), (0.7, Segment.SILENCE)]
    assert run(seg, [(1.0, True)]) == []
    seg.reset()
    assert run(seg, [(0.2, True)]) == [(0.1, Segment.STARTED)]


def test_frame_size_does_not_matter() -> None:
    coarse = SpeechSegmenter(speech_seconds=0.3, silence_seconds=0.8)
    results = [coarse.process(0.1, s) for s in [False] * 3 + [True] * 10 + [False] * 10]
    assert [r for r in results if r] == [Segment.STARTED, Segment.SILENCE]
    assert results.index(Segment.STARTED) == 5
    assert results.index(Segment.SILENCE) == 20
