"""The store's search: the in-memory vector half stays equal to sqlite-vec's exact search
through commits, re-ingests, forgets and reopening; the keyword half skips this store's stop
words; ingestion embeds several files per call and reports each file in order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np

from familiar_hub.persona.backend import Vectors
from familiar_hub.persona.backends.hashing import HashingEmbedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.ingest import FileOutcome, Ingestor
from familiar_hub.persona.store import Chunk, PersonaStore

DIM = 32


def chunk(n: int, text: str, *, year: int = 2020, mine: bool = False) -> Chunk:
    return Chunk(
        text=text,
        citation=f"/mail/{n}.eml",
        kind="email",
        author="Priya" if mine else "Arun",
        address=None,
        by_persona=mine,
        date=f"{year}-01-01",
        subject=None,
        message_id=None,
        seq=n,
    )


@contextlib.asynccontextmanager
async def store_of(
    tmp_path: Path, texts: list[str], kind: str = "email", languages: Sequence[str] = ()
) -> AsyncIterator[PersonaStore]:
    """A store holding one file of these texts, one chunk each, hashed embeddings."""
    async with (
        HashingEmbedder(DIM) as embedder,
        PersonaStore(tmp_path / "s.db", DIM, embedder.name, languages=languages) as store,
    ):
        chunks = [chunk(i, t) for i, t in enumerate(texts)]
        vectors = dict(zip([c.hash for c in chunks], await embedder.embed(texts), strict=True))
        await store.commit_file(
            path="/m", kind=kind, sha256="x", size=0, chunks=chunks, vectors=vectors, own=[]
        )
        yield store


async def vec0_top(store: PersonaStore, query: np.ndarray, k: int) -> list[int]:
    rows = await store.execute(
        "SELECT chunk_id FROM chunks_vec WHERE embedding MATCH ? AND k = ? ORDER BY distance",
        [query.astype(np.float32).tobytes(), k],
    )
    return [int(r[0]) for r in rows]


async def index_top(store: PersonaStore, query: np.ndarray, k: int) -> list[int]:
    passages = await store.search(query, "", k, candidates=k)
    ids = []
    for p in passages:
        rows = await store.execute("SELECT id FROM chunks WHERE text = ?", [p.text])
        ids.append(int(rows[0][0]))
    return ids


async def add_file(
    store: PersonaStore, path: str, chunks: list[Chunk], rng: np.random.Generator
) -> None:
    vectors = {}
    for c in chunks:
        v = rng.standard_normal(DIM).astype(np.float32)
        vectors[c.hash] = v / np.linalg.norm(v)
    await store.commit_file(
        path=path, kind="email", sha256=path, size=0, chunks=chunks, vectors=vectors, own=[]
    )


async def test_vector_half_matches_sqlite_vec_through_changes_and_reopen(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    db = tmp_path / "store.db"
    queries = [q / np.linalg.norm(q) for q in rng.standard_normal((8, DIM)).astype(np.float32)]
    async with PersonaStore(db, DIM, "random") as store:
        for f in range(6):
            await add_file(
                store, f"/f{f}", [chunk(f * 100 + i, f"f{f} c{i}") for i in range(50)], rng
            )
        # a changed file: half its chunks replaced
        await add_file(
            store,
            "/f2",
            [chunk(200 + i, f"f2 c{i}") for i in range(25)]
            + [chunk(900 + i, f"f2 new{i}") for i in range(25)],
            rng,
        )
        await store.forget("/f4")
        for q in queries:
            assert await index_top(store, q, 10) == await vec0_top(store, q, 10)
        stats = await store.stats()
    async with PersonaStore(db) as store:  # reloaded from the file
        assert (await store.stats()).vectors == stats.vectors == 250
        for q in queries:
            assert await index_top(store, q, 10) == await vec0_top(store, q, 10)


async def test_filtered_search_returns_only_matching_chunks(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    async with PersonaStore(tmp_path / "s.db", DIM, "random") as store:
        chunks = [chunk(i, f"note {i}", year=2015 + i % 8, mine=i % 2 == 0) for i in range(80)]
        await add_file(store, "/all", chunks, rng)
        query = rng.standard_normal(DIM).astype(np.float32)
        hits = await store.search(
            query / np.linalg.norm(query), "note", 20, by_persona=True, year_from=2019
        )
        assert hits
        for p in hits:
            assert p.by_persona and p.date is not None and int(p.date[:4]) >= 2019


async def test_words_in_most_chunks_are_not_searched(tmp_path: Path) -> None:
    async with (
        HashingEmbedder(DIM) as embedder,
        PersonaStore(tmp_path / "s.db", DIM, embedder.name) as store,
    ):
        texts = [f"garden report number {i}" for i in range(2100)] + ["selvam fixed the tap"]
        chunks = [chunk(i, t) for i, t in enumerate(texts)]
        vectors = dict(zip([c.hash for c in chunks], await embedder.embed(texts), strict=True))
        await store.commit_file(
            path="/all", kind="email", sha256="x", size=0, chunks=chunks, vectors=vectors, own=[]
        )
        hits = await store.search(None, "garden selvam", 5)
        # "garden" is in 2100 of 2101 chunks: a stop word of this store, so only "selvam" ranks
        assert [p.text for p in hits] == ["selvam fixed the tap"]
        assert hits[0].keyword_coverage == 1.0 and hits[0].keyword_rank == 1
        assert await store.search(None, "garden", 5) == []


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting how many texts each call embeds."""

    def __init__(self) -> None:
        super().__init__(DIM)
        self.calls: list[int] = []

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        return await super().embed(texts)


