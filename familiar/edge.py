"""Every event a peer sends, checked at the edge before any handler sees it.

The wire layer (``familiar.wire``) guarantees a well-formed frame; this module guarantees that
the fields our handlers read have the right types and sane ranges, so a handler can call
``X.from_event(event)`` without a ``KeyError``, a ``ZeroDivisionError`` or gigabytes of
resampled audio. A bad event is answered with an ``error`` event (code ``event-invalid``) and
the connection is kept: the frame boundary is intact, so the next frame can still be read.

Unknown event types pass untouched (forward compatibility, as wyoming itself does); unknown
fields are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event

from familiar.errors import FamiliarError


class EventRejected(FamiliarError):
    """A well-framed event whose fields are missing, mistyped or out of range.

    The peer gets an ``error`` event; the connection stays open.
    """

    code = "event-invalid"


MIN_RATE = 8000
"""Lowest sample rate accepted (telephone audio); ``rate=1`` would make 16 kHz audio 16,000
times larger than what was sent."""
MAX_RATE = 192000
WIDTHS = frozenset({1, 2, 3, 4})
MAX_CHANNELS = 8


@dataclass(frozen=True)
class EventLimits:
    """Caps on what one event may ask for (besides the frame caps of ``familiar.wire``)."""

    max_text_chars: int = 4000
    """Longest text in one event (``synthesize``, ``transcript``...)."""

    max_name_chars: int = 256
    """Longest name, language, id or code."""


DEFAULT_EVENT_LIMITS = EventLimits()

_Check = Callable[[str, dict[str, Any], EventLimits], None]


def _fail(event_type: str, key: str, what: str, value: Any) -> EventRejected:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return EventRejected(f"{event_type}: {key} must be {what}, got {shown}")


def _int(
    event_type: str, data: dict[str, Any], key: str, low: int, high: int, *, required: bool
) -> None:
    value = data.get(key)
    if value is None:
        if required:
            raise EventRejected(f"{event_type}: {key} is missing")
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(event_type, key, f"an integer from {low} to {high}", value)


def _number(event_type: str, data: dict[str, Any], key: str, low: float, high: float) -> None:
    value = data.get(key)
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(event_type, key, f"a number from {low:g} to {high:g}", value)


def _text(
    event_type: str, data: dict[str, Any], key: str, cap: int, *, required: bool = False
) -> None:
    value = data.get(key)
    if value is None:
        if required:
            raise EventRejected(f"{event_type}: {key} is missing")
        return
    if not isinstance(value, str):
        raise _fail(event_type, key, "a string", value)
    if len(value) > cap:
        raise EventRejected(f"{event_type}: {key} is {len(value)} characters (limit {cap})")


def _mapping(event_type: str, data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail(event_type, key, "an object", value)
    return value


def _audio_format(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _int(event_type, data, "rate", MIN_RATE, MAX_RATE, required=True)
    width = data.get("width")
    if width is None:
        raise EventRejected(f"{event_type}: width is missing")
    if not isinstance(width, int) or isinstance(width, bool) or width not in WIDTHS:
        raise _fail(event_type, "width", "1, 2, 3 or 4 (bytes per sample)", width)
    _int(event_type, data, "channels", 1, MAX_CHANNELS, required=True)
    _timestamp(event_type, data, limits)


def _timestamp(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _number(event_type, data, "timestamp", 0, 2**53)


def _voice(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    voice = _mapping(event_type, data, "voice")
    if voice is not None:
        for key in ("name", "language", "speaker"):
            _text(f"{event_type} voice", voice, key, limits.max_name_chars)


def _context(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    context = _mapping(event_type, data, "context")
    if context is not None:
        _text(f"{event_type} context", context, "conversation_id", limits.max_name_chars)


def _audio_start(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _audio_format(event_type, data, limits)


def _audio_stop(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _timestamp(event_type, data, limits)


def _transcribe(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "name", limits.max_name_chars)
    _text(event_type, data, "language", limits.max_name_chars)
    _context(event_type, data, limits)


def _synthesize(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "text", limits.max_text_chars, required=True)
    _voice(event_type, data, limits)
    _context(event_type, data, limits)


def _synthesize_start(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _voice(event_type, data, limits)
    _context(event_type, data, limits)


def _synthesize_chunk(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "text", limits.max_text_chars, required=True)


def _transcript(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "text", limits.max_text_chars, required=True)
    _text(event_type, data, "language", limits.max_name_chars)
    _context(event_type, data, limits)


def _ping(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "text", limits.max_name_chars)


def _error(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "text", limits.max_text_chars, required=True)
    _text(event_type, data, "code", limits.max_name_chars)


_STAGES = frozenset({"wake", "asr", "intent", "handle", "tts"})


def _run_pipeline(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    for key in ("start_stage", "end_stage"):
        value = data.get(key)
        if not isinstance(value, str) or value not in _STAGES:
            raise _fail(event_type, key, "one of " + ", ".join(sorted(_STAGES)), value)
    _text(event_type, data, "wake_word_name", limits.max_name_chars)
    _text(event_type, data, "announce_text", limits.max_text_chars)
    names = data.get("wake_word_names")
    if names is not None and not (
        isinstance(names, list)
        and len(names) <= 16
        and all(isinstance(n, str) and len(n) <= limits.max_name_chars for n in names)
    ):
        raise _fail(event_type, "wake_word_names", "a short list of names", names)


def _timer(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "id", limits.max_name_chars, required=True)
    _text(event_type, data, "name", limits.max_name_chars)
    _int(event_type, data, "total_seconds", 0, 10 * 365 * 86400, required=False)


def _timer_started(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _timer(event_type, data, limits)
    _int(event_type, data, "total_seconds", 0, 10 * 365 * 86400, required=True)


def _timer_finished(event_type: str, data: dict[str, Any], limits: EventLimits) -> None:
    _text(event_type, data, "id", limits.max_name_chars, required=True)


_CHECKS: dict[str, _Check] = {
    "audio-start": _audio_start,
    "audio-chunk": _audio_format,
    "audio-stop": _audio_stop,
    "transcribe": _transcribe,
    "transcript": _transcript,
    "synthesize": _synthesize,
    "synthesize-start": _synthesize_start,
    "synthesize-chunk": _synthesize_chunk,
    "ping": _ping,
    "pong": _ping,
    "error": _error,
    "run-pipeline": _run_pipeline,
    "timer-started": _timer_started,
    "timer-updated": _timer,
    "timer-cancelled": _timer_finished,
    "timer-finished": _timer_finished,
}


def check_event(event: Event, limits: EventLimits = DEFAULT_EVENT_LIMITS) -> None:
    """Raise :class:`EventRejected` unless ``event``'s fields are what its type promises."""
    check = _CHECKS.get(event.type)
    if check is not None:
        check(event.type, event.data, limits)


def checked_types() -> frozenset[str]:
    """The event types :func:`check_event` knows (the rest pass untouched)."""
    return frozenset(_CHECKS)
