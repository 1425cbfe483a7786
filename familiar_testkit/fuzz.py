"""Fuzz targets: what a peer or a file may throw at us, and the only ways we may fail.

Each target takes raw bytes and either returns or raises one of the errors we raise on
purpose; anything else (a ``KeyError``, a ``ZeroDivisionError``, a hang) is a bug. The same
targets run briefly under Hypothesis in the default test suite (``tests/test_fuzz.py``) and
for as long as you like under atheris, coverage-guided (``bench/fuzz.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from familiar.config import read_yaml
from familiar.edge import EventRejected, check_event
from familiar.errors import ConfigError, ProtocolError
from familiar.wire import Limits, encode_event, read_event

LIMITS = Limits(max_header_bytes=4096, max_data_bytes=4096, max_payload_bytes=65536)

EVENT_TYPES = [
    "audio-start",
    "audio-chunk",
    "audio-stop",
    "transcribe",
    "transcript",
    "synthesize",
    "synthesize-start",
    "synthesize-chunk",
    "synthesize-stop",
    "run-pipeline",
    "run-satellite",
    "ping",
    "pong",
    "describe",
    "error",
    "timer-started",
    "timer-finished",
    "familiar-pair-hello",
    "familiar-pair-proof",
]


def wire(data: bytes) -> int:
    """Frames from a peer: read until EOF; returns the events read and accepted by the edge."""
    return asyncio.run(_wire(data))


async def _wire(data: bytes) -> int:
    reader = asyncio.StreamReader(limit=LIMITS.max_header_bytes)
    reader.feed_data(data)
    reader.feed_eof()
    accepted = 0
    while True:
        try:
            event = await read_event(reader, LIMITS)
        except ProtocolError:
            return accepted  # the connection would be closed here
        if event is None:
            return accepted
        try:
            check_event(event)
        except EventRejected:
            continue  # an error event; the connection goes on
        encode_event(event)  # whatever we accepted, we can also write back
        accepted += 1


def frame(event_type: str, data: object, payload: bytes = b"") -> bytes:
    """A frame with any JSON as data (not only what a well-behaved peer sends)."""
    header: dict[str, object] = {"type": event_type, "data": data}
    if payload:
        header["payload_length"] = len(payload)
    return json.dumps(header).encode() + b"\n" + payload


def document(data: bytes, suffix: str) -> int:
    """A file of ``suffix`` with ``data`` in it, read and prepared as ingest does."""
    from familiar_hub.persona.config import PersonaConfig
    from familiar_hub.persona.documents import UnreadableFile, read_file
    from familiar_hub.persona.ingest import Attribution, prepare_pieces

    config = PersonaConfig(addresses=["me@example.com"], names=["Me"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            pieces = list(read_file(path))
        except UnreadableFile:
            return 0
        prepared = prepare_pieces(pieces, config, Attribution(config), path)
        return len(prepared.chunks)


def config_file(data: bytes) -> None:
    """A configuration file: read as YAML (the models validate whatever comes out)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hub.yaml"
        path.write_bytes(data)
        with contextlib.suppress(ConfigError):  # one clear report: fine
            read_yaml(path)


DOCUMENT_SUFFIXES = [".eml", ".mbox", ".txt", ".md", ".pdf", ".docx"]


def seeds() -> dict[str, bytes]:
    """Small valid files of each kind, for mutation."""
    eml = (
        b"From: Me <me@example.com>\nTo: you@example.com\nSubject: hi\n"
        b"Date: Mon, 3 Jun 2024 10:00:00 +0000\nMessage-ID: <a@b>\n\n"
        b"Hello you,\n\nLunch on Sunday?\n\n> quoted\n\n-- \nMe\n"
    )
    out = {
        ".eml": eml,
        ".mbox": b"From me@example.com Mon Jun  3 10:00:00 2024\n" + eml,
        ".txt": "Plain text, caf\u00e9.\n\nSecond paragraph.".encode(),
        ".md": b"# Title\n\n* item\n\n[link](http://x) **bold**\n",
    }
    try:
        from docx import Document
        from pypdf import PdfWriter

        pdf = io.BytesIO()
        writer = PdfWriter()
        writer.add_blank_page(72, 72)
        writer.add_metadata({"/Author": "Me", "/Title": "t"})
        writer.write(pdf)
        out[".pdf"] = pdf.getvalue()
        docx = io.BytesIO()
        doc = Document()
        doc.add_paragraph("A paragraph in a document.")
        doc.save(docx)
        out[".docx"] = docx.getvalue()
    except ImportError:
        pass
    return out


TARGETS: dict[str, Callable[[bytes], object]] = {
    "wire": wire,
    "config": config_file,
    **{f"document{suffix}": (lambda d, s=suffix: document(d, s)) for suffix in DOCUMENT_SUFFIXES},
}
