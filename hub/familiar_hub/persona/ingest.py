"""Ingesting files: read, clean, attribute, chunk, embed (new chunks only), commit per file.

A text file, Markdown file or mailbox larger than ``STREAM_BYTES`` is read part by part
(message by message), and its new chunks are embedded and committed in batches of
``STREAM_BATCH``: memory stays bounded whatever the file's size, progress is reported within
the file, and a crash keeps the batches already committed (a rerun embeds only the rest)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from familiar.threads import Worker
from familiar_hub.persona.backend import Embedder, Vectors
from familiar_hub.persona.chunking import chunk_text
from familiar_hub.persona.cleaning import clean_document, clean_mail
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.documents import (
    STREAM_BLOCK,
    SUFFIX_KINDS,
    Piece,
    UnreadableFile,
    read_file,
    stream_pieces,
    streams,
)
from familiar_hub.persona.names import author_names, name_counts
from familiar_hub.persona.store import Chunk, PersonaStore
from familiar_hub.persona.style import OwnText, learn_style

_LOGGER = logging.getLogger(__name__)

_EMBED_BATCH = 128
"""New chunks gathered (across files) before one embedding call."""

_PARSED_AHEAD = 32
"""Files parsed ahead of the embedder at most (bounds memory on a folder of big files)."""

STREAM_BYTES = 4 << 20
"""Text files and mailboxes larger than this are read, embedded and committed in parts."""

STREAM_BATCH = 512
"""New chunks of a streamed file embedded and committed together."""

_OWN_TEXT_CHARS = 20_000
"""Longest piece of own writing kept as style evidence (a book does not need to be whole)."""


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file."""

    path: str
    status: str
    """``added`` (new or changed), ``unchanged`` or ``skipped``; ``ingesting`` while a big
    file is read in parts (``progress`` gets one after each committed batch)."""
    reason: str | None = None
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    fraction: float | None = None
    """Part of a big file read so far, on an ``ingesting`` outcome (progress within the file)."""


@dataclass
class IngestReport:
    files_read: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """``(path, reason)`` of every file not ingested."""
    added: int = 0
    removed: int = 0
    unchanged: int = 0

    def record(self, outcome: FileOutcome) -> None:
        if outcome.status == "skipped":
            self.skipped.append((outcome.path, outcome.reason or "skipped"))
        else:
            self.files_read += 1
        self.added += outcome.added
        self.removed += outcome.removed
        self.unchanged += outcome.unchanged


Progress = Callable[[int, int, FileOutcome], None]
"""``(files done, files in total, outcome of the last one)``; within a big file also
``(files done, files in total, an ingesting outcome)`` after each committed batch."""


_SENT_FOLDER = re.compile(
    r"^(sent|sent[ _-]?(items|mail|messages)|gesendet(e objekte)?|envoy[eé]s|"
    r"[eé]l[eé]ments envoy[eé]s|enviados|elementos enviados|posta inviata|inviati|"
    r"verzonden( items)?|skickat)$",
    re.IGNORECASE,
)


def in_sent_folder(path: Path) -> bool:
    """Whether a file lies in a sent folder or is a sent mailbox (``Sent.mbox``)."""
    return any(_SENT_FOLDER.match(part) for part in path.parent.parts) or bool(
        _SENT_FOLDER.match(path.stem)
    )


class Attribution:
    """Decides whether a piece was written by the persona.

    A mail's ``From:`` can be forged by anyone, so by default it only counts together with
    where the mail is (a sent folder, ``own_paths``) or with having never passed a mail server
    (``PersonaConfig.own_mail``)."""

    def __init__(self, config: PersonaConfig) -> None:
        self.addresses = {a.lower() for a in config.addresses}
        self.names = {" ".join(n.lower().split()) for n in config.names}
        self.documents_by_persona = config.documents_by_persona
        self.own_mail = config.own_mail
        self.own_paths = [p.expanduser().resolve() for p in config.own_paths]

    def own_source(self, path: Path | None) -> bool:
        """Whether mail in ``path`` may be the persona's own (sent folder or ``own_paths``)."""
        if path is None:
            return False
        return in_sent_folder(path) or any(
            path == own or path.is_relative_to(own) for own in self.own_paths
        )

    def by_persona(self, piece: Piece, own_source: bool = False) -> bool:
        claimed = False
        if piece.address and piece.address.lower() in self.addresses:
            claimed = True
        elif piece.author:
            author = " ".join(piece.author.lower().split())
            claimed = author in self.names or author in self.addresses
        else:
            return not piece.is_mail and piece.address is None and self.documents_by_persona
        if not claimed or not piece.is_mail or self.own_mail == "from" or own_source:
            return claimed
        return self.own_mail == "auto" and not piece.relayed


