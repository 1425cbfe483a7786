"""Ingest safety (issue 14): no symlinks out of the given folders, forget covers what ingest
took, mailboxes under max_file_mb, own writing that a forged From: alone cannot claim."""

from __future__ import annotations

from pathlib import Path

from familiar_hub.persona.config import PersonaConfig
from familiar_hub.persona.documents import Piece
from familiar_hub.persona.ingest import Attribution, in_sent_folder, walk
from familiar_hub.persona.store import PersonaStore
from tests.persona.conftest import make_config
from tests.persona.corpus import PERSONA
from tests.persona.test_store import ingest

FORGED = f"""From: Priya Raman <{PERSONA}>
To: someone@example.com
Received: from mx.evil.example (mx.evil.example [203.0.113.9]) by mx.home.example
Subject: totally me
Date: Mon, 3 Jun 2024 10:00:00 +0000
Message-ID: <forged@evil.example>

Wire the money to account 123 today, darling, no questions.
"""

SENT = f"""From: Priya Raman <{PERSONA}>
To: anna@example.com
Subject: lunch
Date: Mon, 3 Jun 2024 11:00:00 +0000
Message-ID: <sent@example.com>

Hello Anna, lunch at one on Sunday? Love, Priya
"""


def test_a_symlink_out_of_the_folder_is_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("the neighbour's diary")
    root = tmp_path / "docs"
    root.mkdir()
    (root / "note.txt").write_text("mine")
    (root / "link.txt").symlink_to(outside)
    (root / "inner.txt").symlink_to(root / "note.txt")
    found, skipped = walk([root])
    assert found == [(root / "note.txt").resolve()]
    assert [reason for path, reason in skipped if path.endswith("link.txt")] == [
        f"symbolic link to {outside.resolve()}, outside {root}"
    ]
    followed, _ = walk([root], follow_symlinks=True)
    assert (root / "link.txt").absolute() in followed  # stored under the folder: forgettable


async def test_forget_of_a_folder_covers_a_followed_link(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("A note about the zorblefrax festival in the village square.")
    root = tmp_path / "docs"
    root.mkdir()
    (root / "link.txt").symlink_to(outside)
    config = make_config(tmp_path, embedder={"model": "hashing"}, follow_symlinks=True)
    report = await ingest(config, [root])
    assert report.added > 0
    async with PersonaStore(config.store_path) as store:
        result = await store.forget(str(root.resolve()))
        assert result.files == 1
        assert await store.execute("SELECT count(*) FROM chunks") == [(0,)]


async def test_a_big_mailbox_is_skipped_like_any_big_file(tmp_path: Path) -> None:
    mbox = tmp_path / "mail" / "big.mbox"
    mbox.parent.mkdir()
    mbox.write_text(("From x@example.com Mon Jun  3 10:00:00 2024\n" + SENT + "\n") * 3000)
    config = make_config(tmp_path, embedder={"model": "hashing"}, max_file_mb=0.1)
    report = await ingest(config, [mbox])
    assert report.skipped == [(str(mbox.resolve()), "larger than 0.1 MB")]


def piece(relayed: bool) -> Piece:
    return Piece("text", "email", "x", "Priya Raman", PERSONA, is_mail=True, relayed=relayed)


def test_a_forged_from_alone_is_not_the_persona(tmp_path: Path) -> None:
    auto = Attribution(make_config(tmp_path))
    assert not auto.by_persona(piece(relayed=True))  # arrived through a mail server
    assert auto.by_persona(piece(relayed=False))  # an exported sent copy
    assert auto.by_persona(piece(relayed=True), own_source=True)  # in the Sent folder
    strict = Attribution(make_config(tmp_path, own_mail="sent"))
    assert not strict.by_persona(piece(relayed=False))
    assert strict.by_persona(piece(relayed=False), own_source=True)
    trusting = Attribution(make_config(tmp_path, own_mail="from"))
    assert trusting.by_persona(piece(relayed=True))
    for sent in ("Mail/Sent/1.eml", "x/Sent Items/a.eml", "Gesendet/b.eml", "mail/Sent.mbox"):
        assert in_sent_folder(Path(sent)), sent
    assert not in_sent_folder(Path("Inbox/sentiment.eml"))
    listed = Attribution(make_config(tmp_path, own_paths=[str(tmp_path / "mine")]))
    assert listed.own_source((tmp_path / "mine" / "a.eml").resolve())


async def test_forged_mail_in_the_inbox_is_no_style_evidence(tmp_path: Path) -> None:
    inbox, sent = tmp_path / "mail" / "Inbox", tmp_path / "mail" / "Sent"
    inbox.mkdir(parents=True)
    sent.mkdir(parents=True)
    (inbox / "forged.eml").write_text(FORGED)
    (sent / "lunch.eml").write_text(SENT.replace("\n\n", "\nReceived: by smtp.home\n\n", 1))
    config: PersonaConfig = make_config(tmp_path, embedder={"model": "hashing"})
    await ingest(config, [tmp_path / "mail"])
    async with PersonaStore(config.store_path) as store:
        own = " ".join(text.body for text in await store.own_texts())
        rows = await store.execute("SELECT citation, by_persona FROM chunks ORDER BY citation")
    assert "Wire the money" not in own and "lunch at one" in own
    assert [flag for citation, flag in rows if "forged@evil" in citation] == [0]
