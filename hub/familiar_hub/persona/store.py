"""The persona store: one SQLite file (chunks, vec0 vectors, FTS5 keywords, style, voice clips).

All database work runs on one worker thread that owns the connection; the event loop only
awaits it. Each ingested file is written in one transaction (with its content hash), so a
crash or kill loses nothing already committed and never leaves half a file; a big text file or
mailbox is written in batches under an empty hash until its last one, so an interrupted one is
ingested again (keeping, not re-embedding, the chunks already committed). Deleted content
is overwritten (``secure_delete``) and the WAL truncated after ``forget``, so it is really gone.
The file, its WAL and the data directory are readable by the owner only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from familiar.errors import PersonaStoreError, PersonaStoreMismatch
from familiar.threads import ThreadedModel
from familiar_hub.persona.api import Passage, StyleProfile
from familiar_hub.persona.backend import Vectors
from familiar_hub.persona.language import (
    LONGEST_ENDING,
    SoundIndex,
    alike,
    listed_english,
    question_language,
    romanised,
    stem,
    stem_prefixes,
    tokens,
)
from familiar_hub.persona.names import author_names, name_counts
from familiar_hub.persona.relevance import query_words
from familiar_hub.persona.style import OwnText
from familiar_hub.persona.vector_index import Filter, IndexRow, VectorIndex

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = "3"
"""2: chunks carry their mail's recipients, indexed for keyword search (1 did not).
3: the keyword index keeps Indic words whole (2 cut them at each vowel sign)."""
RRF_K = 60
"""Reciprocal rank fusion constant: score = sum over rankings of 1 / (RRF_K + rank)."""

COMMON_TERM_FRACTION = 0.05
COMMON_TERM_MIN_DOCS = 2000
"""A query word found in more than this fraction of chunks (and more than this many) is a stop
word of this store: it carries almost no BM25 weight, yet ranking its matches costs time in
proportion to them."""


@dataclass(frozen=True)
class Chunk:
    """A passage ready to store."""

    text: str
    citation: str
    """Where it came from: path, ``#message-id``, ``/attachment``."""
    kind: str
    author: str | None
    address: str | None
    by_persona: bool
    date: str | None
    subject: str | None
    message_id: str | None
    seq: int
    """Position within its file."""
    recipient: str | None = None
    """Who a mail went to (names, or addresses without one): "when does the chess club meet?"
    finds the report she sent *to* the club. Not part of :attr:`hash`, so a store that lacks it
    gains it on the next ingest without embedding anything again."""

    @property
    def hash(self) -> str:
        """Identity of the chunk's content within its file (what makes re-ingest incremental)."""
        data = f"{self.citation}\0{self.by_persona}\0{self.author}\0{self.date}\0{self.text}"
        return hashlib.sha256(data.encode()).hexdigest()

    @property
    def year(self) -> int:
        if self.date and re.match(r"\d{4}", self.date):
            return int(self.date[:4])
        return 0


@dataclass(frozen=True)
class FileState:
    id: int
    sha256: str
    chunks: int


@dataclass(frozen=True)
class CommitResult:
    added: int
    removed: int
    unchanged: int


@dataclass(frozen=True)
class ForgetResult:
    files: int
    chunks: int


@dataclass(frozen=True)
class VoiceClipRecord:
    id: int
    name: str
    path: str
    sha256: str
    seconds: float
    score: float
    added_at: str
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreStats:
    files: int
    chunks: int
    own_chunks: int
    vectors: int
    voice_clips: int


def _sqlite() -> Any:
    try:
        import pysqlite3.dbapi2 as sqlite
    except ImportError as err:  # pragma: no cover - install problem
        raise PersonaStoreError("pysqlite3-binary is not installed") from err
    return sqlite


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


MAX_PREFIX_TERMS = 512
MAX_FORMS = 8
MAX_STEM_GROWTH = 6
"""Letters a word of the files may have beyond the question's word and still be read as
its form in another language ("schenkst" -> "geschenken", "vuelo" -> "vuelos")."""


def _fts_query(words: Sequence[str]) -> str | None:
    """Words -> an FTS5 query OR-ing them (quoted, so no syntax leaks through)."""
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words)


def _coverage(weights: Sequence[tuple[frozenset[str], float]], text: str) -> float:
    """The share of the question's keyword weight (idf) that ``text`` contains, 0..1; each
    question word counts once, by any of its forms in the files (``SoundIndex``)."""
    total = sum(weight for _, weight in weights)
    if total <= 0:
        return 0.0
    present = set(tokens(text))
    return sum(weight for forms, weight in weights if forms & present) / total


_INDIC_MARKS = "".join(
    chr(code) for code in range(0x0900, 0x0E00) if unicodedata.category(chr(code)) in {"Mn", "Mc"}
)
"""The vowel signs, viramas and other marks of the Indic scripts: parts of a word, which FTS5's
unicode61 tokenizer otherwise takes for separators ("சாம்பார்" -> "ச", "ம", "ப", "ர")."""

