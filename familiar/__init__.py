"""Familiar: what the hub and the satellites share (wire, config, audio, discovery)."""

__version__ = "0.1.0"
