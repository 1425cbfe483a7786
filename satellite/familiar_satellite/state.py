"""The satellite's one state machine: a pure ``transition(state, input) -> (state, effects)``.

Phases of a turn::

    idle (listening for the wake word) -> streaming -> waiting -> speaking -> idle
                                              ^                      |
                                              +---- follow-up -------+

plus the resting phases ``muted`` (by us), ``paused`` (by the controller) and
``disconnected`` (no controller). Inputs are facts in the past tense; effects are commands
in the imperative, performed in order by the shell (:mod:`familiar_satellite.app`).
Nothing here does I/O or reads a clock, so every rule is tested by tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Phase(StrEnum):
    DISCONNECTED = "disconnected"
    PAUSED = "paused"
    MUTED = "muted"
    IDLE = "idle"
    STREAMING = "streaming"
    WAITING = "waiting"
    SPEAKING = "speaking"


TURN_PHASES = frozenset({Phase.STREAMING, Phase.WAITING, Phase.SPEAKING})
WAKE_PHASES = frozenset({Phase.IDLE, Phase.WAITING, Phase.SPEAKING})
"""Phases in which the microphone goes to the wake word detector (speaking: barge-in)."""


class Sound(StrEnum):
    AWAKE = "awake"
    DONE = "done"
    ERROR = "error"
    TIMER = "timer"


@dataclass(frozen=True)
class State:
    phase: Phase = Phase.DISCONNECTED
    connected: bool = False
    """A controller has sent ``run-satellite`` and is still connected."""

    paused: bool = False
    """The controller sent ``pause-satellite``."""

    muted: bool = False
    """Muted locally (MQTT, button): the microphone is ignored."""

    follow_up: bool = False
    """The controller asked to continue the conversation after this answer."""

    playing: int = 0
    """Answer/announcement streams started and not finished playing yet."""

    wake_word: str | None = None
    """The wake word that started the current turn (None: follow-up or remote trigger)."""

    @property
    def active(self) -> bool:
        return self.connected and not self.paused and not self.muted


# --- inputs (facts) -------------------------------------------------------------------


@dataclass(frozen=True)
class ControllerReady:
    """The controller sent ``run-satellite``."""


@dataclass(frozen=True)
class ControllerPaused:
    """The controller sent ``pause-satellite``."""


@dataclass(frozen=True)
class ControllerLost:
    """The controller's connection closed (or stopped answering pings)."""


@dataclass(frozen=True)
class MuteChanged:
    muted: bool


@dataclass(frozen=True)
class WakeDetected:
    name: str


@dataclass(frozen=True)
class ListenRequested:
    """Start a request without a wake word (MQTT, button, remote trigger)."""


@dataclass(frozen=True)
class SpeechStarted:
    """The segmenter heard the command start."""


@dataclass(frozen=True)
class SpeechEnded:
    reason: str
    """``silence``, ``max-length`` or ``no-speech``."""


@dataclass(frozen=True)
class TranscriptReceived:
    follow_up: bool | None = None


@dataclass(frozen=True)
class FollowUpSignalled:
    """An event of the turn carried ``continue_conversation`` (the latest value wins)."""

    follow_up: bool


@dataclass(frozen=True)
class AnswerAudioStarted:
    """``audio-start`` from the controller (an answer, or an announcement when idle)."""


@dataclass(frozen=True)
class AnswerAudioStopped:
    """``audio-stop`` from the controller."""


@dataclass(frozen=True)
class PlaybackFinished:
    """One answer/announcement stream finished playing on the speaker."""


@dataclass(frozen=True)
class PipelineEnded:
    follow_up: bool = False


@dataclass(frozen=True)
class ErrorReceived:
    code: str | None = None


@dataclass(frozen=True)
class ResponseTimedOut:
    """No answer came within the response timeout after the command ended."""


@dataclass(frozen=True)
class TimerFinished:
    pass