_FTS_STATEMENTS = (
    f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
        text, subject, author, recipient,
        content='chunks', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2 tokenchars '{_INDIC_MARKS}'")""",
    """
    CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts_terms USING fts5vocab(chunks_fts, 'row')""",
    """
    CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, subject, author, recipient)
        VALUES (new.id, new.text, new.subject, new.author, new.recipient);
    END""",
    """
    CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, subject, author, recipient)
        VALUES ('delete', old.id, old.text, old.subject, old.author, old.recipient);
    END""",
    """
    CREATE TRIGGER IF NOT EXISTS chunks_fts_update AFTER UPDATE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, subject, author, recipient)
        VALUES ('delete', old.id, old.text, old.subject, old.author, old.recipient);
        INSERT INTO chunks_fts(rowid, text, subject, author, recipient)
        VALUES (new.id, new.text, new.subject, new.author, new.recipient);
    END""",
)
"""The keyword index over the chunks (external content: FTS5 keeps only the index)."""

_MIGRATIONS: dict[str, tuple[str, ...]] = {
    "1": (
        "ALTER TABLE chunks ADD COLUMN recipient TEXT",
        "DROP TRIGGER IF EXISTS chunks_fts_insert",
        "DROP TRIGGER IF EXISTS chunks_fts_delete",
        "DROP TABLE IF EXISTS chunks_fts_terms",
        "DROP TABLE IF EXISTS chunks_fts",
        *_FTS_STATEMENTS,
        "INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')",
        # Mail is read again on the next ingest to fill the recipients (its chunks keep their
        # hashes and vectors: nothing is embedded again).
        "UPDATE files SET sha256 = '' WHERE kind = 'email'",
    ),
    "2": (
        "DROP TRIGGER IF EXISTS chunks_fts_insert",
        "DROP TRIGGER IF EXISTS chunks_fts_delete",
        "DROP TRIGGER IF EXISTS chunks_fts_update",
        "DROP TABLE IF EXISTS chunks_fts_terms",
        "DROP TABLE IF EXISTS chunks_fts",
        *_FTS_STATEMENTS,
        "INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')",
    ),
}
"""Statements that bring a store of schema version ``key`` to the next version."""


