"""One device's connection to the broker, kept alive (the only MQTT connection of a process)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiomqtt

from familiar.backoff import Backoff
from familiar.mqtt.config import MqttConfig, MqttError
from familiar.mqtt.discovery import discovery_messages
from familiar.mqtt.outbox import Outbox
from familiar.mqtt.topics import TOPIC_UNSAFE, Topics
from familiar.mqtt.updates import Outgoing
from familiar.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

#: Called on the receive loop for every message on a subscribed topic: (topic, payload, retain).
#: It must not block: parse, then hand the work to a queue.
MessageHandler = Callable[[str, bytes, bool], None]


def payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode("utf-8")


def make_client(
    config: MqttConfig, client_id: str, will: aiomqtt.Will | None = None
) -> aiomqtt.Client:
    tls = config.tls_params()
    return aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.read_password(),
        identifier=client_id,
        will=will,
        keepalive=config.keepalive,
        timeout=config.timeout,
        tls_params=tls,
        tls_insecure=config.tls.insecure if config.tls is not None and tls is not None else None,
        logger=logging.getLogger("familiar.mqtt.paho"),
        max_queued_incoming_messages=1000,
    )


@dataclass
class _RetainedReader:
    """Collects the retained payloads of ``topics`` until ``marker`` comes back."""

    topics: set[str]
    marker: str
    found: dict[str, bytes] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def see(self, topic: str, payload: bytes, retain: bool) -> bool:
        """True when the message was this reader's (not for anybody else)."""
        if topic == self.marker:
            self.done.set()
            return True
        if topic in self.topics:
            if retain and payload and not self.done.is_set():
                self.found[topic] = payload
            return True
        return False


