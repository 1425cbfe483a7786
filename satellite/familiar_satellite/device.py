"""The running satellite as a Home Assistant voice device (:class:`familiar.mqtt.VoiceDevice`).

:class:`SatelliteDevice` turns the satellite's phases and activity into MQTT device updates
and carries out MQTT commands on it. The satellite has no text-to-speech of its own, so
``announce`` and ``ask`` synthesize the text on the hub's Wyoming endpoint (``speech_uri``,
a plain ``synthesize``) and play the audio locally with :meth:`Satellite.announce`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.tts import Synthesize

from familiar.audio import PcmFormat
from familiar.client import WyomingClient
from familiar.errors import RemoteUnavailable, TtsFailed
from familiar.mqtt import (
    AnswerSpoken,
    DeviceUpdate,
    MutedChanged,
    StateChanged,
    TranscriptHeard,
    VolumeChanged,
    WakeDetected,
)
from familiar_satellite.app import (
    Answered,
    Satellite,
    SatelliteStatus,
    Transcribed,
    WakeWordDetected,
)

_LOGGER = logging.getLogger(__name__)

#: The satellite's phases as the ``state`` sensor shows them (:data:`familiar.mqtt.VOICE_STATES`).
STATE_OF_PHASE = {
    "idle": "idle",
    "streaming": "listening",
    "waiting": "thinking",
    "speaking": "speaking",
    "muted": "muted",
    "paused": "muted",  # the controller paused it (Home Assistant's own mute switch)
    "disconnected": "error",  # no controller: the wake word can start nothing
}

#: Seconds to connect to the speech endpoint, and the longest wait for its next event.
SPEECH_CONNECT_TIMEOUT = 5.0
SPEECH_EVENT_TIMEOUT = 30.0
#: Longest synthesized text kept, in seconds of audio (more is refused, not played).
MAX_SPEECH_SECONDS = 300.0


def voice_state(status: SatelliteStatus) -> str:
    """The ``state`` sensor's value for a status: a local announcement shows as speaking
    unless a request is in progress."""
    if status.announcing and status.state not in ("streaming", "waiting"):
        return "speaking"
    return STATE_OF_PHASE.get(status.state, "error")


async def synthesize(
    uri: str,
    text: str,
    *,
    connect_timeout: float = SPEECH_CONNECT_TIMEOUT,
    event_timeout: float = SPEECH_EVENT_TIMEOUT,
    max_seconds: float = MAX_SPEECH_SECONDS,
) -> tuple[bytes, PcmFormat]:
    """Speech for ``text`` from the Wyoming TTS server at ``uri`` (a plain ``synthesize``).

    Raises :class:`RemoteUnavailable` when the server cannot be reached or hangs up, and
    :class:`TtsFailed` when it reports an error, stalls, or sends too much audio."""
    async with WyomingClient(uri, connect_timeout=connect_timeout) as client:
        await client.send(Synthesize(text=text).event())
        fmt: PcmFormat | None = None
        audio = bytearray()
        while True:
            try:
                event = await client.read(event_timeout)
            except TimeoutError:
                raise TtsFailed(f"{uri}: no speech within {event_timeout:.0f} s") from None
            if event is None:
                raise RemoteUnavailable(f"{uri} closed the connection during synthesis")
            if AudioStart.is_type(event.type):
                start = AudioStart.from_event(event)
                fmt = PcmFormat(start.rate, start.width, start.channels)
            elif AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                if fmt is None:
                    fmt = PcmFormat(chunk.rate, chunk.width, chunk.channels)
                audio += chunk.audio
                if fmt.seconds(len(audio)) > max_seconds:
                    raise TtsFailed(f"{uri}: speech longer than {max_seconds:.0f} s; not played")
            elif AudioStop.is_type(event.type):
                if fmt is None or not audio:
                    raise TtsFailed(f"{uri}: no audio for the text")
                return bytes(audio), fmt
            elif Error.is_type(event.type):
                error = Error.from_event(event)
                raise TtsFailed(f"{uri}: {error.text}", code=error.code or TtsFailed.code)


class SatelliteDevice:
    """A :class:`~familiar.mqtt.VoiceDevice` over a running :class:`Satellite`."""

    def __init__(self, satellite: Satellite, speech_uri: str | None) -> None:
        self.satellite = satellite
        self.speech_uri = speech_uri
        self.spoken = 0
        """Texts synthesized and played so far (announce and ask)."""

    async def updates(self) -> AsyncIterator[DeviceUpdate]:
        state: str | None = None
        muted: bool | None = None
        volume: float | None = None
        async with contextlib.aclosing(self.satellite.observe()) as feed:
            async for item in feed:
                match item:
                    case SatelliteStatus():
                        if (new_state := voice_state(item)) != state:
                            state = new_state
                            yield StateChanged(state)
                        if item.muted != muted:
                            muted = item.muted
                            yield MutedChanged(muted)
                        if item.volume != volume:
                            volume = item.volume
                            yield VolumeChanged(volume)
                    case WakeWordDetected(name=name):
                        yield WakeDetected(name)
                    case Transcribed(text=text):
                        yield TranscriptHeard(text)
                    case Answered(text=text):
                        yield AnswerSpoken(text)

    async def _speak(self, text: str, command: str) -> bool:
        if self.speech_uri is None:
            _LOGGER.error(
                "%s ignored: this satellite has no speech_uri (the hub's Wyoming endpoint, "
                "tcp://host:port) to synthesize the text with",
                command,
            )
            return False
        audio, fmt = await synthesize(self.speech_uri, text)
        played = await self.satellite.announce(audio, fmt)
        self.spoken += 1
        if not played:
            _LOGGER.warning("%s: the speaker did not play the whole text", command)
        return played

    async def announce(self, text: str) -> None:
        await self._speak(text, "announce")

    async def ask(self, text: str) -> None:
        if not await self._speak(text, "ask"):
            return
        if not self.satellite.state.active:
            _LOGGER.warning(
                "ask: the question was spoken, but the satellite is %s and cannot listen",
                self.satellite.state.phase.value,
            )
            return
        await self.satellite.start_listening()

    async def set_muted(self, muted: bool) -> None:
        await self.satellite.set_muted(muted)

    async def set_volume(self, volume: float) -> None:
        self.satellite.set_volume(volume)

    async def start_listening(self) -> None:
        if not self.satellite.state.active:
            _LOGGER.warning("listen ignored: the satellite is %s", self.satellite.state.phase.value)
            return
        await self.satellite.start_listening()
