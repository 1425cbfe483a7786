"""Familiar's shared core: what the hub and the satellites share (Wyoming wire, server and
client, config loading, audio conversion, discovery, MQTT, tasks).

A leaf: it never imports ``familiar_hub`` or ``familiar_satellite``. The ``familiar`` command
(:mod:`familiar.cli`) finds the installed sides through entry points.
"""

__version__ = "0.1.0"
