"""A remote Wyoming TTS server (wyoming-piper, another hub...) behind our endpoint."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Self

from wyoming.audio import AudioChunk, AudioStop
from wyoming.error import Error
from wyoming.info import Attribution, TtsProgram
from wyoming.tts import Synthesize, SynthesizeVoice

from familiar.audio import PcmFormat
from familiar.client import WyomingClient, describe
from familiar.errors import RemoteUnavailable
from familiar_hub.config import TtsConfig
from familiar_hub.tts.backend import SpeechAudio

AUDIO_TIMEOUT = 30.0


class RemoteTts:
    """One plain ``synthesize`` per piece of text, each on its own connection."""

    def __init__(self, config: TtsConfig) -> None:
        assert config.uri is not None
        self.uri = config.uri
        self._program: TtsProgram | None = None

    async def __aenter__(self) -> Self:
        info = await describe(self.uri)
        if info is not None and info.tts:
            self._program = info.tts[0]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def program(self) -> TtsProgram:
        if self._program is not None:
            # We stream sentence by sentence ourselves, whatever the remote supports.
            self._program.supports_synthesize_streaming = True
            return self._program
        return TtsProgram(
            name="familiar-remote-tts",
            description=f"text-to-speech at {self.uri}",
            attribution=Attribution(name="Familiar", url=""),
            installed=True,
            version=None,
            voices=[],
            supports_synthesize_streaming=True,
        )

    async def synthesize(self, text: str, voice: str | None) -> AsyncGenerator[SpeechAudio, None]:
        async with WyomingClient(self.uri) as client:
            wanted = SynthesizeVoice(name=voice) if voice else None
            await client.send(Synthesize(text=text, voice=wanted).event())
            while True:
                try:
                    event = await client.read(AUDIO_TIMEOUT)
                except TimeoutError as err:
                    raise RemoteUnavailable(f"{self.uri} stopped sending audio") from err
                if event is None:
                    raise RemoteUnavailable(f"{self.uri} closed before audio-stop")
                if AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    yield SpeechAudio(
                        PcmFormat(chunk.rate, chunk.width, chunk.channels), chunk.audio
                    )
                elif AudioStop.is_type(event.type):
                    return
                elif Error.is_type(event.type):
                    raise RemoteUnavailable(f"{self.uri}: {Error.from_event(event).text}")
