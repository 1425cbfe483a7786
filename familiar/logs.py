"""Logging setup. Transcripts, prompts and answers are only ever logged at DEBUG."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT, force=True)
    # Chatty libraries stay at WARNING unless we are debugging ourselves.
    for name in ("faster_whisper", "zeroconf", "asyncio", "urllib3", "httpx"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
