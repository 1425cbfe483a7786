"""Audio of short texts spoken before, kept to be spoken again at once.

A home assistant says the same few things all day ("The kitchen light is on now.", "Done."):
a synthesis of a short text is kept in memory (least recently used first out, bounded in
bytes) and replayed when the same text is asked for again. Longer texts (most answers from
the persona's files) are not kept: they rarely repeat. What is kept lives in this process's
memory only. Piper alone uses it: its voice never changes while the hub runs (a cloned XTTS
voice changes with the persona's clips).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from familiar_hub.tts.backend import SpeechAudio


class PhraseCache:
    """Whole syntheses of texts of at most ``max_chars``, at most ``max_bytes`` of audio."""

    def __init__(self, max_chars: int, max_bytes: int) -> None:
        self.max_chars = max_chars
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[SpeechAudio, ...]] = OrderedDict()
        self._bytes = 0

    def wanted(self, text: str) -> bool:
        """Whether a synthesis of ``text`` would be kept."""
        return 0 < len(text) <= self.max_chars and self.max_bytes > 0

    def get(self, text: str) -> tuple[SpeechAudio, ...] | None:
        pieces = self._entries.get(text)
        if pieces is not None:
            self._entries.move_to_end(text)
        return pieces

    def put(self, text: str, pieces: Sequence[SpeechAudio]) -> None:
        """Keep a *whole* synthesis of ``text`` (not one cut short)."""
        size = sum(len(p.pcm) for p in pieces)
        if not self.wanted(text) or size > self.max_bytes or text in self._entries:
            return
        self._entries[text] = tuple(pieces)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self._bytes -= sum(len(p.pcm) for p in old)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes
