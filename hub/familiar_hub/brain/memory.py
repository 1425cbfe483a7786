"""Per-conversation memory: a bounded window of turns, a bounded number of conversations,
forgotten after a while. Pure and clock-injected."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from familiar_hub.brain.home import Entity, HomeIntent


@dataclass(frozen=True)
class Turn:
    user: str
    answer: str


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    last_targets: tuple[Entity, ...] = ()
    """Devices of the last home command ("turn it off again")."""
    seen: float = 0.0
    pending: HomeIntent | None = None
    """A sensitive action asked about ("... Are you sure?"), waiting for a spoken yes."""
    pending_since: float = 0.0


class ConversationMemory:
    def __init__(
        self,
        max_turns: int,
        max_conversations: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_turns = max_turns
        self._max_conversations = max_conversations
        self._ttl = ttl
        self._clock = clock
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._conversations)

    def get(self, conversation_id: str) -> Conversation:
        """The conversation (new and empty if unknown or expired); marks it as recent."""
        now = self._clock()
        self._expire(now)
        conversation = self._conversations.pop(conversation_id, None) or Conversation()
        conversation.seen = now
        self._conversations[conversation_id] = conversation
        while len(self._conversations) > self._max_conversations:
            self._conversations.popitem(last=False)
        return conversation

    def add(self, conversation_id: str, turn: Turn) -> None:
        conversation = self.get(conversation_id)
        conversation.turns.append(turn)
        if self._max_turns == 0:
            conversation.turns.clear()
        else:
            del conversation.turns[: -self._max_turns]

    def _expire(self, now: float) -> None:
        while self._conversations:
            oldest_id, oldest = next(iter(self._conversations.items()))
            if now - oldest.seen < self._ttl:
                break
            del self._conversations[oldest_id]
