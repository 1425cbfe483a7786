"""What the admin pages do with the persona: upload and ingest, overview, forget, voice clips.

It shares the brain's store and embedder when the brain has them (one model in memory, new
chunks answer questions at once); otherwise it opens the store named by ``persona_config``.
Uploaded files are kept under ``<store dir>/uploads`` so they can be re-ingested and forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from familiar.errors import FamiliarError, NotFound, PersonaNotConfigured
from familiar_hub.persona.documents import SUFFIX_KINDS

if TYPE_CHECKING:
    from familiar_hub.brain.brain import Brain
    from familiar_hub.persona.backend import Embedder
    from familiar_hub.persona.config import PersonaConfig
    from familiar_hub.persona.store import PersonaStore

_LOGGER = logging.getLogger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")
VOICE_SUFFIXES = (".wav", ".flac", ".ogg")


def safe_name(name: str) -> str:
    """A file name without directories or odd characters (kept recognisable)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip(" .")[:120]
    return cleaned or "upload"


class PersonaAdmin:
    """Async context manager; every method runs on the event loop, heavy work elsewhere."""

    def __init__(
        self, config: PersonaConfig | None, brain: Brain | None, speaker_check: bool
    ) -> None:
        self.config = config
        self.brain = brain
        self.speaker_check = speaker_check
        self._stack = contextlib.AsyncExitStack()
        self._store: PersonaStore | None = None
        self._embedder: Embedder | None = None
        self._lock = asyncio.Lock()
        self._encoder: Any = None
        self._encoder_tried = False

    async def __aenter__(self) -> PersonaAdmin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    @property
    def upload_dir(self) -> Path:
        assert self.config is not None
        return self.config.store_path.parent / "uploads"

    async def _open(self) -> tuple[PersonaStore, Embedder]:
        if self.config is None:
            raise PersonaNotConfigured("no persona store: set brain.persona_config")
        async with self._lock:
            if self._store is None or self._embedder is None:
                from familiar_hub.persona.retriever import PersonaRetriever

                retriever = self.brain.retriever if self.brain is not None else None
                if isinstance(retriever, PersonaRetriever):
                    self._store, self._embedder = retriever.store, retriever.embedder
                else:
                    from familiar_hub.persona.backends import make_embedder
                    from familiar_hub.persona.store import PersonaStore

                    embedder = await self._stack.enter_async_context(
                        make_embedder(self.config.embedder)
                    )
                    self._store = await self._stack.enter_async_context(
                        PersonaStore(self.config.store_path, embedder.dim, embedder.name)
                    )
                    self._embedder = embedder
            return self._store, self._embedder

    async def overview(self) -> dict[str, Any]:
        from familiar_hub.persona.voice import readiness

        store, _ = await self._open()
        assert self.config is not None
        stats = await store.stats()
        files = await store.files()
        style = await store.style()
        clips = await store.voice_clips()
        ready = readiness(clips, self.config.voice)
        return {
            "name": self.config.name,
            "files": [
                {"path": path, "name": Path(path).name, "kind": kind, "chunks": chunks}
                for path, kind, chunks in files
            ],
            "chunks": stats.chunks,
            "own_chunks": stats.own_chunks,
            "own_share": round(stats.own_chunks / stats.chunks, 3) if stats.chunks else 0.0,
            "style": asdict(style) if style is not None else None,
            "voice": {
                "clips": [self._clip(c) for c in clips],
                "readiness": asdict(ready),
                "guidance": self.voice_guidance(),
            },
        }

    def voice_guidance(self) -> dict[str, Any]:
        """What to read and how long; ``checks``: the hub's limits and measuring constants,
        for the page's live meter while recording (the hub still judges the clip)."""
        from familiar_hub.persona.voice import live_check

        assert self.config is not None
        limits = self.config.voice
        return {
            "min_seconds": limits.min_seconds,
            "max_seconds": limits.max_seconds,
            "recommended_total_seconds": limits.recommended_total_seconds,
            "prompts": VOICE_PROMPTS,
            "checks": live_check(limits),
        }

    @staticmethod
    def _clip(record: Any) -> dict[str, Any]:
        return {
            "id": record.id,
            "name": record.name,
            "seconds": record.seconds,
            "score": record.score,
            "added_at": record.added_at,
            "report": record.report,
        }

    async def ingest(self, uploads: list[tuple[str, Path]]) -> AsyncIterator[dict[str, Any]]:
        """Ingest uploaded files one by one; one progress record per file, then a summary."""
        from familiar_hub.persona.ingest import FileOutcome, Ingestor, refresh_style

        store, embedder = await self._open()
        assert self.config is not None
        before = (await store.stats()).chunks
        total = len(uploads)
        added = 0
        async with Ingestor(self.config, store, embedder) as ingestor:
            for index, (name, path) in enumerate(uploads, start=1):
                if path.suffix.lower() not in SUFFIX_KINDS:
                    kinds = " ".join(sorted(SUFFIX_KINDS))
                    outcome = FileOutcome(str(path), "skipped", f"not a supported file ({kinds})")
                    path.unlink(missing_ok=True)
                else:
                    async for outcome in _ingest_with_parts(ingestor, path):
                        if outcome.status == "ingesting":  # a big file, after each batch
                            yield {
                                "type": "part",
                                "name": name,
                                "fraction": outcome.fraction,
                                "chunks": outcome.added + outcome.unchanged,
                                "done": index - 1,
                                "total": total,
                            }
                    if outcome.status == "skipped":
                        path.unlink(missing_ok=True)
                added += outcome.added
                yield {
                    "type": "file",
                    "name": name,
                    "path": outcome.path,
                    "status": outcome.status,
                    "reason": outcome.reason,
                    "added": outcome.added,
                    "removed": outcome.removed,
                    "unchanged": outcome.unchanged,
                    "done": index,
                    "total": total,
                }
        await refresh_style(store)
        await self._refresh_brain_style(store)
        stats = await store.stats()
        yield {
            "type": "done",
            "files": total,
            "added": added,
            "chunks": stats.chunks,
            "chunks_before": before,
            "own_chunks": stats.own_chunks,
        }

    async def _refresh_brain_style(self, store: PersonaStore) -> None:
        if self.brain is not None:
            self.brain.style = await store.style()

    def new_upload_path(self, name: str) -> Path:
        """Where an upload is kept: its own directory, so equal names do not collide."""
        folder = self.upload_dir / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder / safe_name(name)

    async def forget(self, path: str) -> dict[str, int]:
        from familiar_hub.persona.ingest import refresh_style

        store, _ = await self._open()
        result = await store.forget(path)
        if result.files == 0:
            raise NotFound(f"not in the store: {Path(path).name}")
        target = Path(path)
        if target.is_relative_to(self.upload_dir):
            await asyncio.to_thread(_remove_upload, target)
        await refresh_style(store)
        await self._refresh_brain_style(store)
        return {"files": result.files, "chunks": result.chunks}

    async def _speaker_encoder(self) -> Any:
        if not self.speaker_check or self._encoder_tried:
            return self._encoder
        self._encoder_tried = True
        try:
            from familiar_hub.persona.backends.resemblyzer import ResemblyzerEncoder

            self._encoder = await self._stack.enter_async_context(ResemblyzerEncoder())
        except (ImportError, FamiliarError, OSError) as err:
            _LOGGER.warning("speaker check unavailable: %s", err)
        return self._encoder

    async def add_voice(self, name: str, path: Path) -> dict[str, Any]:
        from familiar_hub.persona.voice import VoiceLibrary

        store, _ = await self._open()
        assert self.config is not None
        encoder = await self._speaker_encoder()
        async with VoiceLibrary(store, self.config.voice_path, self.config.voice, encoder) as lib:
            checks = await lib.add([path])
        check = checks[0]
        return {
            "name": name,
            "passed": check.passed,
            "score": check.score,
            "problems": check.problems,
            "notes": check.notes,
            "measures": asdict(check.measures) if check.measures else None,
            "speaker_similarity": check.speaker_similarity,
            "clip": self._clip(check.stored) if check.stored else None,
        }

    async def voice_file(self, clip_id: int) -> Path:
        store, _ = await self._open()
        for record in await store.voice_clips():
            if record.id == clip_id:
                return Path(record.path)
        raise NotFound(f"no voice clip {clip_id}")

    async def remove_voice(self, clip_id: int) -> None:
        from familiar_hub.persona.voice import VoiceLibrary

        store, _ = await self._open()
        assert self.config is not None
        async with VoiceLibrary(store, self.config.voice_path, self.config.voice, None) as lib:
            if await lib.remove(str(clip_id)) is None:
                raise NotFound(f"no voice clip {clip_id}")

    async def chunks(self) -> int | None:
        """Chunks in the store, for health (None when there is no store)."""
        if self.config is None:
            return None
        store, _ = await self._open()
        return (await store.stats()).chunks


def _remove_upload(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


VOICE_PROMPTS = [
    "The rainbow is a division of white light into many beautiful colours. These take the shape "
    "of a long round arch, with its path high above, and its two ends apparently beyond the "
    "horizon.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
    "People look, but no one ever finds the pot of gold at the end of it.",
    "Good morning! I hope you slept well. Shall we have coffee on the terrace before the day "
    "gets busy? I will tell you all about the weekend.",
    "Please remember to water the plants on Thursday, and lock the back door when you leave. "
    "Thank you so much, you are a star.",
    "Let me tell you a story about the summer we spent by the sea, when the whole family "
    "squeezed into one little house and it rained for a week.",
]
"""What to read aloud: varied, natural sentences (10 to 20 seconds each)."""


async def _ingest_with_parts(ingestor: Any, path: Path) -> AsyncIterator[Any]:
    """The ``ingesting`` outcomes of one file as its batches commit, then its outcome."""
    parts: asyncio.Queue[Any] = asyncio.Queue()

    async def run() -> Any:
        try:
            return await ingestor.ingest_file(path, parts.put_nowait)
        finally:
            parts.put_nowait(None)

    task = asyncio.create_task(run())
    try:
        while (part := await parts.get()) is not None:
            yield part
        yield await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