@dataclass(frozen=True)
class PreparedFile:
    chunks: list[Chunk]
    own: list[OwnText]
    names: Counter[str] = field(default_factory=Counter)
    """Names of people, places and shops the file uses (for the speech recogniser)."""


@dataclass(frozen=True)
class _Pending:
    """A parsed file waiting for its new chunks' vectors and its commit."""

    path: Path
    sha256: str
    size: int
    prepared: PreparedFile
    fresh: dict[str, Chunk]
    """Chunks not stored yet, by hash."""


@dataclass(frozen=True)
class _Streamed:
    """A big file to read, embed and commit in parts."""

    path: Path
    sha256: str
    size: int


@dataclass
class Gathered:
    """What a file's pieces give besides chunks: own writing and names."""

    own: list[OwnText] = field(default_factory=list)
    names: Counter[str] = field(default_factory=Counter)
    document_chars: Counter[str] = field(default_factory=Counter)
    """Own document text kept so far, by source (a streamed book keeps its beginning only)."""


def iter_chunks(
    pieces: Iterable[Piece],
    config: PersonaConfig,
    attribution: Attribution,
    path: Path | None,
    gathered: Gathered,
) -> Iterator[Chunk]:
    """Clean, attribute and chunk pieces one at a time; own writing and names go to
    ``gathered``. Pure apart from logging."""
    seq = 0
    own_source = attribution.own_source(path)
    for piece in pieces:
        mine = attribution.by_persona(piece, own_source)
        if piece.author:
            gathered.names.update(author_names([piece.author]))
        if piece.is_mail:
            cleaned = clean_mail(piece.text)
            body = cleaned.body
            if mine:
                gathered.own.append(
                    OwnText(body[:_OWN_TEXT_CHARS], cleaned.greeting, cleaned.sign_off)
                )
        else:
            body = clean_document(piece.text)
            room = _OWN_TEXT_CHARS - gathered.document_chars[piece.source]
            if mine and body and room > 0:
                gathered.own.append(OwnText(body[:room]))
                gathered.document_chars[piece.source] += min(len(body), room)
        if not body:
            continue
        gathered.names.update(name_counts(body))
        for text in chunk_text(body, config.chunking.target_tokens, config.chunking.overlap_tokens):
            yield Chunk(
                text=text,
                citation=piece.source,
                kind=piece.kind,
                author=piece.author,
                address=piece.address,
                by_persona=mine,
                date=piece.date,
                subject=piece.subject,
                message_id=piece.message_id,
                seq=seq,
                recipient=piece.recipient,
            )
            seq += 1


def prepare_pieces(
    pieces: Iterable[Piece],
    config: PersonaConfig,
    attribution: Attribution,
    path: Path | None = None,
) -> PreparedFile:
    """Clean, attribute and chunk the pieces of one file. Pure apart from logging."""
    gathered = Gathered()
    chunks = list(iter_chunks(pieces, config, attribution, path, gathered))
    return PreparedFile(chunks, gathered.own, gathered.names)


class _Stream:
    """The chunks of a big file, pulled in batches on the parse thread."""

    def __init__(
        self, path: Path, config: PersonaConfig, attribution: Attribution, block: int
    ) -> None:
        self.fraction = 0.0
        self.gathered = Gathered()

        def pieces() -> Iterator[Piece]:
            for piece, fraction in stream_pieces(path, block):
                self.fraction = fraction
                yield piece

        self._chunks = iter_chunks(pieces(), config, attribution, path, self.gathered)

    def take(self, count: int) -> list[Chunk]:
        """Up to ``count`` next chunks; an empty list at the end."""
        return list(itertools.islice(self._chunks, count))