Input = (
    ControllerReady
    | ControllerPaused
    | ControllerLost
    | MuteChanged
    | WakeDetected
    | ListenRequested
    | SpeechStarted
    | SpeechEnded
    | TranscriptReceived
    | FollowUpSignalled
    | AnswerAudioStarted
    | AnswerAudioStopped
    | PlaybackFinished
    | PipelineEnded
    | ErrorReceived
    | ResponseTimedOut
    | TimerFinished
)


# --- effects (commands) ---------------------------------------------------------------


@dataclass(frozen=True)
class SendDetection:
    name: str


@dataclass(frozen=True)
class SendRunPipeline:
    wake_word_name: str | None


@dataclass(frozen=True)
class StartStreaming:
    """Send ``audio-start``, reset the VAD and the wake detector, forward the microphone."""


@dataclass(frozen=True)
class SendVoiceStarted:
    pass


@dataclass(frozen=True)
class StopStreaming:
    """Stop forwarding the microphone; with ``send_stop``, tell the controller
    (``voice-stopped`` when speech had started, then ``audio-stop``)."""

    send_stop: bool
    voice_stopped: bool = False


@dataclass(frozen=True)
class PlaySound:
    sound: Sound
    mute_mic: bool = False


@dataclass(frozen=True)
class StartPlayback:
    """Open a speaker stream for the controller's audio."""


@dataclass(frozen=True)
class EndPlayback:
    """The controller's audio for the open stream is complete."""


@dataclass(frozen=True)
class AbortPlayback:
    """Stop everything playing now (barge-in, mute, controller gone)."""


@dataclass(frozen=True)
class SendPlayed:
    pass


@dataclass(frozen=True)
class StartResponseTimer:
    pass


@dataclass(frozen=True)
class CancelResponseTimer:
    pass


Effect = (
    SendDetection
    | SendRunPipeline
    | StartStreaming
    | SendVoiceStarted
    | StopStreaming
    | PlaySound
    | StartPlayback
    | EndPlayback
    | AbortPlayback
    | SendPlayed
    | StartResponseTimer
    | CancelResponseTimer
)

Effects = tuple[Effect, ...]


# --- rules ----------------------------------------------------------------------------


def _resting(state: State) -> Phase:
    """Where the satellite rests outside a turn."""
    if state.muted:
        return Phase.MUTED
    if not state.connected:
        return Phase.DISCONNECTED
    if state.paused:
        return Phase.PAUSED
    return Phase.IDLE


def _end_turn(state: State, *, tell_controller: bool) -> Effects:
    """Effects that abandon whatever turn is in progress."""
    if state.phase is Phase.STREAMING:
        return (StopStreaming(send_stop=tell_controller),)
    if state.phase is Phase.WAITING:
        return (CancelResponseTimer(),)
    if state.phase is Phase.SPEAKING:
        return (AbortPlayback(), SendPlayed()) if tell_controller else (AbortPlayback(),)
    return ()


def _rest(state: State, **changes: object) -> State:
    rested = replace(state, follow_up=False, playing=0, wake_word=None, **changes)  # type: ignore[arg-type]
    return replace(rested, phase=_resting(rested))


def _start_turn(state: State, wake_word: str | None) -> tuple[State, Effects]:
    effects: Effects = _end_turn(state, tell_controller=True)
    if wake_word is not None:
        effects += (SendDetection(wake_word),)
    effects += (
        SendRunPipeline(wake_word),
        PlaySound(Sound.AWAKE, mute_mic=True),
        StartStreaming(),
    )
    new = replace(state, phase=Phase.STREAMING, follow_up=False, playing=0, wake_word=wake_word)
    return new, effects


def _after_answer(state: State, follow_up: bool) -> tuple[State, Effects]:
    """The answer is over: listen again without the wake word, or rest."""
    if follow_up and state.active:
        return _start_turn(replace(state, phase=Phase.IDLE), None)
    return _rest(state), ()


