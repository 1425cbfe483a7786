"""The hub on MQTT: one Home Assistant device with service health sensors (ASR, TTS, brain,
persona store size, satellites connected) and the hub-level ``announce`` text entity, whose
topic (``<base>/announce``) every satellite listens to.

It also keeps ``<base>/hub/satellites`` (retained): the satellites named in the hub's config.
When one disappears from the config, its discovery and retained state are removed, so Home
Assistant drops the device.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Self

from familiar.backoff import Backoff
from familiar.mqtt import (
    HUB_DEVICE_ID,
    DeviceInfo,
    MqttConfig,
    MqttError,
    MqttLink,
    Outgoing,
    Topics,
    forget_device,
    forget_messages,
    hub_discovery,
    satellite_device_id,
    satellite_discovery,
)
from familiar.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubHealth:
    """What the hub's diagnostic sensors show."""

    asr: str
    """``ok``, ``remote`` (proxied to another server), ``off`` or ``error``."""

    tts: str
    """Same values as ``asr``."""

    brain: str
    """Same values as ``asr``."""

    persona_chunks: int | None
    """Passages in the persona store (null when there is no store)."""

    satellites: int
    """Satellites the conductor is connected to."""


#: Called every ``health_interval`` (and on :meth:`HubMqtt.refresh`); must be quick. None while
#: the hub is still starting (nothing is published then).
HealthSource = Callable[[], HubHealth | None]


def parse_satellite_list(payload: bytes) -> list[str]:
    """The retained satellite registry; anything malformed reads as empty."""
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


class HubMqtt:
    """The hub's device while the context is open."""

    def __init__(
        self,
        config: MqttConfig,
        name: str,
        health: HealthSource,
        *,
        satellites: Sequence[str] = (),
    ) -> None:
        self.config = config
        self.info = DeviceInfo(id=HUB_DEVICE_ID, name=name, model="Familiar hub")
        self.topics = Topics.of(config, HUB_DEVICE_ID)
        self._health = health
        self.satellite_ids = sorted({satellite_device_id(s) for s in satellites})
        self.link = MqttLink(config, self.topics, hub_discovery(config, self.info))
        self._poke = asyncio.Event()
        self._last_health: bytes | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.forgotten: list[str] = []
        """Satellite ids whose discovery this hub removed (they left the config)."""
        self.synced = asyncio.Event()
        """Set once the satellite registry has been reconciled with the broker."""

    async def __aenter__(self) -> Self:
        await self.link.__aenter__()
        self._tasks = [
            asyncio.create_task(self._health_loop(), name="mqtt-hub-health"),
            asyncio.create_task(self._sync_satellites(), name="mqtt-hub-satellites"),
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks = []
        await self.link.__aexit__(exc_type, exc, tb)

    def refresh(self) -> None:
        """Look at the health now (e.g. a satellite connected) instead of at the next tick."""
        self._poke.set()

    async def _health_loop(self) -> None:
        while True:
            self._publish_health()
            self._poke.clear()
            try:
                async with asyncio.timeout(self.config.health_interval):
                    await self._poke.wait()
            except TimeoutError:
                pass

    def _publish_health(self) -> None:
        try:
            health = self._health()
        except Exception:
            _LOGGER.exception("hub health check failed")
            return
        if health is None:
            return
        payload = json.dumps(asdict(health), separators=(",", ":")).encode()
        if payload != self._last_health:
            self._last_health = payload
            self.link.publish(Outgoing(self.topics.health, payload, retain=True))

    async def _sync_satellites(self) -> None:
        """Forget satellites that left the config, then record the current list."""
        backoff = Backoff(self.config.reconnect_min, self.config.reconnect_max)
        while True:
            await self.link.connected.wait()
            try:
                found = await self.link.read_retained([self.topics.satellites], self.config.timeout)
            except (MqttError, TimeoutError) as err:
                _LOGGER.debug("satellite registry not readable yet: %s", err)
                await asyncio.sleep(backoff.next_delay())
                continue
            previous = parse_satellite_list(found.get(self.topics.satellites, b"[]"))
            for device_id in sorted(set(previous) - set(self.satellite_ids)):
                _LOGGER.info("satellite %s left the config: removing it from MQTT", device_id)
                gone = DeviceInfo(id=device_id, name=device_id, model="Familiar satellite")
                payload = satellite_discovery(self.config, gone)
                for message in forget_messages(Topics.of(self.config, device_id), payload):
                    self.link.publish(message)
                self.forgotten.append(device_id)
            self.link.publish(
                Outgoing(self.topics.satellites, json.dumps(self.satellite_ids).encode(), True)
            )
            self.synced.set()
            return


async def forget_hub(config: MqttConfig) -> list[str]:
    """Remove the hub's device from Home Assistant (``familiar hub --forget-mqtt``)."""
    return await forget_device(config, HUB_DEVICE_ID)
