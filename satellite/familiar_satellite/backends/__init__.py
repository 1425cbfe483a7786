"""Engines: the only modules that import wake word and VAD libraries (lazily, on demand)."""
