"""Standalone homes: each command is one MQTT message (``docs/brain.md``).

Topic ``<prefix>/command/<domain>/<object_id>/<service>``, payload JSON
``{"entity_id": ..., "service": ..., "data": {...}}``, QoS 1, not retained.

The message goes out on the process's one MQTT connection (the hub's link, with its TLS and
``password_file``): this executor opens no connection of its own.
"""

from __future__ import annotations

import json
import logging
from types import TracebackType
from typing import Self

from familiar.errors import HomeControlFailed
from familiar.mqtt import MqttError, Outgoing, Publisher
from familiar_hub.brain.home import Entity, ServiceCall
from familiar_hub.config import MqttCommandConfig

_LOGGER = logging.getLogger(__name__)


def command_topic(prefix: str, call: ServiceCall) -> str:
    object_id = call.entity_id.partition(".")[2]
    return f"{prefix}/command/{call.domain}/{object_id}/{call.service}"


def command_payload(call: ServiceCall) -> bytes:
    body = {"entity_id": call.entity_id, "service": call.service, "data": call.data}
    return json.dumps(body, sort_keys=True).encode()


class MqttCommands:
    """Publishes each command through ``publisher`` and waits until the broker has it."""

    def __init__(self, config: MqttCommandConfig, publisher: Publisher) -> None:
        self._config = config
        self._publisher = publisher

    @property
    def name(self) -> str:
        return "mqtt"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def entities(self) -> list[Entity]:
        return []

    async def call(self, call: ServiceCall) -> None:
        topic = command_topic(self._config.topic_prefix, call)
        message = Outgoing(topic, command_payload(call), retain=False, qos=1)
        try:
            await self._publisher.send(message, self._config.timeout)
        except MqttError as err:
            raise HomeControlFailed(str(err)) from err
        _LOGGER.info("published %s", topic)
