"""Readers: Outlook mapping (stand-in message object), HTML mail, and the CLI end to end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from familiar.cli import main
from familiar_hub.persona.documents import html_to_text, outlook_pieces
from tests.persona.corpus import make_pdf


@dataclass
class Attachment:
    longFilename: str
    data: bytes


@dataclass
class OutlookMessage:
    """The attributes of ``extract_msg.Message`` that the reader uses."""

    sender: str | None
    date: datetime | None
    subject: str | None
    body: str
    messageId: str | None
    attachments: list[Attachment] = field(default_factory=list)


def test_outlook_message_with_missing_sender_and_date() -> None:
    message = OutlookMessage(None, None, "Minutes", "Hi all,\n\nMinutes attached.", None)
    [piece] = list(outlook_pieces(message, "/m/minutes.msg"))
    assert (piece.author, piece.address, piece.date) == (None, None, None)
    assert piece.source == "/m/minutes.msg" and piece.is_mail


def test_outlook_message_with_sender_and_pdf_attachment() -> None:
    message = OutlookMessage(
        "Priya Raman <Priya@Example.org>",
        datetime(2024, 1, 2, 3, 4),
        "Plan",
        "See the plan.",
        "<abc@example.org>",
        [Attachment("plan.pdf", make_pdf(["The plan is to plant neem trees."]))],
    )
    body, attachment = list(outlook_pieces(message, "/m/plan.msg"))
    assert (body.author, body.address) == ("Priya Raman", "priya@example.org")
    assert body.date == "2024-01-02T03:04:00+00:00" and body.source == "/m/plan.msg#abc@example.org"
    assert attachment.kind == "pdf" and "neem trees" in attachment.text
    assert attachment.source == "/m/plan.msg#abc@example.org/plan.pdf"


def test_html_mail_drops_quoted_blocks() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><p>New&nbsp;text</p>"
        '<blockquote>old text</blockquote><div class="gmail_quote">older</div></body></html>'
    )
    text = html_to_text(html)
    assert "New" in text and "old text" not in text and "older" not in text


def test_cli_ingest_search_style_forget(
    tmp_path: Path, corpus: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "persona.yaml"
    config.write_text(
        "addresses: [priya@example.org]\nnames: [Priya Raman]\n"
        f"store: {tmp_path / 'db' / 'p.db'}\nembedder: {{model: hashing}}\n"
    )
    base = ["persona", "-c", str(config)]
    assert main([*base, "ingest", str(corpus["root"])]) == 0
    out = capsys.readouterr().out
    assert "files read: 7" in out and "corrupt PDF" in out and "removed: 0" in out
    assert main([*base, "ingest", str(corpus["root"])]) == 0
    assert "chunks added: 0, removed: 0" in capsys.readouterr().out
    assert main([*base, "search", "zorblefrax"]) == 0
    out = capsys.readouterr().out
    assert "reply.eml#reply-1@example.org" in out and "2024-03-05" in out
    assert main([*base, "style"]) == 0
    assert "Cheers" in capsys.readouterr().out
    assert main([*base, "forget", str(corpus["reply"])]) == 0
    assert "forgot 1 file(s), 2 chunk(s)" in capsys.readouterr().out
    assert main([*base, "search", "zorblefrax"]) in (0, 1)
    assert "zorblefrax" not in capsys.readouterr().out
