"""The hub the benchmarks run in process: its persona store, its home and its config.

``bench/voice_loop_bench.py``, ``phone_bench.py``, ``endpoint_bench.py``, ``load_bench.py`` and
``page_wake_bench.py`` build their hub (or its web server) here, so that they measure the same
hub: the default models, the 20-email persona of :mod:`familiar_testkit.corpus`, lights on an
MQTT broker, satellites the conductor dials (:class:`SatelliteStub`), never discovery.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from wyoming.event import Event
from wyoming.info import Attribution, Info, Satellite
from wyoming.snd import Played

from familiar.config import load_config
from familiar.server import Connection
from familiar_hub.config import HubConfig
from familiar_testkit.corpus import write_eml_corpus
from familiar_testkit.processes import ROOT

KITCHEN_LIGHT = {"entity_id": "light.kitchen", "name": "Kitchen Light", "area": "Kitchen"}
BEDROOM_LAMP = {"entity_id": "light.bedroom", "name": "Bedroom Lamp", "area": "Bedroom"}


def build_persona(root: Path) -> Path:
    """The 20-email corpus written to ``root`` and ingested by ``familiar persona ingest``;
    the persona config's path."""
    config = write_eml_corpus(root)
    subprocess.run(
        [
            sys.executable,
            *("-m", "familiar", "--log-level", "WARNING", "persona", "-c", str(config)),
            *("ingest", str(root / "mail")),
        ],
        check=True,
        cwd=ROOT,
    )
    return config


def bench_web(state_dir: Path) -> dict[str, Any]:
    """The ``web`` settings of a bench hub: loopback, a free port, state in ``state_dir``."""
    return {"host": "127.0.0.1", "port": 0, "state_dir": str(state_dir)}


def bench_hub_config(
    persona: Path,
    satellite_ports: Sequence[int],
    broker_port: int,
    *,
    lights: Sequence[dict[str, str]] = (KITCHEN_LIGHT,),
    name_satellites: bool = False,
    llm: dict[str, Any] | None = None,
    asr: dict[str, Any] | None = None,
    web: dict[str, Any] | None = None,
) -> HubConfig:
    """An in-process hub with its default models, answering from ``persona``.

    ``lights`` are commanded over the MQTT broker on ``broker_port``; the conductor dials a
    satellite on each of ``satellite_ports`` (``name_satellites``: named ``bench0``,
    ``bench1``, ... rather than by the name they report). ``llm`` replaces the brain's LLM
    settings (backend, url, model); ``asr`` and ``web`` are those sections (None: the
    hub's defaults).
    """
    settings: dict[str, Any] = {
        "endpoint": {"uri": "tcp://127.0.0.1:0"},
        "zeroconf": {"enabled": False},
        "mqtt": {"host": "127.0.0.1", "port": broker_port},
        "brain": {
            "persona_config": str(persona),
            **(llm or {}),
            "home": {"entities": [dict(light) for light in lights], "mqtt": {}},
        },
        "conductor": {
            "discover": False,
            "satellites": [
                {"uri": f"tcp://127.0.0.1:{port}"}
                | ({"name": f"bench{n}"} if name_satellites else {})
                for n, port in enumerate(satellite_ports)
            ],
        },
    }
    if asr is not None:
        settings["asr"] = asr
    if web is not None:
        settings["web"] = web
    return load_config(HubConfig, None, settings)


class SatelliteStub:
    """A satellite-shaped Wyoming server the hub's conductor dials (one connection at a time).

    It describes itself as ``bench``, answers pings, sets ``ready`` when the conductor runs it,
    and on the answer's ``audio-stop`` sets ``done`` and sends ``played``. Every other event
    goes to :meth:`observe`; a bench streams its requests through ``conn``.
    """

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.ready = asyncio.Event()
        self.done = asyncio.Event()

    def __call__(self, conn: Connection) -> Self:
        self.conn = conn
        return self

    async def handle_event(self, event: Event) -> bool:
        assert self.conn is not None
        if event.type == "describe":
            attribution = Attribution(name="bench", url="")
            satellite = Satellite(
                name="bench",
                attribution=attribution,
                installed=True,
                description=None,
                version=None,
            )
            await self.conn.send(Info(satellite=satellite).event())
        elif event.type == "run-satellite":
            self.ready.set()
        elif event.type == "ping":
            await self.conn.send(Event(type="pong"))
        elif event.type == "audio-stop":
            self.done.set()
            await self.conn.send(Played().event())
        else:
            self.observe(event)
        return True

    def observe(self, event: Event) -> None:
        """Any event but the ones above (``transcript``, ``audio-chunk``, ...)."""

    async def disconnected(self) -> None:
        self.ready.clear()
