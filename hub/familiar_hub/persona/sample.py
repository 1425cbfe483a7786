"""The demo persona shipped in the package (``brain.persona_config: sample``).

Rosa Delgado is invented: a few dozen mails and notes under ``sample/``, ingested into their
own store (``<data dir>/sample/persona.db``, never the user's) the first time a hub starts
with her. A newcomer can talk to someone at once; docs/persona.md shows how to replace her.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from familiar.config import load_config
from familiar_hub.persona.config import PersonaConfig, data_dir

if TYPE_CHECKING:
    from familiar_hub.persona.backend import Embedder
    from familiar_hub.persona.store import PersonaStore

_LOGGER = logging.getLogger(__name__)

SAMPLE = "sample"
"""The ``brain.persona_config`` value that selects the demo persona."""

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def sample_config() -> PersonaConfig:
    """The demo persona's config, with her files as sources and a store of her own."""
    config = load_config(PersonaConfig, SAMPLE_DIR / "persona.yaml")
    home = data_dir() / "sample"
    return config.model_copy(
        update={
            "sources": [SAMPLE_DIR / "mail", SAMPLE_DIR / "notes"],
            "store": home / "persona.db",
            "voice_dir": home / "voice",
        }
    )


async def ingest_if_empty(config: PersonaConfig, store: PersonaStore, embedder: Embedder) -> bool:
    """Ingest ``config.sources`` when the store holds no files yet; True when it did."""
    from familiar_hub.persona.ingest import Ingestor

    if (await store.stats()).files:
        return False
    _LOGGER.info(
        "persona store %s is empty: ingesting the demo persona %s (%d folders)",
        config.store_path,
        config.name,
        len(config.sources),
    )
    async with Ingestor(config, store, embedder) as ingestor:
        report = await ingestor.ingest(list(config.sources))
    _LOGGER.info(
        "demo persona ready: %d files, %d passages; to talk as your own persona, set "
        "brain.persona_config to your persona.yaml and run `familiar persona -c FILE ingest` "
        "(docs/persona.md)",
        report.files_read,
        report.added,
    )
    return True
