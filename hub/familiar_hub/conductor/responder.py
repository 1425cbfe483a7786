"""What the conductor needs from the brain."""

from __future__ import annotations

from typing import Protocol

from familiar_hub.brain.brain import Reply


class Responder(Protocol):
    """Answers a transcript: a :class:`Reply` yields sentences as they are ready, then tells
    whether the persona asked something back (listen again without the wake word)."""

    def respond(self, text: str, conversation_id: str | None = None) -> Reply: ...


class Endpointer(Protocol):
    """What the conductor asks at the speaker's pause (the local brain answers)."""

    async def complete(self, text: str) -> bool:
        """Is this transcript already the whole request? Unsure is False."""
        ...

    async def complete_command(self, text: str) -> bool:
        """Is this transcript already a whole home command? Unsure is False."""
        ...

    def anticipate(self, text: str, conversation_id: str | None) -> None:
        """Start work on what was said so far; kept if the final transcript is the same."""
        ...
