"""The state machine, rule by rule, as tables."""

from __future__ import annotations

import pytest

from familiar_satellite import state as sm
from familiar_satellite.state import Phase, Sound, State

IDLE = State(phase=Phase.IDLE, connected=True)
STREAMING = State(phase=Phase.STREAMING, connected=True, wake_word="hey_jarvis")
WAITING = State(phase=Phase.WAITING, connected=True, wake_word="hey_jarvis")
SPEAKING = State(phase=Phase.SPEAKING, connected=True, playing=1, wake_word="hey_jarvis")
DISCONNECTED = State()
MUTED = State(phase=Phase.MUTED, connected=True, muted=True)
PAUSED = State(phase=Phase.PAUSED, connected=True, paused=True)

START = (
    sm.SendDetection("hey_jarvis"),
    sm.SendRunPipeline("hey_jarvis"),
    sm.PlaySound(Sound.AWAKE, mute_mic=True),
    sm.StartStreaming(),
)
FOLLOW_UP = (
    sm.SendRunPipeline(None),
    sm.PlaySound(Sound.AWAKE, mute_mic=True),
    sm.StartStreaming(),
)

TABLE: list[tuple[str, State, sm.Input, State, sm.Effects]] = [
    # connection
    ("ready", DISCONNECTED, sm.ControllerReady(), IDLE, ()),
    ("ready while muted", State(muted=True, phase=Phase.MUTED), sm.ControllerReady(), MUTED, ()),
    (
        "ready again mid-stream",
        STREAMING,
        sm.ControllerReady(),
        IDLE,
        (sm.StopStreaming(send_stop=False),),
    ),
    ("paused", IDLE, sm.ControllerPaused(), PAUSED, ()),
    ("paused while speaking", SPEAKING, sm.ControllerPaused(), PAUSED, (sm.AbortPlayback(),)),
    ("run after pause", PAUSED, sm.ControllerReady(), IDLE, ()),
    ("lost while idle", IDLE, sm.ControllerLost(), DISCONNECTED, ()),
    (
        "lost while streaming",
        STREAMING,
        sm.ControllerLost(),
        DISCONNECTED,
        (sm.StopStreaming(send_stop=False),),
    ),
    ("lost while waiting", WAITING, sm.ControllerLost(), DISCONNECTED, (sm.CancelResponseTimer(),)),
    ("lost while muted", MUTED, sm.ControllerLost(), State(phase=Phase.MUTED, muted=True), ()),
    # mute
    ("mute idle", IDLE, sm.MuteChanged(True), MUTED, ()),
    (
        "mute streaming tells controller",
        STREAMING,
        sm.MuteChanged(True),
        MUTED,
        (sm.StopStreaming(send_stop=True),),
    ),
    ("mute speaking", SPEAKING, sm.MuteChanged(True), MUTED, (sm.AbortPlayback(), sm.SendPlayed())),
    ("unmute", MUTED, sm.MuteChanged(False), IDLE, ()),
    (
        "unmute disconnected",
        State(phase=Phase.MUTED, muted=True),
        sm.MuteChanged(False),
        DISCONNECTED,
        (),
    ),
    ("mute twice", MUTED, sm.MuteChanged(True), MUTED, ()),
    # wake
    ("wake", IDLE, sm.WakeDetected("hey_jarvis"), STREAMING, START),
    ("wake while streaming ignored", STREAMING, sm.WakeDetected("alexa"), STREAMING, ()),
    ("wake disconnected ignored", DISCONNECTED, sm.WakeDetected("hey_jarvis"), DISCONNECTED, ()),
    ("wake muted ignored", MUTED, sm.WakeDetected("hey_jarvis"), MUTED, ()),
    ("wake paused ignored", PAUSED, sm.WakeDetected("hey_jarvis"), PAUSED, ()),
    (
        "barge-in",
        SPEAKING,
        sm.WakeDetected("hey_jarvis"),
        STREAMING,
        (sm.AbortPlayback(), sm.SendPlayed(), *START),
    ),
    (
        "wake while waiting",
        WAITING,
        sm.WakeDetected("hey_jarvis"),
        STREAMING,
        (sm.CancelResponseTimer(), *START),
    ),
    (
        "listen requested",
        IDLE,
        sm.ListenRequested(),
        State(phase=Phase.STREAMING, connected=True),
        FOLLOW_UP,
    ),
    ("listen requested disconnected", DISCONNECTED, sm.ListenRequested(), DISCONNECTED, ()),
    # streaming
    ("speech started", STREAMING, sm.SpeechStarted(), STREAMING, (sm.SendVoiceStarted(),)),
    (
        "speech ended",
        STREAMING,
        sm.SpeechEnded("silence"),
        WAITING,
        (
            sm.StopStreaming(send_stop=True, voice_stopped=True),
            sm.PlaySound(Sound.DONE),
            sm.StartResponseTimer(),
        ),
    ),
    (
        "no speech",
        STREAMING,
        sm.SpeechEnded("no-speech"),
        WAITING,
        (
            sm.StopStreaming(send_stop=True, voice_stopped=False),
            sm.PlaySound(Sound.DONE),
            sm.StartResponseTimer(),
        ),
    ),
    ("speech ended late", WAITING, sm.SpeechEnded("silence"), WAITING, ()),
    (
        "transcript ends streaming",
        STREAMING,
        sm.TranscriptReceived(),
        WAITING,
        (sm.StopStreaming(send_stop=False), sm.PlaySound(Sound.DONE), sm.StartResponseTimer()),
    ),
    (
        "transcript with follow-up",
        WAITING,
        sm.TranscriptReceived(True),
        State(phase=Phase.WAITING, connected=True, wake_word="hey_jarvis", follow_up=True),
        (),
    ),
    ("transcript idle ignored", IDLE, sm.TranscriptReceived(True), IDLE, ()),
    # answer
    (
        "answer starts",
        WAITING,
        sm.AnswerAudioStarted(),
        SPEAKING,
        (sm.CancelResponseTimer(), sm.StartPlayback()),
    ),
    (
        "second stream",
        SPEAKING,
        sm.AnswerAudioStarted(),
        State(phase=Phase.SPEAKING, connected=True, playing=2, wake_word="hey_jarvis"),
        (sm.StartPlayback(),),
    ),
    ("answer audio ends", SPEAKING, sm.AnswerAudioStopped(), SPEAKING, (sm.EndPlayback(),)),
    ("stale audio while streaming", STREAMING, sm.AnswerAudioStarted(), STREAMING, ()),
    (
        "announcement",
        IDLE,
        sm.AnswerAudioStarted(),
        State(phase=Phase.SPEAKING, connected=True, playing=1),
        (sm.StartPlayback(),),
    ),
    ("played", SPEAKING, sm.PlaybackFinished(), IDLE, (sm.SendPlayed(),)),
    (
        "one of two played",
        State(phase=Phase.SPEAKING, connected=True, playing=2),
        sm.PlaybackFinished(),
        State(phase=Phase.SPEAKING, connected=True, playing=1),
        (),
    ),
    (
        "played then follow-up",
        State(phase=Phase.SPEAKING, connected=True, playing=1, follow_up=True),
        sm.PlaybackFinished(),
        State(phase=Phase.STREAMING, connected=True),
        (sm.SendPlayed(), *FOLLOW_UP),
    ),
    (
        "follow-up flag",
        SPEAKING,
        sm.FollowUpSignalled(True),
        State(
            phase=Phase.SPEAKING, connected=True, playing=1, wake_word="hey_jarvis", follow_up=True
        ),
        (),
    ),
    ("follow-up flag idle ignored", IDLE, sm.FollowUpSignalled(True), IDLE, ()),
    ("played late ignored", IDLE, sm.PlaybackFinished(), IDLE, ()),
    # pipeline end, errors, timers
    (
        "pipeline ended without audio",
        WAITING,
        sm.PipelineEnded(),
        IDLE,
        (sm.CancelResponseTimer(),),
    ),
    (
        "pipeline ended, continue",
        WAITING,
        sm.PipelineEnded(True),
        State(phase=Phase.STREAMING, connected=True),
        (sm.CancelResponseTimer(), *FOLLOW_UP),
    ),
    (
        "pipeline ended after played, continue",
        IDLE,
        sm.PipelineEnded(True),
        State(phase=Phase.STREAMING, connected=True),
        FOLLOW_UP,
    ),
    (
        "pipeline ended while speaking",
        SPEAKING,
        sm.PipelineEnded(True),
        State(
            phase=Phase.SPEAKING, connected=True, playing=1, wake_word="hey_jarvis", follow_up=True
        ),
        (),
    ),
    (
        "error while streaming",
        STREAMING,
        sm.ErrorReceived("stt-no-text-recognized"),
        IDLE,
        (sm.StopStreaming(send_stop=False), sm.PlaySound(Sound.ERROR)),
    ),
    (
        "error while waiting",
        WAITING,
        sm.ErrorReceived(),
        IDLE,
        (sm.CancelResponseTimer(), sm.PlaySound(Sound.ERROR)),
    ),
    ("error while idle", IDLE, sm.ErrorReceived(), IDLE, (sm.PlaySound(Sound.ERROR),)),
    ("response timed out", WAITING, sm.ResponseTimedOut(), IDLE, ()),
    ("timeout after answer ignored", SPEAKING, sm.ResponseTimedOut(), SPEAKING, ()),
    ("timer finished", IDLE, sm.TimerFinished(), IDLE, (sm.PlaySound(Sound.TIMER),)),
    ("timer finished muted", MUTED, sm.TimerFinished(), MUTED, (sm.PlaySound(Sound.TIMER),)),
]


