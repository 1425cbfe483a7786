"""Our extensions to the Wyoming protocol, all in one place.

Peers that do not know them ignore them (unknown keys and event types are skipped by every
Wyoming implementation we talk to: Home Assistant, wyoming-satellite, our own). Each is
documented in ``docs/satellite.md``.

- ``continue_conversation`` (:data:`FOLLOW_UP_KEY`) in an event's data or its ``context``: the
  controller asks the satellite to listen again without the wake word (sent on ``audio-stop``
  by our conductor; Home Assistant puts the same flag in ``transcript``/``handled`` contexts).
- ``pipeline-ended`` (:class:`PipelineEnded`): the controller's run is over (not in wyoming
  1.10), carrying the same flag.
- ``snd_format`` in ``run-pipeline`` (:func:`with_snd_format`): the audio format the satellite's
  speaker plays (wyoming 1.5 had it; 1.6 removed it), so a controller can send answers in it.
- pairing (:class:`PairHello`, :class:`PairChallenge`, :class:`PairProof`, :class:`Paired`):
  a hub and a satellite prove a shared secret to each other; the exchange and its HMACs are in
  :mod:`familiar.pairing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from wyoming.event import Event, Eventable

from familiar.audio import PcmFormat

FOLLOW_UP_KEY = "continue_conversation"
SND_FORMAT_KEY = "snd_format"

_PIPELINE_ENDED_TYPE = "pipeline-ended"


@dataclass
class PipelineEnded(Eventable):
    """The controller's pipeline run is over."""

    follow_up: bool | None = None
    """Listen again without the wake word (``continue_conversation``); None when not said."""

    @staticmethod
    def is_type(event_type: str) -> bool:
        return event_type == _PIPELINE_ENDED_TYPE

    def event(self) -> Event:
        data: dict[str, Any] = {}
        if self.follow_up is not None:
            data[FOLLOW_UP_KEY] = self.follow_up
        return Event(type=_PIPELINE_ENDED_TYPE, data=data)

    @staticmethod
    def from_event(event: Event) -> PipelineEnded:
        return PipelineEnded(follow_up=follow_up_flag(event.data))


class ExtensionEvent(Eventable):
    """An extension event whose data is a few plain keys (read with ``data.get``)."""

    TYPE: ClassVar[str]

    def __init__(self, **data: Any) -> None:
        self.data = data

    @classmethod
    def is_type(cls, event_type: str) -> bool:
        return event_type == cls.TYPE

    def event(self) -> Event:
        return Event(type=self.TYPE, data=dict(self.data))

    @classmethod
    def from_event(cls, event: Event) -> Any:
        return cls(**event.data)


class PairHello(ExtensionEvent):
    """Hub to satellite: ``{nonce}``, the hub's fresh challenge."""

    TYPE = "familiar-pair-hello"


class PairChallenge(ExtensionEvent):
    """Satellite to hub: ``{nonce, proof}``, its proof for the hub's nonce and its own nonce."""

    TYPE = "familiar-pair-challenge"


class PairProof(ExtensionEvent):
    """Hub to satellite: ``{proof}`` for the satellite's nonce."""

    TYPE = "familiar-pair-proof"


class Paired(ExtensionEvent):
    """Satellite to hub: the proof was right; this connection is paired."""

    TYPE = "familiar-paired"


def follow_up_flag(data: dict[str, Any]) -> bool | None:
    """``continue_conversation`` from an event's data or its ``context``; None when absent."""
    for source in (data, data.get("context")):
        if isinstance(source, dict):
            value = source.get(FOLLOW_UP_KEY)
            if isinstance(value, bool):
                return value
    return None


def with_follow_up(event: Event, follow_up: bool) -> Event:
    """``event`` asking the satellite to listen again (only when ``follow_up``)."""
    if follow_up:
        event.data[FOLLOW_UP_KEY] = True
    return event


def with_snd_format(event: Event, fmt: PcmFormat) -> Event:
    """A ``run-pipeline`` event telling the controller the speaker's format."""
    event.data[SND_FORMAT_KEY] = {"rate": fmt.rate, "width": fmt.width, "channels": fmt.channels}
    return event
