"""One-off jobs on short connections (command-line tools: read retained state, forget a device)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Iterable

import aiomqtt

from familiar.mqtt.config import MqttConfig, MqttError
from familiar.mqtt.discovery import (
    DeviceInfo,
    forget_messages,
    hub_discovery,
    satellite_discovery,
)
from familiar.mqtt.link import make_client, payload_bytes
from familiar.mqtt.topics import HUB_DEVICE_ID, TOPIC_UNSAFE, Topics
from familiar.mqtt.updates import Outgoing

_LOGGER = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _short_client(config: MqttConfig, purpose: str) -> AsyncIterator[aiomqtt.Client]:
    client_id = TOPIC_UNSAFE.sub("-", f"{config.base_topic}-{purpose}-{secrets.token_hex(4)}")
    client = make_client(config, client_id)
    try:
        async with client:
            yield client
    except aiomqtt.MqttError as err:
        raise MqttError(f"MQTT broker {config.host}:{config.port}: {err}") from err


async def read_retained(
    config: MqttConfig, topics: Iterable[str], timeout: float = 5.0
) -> dict[str, bytes]:
    """The retained payloads of ``topics`` (absent when none), read on a short connection.

    Retained messages come right after the subscription is acknowledged; a marker we publish
    to ourselves afterwards tells when they are all in, so no fixed wait is needed.
    """
    wanted = list(topics)
    marker = f"{config.base_topic}/_sync/{secrets.token_hex(8)}"
    found: dict[str, bytes] = {}
    async with _short_client(config, "read") as client:
        async with asyncio.timeout(timeout):
            await client.subscribe([(topic, 1) for topic in wanted])
            await client.subscribe(marker, qos=1)
            await client.publish(marker, b"1", qos=1)
            async for message in client.messages:
                topic = message.topic.value
                if topic == marker:
                    break
                payload = payload_bytes(message.payload)
                if message.retain and payload:
                    found[topic] = payload
    return found


async def publish_once(config: MqttConfig, messages: Iterable[Outgoing]) -> None:
    """Publish ``messages`` on a short connection (QoS 1, so they reached the broker)."""
    async with _short_client(config, "pub") as client, asyncio.timeout(config.timeout * 2):
        for message in messages:
            await client.publish(
                message.topic, message.payload, qos=message.qos, retain=message.retain
            )


async def forget_device(config: MqttConfig, device_id: str) -> list[str]:
    """Remove a device from Home Assistant: empty retained discovery and state. Returns the
    topics cleared."""
    topics = Topics.of(config, device_id)
    device = DeviceInfo(id=device_id, name=device_id, model="")
    payload = (hub_discovery if device_id == HUB_DEVICE_ID else satellite_discovery)(config, device)
    messages = forget_messages(topics, payload)  # per-entity topics too
    await publish_once(config, messages)
    _LOGGER.info("forgot MQTT device %s (%s)", device_id, topics.discovery)
    return [m.topic for m in messages]


class OneShotPublisher:
    """A :class:`~familiar.mqtt.updates.Publisher` for command-line tools: one short
    connection per message (a running hub publishes through its :class:`MqttLink`)."""

    def __init__(self, config: MqttConfig) -> None:
        self.config = config

    async def send(self, message: Outgoing, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await publish_once(self.config, [message])
        except TimeoutError as err:
            raise MqttError(
                f"MQTT broker {self.config.host}:{self.config.port}: no answer within {timeout:g} s"
            ) from err
