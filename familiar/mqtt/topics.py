"""The topic layout under ``<base_topic>/<device_id>/`` (a public surface: ``docs/mqtt.md``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from familiar.mqtt.config import MqttConfig, MqttConfigInvalid

#: What a satellite can be doing; the ``state`` sensor's options.
VOICE_STATES = ("idle", "listening", "thinking", "speaking", "muted", "error")

#: Command names accepted on ``<base>/<device>/<name>/set``.
SATELLITE_COMMANDS = ("announce", "ask", "muted", "volume", "listen")

TOPIC_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")
"""Characters that never go into a topic level or a client id."""


def device_slug(name: str) -> str:
    """A topic-safe id from a display name: ``Kitchen Pi`` -> ``kitchen_pi``."""
    slug = TOPIC_UNSAFE.sub("_", name.strip().lower()).strip("_")
    if not slug:
        raise MqttConfigInvalid(f"cannot make an MQTT id from {name!r}")
    return slug


HUB_DEVICE_ID = "hub"


def satellite_device_id(name: str) -> str:
    """The device id of a satellite: its name as a slug (``hub`` is the hub's)."""
    slug = device_slug(name)
    if slug == HUB_DEVICE_ID:
        raise MqttConfigInvalid("a satellite may not be called 'hub' on MQTT")
    return slug


@dataclass(frozen=True)
class Topics:
    """Every topic of one device. The layout is documented in docs/mqtt.md."""

    base: str
    device: str
    discovery_prefix: str = "homeassistant"

    @classmethod
    def of(cls, config: MqttConfig, device_id: str) -> Topics:
        return cls(config.base_topic, device_id, config.discovery_prefix)

    def _t(self, leaf: str) -> str:
        return f"{self.base}/{self.device}/{leaf}"

    @property
    def root(self) -> str:
        return f"{self.base}/{self.device}"

    @property
    def availability(self) -> str:
        return self._t("availability")

    @property
    def state(self) -> str:
        return self._t("state")

    @property
    def transcript(self) -> str:
        return self._t("transcript")

    @property
    def answer(self) -> str:
        return self._t("answer")

    @property
    def wake(self) -> str:
        return self._t("wake")

    @property
    def muted(self) -> str:
        return self._t("muted")

    @property
    def volume(self) -> str:
        return self._t("volume")

    @property
    def health(self) -> str:
        return self._t("health")

    @property
    def satellites(self) -> str:
        return self._t("satellites")

    def command(self, name: str) -> str:
        return self._t(f"{name}/set")

    @property
    def commands(self) -> str:
        """Filter matching every command topic of this device."""
        return self._t("+/set")

    @property
    def announce_all(self) -> str:
        """Hub-level announce: every satellite speaks it."""
        return f"{self.base}/announce"

    @property
    def ha_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    @property
    def object_id(self) -> str:
        """The device's discovery id: ``<base>_<device>``, topic-safe."""
        return TOPIC_UNSAFE.sub("_", f"{self.base}_{self.device}")

    @property
    def discovery(self) -> str:
        return f"{self.discovery_prefix}/device/{self.object_id}/config"

    def unique_id(self, component: str) -> str:
        return f"{self.object_id}_{component}"

    def retained(self) -> list[str]:
        """Every retained topic this device may own (what ``forget`` clears)."""
        return [
            self.discovery,
            self.availability,
            self.state,
            self.muted,
            self.volume,
            self.health,
            self.satellites,
        ]
