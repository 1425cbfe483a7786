"""Standalone homes: each command is one MQTT message (``docs/brain.md``).

Topic ``<prefix>/command/<domain>/<object_id>/<service>``, payload JSON
``{"entity_id": ..., "service": ..., "data": {...}}``, QoS 1, not retained.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import TracebackType
from typing import Self

from familiar.errors import HomeControlFailed
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
    """Connects per command (commands are rare; no connection to keep alive or lose)."""

    def __init__(self, config: MqttCommandConfig) -> None:
        self._config = config

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
        import aiomqtt

        config = self._config
        topic = command_topic(config.topic_prefix, call)
        try:
            async with asyncio.timeout(config.timeout):
                async with aiomqtt.Client(
                    config.host,
                    config.port,
                    username=config.username,
                    password=config.password,
                    timeout=config.timeout,
                ) as client:
                    await client.publish(topic, command_payload(call), qos=1)
        except (aiomqtt.MqttError, OSError, TimeoutError) as err:
            raise HomeControlFailed(f"MQTT {topic}: {err!r}") from err
        _LOGGER.info("published %s", topic)
