"""Names from the persona store reach the speech recogniser and are refreshed when the store
changes; with them Whisper hears a name it otherwise mishears."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from familiar_hub.asr.hotwords import HotwordFeeder
from familiar_hub.persona.backends.hashing import HashingEmbedder
from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.ingest import Ingestor
from familiar_hub.persona.names import hotword_text, name_counts
from familiar_hub.persona.retriever import PersonaRetriever
from familiar_hub.persona.store import PersonaStore


class RecordingAsr:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def set_hotwords(self, words: Sequence[str]) -> None:
        self.calls.append(list(words))


def test_names_are_capitalised_words_used_as_names() -> None:
    text = (
        "Madam, I fixed the kitchen tap for Selvam. Selvam will come on Thursday with Kumar "
        "from Adyar Hardware. Bring the Tap key. The tap is fine. Selvam's bill is Rs 850. "
        "Murugan says hello."
    )
    counts = name_counts(text)
    assert counts["Selvam"] == 3  # at a sentence start too, once known; "Selvam's" too
    assert {"Kumar", "Adyar", "Hardware"} <= set(counts)
    assert "Madam" not in counts and "Thursday" not in counts  # common capitalised words
    assert "Tap" not in counts  # written in lower case too: not a name
    assert "Bring" not in counts and "The" not in counts  # capitalised by a sentence start
    assert "Murugan" not in counts  # only ever at a sentence start: cannot tell


def test_hotword_prompt_is_a_finished_sentence_within_its_length() -> None:
    names = ["Selvam", "Kavitha", "Mylapore", "Velachery"]
    assert hotword_text(names, 200) == "Selvam, Kavitha, Mylapore, Velachery."
    assert hotword_text(names, 25) == "Selvam, Kavitha."  # what fits, full stop counted
    assert len(hotword_text(names, 25)) <= 25
    assert hotword_text([], 200) == ""


async def test_feeder_gives_the_store_names_and_refreshes_after_ingest(tmp_path: Path) -> None:
    mails = tmp_path / "mail"
    mails.mkdir()
    (mails / "a.txt").write_text("Ask Selvam about the geyser. Then tell Kavitha in Mylapore.\n")
    config = PersonaConfig(store=tmp_path / "p.db", embedder={"model": "hashing"})
    asr = RecordingAsr()
    async with (
        HashingEmbedder() as embedder,
        PersonaStore(config.store_path, embedder.dim, embedder.name) as store,
        Ingestor(config, store, embedder) as ingestor,
    ):
        await ingestor.ingest([mails])
        retriever = PersonaRetriever(store, embedder)
        async with HotwordFeeder(asr, retriever.names, interval=3600) as feeder:
            assert asr.calls == [["Kavitha", "Mylapore", "Selvam"]]
            assert not await feeder.refresh()  # nothing changed: the backend is left alone
            (mails / "b.txt").write_text("The plumber Selvam came while Valli was off.\n")
            await ingestor.ingest([mails])
            assert await feeder.refresh()
            assert asr.calls[-1][0] == "Selvam"  # in two files now: first
            assert "Valli" in asr.calls[-1]
            await store.forget(str((mails / "a.txt").resolve()))
            assert await feeder.refresh()
            assert "Kavitha" not in asr.calls[-1]


@pytest.mark.models
async def test_hotwords_reach_whisper_and_fix_a_misheard_name() -> None:
    from familiar_hub.asr.backends.faster_whisper import FasterWhisperAsr
    from familiar_hub.config import AsrConfig
    from familiar_testkit.speech import speak, words

    pcm = speak("Did Kavitha call about the function?")
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768
    async with FasterWhisperAsr(AsrConfig(model="whisper-base", workers=1)) as asr:
        plain = await asr.transcribe(audio, "en")
        asr.set_hotwords(["Selvam", "Kavitha", "Mylapore"])
        biased = await asr.transcribe(audio, "en")
        asr.set_hotwords([])
        again = await asr.transcribe(audio, "en")
    assert "kavitha" not in words(plain.text)  # Whisper base alone hears "give us a"
    assert "kavitha" in words(biased.text)
    assert again.text == plain.text  # cleared: back to the unbiased recogniser


@pytest.mark.models
async def test_hotwords_leave_a_home_command_as_it_was_said() -> None:
    """The names of the voice-loop bench's persona once made Whisper continue the list:
    "Turn on the kitchen light." was heard "and Pern on the Kitchen Light."."""
    from familiar_hub.asr.backends.faster_whisper import FasterWhisperAsr
    from familiar_hub.config import AsrConfig
    from familiar_testkit.speech import speak, words

    text = "Turn on the kitchen light."
    pcm = speak(text) + bytes(4800 * 2)  # and the 0.3 s pause it is transcribed at
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768
    async with FasterWhisperAsr(AsrConfig(model="whisper-base", workers=1)) as asr:
        asr.set_hotwords(["Azul", "Dune", "Harbour", "Lisbon", "Patel"])
        biased = await asr.transcribe(audio, "en")
    assert words(biased.text) == words(text)
