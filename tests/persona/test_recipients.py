"""A mail's recipients are indexed with its chunks: "when does the chess club meet?" finds the
report the persona sent *to* the club, and a store written before they were indexed gains them
on the next ingest without embedding anything again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from familiar_hub.brain.prompt import passages_block
from familiar_hub.persona.backends.hashing import HashingEmbedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.documents import recipients
from familiar_hub.persona.ingest import Ingestor, IngestReport
from familiar_hub.persona.retriever import PersonaRetriever
from familiar_hub.persona.store import SCHEMA_VERSION, PersonaStore
from tests.persona.conftest import make_config
from tests.persona.corpus import mail

SENT = datetime(2025, 8, 20, 14, 35, tzinfo=UTC)


def test_recipients_are_names_or_bare_addresses() -> None:
    assert (
        recipients("Morningside Chess Club <secretary@chess.example>") == "Morningside Chess Club"
    )
    assert (
        recipients("Ann <a@x.example>, B@X.example", 'Ann <ann@y.example>, "Bo  Li" <b@z.example>')
        == "Ann, b@x.example, Bo Li"
    )
    assert recipients(None, "") is None
    many = ", ".join(f"p{i}@x.example" for i in range(40))
    assert recipients(many) == ", ".join(f"p{i}@x.example" for i in range(8))


class CountingEmbedder(HashingEmbedder):
    texts = 0

    async def embed(self, texts: list[str]):  # type: ignore[no-untyped-def]
        CountingEmbedder.texts += len(texts)
        return await super().embed(texts)


def write_mails(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    report = mail(
        "Harold Voss <h.voss@example.org>",
        "Morningside Chess Club <secretary@chess.example>",
        "Treasurer's report",
        "Dear Secretary,\n\nBalance 1,214. Meetings continue on Thursdays at 19:00.\n\n"
        "Regards,\nH. Voss",
        "harold-005@example.org",
        SENT,
    )
    (folder / "report.eml").write_bytes(bytes(report))
    other = mail(
        "Harold Voss <h.voss@example.org>",
        "Mrs Henderson <henderson@example.net>",
        "Key",
        "Mrs Henderson,\n\nThe spare key stays with you while I am away.\n\nRegards,\nH. Voss",
        "harold-022@example.org",
        SENT,
    )
    (folder / "key.eml").write_bytes(bytes(other))


async def ingest(config: PersonaConfig, folder: Path) -> IngestReport:
    async with (
        CountingEmbedder() as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
        Ingestor(config, store, embedder) as ingestor,
    ):
        return await ingestor.ingest([folder])


async def search(config: PersonaConfig, question: str) -> list[str | None]:
    async with (
        HashingEmbedder() as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
    ):
        hits = await PersonaRetriever(store, embedder).search(question, k=2)
        return [p.recipient for p in hits if p.keyword_hit]


async def test_a_recipient_is_found_by_keyword(tmp_path: Path) -> None:
    config = make_config(tmp_path, addresses=["h.voss@example.org"])
    write_mails(tmp_path / "mail")
    await ingest(config, tmp_path / "mail")
    assert await search(config, "When does the chess club meet?") == ["Morningside Chess Club"]
    async with (
        HashingEmbedder() as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
    ):
        hits = await PersonaRetriever(store, embedder).search("chess club", k=1)
    assert hits[0].recipient == "Morningside Chess Club"
    block = passages_block(hits, 700)  # searched, not shown: the 0.5B gave it to "who?"
    assert "from: you;" in block and "Morningside" not in block


def downgrade_to_schema_1(path: Path) -> None:
    """Make the store what Familiar wrote before recipients were indexed (schema 1)."""
    import pysqlite3.dbapi2 as sqlite  # type: ignore[import-untyped]
    import sqlite_vec

    db = sqlite.connect(path)
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.executescript(
        """
        DROP TRIGGER chunks_fts_insert; DROP TRIGGER chunks_fts_delete;
        DROP TRIGGER chunks_fts_update; DROP TABLE chunks_fts_terms; DROP TABLE chunks_fts;
        ALTER TABLE chunks DROP COLUMN recipient;
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
            text, subject, author, content='chunks', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2');
        CREATE VIRTUAL TABLE chunks_fts_terms USING fts5vocab(chunks_fts, 'row');
        CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text, subject, author)
            VALUES (new.id, new.text, new.subject, new.author);
        END;
        CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, subject, author)
            VALUES ('delete', old.id, old.text, old.subject, old.author);
        END;
        INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
        UPDATE meta SET value = '1' WHERE key = 'schema';
        """
    )
    db.commit()
    db.close()


async def test_an_old_store_gains_recipients_without_embedding_again(tmp_path: Path) -> None:
    config = make_config(tmp_path, addresses=["h.voss@example.org"])
    write_mails(tmp_path / "mail")
    first = await ingest(config, tmp_path / "mail")
    downgrade_to_schema_1(config.store_path)

    # opened by this Familiar: upgraded in place, text search intact, recipients not known yet
    async with PersonaStore(config.store_path) as store:
        assert await store.execute("SELECT value FROM meta WHERE key = 'schema'") == [
            (SCHEMA_VERSION,)
        ]
    assert await search(config, "Thursdays") == [None]
    assert await search(config, "chess club") == []

    CountingEmbedder.texts = 0
    again = await ingest(config, tmp_path / "mail")
    assert CountingEmbedder.texts == 0  # the mail was read again, nothing embedded
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.added)
    assert await search(config, "When does the chess club meet?") == ["Morningside Chess Club"]


async def test_a_store_from_a_newer_familiar_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from familiar.errors import PersonaStoreError

    config = make_config(tmp_path)
    async with PersonaStore(config.store_path, 8, "hashing-8"):
        pass
    db = sqlite3.connect(config.store_path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    try:
        async with PersonaStore(config.store_path):
            raise AssertionError("opened")
    except PersonaStoreError as err:
        assert "schema 99" in str(err)
