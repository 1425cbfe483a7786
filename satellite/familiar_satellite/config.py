"""The satellite's YAML configuration (``config/satellite.yaml``); each part gets its own slice."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from familiar.audio import PcmFormat
from familiar.config import (
    ListenConfig,
    LoggingConfig,
    Section,
    ZeroconfConfig,
    check_networks,
    check_uri,
)
from familiar.errors import FamiliarError
from familiar.mqtt import MqttConfig, satellite_device_id
from familiar.secrets import check_secret_file, read_secret

SOUNDS_DIR = Path(__file__).parent / "sounds"

OPENWAKEWORD_MODELS = ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu")
MICROWAKEWORD_MODELS = ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu")


def _command(value: str | list[str]) -> list[str]:
    argv = shlex.split(value) if isinstance(value, str) else list(value)
    if not argv:
        raise ValueError("empty command")
    return argv


class AudioFormatConfig(Section):
    """Raw little-endian PCM."""

    rate: int = Field(default=16000, ge=8000, le=192000)
    """Samples per second."""

    width: Literal[1, 2, 3, 4] = 2
    """Bytes per sample."""

    channels: int = Field(default=1, ge=1, le=8)
    """Interleaved channels (mixed down to mono for the microphone)."""

    @property
    def pcm(self) -> PcmFormat:
        return PcmFormat(self.rate, self.width, self.channels)


class MicConfig(Section):
    """The microphone: any command that writes raw PCM to its standard output."""

    command: list[str] = Field(
        default_factory=lambda: [
            "arecord",
            "-q",
            "-r",
            "16000",
            "-c",
            "1",
            "-f",
            "S16_LE",
            "-t",
            "raw",
        ]
    )
    """Command line (a string is split like a shell would, without running a shell)."""

    format: AudioFormatConfig = AudioFormatConfig()
    """What the command writes; converted to 16 kHz 16-bit mono inside."""

    chunk_seconds: float = Field(default=0.08, gt=0, le=0.5)
    """Audio read from the command at a time (and sent to the controller per chunk)."""

    restart_seconds: float = Field(default=1.0, gt=0)
    """First wait before restarting a command that died; doubles up to ``restart_max_seconds``."""

    restart_max_seconds: float = Field(default=30.0, gt=0)
    """Longest wait between restarts."""

    mute_during_awake_sound: bool = True
    """Ignore the microphone while the awake sound plays (so the beep is not streamed)."""

    mute_extra_seconds: float = Field(default=0.2, ge=0)
    """Microphone audio ignored after the awake sound's own length (speaker latency)."""

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: str | list[str]) -> list[str]:
        return _command(value)