class MqttLink:
    """One device's connection to the broker, kept alive while the context is open.

    Entering does not wait for the broker (a hub starts while the broker is down);
    :attr:`connected` is set while a session is up. On every connect: subscribe, publish
    ``online``, the discovery payload and every retained state (the snapshot), then drain the
    outbox. The last will publishes ``offline`` (retained) if the process dies; a clean exit
    publishes it too.
    """

    def __init__(
        self,
        config: MqttConfig,
        topics: Topics,
        discovery: dict[str, Any] | None,
        *,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.topics = topics
        self._discovery = discovery
        self._subscriptions = list(subscriptions)
        self._on_message = on_message
        self._rng = rng or random.Random()
        self._client_id = config.client_id or TOPIC_UNSAFE.sub(
            "-", f"{topics.base}-{topics.device}"
        )
        self.outbox = Outbox(config.queue_size)
        self._snapshot: dict[str, Outgoing] = {}
        self.connected = asyncio.Event()
        self.connects = 0
        """How many sessions have started (tests and health use it)."""
        self.announcements = 0
        """How many times discovery was sent."""
        self._client: aiomqtt.Client | None = None
        self._runner: asyncio.Task[None] | None = None
        self._reannounce: asyncio.Task[None] | None = None
        self._closing = False
        self._readers: list[_RetainedReader] = []

    async def __aenter__(self) -> Self:
        self._closing = False
        self._runner = asyncio.create_task(self._run(), name=f"mqtt[{self.topics.device}]")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        client = self._client
        # Whenever the broker accepted us, even mid-announce (``online`` may be out already):
        # a clean disconnect drops the last will, so ``offline`` must be said here.
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(min(2.0, self.config.timeout)):
                    await client.publish(self.topics.availability, b"offline", qos=1, retain=True)
        if self._runner is not None:
            await cancel_and_wait([self._runner])
            self._runner = None

    # -- what adapters call

    def publish(self, message: Outgoing) -> None:
        """Queue a message; retained ones also become part of the snapshot sent on connect."""
        if message.retain:
            if message.payload:
                self._snapshot[message.topic] = message
            else:  # an empty retained payload deletes: nothing to re-send
                self._snapshot.pop(message.topic, None)
        self.outbox.put(message)

    def _discovery_messages(self) -> list[Outgoing]:
        if self._discovery is None:
            return []
        return discovery_messages(self.topics, self._discovery, self.config.discovery_mode)

    def set_discovery(self, discovery: dict[str, Any] | None) -> None:
        """Replace the discovery payload and re-announce when connected."""
        self._discovery = discovery
        for message in self._discovery_messages():
            self.publish(message)

    async def wait_connected(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    async def _live_client(self) -> aiomqtt.Client:
        await self.connected.wait()
        client = self._client
        if client is None:  # pragma: no cover - connected is set only while a client is up
            raise MqttError(f"{self.topics.device}: not connected")
        return client

    async def send(self, message: Outgoing, timeout: float) -> None:
        """Publish ``message`` on this connection now (not through the outbox) and wait until
        the broker has it; waits for a connection first. Raises :class:`MqttError` when that
        does not happen within ``timeout`` seconds (implements
        :class:`~familiar.mqtt.updates.Publisher`)."""
        try:
            async with asyncio.timeout(timeout):
                client = await self._live_client()
                await client.publish(
                    message.topic, message.payload, qos=message.qos, retain=message.retain
                )
        except aiomqtt.MqttError as err:
            raise MqttError(f"MQTT {message.topic}: {err}") from err
        except TimeoutError as err:
            raise MqttError(
                f"MQTT {message.topic}: broker {self.config.host}:{self.config.port} did not "
                f"take it within {timeout:g} s"
            ) from err

    async def read_retained(self, topics: Iterable[str], timeout: float) -> dict[str, bytes]:
        """The retained payloads of ``topics`` (absent when none), read on this connection.

        Retained messages come right after the subscription is acknowledged; a marker we
        publish to ourselves afterwards tells when they are all in, so no fixed wait is needed.
        """
        reader = _RetainedReader(
            set(topics), f"{self.config.base_topic}/_sync/{secrets.token_hex(8)}"
        )
        filters = [*sorted(reader.topics), reader.marker]
        try:
            async with asyncio.timeout(timeout):
                client = await self._live_client()
                self._readers.append(reader)
                try:
                    await client.subscribe([(topic, 1) for topic in filters])
                    await client.publish(reader.marker, b"1", qos=1)
                    await reader.done.wait()
                finally:
                    self._readers.remove(reader)
                await client.unsubscribe(filters)
        except aiomqtt.MqttError as err:
            raise MqttError(f"reading retained state: {err}") from err
        except TimeoutError as err:
            raise MqttError(f"reading retained state: no answer within {timeout:g} s") from err
        return reader.found

    # -- the connection loop

    async def _run(self) -> None:
        backoff = Backoff(self.config.reconnect_min, self.config.reconnect_max, self._rng)
        while True:
            was_up = False
            try:
                client = make_client(
                    self.config,
                    self._client_id,
                    aiomqtt.Will(self.topics.availability, b"offline", qos=1, retain=True),
                )
                async with client:
                    was_up = True
                    backoff.reset()
                    self._client = client
                    await self._session(client)
            except aiomqtt.MqttError as err:
                level = logging.WARNING if was_up or backoff.failures == 0 else logging.DEBUG
                _LOGGER.log(
                    level,
                    "%s: MQTT broker %s:%s %s: %s",
                    self.topics.device,
                    self.config.host,
                    self.config.port,
                    "connection lost" if was_up else "unreachable",
                    err,
                )
            except MqttError as err:  # our own config problem (password file): retry too
                _LOGGER.error("%s: %s", self.topics.device, err)
            except Exception:
                # A bug must not silently end MQTT for the life of the process.
                _LOGGER.exception("%s: MQTT session failed", self.topics.device)
            finally:
                self._client = None
                self.connected.clear()
                await self._cancel_reannounce()
            if self._closing:
                # A disconnect error raised while being cancelled may have replaced the
                # CancelledError: never loop on after the owner asked us to stop.
                return
            delay = backoff.next_delay()
            _LOGGER.debug("%s: reconnecting in %.2f s", self.topics.device, delay)
            await asyncio.sleep(delay)

    async def _session(self, client: aiomqtt.Client) -> None:
        filters = [*self._subscriptions, self.topics.ha_status]
        await client.subscribe([(topic, 1) for topic in filters])
        self.outbox.drop_retained()
        self.connects += 1  # before the announce: whoever sees it knows the session began
        await self._announce(client)
        self.connected.set()
        _LOGGER.info(
            "%s: connected to MQTT broker %s:%s",
            self.topics.device,
            self.config.host,
            self.config.port,
        )
        sender = asyncio.create_task(self._send_loop(client), name="mqtt-send")
        receiver = asyncio.create_task(self._receive_loop(client), name="mqtt-receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait([sender, receiver])
        for task in done:
            err = task.exception()
            if err is not None:
                raise err
        raise aiomqtt.MqttError("session ended")

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Online, discovery, then the state snapshot: everything Home Assistant needs."""
        await client.publish(self.topics.availability, b"online", qos=1, retain=True)
        if self._discovery is not None:
            for found in self._discovery_messages():
                await client.publish(found.topic, found.payload, qos=1, retain=True)
            self.announcements += 1
        for topic in list(self._snapshot):
            # Read each value just before publishing it: aiomqtt hands the message to paho
            # before its first await, so a newer value sent meanwhile is never overtaken.
            message = self._snapshot.get(topic)
            if message is not None:
                await client.publish(topic, message.payload, qos=message.qos, retain=True)

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        while True:
            message = await self.outbox.get()
            try:
                await client.publish(
                    message.topic, message.payload, qos=message.qos, retain=message.retain
                )
            except aiomqtt.MqttError:
                self.outbox.push_front(message)
                raise

    async def _receive_loop(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = message.topic.value
            payload = payload_bytes(message.payload)
            mine = [reader.see(topic, payload, bool(message.retain)) for reader in self._readers]
            if any(mine):
                continue
            if topic == self.topics.ha_status:
                if payload.strip() == b"online":
                    self._schedule_reannounce(client)
                continue
            if self._on_message is None:
                continue
            try:
                self._on_message(topic, payload, bool(message.retain))
            except Exception:
                _LOGGER.exception("%s: handler failed on %s", self.topics.device, topic)

    def _schedule_reannounce(self, client: aiomqtt.Client) -> None:
        if self._reannounce is not None:
            self._reannounce.cancel()  # the newest birth message wins
        delay = self._rng.uniform(0, self.config.birth_delay_max)
        _LOGGER.info(
            "%s: Home Assistant is online; re-announcing in %.1f s", self.topics.device, delay
        )
        self._reannounce = asyncio.create_task(
            self._reannounce_after(client, delay), name="mqtt-reannounce"
        )

    async def _reannounce_after(self, client: aiomqtt.Client, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self._announce(client)
        except aiomqtt.MqttError as err:
            _LOGGER.debug("%s: re-announce failed: %s", self.topics.device, err)

    async def _cancel_reannounce(self) -> None:
        task, self._reannounce = self._reannounce, None
        if task is not None:
            await cancel_and_wait([task])


def json_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