async def test_ingest_embeds_across_files_and_reports_each_in_order(tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    for i in range(12):
        (corpus / f"{i:02d}.txt").write_text(f"Note {i} about the allotment and bed {i}.\n")
    (corpus / "empty.txt").write_text("   \n")
    config = PersonaConfig(store=tmp_path / "p.db", embedder={"model": "hashing"})
    seen: list[tuple[int, int, FileOutcome]] = []
    embedder = CountingEmbedder()
    async with (
        embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
        Ingestor(config, store, embedder) as ingestor,
    ):
        report = await ingestor.ingest([corpus], lambda d, t, o: seen.append((d, t, o)))
        assert report.added == 12 and report.files_read == 12
        assert embedder.calls == [12]  # one call for every file's chunks
        assert [d for d, _, _ in seen] == list(range(1, 14))
        assert all(t == 13 for _, t, _ in seen)
        names = [Path(o.path).name for _, _, o in seen]
        assert names == sorted(names)
        assert seen[-1][2].status == "skipped" and seen[-1][2].reason == "no text found"
        again = await ingestor.ingest([corpus])
        assert again.unchanged == 12 and again.added == 0
        assert embedder.calls == [12]  # nothing new: nothing embedded


async def test_changes_by_another_connection_reach_the_vector_half(tmp_path: Path) -> None:
    # `familiar persona ingest` in another process while the hub keeps its store open
    rng = np.random.default_rng(12)
    db = tmp_path / "shared.db"
    async with PersonaStore(db, DIM, "random") as hub, PersonaStore(db, DIM, "random") as cli:
        await add_file(hub, "/a", [chunk(i, f"a{i}") for i in range(5)], rng)
        await add_file(cli, "/b", [chunk(100 + i, f"b{i}") for i in range(5)], rng)
        query = rng.standard_normal(DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        assert await index_top(hub, query, 10) == await vec0_top(hub, query, 10)
        assert len(await index_top(hub, query, 10)) == 10
        await cli.forget("/a")
        assert {p.text for p in await hub.search(query, "", 10)} == {f"b{i}" for i in range(5)}


async def test_a_question_in_another_script_finds_names_and_loanwords_by_sound(
    tmp_path: Path,
) -> None:
    texts = [
        "Selvam the plumber comes on Thursday for the tap.",
        "Train tickets to Madurai are booked for the 14th.",
        "The wifi password is on the fridge.",
    ]
    async with store_of(tmp_path, texts) as store:
        # "when will Selvam come?" in Tamil script: its name found as "selvam"
        hits = await store.search(None, "செல்வம் எப்போ வருவார்?", 5)
        assert [p.text for p in hits] == [texts[0]]
        assert hits[0].keyword_rank == 1 and hits[0].keyword_coverage > 0.4
        hits = await store.search(None, "मदुरै की ट्रेन कब है?", 5)  # Hindi: Madurai, train
        assert hits[0].text == texts[1] and hits[0].keyword_coverage == 1.0
        # nothing in the files sounds like "the moon" or "the earth"
        assert await store.search(None, "चंद्रमा पृथ्वी से कितनी दूर है?", 5) == []


async def test_a_question_in_another_script_finds_the_words_of_the_home_by_their_english(
    tmp_path: Path,
) -> None:
    texts = [
        "Spare key-a blue flower pot keezha vechiruken, back door pakkathula.",
        "Amma-voda BP tablets are in the steel box on top of the fridge.",
        "Your broadband plan upgrades to 300 Mbps from 1 September.",
    ]
    async with store_of(tmp_path, texts) as store:
        # "where did you keep the key?": "சாவி" sounds like nothing in the files
        hits = await store.search(None, "சாவி எங்கே வைத்திருக்கிறாய்?", 5)
        assert [p.text for p in hits] == [texts[0]]
        assert hits[0].keyword_rank == 1 and hits[0].keyword_coverage == 1.0
        # "where are Amma's tablets?", with Tamil's endings on both words
        hits = await store.search(None, "அம்மாவின் மாத்திரைகள் எங்கே இருக்கின்றன?", 5)
        assert hits[0].text == texts[1] and hits[0].keyword_coverage == 1.0
        hits = await store.search(None, "दवाइयाँ कहाँ हैं?", 5)  # Hindi: where are the medicines?
        assert hits[0].text == texts[1]
        # "when is the Delhi flight?": "flight" is listed, but not "plane" -> "plan"
        assert await store.search(None, "டெல்லி விமானம் எப்போது?", 5) == []


async def test_a_listed_word_is_looked_up_by_its_english_not_its_sound(tmp_path: Path) -> None:
    texts = [
        "She comes back on Monday. If she comes to your house first, send her to me.",
        "Eye check at Aravind on 18 October, 10 am.",
    ]
    async with store_of(tmp_path, texts) as store:
        # "when is the eye check-up?": by its sound "பரிசோதனை" would be "first"; and "கண்"
        # (eye), a short word, is still a keyword
        hits = await store.search(None, "கண் பரிசோதனை எப்போது?", 5)
        assert [p.text for p in hits] == [texts[1]]
        assert hits[0].keyword_coverage == 1.0


async def test_words_of_an_indic_script_are_searched_whole(tmp_path: Path) -> None:
    texts = ["சாம்பார் செய்முறை: புளி எலுமிச்சை அளவு.", "சாம்பு வாங்கு, பால் வாங்கு."]
    async with store_of(tmp_path, texts, kind="note") as store:
        terms = {str(r[0]) for r in await store.execute("SELECT term FROM chunks_fts_terms")}
        assert {"சாம்பார்", "புளி", "சாம்பு"} <= terms  # not cut into "ச", "ம", "ப", ...
        hits = await store.search(None, "சாம்பார் புளி", 5)
        assert [p.text for p in hits] == [texts[0]]  # shares no whole word with the other
        assert hits[0].keyword_coverage == 1.0


async def test_a_question_finds_its_words_in_their_other_forms_and_only_those(
    tmp_path: Path,
) -> None:
    texts = [
        "Treasurer's report. Meetings continue on Thursdays at 19:00 in the library.",
        "Every fourth Tuesday, the window cleaning is £20, cash under the mat.",
        "The electricity bill went up again this quarter.",
        "Both cars are in the garage.",
    ]
    async with store_of(tmp_path, texts) as store:
        hits = await store.search(None, "When does the treasurer meet?", 5)
        assert hits[0].text == texts[0] and hits[0].keyword_coverage == 1.0  # meet ~ meetings
        hits = await store.search(None, "What does the window cleaner charge?", 5)
        assert hits[0].text == texts[1] and hits[0].keyword_coverage > 0.5  # cleaner ~ cleaning
        # the same first letters are not the same word: electrician is not electricity
        assert await store.search(None, "electrician", 5) == []
        assert [p.text for p in await store.search(None, "car", 5)] == [texts[3]]  # a plural


async def test_a_question_in_the_personas_other_language_finds_its_words_in_their_forms(
    tmp_path: Path,
) -> None:
    texts = [
        "Lieber Klaus, ich bringe dir ein Barometer mit. Betreff: Geschenk",
        "Lieber Klaus, die Feier ist im Fischereihafen, Beginn 18 Uhr.",
        "Klaus, mein Flug landet um 11:05.",
    ]
    question = "Was schenkst du Klaus?"
    (tmp_path / "en").mkdir()
    (tmp_path / "de").mkdir()
    async with store_of(tmp_path / "en", texts) as store:  # no German: "schenkst" is in no file
        hits = await store.search(None, question, 5)
        assert all(p.keyword_coverage < 1.0 for p in hits)
    async with store_of(tmp_path / "de", texts, languages=["en", "de"]) as store:
        hits = await store.search(None, question, 5)
        assert hits[0].text == texts[0] and hits[0].keyword_coverage == 1.0  # ~ Geschenk
        assert all(p.keyword_coverage < 1.0 for p in hits[1:])
        # an English question is not read as German: no German forms for it
        hits = await store.search(None, "What did you give Klaus?", 5)
        assert all(p.keyword_coverage < 1.0 for p in hits)