class SndConfig(Section):
    """The speaker: any command that plays raw PCM from its standard input."""

    command: list[str] = Field(
        default_factory=lambda: [
            "aplay",
            "-q",
            "-r",
            "22050",
            "-c",
            "1",
            "-f",
            "S16_LE",
            "-t",
            "raw",
        ]
    )
    """Command line; started for each sound or response and closed at its end."""

    format: AudioFormatConfig = AudioFormatConfig(rate=22050)
    """What the command expects; incoming audio is converted to it (16-bit output only)."""

    volume: float = Field(default=1.0, ge=0.0, le=4.0)
    """Volume multiplier for everything played (changeable at run time)."""

    restart_seconds: float = Field(default=0.5, gt=0)
    """First wait before starting the command again after it failed; doubles up to
    ``restart_max_seconds``."""

    restart_max_seconds: float = Field(default=10.0, gt=0)
    """Longest wait after repeated failures."""

    play_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long the command may take to finish after the audio ended before it is killed
    (on top of the duration of the audio itself)."""

    max_buffer_seconds: float = Field(default=600.0, gt=0)
    """Audio queued for playing beyond this is dropped (with a warning)."""

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: str | list[str]) -> list[str]:
        return _command(value)

    @model_validator(mode="after")
    def _width(self) -> SndConfig:
        if self.format.width != 2:
            raise ValueError("format.width: only 16-bit output is supported")
        return self


class WakeWordConfig(Section):
    """One wake word."""

    model: str = "hey_jarvis"
    """Packaged model name (openWakeWord: alexa, hey_jarvis, hey_mycroft, hey_rhasspy,
    okay_nabu; microWakeWord: alexa, hey_jarvis, hey_mycroft, okay_nabu) or the path of a
    custom model (openWakeWord ``.tflite``; microWakeWord ``.json`` with its ``.tflite``)."""

    engine: Literal["openwakeword", "microwakeword"] = "openwakeword"
    """Which detector runs this model."""

    phrase: str | None = None
    """What is said, for Home Assistant (defaults from the model name)."""

    threshold: float | None = Field(default=None, gt=0, lt=1)
    """Probability above which a frame counts as activated (default: 0.5 for openWakeWord,
    the model's own cutoff for microWakeWord)."""

    trigger_level: int = Field(default=1, ge=1, le=50)
    """Activated frames in a row needed for a detection."""

    @model_validator(mode="after")
    def _model_exists(self) -> WakeWordConfig:
        builtin = OPENWAKEWORD_MODELS if self.engine == "openwakeword" else MICROWAKEWORD_MODELS
        if self.model in builtin:
            return self
        path = Path(self.model).expanduser()
        if not path.is_file():
            raise ValueError(
                f"{self.engine} model {self.model!r} is neither packaged "
                f"({', '.join(builtin)}) nor an existing file"
            )
        suffix = ".tflite" if self.engine == "openwakeword" else ".json"
        if path.suffix != suffix:
            raise ValueError(f"a custom {self.engine} model is a {suffix} file")
        return self

    @property
    def id(self) -> str:
        return Path(self.model).stem if self.model.endswith((".tflite", ".json")) else self.model

    @property
    def spoken(self) -> str:
        return self.phrase or self.id.replace("_", " ")


class WakeConfig(Section):
    """Local wake word detection (several wake words may be active at once)."""

    words: list[WakeWordConfig] = Field(default_factory=lambda: [WakeWordConfig()], min_length=1)
    """Active wake words."""

    refractory_seconds: float = Field(default=2.0, ge=0)
    """After a detection, the same wake word is ignored for this much audio."""

    speech_gate: bool = True
    """Run the wake word models only around speech: the VAD (about 1 % of a core) looks at every
    chunk, and when it hears speech the models get the last ``gate_preroll_seconds`` of audio
    and then everything until ``gate_hold_seconds`` after the speech. A quiet room then costs a
    fraction of the models' CPU. Off: the models look at every chunk."""

    gate_preroll_seconds: float = Field(default=2.0, ge=0.5, le=10)
    """Audio kept while the gate is shut, handed to the models when it opens."""

    gate_hold_seconds: float = Field(default=2.0, ge=0.1, le=30)
    """How long the gate stays open after the last speech."""

    @model_validator(mode="after")
    def _unique(self) -> WakeConfig:
        ids = [word.id for word in self.words]
        if len(ids) != len(set(ids)):
            raise ValueError("wake.words: each wake word may appear once")
        return self


class VadConfig(Section):
    """End of speech by voice activity detection (pymicro-vad)."""

    threshold: float = Field(default=0.5, gt=0, lt=1)
    """Speech probability above which a 10 ms frame is speech."""

    speech_seconds: float = Field(default=0.3, gt=0)
    """Speech needed before the command counts as started."""

    silence_seconds: float = Field(default=0.8, gt=0)
    """Silence after speech that ends the command."""

    max_seconds: float = Field(default=15.0, gt=0)
    """Longest command; streaming stops there."""

    no_speech_seconds: float = Field(default=8.0, gt=0)
    """Streaming stops if nobody starts speaking within this time."""


class SoundsConfig(Section):
    """Feedback sounds (WAV files); null turns one off."""

    awake: Path | None = SOUNDS_DIR / "awake.wav"
    """Played when the wake word is heard."""

    done: Path | None = SOUNDS_DIR / "done.wav"
    """Played when the satellite stops listening."""

    error: Path | None = SOUNDS_DIR / "error.wav"
    """Played when the controller reports an error."""

    timer: Path | None = SOUNDS_DIR / "timer.wav"
    """Played when a timer finishes."""

    timer_repeat: int = Field(default=3, ge=1, le=100)
    """How many times the timer sound plays."""

    @field_validator("awake", "done", "error", "timer")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"file not found: {value}")
        return value.expanduser() if value is not None else None