def transition(state: State, event: Input) -> tuple[State, Effects]:
    """The next state and the effects that get there."""
    phase = state.phase
    match event:
        case ControllerReady():
            return _rest(state, connected=True, paused=False), _end_turn(
                state, tell_controller=False
            )
        case ControllerPaused():
            return _rest(state, paused=True), _end_turn(state, tell_controller=False)
        case ControllerLost():
            return _rest(state, connected=False, paused=False), _end_turn(
                state, tell_controller=False
            )
        case MuteChanged(muted=muted):
            if muted == state.muted:
                return state, ()
            if muted:
                return _rest(state, muted=True), _end_turn(state, tell_controller=True)
            return replace(state, muted=False, phase=_resting(replace(state, muted=False))), ()
        case WakeDetected(name=name):
            if state.active and phase in WAKE_PHASES:
                return _start_turn(state, name)
            return state, ()
        case ListenRequested():
            if state.active and phase in WAKE_PHASES:
                return _start_turn(state, None)
            return state, ()
        case SpeechStarted():
            if phase is Phase.STREAMING:
                return state, (SendVoiceStarted(),)
            return state, ()
        case SpeechEnded(reason=reason):
            if phase is Phase.STREAMING:
                return replace(state, phase=Phase.WAITING), (
                    StopStreaming(send_stop=True, voice_stopped=reason != "no-speech"),
                    PlaySound(Sound.DONE),
                    StartResponseTimer(),
                )
            return state, ()
        case TranscriptReceived(follow_up=follow_up):
            flag = state.follow_up if follow_up is None else follow_up
            if phase is Phase.STREAMING:
                return replace(state, phase=Phase.WAITING, follow_up=flag), (
                    StopStreaming(send_stop=False),
                    PlaySound(Sound.DONE),
                    StartResponseTimer(),
                )
            if phase in TURN_PHASES:
                return replace(state, follow_up=flag), ()
            return state, ()
        case FollowUpSignalled(follow_up=follow_up):
            if phase in TURN_PHASES:
                return replace(state, follow_up=follow_up), ()
            return state, ()
        case AnswerAudioStarted():
            if phase is Phase.WAITING:
                return replace(state, phase=Phase.SPEAKING, playing=1), (
                    CancelResponseTimer(),
                    StartPlayback(),
                )
            if phase is Phase.SPEAKING:
                return replace(state, playing=state.playing + 1), (StartPlayback(),)
            if phase is Phase.IDLE:  # an announcement
                return replace(state, phase=Phase.SPEAKING, playing=1, follow_up=False), (
                    StartPlayback(),
                )
            return state, ()
        case AnswerAudioStopped():
            if phase is Phase.SPEAKING:
                return state, (EndPlayback(),)
            return state, ()
        case PlaybackFinished():
            if phase is not Phase.SPEAKING:
                return state, ()
            if state.playing > 1:
                return replace(state, playing=state.playing - 1), ()
            new, effects = _after_answer(replace(state, playing=0), state.follow_up)
            return new, (SendPlayed(), *effects)
        case PipelineEnded(follow_up=follow_up):
            if phase is Phase.WAITING:
                new, effects = _after_answer(replace(state, phase=Phase.IDLE), follow_up)
                return new, (CancelResponseTimer(), *effects)
            if phase is Phase.SPEAKING:
                return replace(state, follow_up=follow_up), ()
            if phase is Phase.IDLE and follow_up:
                return _start_turn(state, None)
            return state, ()
        case ErrorReceived():
            if phase in (Phase.STREAMING, Phase.WAITING):
                return _rest(state), (
                    *_end_turn(state, tell_controller=False),
                    PlaySound(Sound.ERROR),
                )
            return state, (PlaySound(Sound.ERROR),)
        case ResponseTimedOut():
            if phase is Phase.WAITING:
                return _rest(state), ()
            return state, ()
        case TimerFinished():
            return state, (PlaySound(Sound.TIMER),)
    raise AssertionError(f"unhandled input {event!r}")  # pragma: no cover
