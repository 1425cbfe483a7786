"""Ingest into a real SQLite store (sqlite-vec + FTS5) with the torch-free hashing embedder."""

from __future__ import annotations

import stat
from pathlib import Path

from familiar_hub.persona.backends.hashing import HashingEmbedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.ingest import Ingestor, IngestReport, refresh_style
from familiar_hub.persona.retriever import PersonaRetriever
from familiar_hub.persona.store import PersonaStore

TABLES = ("files", "chunks", "chunks_vec", "own_texts")


async def ingest(config: PersonaConfig, paths: list[Path]) -> IngestReport:
    async with (
        HashingEmbedder() as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
        Ingestor(config, store, embedder) as ingestor,
    ):
        return await ingestor.ingest(paths)


async def test_ingest_reports_attribution_and_skips(
    config: PersonaConfig, corpus: dict[str, Path]
) -> None:
    report = await ingest(config, [corpus["root"]])
    skipped = dict(report.skipped)
    assert "corrupt PDF" in skipped[str(corpus["corrupt"].resolve())]
    assert report.files_read == 7  # 3 mails/mboxes + pdf + docx + md + truncated mbox
    assert report.added > 0 and report.removed == 0 and report.unchanged == 0
    async with PersonaStore(config.store_path) as store:
        rows = await store.execute("SELECT citation, author, by_persona, kind FROM chunks")
        by_citation = {r[0].rsplit("/", 1)[-1]: r for r in rows}
        assert by_citation["reply.eml#reply-1@example.org"][1:] == ("Priya Raman", 1, "email")
        assert by_citation["incoming.eml#budget-1@example.net"][1:] == ("Meena Iyer", 0, "email")
        assert by_citation["archive.mbox#bike-1@example.com"][2] == 0
        assert by_citation["archive.mbox#fwd-1@example.org"][2] == 1
        assert by_citation["solar.pdf"][1:] == ("Priya Raman", 1, "pdf")  # author in names
        assert by_citation["allotment.docx"][2] == 0
        # the PDF attached to the persona's mail is ingested, credited to the sender
        assert by_citation["itinerary.pdf"][1:] == ("Priya Raman", 1, "pdf")
        texts = " ".join(r[0] for r in await store.execute("SELECT text FROM chunks"))
        for gone in ("QUOTEDSECRET", "OUTLOOKQUOTED", "FORWARDEDBODY", "confidential"):
            assert gone not in texts
        for kept in ("zorblefrax", "glimmerwick", "Quillwort tomatoes | Bed nine", "HEADERMARK"):
            assert kept in texts
        style = await store.style()
        assert style is not None and "Hi Arun," in style.greetings
        assert "Cheers, Priya" in style.sign_offs and "Cheers," in style.farewells
        assert "ta" in style.languages
        counts = [(await store.execute(f"SELECT count(*) FROM {t}"))[0][0] for t in TABLES]
        assert counts[1] == counts[2]  # one vector per chunk


async def test_reingest_is_incremental_and_idempotent(
    config: PersonaConfig, corpus: dict[str, Path]
) -> None:
    first = await ingest(config, [corpus["root"]])
    again = await ingest(config, [corpus["root"]])
    assert again.added == 0 and again.removed == 0
    assert again.unchanged == first.added

    notes = corpus["notes"]
    notes.write_text(notes.read_text() + "\nAdd curry leaves at the very end.\n")
    changed = await ingest(config, [notes])
    assert (changed.added, changed.removed) == (1, 1)  # one chunk rewritten, nothing else
    async with PersonaStore(config.store_path) as store:
        stats = await store.stats()
        assert stats.chunks == first.added and stats.vectors == first.added


async def test_forget_leaves_no_trace(config: PersonaConfig, corpus: dict[str, Path]) -> None:
    await ingest(config, [corpus["root"]])
    async with PersonaStore(config.store_path) as store:
        before = await store.stats()
        result = await store.forget(str(corpus["mbox"].resolve()))
        await refresh_style(store)
        assert result.files == 1 and result.chunks == 2
        assert (await store.stats()).chunks == before.chunks - 2
        assert (
            await store.execute("SELECT * FROM chunks WHERE citation LIKE '%archive.mbox%'") == []
        )
        vocabulary = "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'chunks_fts', 'row')"
        await store.execute(vocabulary)
        terms = {r[0] for r in await store.execute("SELECT term FROM temp.vocab")}
        assert "panniers" not in terms and "solreenga" not in terms
        assert "zorblefrax" in terms
        await store.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
        chunk_ids = {r[0] for r in await store.execute("SELECT id FROM chunks")}
        vec_ids = {r[0] for r in await store.execute("SELECT chunk_id FROM chunks_vec")}
        assert chunk_ids == vec_ids
        style = await store.style()
        assert style is not None and "Hey all" not in style.greetings  # learned from the mbox
        # a whole folder at once
        result = await store.forget(str(corpus["root"].resolve()))
        await refresh_style(store)
        for table in (*TABLES, "style"):
            assert await store.execute(f"SELECT count(*) FROM {table}") == [(0,)]
        assert await store.execute("SELECT count(*) FROM temp.vocab") == [(0,)]
    raw = config.store_path.read_bytes()
    assert b"zorblefrax" not in raw and b"panniers" not in raw  # secure_delete + checkpoint


async def test_store_files_are_private(config: PersonaConfig, corpus: dict[str, Path]) -> None:
    await ingest(config, [corpus["notes"]])
    assert stat.S_IMODE(config.store_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.store_path.parent.stat().st_mode) == 0o700


async def test_hybrid_search_filters_and_citations(
    config: PersonaConfig, corpus: dict[str, Path]
) -> None:
    await ingest(config, [corpus["root"]])
    async with (
        HashingEmbedder() as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
    ):
        retriever = PersonaRetriever(store, embedder)
        hits = await retriever.search("zorblefrax", k=3)
        assert "zorblefrax" in hits[0].text and hits[0].keyword_hit
        assert hits[0].source.endswith("reply.eml#reply-1@example.org")
        assert hits[0].date == "2024-03-05T09:30:00+00:00" and hits[0].subject == "Re: Kodaikanal"
        theirs = await retriever.search("bicycle gears", k=5, by_persona=False)
        assert theirs and all(not p.by_persona for p in theirs)
        assert "bicycle" in theirs[0].text
        old = await retriever.search("bicycle gears", k=5, year_to=2022)
        assert old and all((p.date or "")[:4] <= "2022" for p in old)
        docx = await retriever.search("bicycle", k=5, kind="docx")
        assert [p.kind for p in docx] == ["docx"]  # the one docx chunk, found by its vector
        assert await retriever.search("!!!", k=3) == []  # no words, no direction: nothing


async def test_a_store_built_with_another_embedder_is_refused(
    config: PersonaConfig, corpus: dict[str, Path]
) -> None:
    from familiar.errors import PersonaStoreMismatch

    await ingest(config, [corpus["notes"]])
    try:
        async with PersonaStore(config.store_path, 384, "st:all-minilm-l6-v2"):
            raise AssertionError("opened")
    except PersonaStoreMismatch as err:
        assert "hashing-384" in str(err)
