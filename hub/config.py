"""The hub's YAML configuration (``config/hub.yaml``); each part gets its own slice."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from familiar.config import ListenConfig, LoggingConfig, Section, ZeroconfConfig, parse_tcp_uri
from familiar.models import check_model
from familiar.mqtt import MqttConfig


def _check_remote(value: str | None) -> str | None:
    if value is not None:
        parse_tcp_uri(value)
    return value


class AsrConfig(Section):
    """Speech-to-text: faster-whisper in process, or a remote Wyoming ASR server."""

    uri: str | None = None
    """``tcp://host:port`` of an existing Wyoming ASR server (e.g. wyoming-faster-whisper);
    when set, no local model is loaded and requests are proxied there."""

    model: str = "whisper-base"
    """Packaged model name (``whisper-base``, ``whisper-tiny.en``) or a CTranslate2 model dir."""

    language: str | None = "en"
    """Spoken language; null detects it per utterance (slower)."""

    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "default"
    """``default`` is int8 on CPU and float16 on CUDA."""

    beam_size: int = Field(default=1, ge=1, le=10)
    cpu_threads: int = Field(default=0, ge=0)
    """0 lets CTranslate2 choose."""

    workers: int = Field(default=2, ge=1, le=16)
    """Transcriptions that may run at the same time on the one loaded model."""

    window_seconds: float = Field(default=15.0, ge=1.0, le=30.0)
    """Encoder window for short utterances. Whisper always looks at 30 s; a voice command is
    a few seconds, so the audio (plus 1 s of silence) is encoded in a window of at least this
    many seconds instead, which is several times faster. A result that looks unreliable
    (repetition, low confidence) is redone with the full 30 s window. 30 disables it."""

    max_seconds: float = Field(default=30.0, gt=0, le=300)
    """Longest utterance kept; audio past it is dropped (Whisper sees 30 s at most)."""

    @field_validator("uri")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        return _check_remote(value)

    @model_validator(mode="after")
    def _model_exists(self) -> AsrConfig:
        if self.uri is None:
            check_model(self.model)
        return self

    @property
    def resolved_compute_type(self) -> str:
        if self.compute_type != "default":
            return self.compute_type
        return "float16" if self.device == "cuda" else "int8"


class XttsConfig(Section):
    """Coqui XTTS v2 with the persona's cloned voice (needs a GPU and the weights)."""

    model_dir: str
    """Directory holding XTTS v2's ``config.json``, ``model.pth``, ``vocab.json`` (the weights
    are not shipped: download them once under their licence, CPML)."""

    voice_name: str = "persona"
    """Name advertised in Home Assistant's voice list."""

    clips_dir: str | None = None
    """Reference clips of the persona's voice; default: the persona store's enrolled clips."""

    language: str = "en"
    device: Literal["cuda", "cpu"] = "cuda"
    temperature: float = Field(default=0.7, gt=0, le=2)
    stream_chunk_size: int = Field(default=20, ge=5, le=200)
    """GPT tokens per streamed audio chunk: smaller gives the first audio sooner."""

    @field_validator("model_dir")
    @classmethod
    def _dir(cls, value: str) -> str:
        if not (Path(value).expanduser() / "config.json").is_file():
            raise ValueError(f"file not found: {Path(value).expanduser() / 'config.json'}")
        return value


class TtsConfig(Section):
    """Text-to-speech: Piper or XTTS in process, or a remote Wyoming TTS server."""

    uri: str | None = None
    """``tcp://host:port`` of an existing Wyoming TTS server (e.g. wyoming-piper)."""

    engine: Literal["piper", "xtts"] = "piper"
    """``xtts`` speaks in the persona's cloned voice (GPU); ``piper`` is the CPU default."""

    xtts: XttsConfig | None = None

    voice: str = "en_US-joe-medium"
    """Packaged voice name or the path of a Piper ``.onnx`` voice (its ``.onnx.json`` beside)."""

    use_cuda: bool = False
    length_scale: float | None = Field(default=None, gt=0)
    noise_scale: float | None = Field(default=None, ge=0)
    noise_w_scale: float | None = Field(default=None, ge=0)

    first_clause_chars: int = Field(default=60, ge=0)
    """A first sentence longer than this is cut at a clause boundary so audio starts sooner
    (0 disables)."""

    workers: int = Field(default=2, ge=1, le=16)
    """Syntheses that may run at the same time on the one loaded voice."""

    samples_per_chunk: int = Field(default=1024, ge=64)

    @field_validator("uri")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        return _check_remote(value)

    @model_validator(mode="after")
    def _voice_exists(self) -> TtsConfig:
        if self.uri is None and self.engine == "piper":
            check_model(self.voice)
        if self.uri is None and self.engine == "xtts" and self.xtts is None:
            raise ValueError("engine xtts needs an xtts section (model_dir ...)")
        return self


class SatelliteEntry(Section):
    """A satellite the conductor drives whatever it advertises."""

    uri: str
    """``tcp://host:port`` of the satellite's Wyoming server."""

    name: str | None = None

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        parse_tcp_uri(value)
        return value


class ConductorConfig(Section):
    """The conductor drives satellites through the hub's ASR, brain and TTS."""

    enabled: bool = True
    discover: bool = True
    """Drive satellites found by zeroconf that advertise ``controller=hub``."""

    satellites: list[SatelliteEntry] = Field(default_factory=list)
    """Satellites to drive in any case (e.g. on another subnet)."""

    language: str = "en"
    voice: str | None = None
    """TTS voice name; null uses the TTS default (the persona's voice when configured)."""

    max_utterance_seconds: float = Field(default=15.0, gt=0, le=120)
    audio_timeout: float = Field(default=3.0, gt=0)
    """No audio from the satellite for this long ends the utterance."""

    conversation_seconds: float = Field(default=300.0, ge=0)
    """A new request within this time of the last answer continues the same conversation."""


class HubConfig(Section):
    """``config/hub.yaml``."""

    name: str = "familiar"
    """Name of this hub (zeroconf service, Home Assistant device)."""

    endpoint: ListenConfig = ListenConfig()
    zeroconf: ZeroconfConfig = ZeroconfConfig()
    asr: AsrConfig = AsrConfig()
    tts: TtsConfig = TtsConfig()
    conductor: ConductorConfig = ConductorConfig()
    logging: LoggingConfig = LoggingConfig()
    mqtt: MqttConfig | None = None
    """MQTT broker for Home Assistant discovery, state and commands (docs/mqtt.md); null = off."""
