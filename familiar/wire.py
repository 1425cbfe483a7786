"""Wyoming framing with caps, decoded at the edge.

A frame is a JSON header line, then optionally ``data_length`` bytes of JSON data and
``payload_length`` bytes of binary payload. Unlike ``wyoming.event.async_read_event``, a
malformed or oversize frame raises :class:`ProtocolError` instead of looking like a clean EOF,
and nothing larger than the configured caps is ever read into memory.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import wyoming
from wyoming.event import Event

from familiar.errors import ProtocolError
from familiar.tasks import bounded

WYOMING_VERSION: str = wyoming.__version__
"""The protocol version we speak: the installed ``wyoming`` package's, as its own writer sends."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one frame may carry."""

    max_header_bytes: int = 64 * 1024
    """Longest header line (the stream reader's buffer limit)."""

    max_data_bytes: int = 1 << 20
    """Largest JSON data block."""

    max_payload_bytes: int = 8 << 20
    """Largest binary payload."""


DEFAULT_LIMITS = Limits()


def _length(header: dict[str, Any], key: str, cap: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{key} must be a non-negative integer, got {value!r}")
    if value > cap:
        raise ProtocolError(f"{key} {value} exceeds the limit of {cap} bytes")
    return value


async def read_event(reader: asyncio.StreamReader, limits: Limits = DEFAULT_LIMITS) -> Event | None:
    """Read one event; None on a clean EOF between frames."""
    line = b""
    while not line.strip():  # blank lines between frames are tolerated
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as err:
            if not err.partial.strip():
                return None
            raise ProtocolError("connection closed in the middle of a header") from err
        except asyncio.LimitOverrunError as err:
            raise ProtocolError(f"header line longer than {limits.max_header_bytes} bytes") from err

    try:
        header = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"header is not JSON: {err}") from err
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ProtocolError("header has no event type")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise ProtocolError(f"{event_type}: data is not a JSON object")

    data_length = _length(header, "data_length", limits.max_data_bytes)
    payload_length = _length(header, "payload_length", limits.max_payload_bytes)
    try:
        if data_length:
            raw = await reader.readexactly(data_length)
            try:
                extra = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise ProtocolError(f"{event_type}: data block is not JSON: {err}") from err
            if not isinstance(extra, dict):
                raise ProtocolError(f"{event_type}: data block is not a JSON object")
            data = {**data, **extra}
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError as err:
        raise ProtocolError(f"{event_type}: connection closed in the middle of a frame") from err
    return Event(type=event_type, data=data, payload=payload)


def encode_event(event: Event) -> bytes:
    """Serialise an event into one frame."""
    header: dict[str, Any] = {"type": event.type, "version": WYOMING_VERSION}
    data_bytes = b""
    if event.data:
        data_bytes = json.dumps(event.data, ensure_ascii=False).encode("utf-8")
        header["data_length"] = len(data_bytes)
    if event.payload:
        header["payload_length"] = len(event.payload)
    frame = json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + data_bytes
    if event.payload:
        frame += event.payload
    return frame


async def write_event(writer: asyncio.StreamWriter, event: Event, timeout: float = 10.0) -> None:
    """Write one frame and wait (bounded) until the peer has taken it."""
    writer.write(encode_event(event))
    await bounded(writer.drain(), timeout)
