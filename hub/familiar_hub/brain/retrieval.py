"""Where the brain's passages come from: the persona store when configured, else nothing."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from familiar.errors import ConfigError
from familiar_hub.persona.api import Passage, Retriever, StyleProfile

_LOGGER = logging.getLogger(__name__)
DEFAULT_NAME = "Familiar"
"""Who the assistant speaks as without a persona."""


class EmptyRetriever:
    """No persona store: nothing is found, so questions about the persona are declined."""

    async def search(self, query: str, k: int = 5) -> list[Passage]:
        return []

    async def style(self) -> StyleProfile | None:
        return None


@dataclass(frozen=True)
class OpenedPersona:
    """Who the brain speaks as, and where their passages come from."""

    name: str
    """The persona config's ``name``: the one place a persona's name is set."""
    retriever: Retriever


def persona_config_path(value: str) -> Path:
    """``brain.persona_config`` as a path (``sample`` is the packaged demo persona)."""
    from familiar_hub.persona.sample import SAMPLE, SAMPLE_DIR

    if value == SAMPLE:
        return SAMPLE_DIR / "persona.yaml"
    return Path(value).expanduser()


@functools.lru_cache(maxsize=8)
def configured_name(persona_config: str | None) -> str:
    """The persona's name from its config file (for ``describe`` before anything is loaded);
    the default name when there is none or it cannot be read (the hub's start reports why)."""
    if persona_config is None:
        return DEFAULT_NAME
    try:
        data = yaml.safe_load(persona_config_path(persona_config).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return DEFAULT_NAME
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else DEFAULT_NAME


@contextlib.asynccontextmanager
async def open_persona(persona_config: str | None) -> AsyncIterator[OpenedPersona]:
    """The persona of ``brain.persona_config``: ``sample`` (the demo persona, ingested on
    first start), a ``persona.yaml`` path, or None (no persona: questions are declined).

    A path that does not exist is a configuration error, not a persona who knows nothing."""
    if persona_config is None:
        _LOGGER.info("no persona configured (brain.persona_config): questions will be declined")
        yield OpenedPersona(DEFAULT_NAME, EmptyRetriever())
        return
    from familiar.config import load_config
    from familiar_hub.persona.config import PersonaConfig
    from familiar_hub.persona.retriever import open_retriever as open_store
    from familiar_hub.persona.sample import SAMPLE, ingest_if_empty, sample_config

    if persona_config == SAMPLE:
        config = await asyncio.to_thread(sample_config)
    else:
        path = persona_config_path(persona_config)
        if not await asyncio.to_thread(path.is_file):
            raise ConfigError(
                "brain.persona_config",
                [f"persona config {path} does not exist (use `sample` for the demo persona)"],
            )
        config = await asyncio.to_thread(load_config, PersonaConfig, path)
    async with open_store(config) as retriever:
        if persona_config == SAMPLE:
            await ingest_if_empty(config, retriever.store, retriever.embedder)
            _LOGGER.warning(
                "talking as the DEMO persona %s (invented mails in %s); use your own: "
                "docs/persona.md",
                config.name,
                config.sources[0].parent if config.sources else "the package",
            )
        else:
            _LOGGER.info("persona %s from %s", config.name, persona_config)
        yield OpenedPersona(config.name, retriever)


@contextlib.asynccontextmanager
async def open_retriever(persona_config: str | None) -> AsyncIterator[Retriever]:
    """Only the retriever of :func:`open_persona`."""
    async with open_persona(persona_config) as persona:
        yield persona.retriever
