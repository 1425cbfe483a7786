"""What the conductor needs from the brain."""

from __future__ import annotations

from typing import Protocol

from familiar_hub.brain.brain import Reply


class Responder(Protocol):
    """Answers a transcript: a :class:`Reply` yields sentences as they are ready, then tells
    whether the persona asked something back (listen again without the wake word)."""

    def respond(self, text: str, conversation_id: str | None = None) -> Reply: ...