def walk(
    paths: Sequence[Path], follow_symlinks: bool = False
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to ingest under ``paths`` (sorted, hidden ones left out) and those skipped.

    A symbolic link whose target lies outside the folder it was found in is skipped unless
    ``follow_symlinks``: ingest never reads what you did not name (and ``forget <folder>``
    then covers everything it took)."""
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for given in paths:
        root = given.expanduser()
        if root.is_dir():
            real_root = root.resolve()
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                    continue
                real = path.resolve()
                if not follow_symlinks and not real.is_relative_to(real_root):
                    skipped.append((str(path), f"symbolic link to {real}, outside {root}"))
                    continue
                if path.suffix.lower() in SUFFIX_KINDS:
                    # A followed link outside the folder is stored under its own path, so
                    # that forgetting the folder forgets it too.
                    found.append(real if real.is_relative_to(real_root) else path.absolute())
                else:
                    skipped.append((str(path), f"unsupported type {path.suffix or '(none)'}"))
        elif root.is_file():
            if root.suffix.lower() in SUFFIX_KINDS:
                found.append(root.resolve())
            else:
                skipped.append((str(root), f"unsupported type {root.suffix or '(none)'}"))
        else:
            skipped.append((str(root), "not found"))
    unique = list(dict.fromkeys(found))
    return unique, skipped


def _sha256(path: Path, limit: float | None = None) -> tuple[str, int] | None:
    """``(hex digest, size)``, or None when the file is larger than ``limit`` bytes."""
    if limit is not None and path.stat().st_size > limit:
        return None
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


class Ingestor:
    """Feeds files into a store; parsing runs on its own worker thread."""

    def __init__(self, config: PersonaConfig, store: PersonaStore, embedder: Embedder) -> None:
        self.config = config
        self.store = store
        self.embedder = embedder
        self.attribution = Attribution(config)
        self._worker = Worker("persona-parse")
        self.stream_bytes = STREAM_BYTES
        """Text files and mailboxes larger than this are streamed."""
        self.stream_batch = STREAM_BATCH
        self.stream_block = STREAM_BLOCK

    async def __aenter__(self) -> Ingestor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._worker.close()

    def _parse(self, path: Path) -> PreparedFile:
        return prepare_pieces(list(read_file(path)), self.config, self.attribution, path)

    async def _prepare(self, path: Path) -> FileOutcome | _Pending | _Streamed:
        """Hash and parse one file (on the parse thread): an outcome when there is nothing to
        embed and commit, what to embed and commit, or a big file to stream."""
        name = str(path)
        limit = self.config.max_file_mb * (1 << 20)
        try:
            hashed = await self._worker.run(_sha256, path, limit)
        except OSError as err:
            return FileOutcome(name, "skipped", f"cannot read: {err.strerror or err}")
        if hashed is None:
            return FileOutcome(name, "skipped", f"larger than {self.config.max_file_mb:g} MB")
        sha, size = hashed
        state = await self.store.file_state(name)
        if state is not None and state.sha256 == sha:
            return FileOutcome(name, "unchanged", unchanged=state.chunks)
        if size > self.stream_bytes and streams(path):
            return _Streamed(path, sha, size)
        try:
            prepared = await self._worker.run(self._parse, path)
        except UnreadableFile as err:
            _LOGGER.warning("skipped %s: %s", path, err)
            return FileOutcome(name, "skipped", str(err))
        if not prepared.chunks:
            return FileOutcome(name, "skipped", "no text found")
        stored = await self.store.chunk_hashes(name)
        fresh: dict[str, Chunk] = {}
        for chunk in prepared.chunks:
            if chunk.hash not in stored:
                fresh.setdefault(chunk.hash, chunk)
        return _Pending(path, sha, size, prepared, fresh)

    async def _commit(self, pending: _Pending, vectors: dict[str, Vectors]) -> FileOutcome:
        name = str(pending.path)
        result = await self.store.commit_file(
            path=name,
            kind=SUFFIX_KINDS[pending.path.suffix.lower()],
            sha256=pending.sha256,
            size=pending.size,
            chunks=pending.prepared.chunks,
            vectors=vectors,
            own=pending.prepared.own,
            names=pending.prepared.names,
        )
        _LOGGER.debug("%s: +%d -%d =%d", name, result.added, result.removed, result.unchanged)
        return FileOutcome(name, "added", None, result.added, result.removed, result.unchanged)

    async def _stream(
        self, item: _Streamed, report: Callable[[FileOutcome], None] | None = None
    ) -> FileOutcome:
        """Read, embed and commit a big file in batches, reporting after each batch."""
        name = str(item.path)
        kind = SUFFIX_KINDS[item.path.suffix.lower()]
        stream = _Stream(item.path, self.config, self.attribution, self.stream_block)
        stored: set[str] | None = None
        seen: set[str] = set()
        added = 0
        while True:
            try:
                chunks = await self._worker.run(stream.take, self.stream_batch)
            except UnreadableFile as err:
                _LOGGER.warning("skipped %s: %s", item.path, err)
                if stored is not None:  # a part went in: leave none of it behind
                    await self.store.forget(name)
                return FileOutcome(name, "skipped", str(err))
            if not chunks:
                break
            if stored is None:
                stored = await self.store.begin_file(name, kind, item.size)
            fresh: dict[str, Chunk] = {}
            for chunk in chunks:
                if chunk.hash not in seen and chunk.hash not in stored:
                    fresh[chunk.hash] = chunk
                seen.add(chunk.hash)
            if fresh:
                matrix = await self.embedder.embed([c.text for c in fresh.values()])
                vectors = dict(zip(fresh, matrix, strict=True))
                added += await self.store.add_chunks(name, list(fresh.values()), vectors)
            if report is not None:
                report(
                    FileOutcome(
                        name, "ingesting", None, added, 0, len(seen) - added, stream.fraction
                    )
                )
        if stored is None:
            return FileOutcome(name, "skipped", "no text found")
        removed = await self.store.finish_file(
            path=name,
            kind=kind,
            sha256=item.sha256,
            size=item.size,
            keep=seen,
            own=stream.gathered.own,
            names=stream.gathered.names,
        )
        _LOGGER.debug("%s: +%d -%d =%d (in parts)", name, added, removed, len(seen) - added)
        return FileOutcome(name, "added", None, added, removed, len(seen) - added)

    async def ingest_file(
        self, path: Path, within: Callable[[FileOutcome], None] | None = None
    ) -> FileOutcome:
        """Ingest one file; ``within`` gets an ``ingesting`` outcome after each committed
        batch of a big one."""
        prepared = await self._prepare(path)
        if isinstance(prepared, FileOutcome):
            return prepared
        if isinstance(prepared, _Streamed):
            return await self._stream(prepared, within)
        texts = [c.text for c in prepared.fresh.values()]
        matrix = await self.embedder.embed(texts) if texts else None
        vectors = {} if matrix is None else dict(zip(prepared.fresh, matrix, strict=True))
        return await self._commit(prepared, vectors)

    async def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files in order. Parsing runs ahead on its own thread while new chunks of
        several files are embedded together (the embedder is fastest on full batches); each
        file is still committed in its own transaction, in order, and reported to
        ``progress`` as it is. A big text file or mailbox is streamed in batches, each
        committed and reported (as ``ingesting``) on its own."""
        files, skipped = await self._worker.run(walk, paths, self.config.follow_symlinks)
        report = IngestReport()
        for name, reason in skipped:
            report.record(FileOutcome(name, "skipped", reason))
        queue: asyncio.Queue[FileOutcome | _Pending | _Streamed | None] = asyncio.Queue(
            _PARSED_AHEAD
        )

        async def parse_ahead() -> None:
            for path in files:
                await queue.put(await self._prepare(path))
            await queue.put(None)

        done = 0
        batch: list[FileOutcome | _Pending] = []

        async def flush() -> None:
            nonlocal done
            pending = [item for item in batch if isinstance(item, _Pending)]
            keys = [key for item in pending for key in item.fresh]
            texts = [chunk.text for item in pending for chunk in item.fresh.values()]
            matrix = await self.embedder.embed(texts) if texts else None
            vectors = {} if matrix is None else dict(zip(keys, matrix, strict=True))
            for item in batch:
                if isinstance(item, _Pending):
                    outcome = await self._commit(item, {k: vectors[k] for k in item.fresh})
                else:
                    outcome = item
                report.record(outcome)
                done += 1
                if progress is not None:
                    progress(done, len(files), outcome)
            batch.clear()

        async with asyncio.TaskGroup() as group:
            group.create_task(parse_ahead(), name="persona-parse-ahead")
            waiting = 0
            while (item := await queue.get()) is not None:
                if isinstance(item, _Streamed):
                    await flush()
                    waiting = 0
                    outcome = await self._stream(item, _within(progress, done, len(files)))
                    report.record(outcome)
                    done += 1
                    if progress is not None:
                        progress(done, len(files), outcome)
                    continue
                batch.append(item)
                if isinstance(item, _Pending):
                    waiting += len(item.fresh)
                if waiting >= _EMBED_BATCH or len(batch) >= _PARSED_AHEAD:
                    await flush()
                    waiting = 0
            await flush()
        await self.refresh_style()
        return report

    async def refresh_style(self) -> None:
        await refresh_style(self.store)


def _within(
    progress: Progress | None, done: int, total: int
) -> Callable[[FileOutcome], None] | None:
    """The in-file progress callback of a run's ``progress``."""
    if progress is None:
        return None
    return lambda outcome: progress(done, total, outcome)


async def refresh_style(store: PersonaStore) -> None:
    """Relearn the style profile from every piece of own writing still stored."""
    own = await store.own_texts()
    loop = asyncio.get_running_loop()
    profile = await loop.run_in_executor(None, learn_style, own)
    await store.set_style(profile)