def _schema_statements(dim: int) -> list[str]:
    return [
        """
        CREATE TABLE IF NOT EXISTS files(
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            ingested_at TEXT NOT NULL)""",
        """
        CREATE TABLE IF NOT EXISTS chunks(
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            hash TEXT NOT NULL,
            citation TEXT NOT NULL,
            kind TEXT NOT NULL,
            message_id TEXT,
            author TEXT,
            address TEXT,
            by_persona INTEGER NOT NULL,
            date TEXT,
            subject TEXT,
            seq INTEGER NOT NULL,
            text TEXT NOT NULL,
            recipient TEXT,
            UNIQUE(file_id, hash))""",
        """
        CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id)""",
        *_FTS_STATEMENTS,
        f"""
        CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vec USING vec0(
            chunk_id INTEGER PRIMARY KEY,
            embedding float[{dim}] distance_metric=cosine,
            author TEXT,
            kind TEXT,
            year INTEGER,
            by_persona INTEGER)""",
        """
        CREATE TABLE IF NOT EXISTS own_texts(
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            greeting TEXT,
            sign_off TEXT,
            body TEXT NOT NULL)""",
        """
        CREATE INDEX IF NOT EXISTS own_texts_file ON own_texts(file_id)""",
        """
        CREATE TABLE IF NOT EXISTS names(
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY(file_id, name))""",
        """
        CREATE TABLE IF NOT EXISTS style(
            id INTEGER PRIMARY KEY CHECK (id = 1),
            profile TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        """
        CREATE TABLE IF NOT EXISTS voice_clips(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            seconds REAL NOT NULL,
            score REAL NOT NULL,
            report TEXT NOT NULL,
            added_at TEXT NOT NULL)""",
    ]


class PersonaStore(ThreadedModel):
    """Async front of the SQLite store; every call runs on the store's own thread."""

    def __init__(
        self,
        path: Path,
        dim: int | None = None,
        embedder: str | None = None,
        *,
        languages: Sequence[str] = (),
    ) -> None:
        super().__init__("persona-db")
        self.path = path
        self.languages = tuple(languages)
        """The persona's languages: a question in one of them (not English) also looks its
        words up in their other forms in that language (``language.stem``)."""
        self._dim = dim
        self._embedder = embedder
        self._db: Any = None
        self._index: VectorIndex | None = None
        self._chunk_count = 0
        self._data_version: int | None = None
        self._sounds: SoundIndex | None = None
        """The files' words by sound, built at the first question in another script."""

    # -------------------------------------------------------------------- lifecycle

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, holding the write lock from its start; rolled back when
        anything in it (or the commit) fails."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.worker.run(fn, *args)

    def _load(self) -> None:
        self._open()

    def _unload(self) -> None:
        self._close()

    @property
    def dim(self) -> int:
        assert self._dim is not None
        return self._dim

    def _open(self) -> None:
        sqlite = _sqlite()
        make_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self.path.chmod(0o600)
        try:
            db = sqlite.connect(str(self.path), isolation_level=None, timeout=30.0)
            db.enable_load_extension(True)
            import sqlite_vec

            sqlite_vec.load(db)
            db.enable_load_extension(False)
        except Exception as err:
            raise PersonaStoreError(f"cannot open {self.path}: {err}") from err
        self._db = db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA secure_delete=ON")
            self._schema()
            self._load_index()
        except sqlite.DatabaseError as err:
            db.close()
            self._db = None
            raise PersonaStoreError(f"{self.path} is not a usable persona store: {err}") from err
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.chmod(0o600)

    def _load_index(self) -> None:
        """Read every stored vector into the in-memory index (the vector half of search)."""
        index = VectorIndex(self.dim)
        rows = self._db.execute(
            "SELECT chunk_id, embedding, author, kind, year, by_persona FROM chunks_vec"
        )
        while batch := rows.fetchmany(4096):
            index.add(
                [
                    IndexRow(
                        int(chunk_id),
                        np.frombuffer(blob, dtype=np.float32),
                        str(author or ""),
                        str(kind),
                        int(year or 0),
                        bool(by_persona),
                    )
                    for chunk_id, blob, author, kind, year, by_persona in batch
                ]
            )
        self._index = index
        self._chunk_count = len(index)
        self._sounds = None
        self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        _LOGGER.debug("vector index: %d chunks, %.1f MB", len(index), index.nbytes / 1e6)

    def _close(self) -> None:
        if self._db is not None:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.execute("PRAGMA optimize")
            finally:
                self._db.close()
                self._db = None

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_embedder(self, dim: int, embedder: str | None) -> None:
        if self._dim is not None and dim != self._dim:
            raise PersonaStoreMismatch(
                f"{self.path} holds {dim}-d vectors, the embedder makes {self._dim}-d"
            )
        if self._embedder and embedder and embedder != self._embedder:
            raise PersonaStoreMismatch(
                f"{self.path} was built with {embedder}, not {self._embedder}; "
                "use another store file or re-ingest into a new one"
            )

    def _schema(self) -> None:
        db = self._db
        with self._transaction():
            db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            stored_dim = self._meta("dim")
            stored_embedder = self._meta("embedder")
            if stored_dim is not None:
                self._check_embedder(int(stored_dim), stored_embedder)
                self._dim = int(stored_dim)
            else:
                if self._dim is None:
                    self._dim = 384
                db.execute("INSERT INTO meta VALUES ('dim', ?)", (str(self._dim),))
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                if self._embedder:
                    db.execute("INSERT INTO meta VALUES ('embedder', ?)", (self._embedder,))
            if stored_embedder is None and self._embedder:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (self._embedder,))
            if stored_dim is not None:
                self._migrate(self._meta("schema") or "1")
            for statement in _schema_statements(self._dim):
                db.execute(statement)

    def _migrate(self, version: str) -> None:
        """Bring a store written by an older Familiar to :data:`SCHEMA_VERSION` (inside the
        caller's transaction); a store from a newer one is refused."""
        if version not in _MIGRATIONS and version != SCHEMA_VERSION:
            raise PersonaStoreError(
                f"{self.path} has schema {version}; this Familiar reads up to "
                f"{SCHEMA_VERSION}: use a newer Familiar or another store file"
            )
        while version in _MIGRATIONS:
            _LOGGER.info("%s: upgrading the store from schema %s", self.path, version)
            for statement in _MIGRATIONS[version]:
                self._db.execute(statement)
            version = str(int(version) + 1)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (version,))

    # ----------------------------------------------------------------------- files

    async def file_state(self, path: str) -> FileState | None:
        return await self._run(self._file_state, path)

    def _file_state(self, path: str) -> FileState | None:
        row = self._db.execute(
            "SELECT f.id, f.sha256, (SELECT count(*) FROM chunks c WHERE c.file_id = f.id) "
            "FROM files f WHERE f.path = ?",
            (path,),
        ).fetchone()
        return None if row is None else FileState(int(row[0]), str(row[1]), int(row[2]))

    async def chunk_hashes(self, path: str) -> set[str]:
        return await self._run(self._chunk_hashes, path)

    def _chunk_hashes(self, path: str) -> set[str]:
        rows = self._db.execute(
            "SELECT c.hash FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ?",
            (path,),
        )
        return {str(row[0]) for row in rows}

    async def commit_file(
        self,
        *,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        chunks: Sequence[Chunk],
        vectors: dict[str, Vectors],
        own: Sequence[OwnText],
        names: Mapping[str, int] | None = None,
    ) -> CommitResult:
        """Make the stored content of ``path`` exactly ``chunks``, in one transaction.

        ``vectors`` maps the hash of every chunk not stored yet to its embedding; ``names``
        are the names the file uses, with their counts."""
        return await self._run(
            lambda: self._commit_file(path, kind, sha256, size, chunks, vectors, own, names or {})
        )

    def _commit_file(  # noqa: PLR0917
        self,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        chunks: Sequence[Chunk],
        vectors: dict[str, Vectors],
        own: Sequence[OwnText],
        names: Mapping[str, int],
    ) -> CommitResult:
        db = self._db
        with self._transaction():
            file_id = self._file_row(path, kind, sha256, size)
            existing = {
                str(h): int(i)
                for i, h in db.execute("SELECT id, hash FROM chunks WHERE file_id = ?", (file_id,))
            }
            wanted: dict[str, Chunk] = {}
            for chunk in chunks:
                wanted.setdefault(chunk.hash, chunk)
            stale = [chunk_id for h, chunk_id in existing.items() if h not in wanted]
            self._delete_chunks(stale)
            fresh = [(d, c) for d, c in wanted.items() if d not in existing]
            self._refresh_recipients(file_id, [c for d, c in wanted.items() if d in existing])
            indexed = self._insert_chunks(file_id, fresh, vectors)
            added = len(indexed)
            self._file_extras(file_id, own, names)
        self._indexed(indexed, stale)
        return CommitResult(added, len(stale), len(wanted) - added)

    def _insert_chunks(
        self, file_id: int, chunks: Sequence[tuple[str, Chunk]], vectors: Mapping[str, Vectors]
    ) -> list[IndexRow]:
        """Insert ``(hash, chunk)`` pairs with their vectors (inside the caller's transaction)."""
        db = self._db
        indexed: list[IndexRow] = []
        for digest, chunk in chunks:
            vector = vectors[digest]  # KeyError: the caller skipped a new chunk
            cursor = db.execute(
                "INSERT INTO chunks(file_id, hash, citation, kind, message_id, author, "
                "address, by_persona, date, subject, seq, text, recipient) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    file_id,
                    digest,
                    chunk.citation,
                    chunk.kind,
                    chunk.message_id,
                    chunk.author,
                    chunk.address,
                    int(chunk.by_persona),
                    chunk.date,
                    chunk.subject,
                    chunk.seq,
                    chunk.text,
                    chunk.recipient,
                ),
            )
            row = IndexRow(
                int(cursor.lastrowid),
                np.asarray(vector, dtype=np.float32).reshape(-1),
                chunk.author or "",
                chunk.kind,
                chunk.year,
                chunk.by_persona,
            )
            db.execute(
                "INSERT INTO chunks_vec(chunk_id, embedding, author, kind, year, by_persona) "
                "VALUES (?,?,?,?,?,?)",
                (
                    row.chunk_id,
                    row.vector.tobytes(),
                    row.author,
                    row.kind,
                    row.year,
                    int(row.by_persona),
                ),
            )
            indexed.append(row)
        return indexed

    def _refresh_recipients(self, file_id: int, held: Sequence[Chunk]) -> None:
        """Chunks already stored take the recipients read this time (a store from before they
        were indexed gains them; the FTS trigger re-indexes only rows that change)."""
        self._db.executemany(
            "UPDATE chunks SET recipient = ? WHERE file_id = ? AND hash = ? AND recipient IS NOT ?",
            [(c.recipient, file_id, c.hash, c.recipient) for c in held],
        )

    # A big file is written in parts: ``begin_file`` marks it unfinished (an empty hash, so a
    # rerun after a crash ingests it again), ``add_chunks`` commits each batch of new chunks,
    # ``finish_file`` drops what the file no longer holds and records its hash. Chunks already
    # committed by an interrupted run are kept (by hash) and not embedded again.

    async def begin_file(self, path: str, kind: str, size: int) -> set[str]:
        """Mark ``path`` as being ingested in parts; the hashes of the chunks it holds."""
        return await self._run(self._begin_file, path, kind, size)

    def _begin_file(self, path: str, kind: str, size: int) -> set[str]:
        with self._transaction():
            self._file_row(path, kind, "", size)
        return self._chunk_hashes(path)

    async def add_chunks(
        self, path: str, chunks: Sequence[Chunk], vectors: Mapping[str, Vectors]
    ) -> int:
        """Commit new chunks of a file begun with :meth:`begin_file`, in one transaction;
        chunks it holds already are left alone. How many were added."""
        return await self._run(self._add_chunks, path, chunks, vectors)

    def _add_chunks(
        self, path: str, chunks: Sequence[Chunk], vectors: Mapping[str, Vectors]
    ) -> int:
        db = self._db
        with self._transaction():
            file_id = self._begun(path)
            wanted: dict[str, Chunk] = {}
            for chunk in chunks:
                wanted.setdefault(chunk.hash, chunk)
            marks = ",".join("?" * len(wanted))
            held = (
                {
                    str(r[0])
                    for r in db.execute(
                        f"SELECT hash FROM chunks WHERE file_id = ? AND hash IN ({marks})",
                        (file_id, *wanted),
                    )
                }
                if wanted
                else set()
            )
            self._refresh_recipients(file_id, [c for d, c in wanted.items() if d in held])
            indexed = self._insert_chunks(
                file_id, [(d, c) for d, c in wanted.items() if d not in held], vectors
            )
        self._indexed(indexed, [])
        return len(indexed)

    async def finish_file(
        self,
        *,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        keep: set[str],
        own: Sequence[OwnText],
        names: Mapping[str, int] | None = None,
    ) -> int:
        """End a file ingested in parts: drop its chunks whose hash is not in ``keep``, store
        its own writing and names, and record ``sha256``. How many chunks were dropped."""
        return await self._run(
            lambda: self._finish_file(path, kind, sha256, size, keep, own, names or {})
        )

    def _finish_file(  # noqa: PLR0917
        self,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        keep: set[str],
        own: Sequence[OwnText],
        names: Mapping[str, int],
    ) -> int:
        db = self._db
        with self._transaction():
            file_id = self._file_row(path, kind, sha256, size)
            stale = [
                int(i)
                for i, h in db.execute("SELECT id, hash FROM chunks WHERE file_id = ?", (file_id,))
                if str(h) not in keep
            ]
            self._delete_chunks(stale)
            self._file_extras(file_id, own, names)
        self._indexed([], stale)
        return len(stale)

    def _begun(self, path: str) -> int:
        row = self._db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            raise PersonaStoreError(f"{path} was not begun (or was forgotten meanwhile)")
        return int(row[0])

    def _file_row(self, path: str, kind: str, sha256: str, size: int) -> int:
        """Insert or update the row of ``path`` (inside the caller's transaction); its id."""
        db = self._db
        row = db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            cursor = db.execute(
                "INSERT INTO files(path, kind, sha256, size, ingested_at) VALUES (?,?,?,?,?)",
                (path, kind, sha256, size, _now()),
            )
            return int(cursor.lastrowid)
        db.execute(
            "UPDATE files SET kind = ?, sha256 = ?, size = ?, ingested_at = ? WHERE id = ?",
            (kind, sha256, size, _now(), int(row[0])),
        )
        return int(row[0])

    def _file_extras(self, file_id: int, own: Sequence[OwnText], names: Mapping[str, int]) -> None:
        """Replace the own writing and names of a file (inside the caller's transaction)."""
        db = self._db
        db.execute("DELETE FROM own_texts WHERE file_id = ?", (file_id,))
        db.executemany(
            "INSERT INTO own_texts(file_id, greeting, sign_off, body) VALUES (?,?,?,?)",
            [(file_id, o.greeting, o.sign_off, o.body) for o in own],
        )
        db.execute("DELETE FROM names WHERE file_id = ?", (file_id,))
        db.executemany(
            "INSERT INTO names(file_id, name, count) VALUES (?,?,?)",
            [(file_id, name, count) for name, count in names.items()],
        )

    def _indexed(self, added: Sequence[IndexRow], removed: Sequence[int]) -> None:
        """Mirror a committed transaction in the in-memory index."""
        assert self._index is not None
        self._index.remove(removed)
        self._index.add(added)
        self._chunk_count = len(self._index)
        self._sounds = None

    def _delete_chunks(self, chunk_ids: Sequence[int]) -> None:
        for start in range(0, len(chunk_ids), 500):
            batch = list(chunk_ids[start : start + 500])
            marks = ",".join("?" * len(batch))
            self._db.execute(f"DELETE FROM chunks_vec WHERE chunk_id IN ({marks})", batch)
            self._db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", batch)

    async def forget(self, path: str) -> ForgetResult:
        """Remove a file (or every file under a folder) from every table."""
        return await self._run(self._forget, path)

    def _forget(self, path: str) -> ForgetResult:
        db = self._db
        prefix = path.rstrip("/") + "/"
        with self._transaction():
            files = [
                int(row[0])
                for row in db.execute(
                    "SELECT id FROM files WHERE path = ? OR substr(path, 1, ?) = ?",
                    (path, len(prefix), prefix),
                )
            ]
            gone: list[int] = []
            for file_id in files:
                ids = [
                    int(r[0])
                    for r in db.execute("SELECT id FROM chunks WHERE file_id=?", (file_id,))
                ]
                self._delete_chunks(ids)
                gone += ids
                db.execute("DELETE FROM own_texts WHERE file_id = ?", (file_id,))
                db.execute("DELETE FROM names WHERE file_id = ?", (file_id,))
                db.execute("DELETE FROM files WHERE id = ?", (file_id,))
        self._indexed([], gone)
        if files:
            db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return ForgetResult(len(files), len(gone))

    async def files(self) -> list[tuple[str, str, int]]:
        """``(path, kind, chunks)`` of every stored file."""
        return await self._run(self._files)

    def _files(self) -> list[tuple[str, str, int]]:
        rows = self._db.execute(
            "SELECT f.path, f.kind, (SELECT count(*) FROM chunks c WHERE c.file_id = f.id) "
            "FROM files f ORDER BY f.path"
        )
        return [(str(p), str(k), int(n)) for p, k, n in rows]

    async def stats(self) -> StoreStats:
        return await self._run(self._stats)

    def _stats(self) -> StoreStats:
        def count(sql: str) -> int:
            return int(self._db.execute(sql).fetchone()[0])

        return StoreStats(
            files=count("SELECT count(*) FROM files"),
            chunks=count("SELECT count(*) FROM chunks"),
            own_chunks=count("SELECT count(*) FROM chunks WHERE by_persona = 1"),
            vectors=count("SELECT count(*) FROM chunks_vec"),
            voice_clips=count("SELECT count(*) FROM voice_clips"),
        )

    # ---------------------------------------------------------------------- search

    async def search(
        self,
        vector: Vectors | None,
        text: str,
        k: int = 5,
        *,
        by_persona: bool | None = None,
        kind: str | None = None,
        author: str | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        candidates: int | None = None,
    ) -> list[Passage]:
        """Hybrid search: FTS5 keyword ranks and vec0 cosine ranks fused by RRF."""
        return await self._run(
            self._search,
            vector,
            text,
            k,
            by_persona,
            kind,
            author,
            year_from,
            year_to,
            candidates or max(4 * k, 40),
        )

    def _search(  # noqa: PLR0917
        self,
        vector: Vectors | None,
        text: str,
        k: int,
        by_persona: bool | None,
        kind: str | None,
        author: str | None,
        year_from: int | None,
        year_to: int | None,
        candidates: int,
    ) -> list[Passage]:
        where = Filter(by_persona, kind, author, year_from, year_to)
        if self._db.execute("PRAGMA data_version").fetchone()[0] != self._data_version:
            _LOGGER.info("%s changed in another process: reloading its vectors", self.path)
            self._load_index()  # e.g. `familiar persona ingest` while the hub runs
        assert self._index is not None
        hits = self._index.search(vector, candidates, where) if vector is not None else None
        vector_ranks = [] if hits is None else [chunk_id for chunk_id, _ in hits.best]
        similarity = {} if hits is None else dict(hits.best)

        forms = self._forms(query_words(text), self._asked_in(text))
        weights = self._term_weights([form for group in forms for form in group])
        searched = [w for w in dict.fromkeys(f for g in forms for f in g) if weights[w] > 0.0]
        keyword_ranks = self._keyword_search(searched, where, candidates)
        groups = [(frozenset(g), max(weights[f] for f in g)) for g in forms if g]

        fused: dict[int, float] = {}
        for ranking in (vector_ranks, keyword_ranks):
            for rank, chunk_id in enumerate(ranking, start=1):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        if not best:
            return []
        vector_rank = {chunk_id: rank for rank, chunk_id in enumerate(vector_ranks, start=1)}
        keyword_rank = {chunk_id: rank for rank, chunk_id in enumerate(keyword_ranks, start=1)}
        marks = ",".join("?" * len(best))
        rows = {
            int(row[0]): row
            for row in self._db.execute(
                "SELECT id, text, citation, kind, author, date, subject, by_persona, recipient "
                f"FROM chunks WHERE id IN ({marks})",
                [chunk_id for chunk_id, _ in best],
            )
        }
        out = []
        for chunk_id, score in best:
            row = rows.get(chunk_id)
            if row is None:
                continue
            sim = similarity.get(chunk_id)
            out.append(
                Passage(
                    text=str(row[1]),
                    source=str(row[2]),
                    kind=str(row[3]),
                    author=row[4],
                    date=row[5],
                    subject=row[6],
                    recipient=row[8],
                    score=score,
                    by_persona=bool(row[7]),
                    similarity=sim,
                    keyword_hit=chunk_id in keyword_rank,
                    vector_rank=vector_rank.get(chunk_id),
                    keyword_rank=keyword_rank.get(chunk_id),
                    distinctiveness=None if sim is None or hits is None else hits.z(sim),
                    keyword_coverage=_coverage(groups, f"{row[6] or ''} {row[8] or ''} {row[1]}"),
                )
            )
        return out

    def _asked_in(self, text: str) -> str:
        """The language of a question, among the persona's; English without them."""
        if not any(code != "en" for code in self.languages):
            return "en"
        return question_language(text, ["en", *self.languages])

    def _forms(self, words: Sequence[str], language: str = "en") -> list[list[str]]:
        """Each question word with the forms to look it up by: itself and the files' words
        that are it in another form ("meet" -> "meetings", "cleaner" -> "cleaning"; see
        ``alike``), or for a word in another script that is in none of the files, the files'
        words that sound like it ("செல்வம்" -> "selvam", "ट्रेन" -> "train": names, places
        and loanwords keep their sound across scripts) and, for a Tamil or Hindi word of the
        home, its English ("சாவி" -> "key", "keys"; ``listed_english``). A question asked in another
        of the persona's languages also finds its words' forms in that language ("schenkst"
        -> "geschenk", ``stem``). A word in another script that is in none of the files,
        sounds like none of their words and is not listed has no form: what it means cannot
        be seen here, so it is neither searched nor counted against a passage's keyword
        coverage."""
        foreign = [w for w in words if romanised(w) is not None]
        held: set[str] = set()
        if foreign:
            marks = ",".join("?" * len(foreign))
            held = {
                str(row[0])
                for row in self._db.execute(
                    f"SELECT term FROM chunks_fts_terms WHERE term IN ({marks})", foreign
                )
            }
            if self._sounds is None:
                self._sounds = SoundIndex(
                    [str(row[0]) for row in self._db.execute("SELECT term FROM chunks_fts_terms")]
                )
        out = []
        for word in words:
            if word in foreign and word not in held:
                # A listed word is looked up by its English alone (the lexicon lists its
                # forms; inflected further, "plane" would find "plan"): by its sound,
                # "பரிசோதனை" (a check-up) found "first".
                meant = listed_english(word)
                sounds = self._sounds.lookup(word) if self._sounds and not meant else []
                out.append(list(meant) or sounds)
            else:
                forms = [word, *self._inflections(word), *self._stem_forms(word, language)]
                out.append(list(dict.fromkeys(forms)))
        return out

    def _stem_forms(self, word: str, language: str) -> list[str]:
        """The files' words with ``word``'s stem in ``language``, at most :data:`MAX_FORMS`."""
        key = stem(word, language)
        if key is None:
            return []
        found: list[str] = []
        for prefix in stem_prefixes(key, language):
            terms = self._terms_from(prefix, len(word) + MAX_STEM_GROWTH)
            found += [t for t in terms if t != word and stem(t, language) == key]
        return found[:MAX_FORMS]

    def _inflections(self, word: str) -> list[str]:
        """The files' words that are ``word`` in another form, at most :data:`MAX_FORMS`: they
        share its first letters but for the longest ending, so only those are read."""
        if len(word) < 3 or not word.isalpha():
            return []
        prefix = word[: max(3, len(word) - LONGEST_ENDING)]
        forms = self._terms_from(prefix, len(word) + LONGEST_ENDING)
        return [t for t in forms if t != word and alike(word, t)][:MAX_FORMS]

    def _terms_from(self, prefix: str, max_length: int) -> list[str]:
        """The files' words beginning with ``prefix``, at most ``max_length`` letters long (at
        most :data:`MAX_PREFIX_TERMS` of them)."""
        rows = self._db.execute(
            "SELECT term FROM chunks_fts_terms WHERE term >= ? AND term < ? "
            "AND length(term) <= ? LIMIT ?",
            (prefix, prefix + "\U0010ffff", max_length, MAX_PREFIX_TERMS),
        )
        return [str(row[0]) for row in rows]

    def _term_weights(self, words: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each query word in this store; 0 for a stop word of
        this store (see ``COMMON_TERM_FRACTION``), which is then not searched."""
        if not words:
            return {}
        marks = ",".join("?" * len(words))
        df = {
            str(term): int(docs)
            for term, docs in self._db.execute(
                f"SELECT term, doc FROM chunks_fts_terms WHERE term IN ({marks})", list(words)
            )
        }
        total = max(self._chunk_count, 1)
        common = max(COMMON_TERM_MIN_DOCS, COMMON_TERM_FRACTION * total)
        weights = {}
        for word in words:
            docs = df.get(word, 0)  # 0: in no chunk (or tokenised otherwise): still searched
            if docs > common:
                weights[word] = 0.0
            else:  # BM25's idf, always > 0
                weights[word] = math.log(1.0 + (total - docs + 0.5) / (docs + 0.5))
        return weights

    def _keyword_search(self, words: Sequence[str], where: Filter, limit: int) -> list[int]:
        query = _fts_query(words)
        if query is None:
            return []
        sql = (
            "SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ?"
        )
        args: list[Any] = [query]
        if where.by_persona is not None:
            sql += " AND c.by_persona = ?"
            args.append(int(where.by_persona))
        if where.kind is not None:
            sql += " AND c.kind = ?"
            args.append(where.kind)
        if where.author is not None:
            sql += " AND coalesce(c.author, '') = ?"
            args.append(where.author)
        year = "CAST(substr(coalesce(c.date, '0'), 1, 4) AS INTEGER)"
        if where.year_from is not None:
            sql += f" AND {year} >= ?"
            args.append(where.year_from)
        if where.year_to is not None:
            sql += f" AND {year} <= ?"
            args.append(where.year_to)
        sql += " ORDER BY chunks_fts.rank LIMIT ?"
        args.append(limit)
        return [int(row[0]) for row in self._db.execute(sql, args)]

    # ----------------------------------------------------------------------- names

    async def names(self, limit: int = 100) -> list[str]:
        """The names used most across the stored files (people, places, shops), most used
        first; a name counts once per file it is in, then by how often."""
        return await self._run(self._names, limit)

    def _names(self, limit: int) -> list[str]:
        db = self._db
        if db.execute("SELECT 1 FROM names LIMIT 1").fetchone() is None:
            self._backfill_names()  # a store ingested before names were kept
        rows = db.execute(
            "SELECT name FROM names GROUP BY name "
            "ORDER BY count(*) DESC, sum(count) DESC, name LIMIT ?",
            (limit,),
        )
        return [str(row[0]) for row in rows]

    def _backfill_names(self) -> None:
        counts: dict[int, Counter[str]] = {}
        for file_id, text, author in self._db.execute("SELECT file_id, text, author FROM chunks"):
            found = counts.setdefault(int(file_id), Counter())
            found.update(name_counts(str(text)))
            if author:
                found.update(author_names([str(author)]))
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO names(file_id, name, count) VALUES (?,?,?)",
                [(f, name, n) for f, found in counts.items() for name, n in found.items()],
            )

    # ----------------------------------------------------------------------- style

    async def own_texts(self) -> list[OwnText]:
        return await self._run(self._own_texts)

    def _own_texts(self) -> list[OwnText]:
        rows = self._db.execute(
            "SELECT o.body, o.greeting, o.sign_off FROM own_texts o "
            "JOIN files f ON f.id = o.file_id ORDER BY f.path, o.id"
        )
        return [OwnText(str(body), greeting, sign_off) for body, greeting, sign_off in rows]

    async def set_style(self, profile: StyleProfile | None) -> None:
        await self._run(self._set_style, profile)

    def _set_style(self, profile: StyleProfile | None) -> None:
        if profile is None:
            self._db.execute("DELETE FROM style")
            return
        self._db.execute(
            "INSERT OR REPLACE INTO style(id, profile, updated_at) VALUES (1, ?, ?)",
            (json.dumps(asdict(profile), ensure_ascii=False, sort_keys=True), _now()),
        )

    async def style(self) -> StyleProfile | None:
        return await self._run(self._style)

    def _style(self) -> StyleProfile | None:
        row = self._db.execute("SELECT profile FROM style WHERE id = 1").fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        known = StyleProfile.__dataclass_fields__
        return StyleProfile(**{key: value for key, value in data.items() if key in known})

    # ----------------------------------------------------------------- voice clips

    async def add_voice_clip(
        self,
        *,
        name: str,
        path: str,
        sha256: str,
        seconds: float,
        score: float,
        report: dict[str, Any],
    ) -> VoiceClipRecord:
        return await self._run(
            lambda: self._add_voice_clip(name, path, sha256, seconds, score, report)
        )

    def _add_voice_clip(  # noqa: PLR0917
        self,
        name: str,
        path: str,
        sha256: str,
        seconds: float,
        score: float,
        report: dict[str, Any],
    ) -> VoiceClipRecord:
        added_at = _now()
        cursor = self._db.execute(
            "INSERT INTO voice_clips(name, path, sha256, seconds, score, report, added_at) "
            "VALUES (?,?,?,?,?,?,?)",
            (name, path, sha256, seconds, score, json.dumps(report, sort_keys=True), added_at),
        )
        return VoiceClipRecord(
            int(cursor.lastrowid), name, path, sha256, seconds, score, added_at, report
        )

    async def voice_clips(self) -> list[VoiceClipRecord]:
        return await self._run(self._voice_clips)

    def _voice_clips(self) -> list[VoiceClipRecord]:
        rows = self._db.execute(
            "SELECT id, name, path, sha256, seconds, score, added_at, report FROM voice_clips "
            "ORDER BY id"
        )
        return [
            VoiceClipRecord(
                int(i), str(n), str(p), str(s), float(sec), float(sc), str(a), json.loads(r)
            )
            for i, n, p, s, sec, sc, a, r in rows
        ]

    async def remove_voice_clip(self, clip_id: int) -> None:
        await self._run(self._remove_voice_clip, clip_id)

    def _remove_voice_clip(self, clip_id: int) -> None:
        self._db.execute("DELETE FROM voice_clips WHERE id = ?", (clip_id,))
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ----------------------------------------------------------------- inspection

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only statement (tests and diagnostics)."""
        return await self._run(lambda: [tuple(r) for r in self._db.execute(sql, list(args))])