class ConnectionConfig(Section):
    """How the controller's connection is watched."""

    ping_seconds: float = Field(default=2.0, gt=0)
    """Once the controller pings us, we ping it back this often."""

    pong_timeout_seconds: float = Field(default=5.0, gt=0)
    """A controller that does not answer a ping in time is dropped."""

    response_timeout_seconds: float = Field(default=60.0, gt=0)
    """After the command ended, how long to wait for an answer before going back to idle."""


class PairingConfig(Section):
    """Who may drive this satellite (and so open its microphone). See docs/security.md."""

    controllers: list[str] = Field(default_factory=list)
    """Addresses or networks (CIDR) allowed to drive it (``run-satellite``), e.g. Home
    Assistant's address. Empty: any peer that ``listen.allow`` lets in, unless a secret is
    set (then only paired hubs)."""

    secret_file: Path | None = None
    """File whose first line is the pairing secret shared with the hub's
    ``conductor.secret_file``: a hub that proves it knows it may drive this satellite."""

    @field_validator("controllers")
    @classmethod
    def _controllers(cls, value: list[str]) -> list[str]:
        return check_networks(value) if value else value

    @field_validator("secret_file")
    @classmethod
    def _secret(cls, value: Path | None) -> Path | None:
        return None if value is None else check_secret_file(value, "secret_file")

    def read_secret(self) -> str | None:
        return read_secret(None, self.secret_file, "pairing.secret_file")


class SatelliteConfig(Section):
    """``config/satellite.yaml``."""

    name: str = "familiar-satellite"
    """Name of this satellite (zeroconf service, Home Assistant device)."""

    area: str | None = None
    """Room, suggested to Home Assistant."""

    listen: ListenConfig = ListenConfig(uri="tcp://0.0.0.0:10700")
    """Where Home Assistant or the hub connects."""

    controller: Literal["home-assistant", "hub"] = "home-assistant"
    """Who drives this satellite; advertised in zeroconf (TXT ``controller``) so the hub
    knows whether to connect and drive it or leave it to Home Assistant."""

    pairing: PairingConfig = PairingConfig()
    zeroconf: ZeroconfConfig = ZeroconfConfig()
    connection: ConnectionConfig = ConnectionConfig()
    mic: MicConfig = MicConfig()
    snd: SndConfig = SndConfig()
    wake: WakeConfig = WakeConfig()
    vad: VadConfig = VadConfig()
    sounds: SoundsConfig = SoundsConfig()
    logging: LoggingConfig = LoggingConfig()

    mqtt: MqttConfig | None = None
    """MQTT broker: this satellite becomes a Home Assistant device with state, events and
    commands (docs/mqtt.md); null = off."""

    speech_uri: str | None = None
    """``tcp://host:port`` (or ``unix://PATH`` on this machine) of a Wyoming text-to-speech
    server (usually the hub's endpoint) that speaks the MQTT ``announce`` and ``ask`` texts;
    null: those commands are ignored (with an error in the log)."""

    @field_validator("speech_uri")
    @classmethod
    def _speech_uri(cls, value: str | None) -> str | None:
        if value is not None:
            check_uri(value)
        return value

    @model_validator(mode="after")
    def _mqtt_id(self) -> SatelliteConfig:
        if self.mqtt is not None:
            try:
                satellite_device_id(self.name)
            except FamiliarError as err:
                raise ValueError(f"name: {err}") from None
        return self
