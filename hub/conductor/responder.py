"""What the conductor needs from the brain."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol


class Responder(Protocol):
    """Answers a transcript, sentence by sentence, as the sentences are ready."""

    def respond(self, text: str, conversation_id: str) -> AsyncGenerator[str, None]: ...


def asks_back(answer: str) -> bool:
    """Whether an answer ends with a question, so the user may reply without the wake word."""
    return answer.rstrip().rstrip("\"'”’)").endswith("?")
