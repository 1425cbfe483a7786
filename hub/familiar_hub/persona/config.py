"""``config/persona.yaml``: who the persona is and where their data lives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from familiar.config import LoggingConfig, Section
from familiar_hub.models import check_model


def data_dir() -> Path:
    """``$FAMILIAR_DATA``, systemd's ``$STATE_DIRECTORY``, or ``~/.local/share/familiar``."""
    for var in ("FAMILIAR_DATA", "STATE_DIRECTORY"):
        value = os.environ.get(var)
        if value:
            return Path(value.split(":")[0]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "familiar"


class EmbedderConfig(Section):
    """Sentence embeddings for the vector half of hybrid search."""

    model: str = "all-minilm-l6-v2"
    """Packaged model name, a sentence-transformers model directory, or ``hashing`` (torch-free
    hashed word vectors: keyword-like matching only, no paraphrases). Packaged:
    ``all-minilm-l6-v2`` (English, torch), ``all-minilm-l6-v2-int8`` (the same model as int8
    ONNX, no torch), ``multilingual-e5-small`` (about 100 languages, 4-bit C engine: questions
    in one language find passages in another; slower to ingest). A store keeps the vectors of
    the model it was built with: changing the model needs a new store file."""

    batch_size: int = Field(default=32, ge=1, le=1024)
    """Chunks embedded per model call."""

    device: str = "cpu"
    """Torch device (``cpu``, ``cuda``)."""

    threads: int = Field(default=0, ge=0, le=256)
    """CPU threads of the ONNX and E5 engines; 0 lets the engine choose (all cores)."""

    max_tokens: int = Field(default=256, ge=16, le=512)
    """Word pieces of a chunk the embedding sees (MiniLM was trained on 256 and accepts up to
    512, at about 1.3x the cost); the rest of a longer chunk is still found by keywords."""

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        return value if value == "hashing" else check_model(value)


class ChunkingConfig(Section):
    """How text is cut into retrievable passages."""

    target_tokens: int = Field(default=500, ge=32, le=4000)
    """Approximate size of a chunk in tokens (a word counts ~1.3 tokens)."""

    overlap_tokens: int = Field(default=60, ge=0, le=1000)
    """Approximate overlap between neighbouring chunks, in whole sentences."""


class VoiceCheckConfig(Section):
    """Acceptance limits for reference recordings of the cloned voice."""

    min_seconds: float = Field(default=6.0, gt=0)
    """Shorter clips are rejected (10–30 s is best)."""

    max_seconds: float = Field(default=40.0, gt=0)
    """Longer clips are rejected (cloning models use the first ~30 s)."""

    min_rate: int = Field(default=16000, ge=8000)
    """Lowest accepted sample rate in Hz."""

    max_clipped_fraction: float = Field(default=0.001, ge=0, le=1)
    """Fraction of samples at full scale above which a clip counts as clipped."""

    min_loudness_dbfs: float = -40.0
    """Speech quieter than this (RMS of voiced frames) is rejected."""

    min_snr_db: float = 15.0
    """Estimated signal-to-noise ratio below which a clip is rejected."""

    max_silence_ratio: float = Field(default=0.5, ge=0, le=1)
    """Clips that are more than this fraction silence are rejected."""

    min_speaker_similarity: float = Field(default=0.72, ge=-1, le=1)
    """Cosine similarity (resemblyzer) to the other clips below which a clip is another speaker."""

    recommended_total_seconds: float = Field(default=120.0, gt=0)
    """Total clean speech recommended for a good clone."""

    store_rate: int = Field(default=24000, ge=8000)
    """Sample rate the stored clips are converted to (XTTS uses 24000 Hz)."""


class PersonaConfig(Section):
    """``config/persona.yaml``."""

    name: str = "persona"
    """The persona's display name."""

    addresses: list[str] = Field(default_factory=list)
    """Email addresses that are theirs: mail from these is their own writing."""

    names: list[str] = Field(default_factory=list)
    """Names they write under (``From:`` display names, document authors)."""

    languages: list[str] = Field(default_factory=lambda: ["en"])
    """Languages they write in, most used first (ISO 639-1, e.g. ``en``, ``ta``)."""

    sources: list[Path] = Field(default_factory=list)
    """Files and folders ingested when ``familiar persona ingest`` gets no path."""

    voice_dir: Path | None = None
    """Where the normalised voice clips are kept; default ``<data dir>/voice``."""

    store: Path | None = None
    """The SQLite store; default ``<data dir>/persona.db`` (``$FAMILIAR_DATA`` or
    ``~/.local/share/familiar``)."""

    documents_by_persona: bool = False
    """Count documents without an author (text, Markdown, PDFs without metadata) as the
    persona's own writing (style evidence); documents naming an author follow ``names``."""

    max_file_mb: float = Field(default=50.0, gt=0)
    """Files larger than this are skipped (mailboxes too: raise it for a big ``.mbox``)."""

    own_mail: Literal["auto", "sent", "from"] = "auto"
    """Which mail from the persona's ``addresses``/``names`` counts as their own writing
    (style evidence). ``sent``: only mail in a sent folder (a folder or mailbox named Sent,
    Sent Items, Gesendet...) or under ``own_paths``. ``auto`` (default): that, or mail that
    never passed a mail server (no ``Received:`` header), as exported sent mail is.
    ``from``: the ``From:`` header alone, which anyone can forge."""

    own_paths: list[Path] = Field(default_factory=list)
    """Files and folders holding the persona's own sent mail, whatever their names."""

    follow_symlinks: bool = False
    """Ingest files that symbolic links point to outside the folders given; by default such a
    link is skipped (and reported), so ingest never leaves the folders you named."""

    embedder: EmbedderConfig = EmbedderConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    voice: VoiceCheckConfig = VoiceCheckConfig()
    logging: LoggingConfig = LoggingConfig()

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        out = []
        for given in value:
            address = given.strip().lower()
            if "@" not in address:
                raise ValueError(f"not an email address: {address!r}")
            out.append(address)
        return out

    @property
    def store_path(self) -> Path:
        return (self.store or data_dir() / "persona.db").expanduser()

    @property
    def voice_path(self) -> Path:
        return (self.voice_dir or data_dir() / "voice").expanduser()