@pytest.mark.parametrize(
    ("before", "event", "after", "effects"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_transition(before: State, event: sm.Input, after: State, effects: sm.Effects) -> None:
    assert sm.transition(before, event) == (after, effects)


def test_a_whole_turn() -> None:
    state = DISCONNECTED
    for event, phase in [
        (sm.ControllerReady(), Phase.IDLE),
        (sm.WakeDetected("okay_nabu"), Phase.STREAMING),
        (sm.SpeechStarted(), Phase.STREAMING),
        (sm.SpeechEnded("silence"), Phase.WAITING),
        (sm.TranscriptReceived(), Phase.WAITING),
        (sm.AnswerAudioStarted(), Phase.SPEAKING),
        (sm.AnswerAudioStopped(), Phase.SPEAKING),
        (sm.PlaybackFinished(), Phase.IDLE),
    ]:
        state, _ = sm.transition(state, event)
        assert state.phase is phase, event
    assert state == IDLE


def test_every_phase_answers_every_input() -> None:
    """No (phase, input) pair raises: unknown combinations are ignored, never crash."""
    inputs: list[sm.Input] = [
        sm.ControllerReady(),
        sm.ControllerPaused(),
        sm.ControllerLost(),
        sm.MuteChanged(True),
        sm.MuteChanged(False),
        sm.WakeDetected("x"),
        sm.ListenRequested(),
        sm.SpeechStarted(),
        sm.SpeechEnded("silence"),
        sm.TranscriptReceived(),
        sm.FollowUpSignalled(True),
        sm.AnswerAudioStarted(),
        sm.AnswerAudioStopped(),
        sm.PlaybackFinished(),
        sm.PipelineEnded(),
        sm.ErrorReceived(),
        sm.ResponseTimedOut(),
        sm.TimerFinished(),
    ]
    for state in (IDLE, STREAMING, WAITING, SPEAKING, DISCONNECTED, MUTED, PAUSED):
        for event in inputs:
            new, _ = sm.transition(state, event)
            assert new.phase in Phase
            if new.phase not in sm.TURN_PHASES:
                assert new.playing == 0 or new.phase is Phase.SPEAKING
