"""A satellite on MQTT: one Home Assistant device whose state, transcript, answer and wake
events are published, and whose commands (announce, ask, mute, volume, start listening) drive a
:class:`~familiar.mqtt.VoiceDevice`.

Written against the ``VoiceDevice`` protocol so the satellite runtime plugs in unchanged:

    async with SatelliteMqtt(config.mqtt, config.name, voice_device):
        ...  # the satellite runs; MQTT follows it

``familiar satellite --forget-mqtt`` calls :func:`forget_satellite_command`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

from familiar.mqtt import (
    Announce,
    Ask,
    Command,
    CommandRejected,
    DeviceInfo,
    MqttConfig,
    MqttError,
    MqttLink,
    SetMuted,
    SetVolume,
    StartListening,
    Topics,
    VoiceDevice,
    forget_device,
    parse_command,
    render_update,
    satellite_device_id,
    satellite_discovery,
)
from familiar.tasks import cancel_and_wait

_LOGGER = logging.getLogger(__name__)

#: Commands waiting per lane; more are dropped (and logged) rather than queued without bound.
COMMAND_QUEUE = 16
#: Seconds before the state subscription is tried again after it failed.
UPDATES_RETRY = 1.0


class SatelliteMqtt:
    """Publishes a satellite's updates and delivers commands to it while the context is open.

    Commands run in two lanes, each in order: *speech* (announce, ask) and *control* (mute,
    volume, start listening), so a mute is never stuck behind a long announcement.
    """

    def __init__(
        self,
        config: MqttConfig,
        name: str,
        device: VoiceDevice,
        *,
        device_id: str | None = None,
    ) -> None:
        self.config = config
        self.device = device
        self.info = DeviceInfo(
            id=device_id or satellite_device_id(name), name=name, model="Familiar satellite"
        )
        self.topics = Topics.of(config, self.info.id)
        self.link = MqttLink(
            config,
            self.topics,
            satellite_discovery(config, self.info),
            subscriptions=[self.topics.commands, self.topics.announce_all],
            on_message=self._on_message,
        )
        self._speech: asyncio.Queue[Command] = asyncio.Queue(COMMAND_QUEUE)
        self._control: asyncio.Queue[Command] = asyncio.Queue(COMMAND_QUEUE)
        self._tasks: list[asyncio.Task[None]] = []
        self.rejected = 0
        """Commands refused so far (malformed, unknown, or a full lane)."""

    async def __aenter__(self) -> Self:
        await self.link.__aenter__()
        name = self.info.id
        self._tasks = [
            asyncio.create_task(self._pump_updates(), name=f"mqtt-updates[{name}]"),
            asyncio.create_task(self._work(self._speech), name=f"mqtt-speech[{name}]"),
            asyncio.create_task(self._work(self._control), name=f"mqtt-control[{name}]"),
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

    def _on_message(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            # A retained command would replay on every reconnect: never act on one.
            self._reject(topic, "retained command")
            return
        try:
            command = parse_command(self.topics, topic, payload)
        except CommandRejected as err:
            self._reject(topic, str(err))
            return
        lane = self._speech if isinstance(command, Announce | Ask) else self._control
        try:
            lane.put_nowait(command)
        except asyncio.QueueFull:
            self._reject(topic, "too many commands waiting")

    def _reject(self, topic: str, reason: str) -> None:
        self.rejected += 1
        _LOGGER.warning("%s: ignored command on %s: %s", self.info.id, topic, reason)

    async def _work(self, lane: asyncio.Queue[Command]) -> None:
        while True:
            command = await lane.get()
            try:
                await self._execute(command)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("%s: command %s failed", self.info.id, type(command).__name__)

    async def _execute(self, command: Command) -> None:
        match command:
            case Announce(text=text):
                _LOGGER.debug("%s: announce %r", self.info.id, text)
                await self.device.announce(text)
            case Ask(text=text):
                _LOGGER.debug("%s: ask %r", self.info.id, text)
                await self.device.ask(text)
            case SetMuted(muted=muted):
                await self.device.set_muted(muted)
            case SetVolume(volume=volume):
                await self.device.set_volume(volume)
            case StartListening():
                await self.device.start_listening()

    async def _pump_updates(self) -> None:
        while True:
            try:
                async for update in self.device.updates():
                    message = render_update(self.topics, self.config, update)
                    if message is not None:
                        self.link.publish(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("%s: state subscription failed; retrying", self.info.id)
            await asyncio.sleep(UPDATES_RETRY)


async def forget_satellite(config: MqttConfig, name: str) -> list[str]:
    """Remove the satellite called ``name`` from Home Assistant (empty retained discovery and
    state). Returns the topics cleared."""
    return await forget_device(config, satellite_device_id(name))


def forget_satellite_command(config: MqttConfig, name: str) -> int:
    """``familiar satellite --forget-mqtt``: returns the exit status."""
    try:
        topics = asyncio.run(forget_satellite(config, name))
    except MqttError as err:
        _LOGGER.error("could not forget %s: %s", name, err)
        return 1
    with contextlib.suppress(BrokenPipeError):
        print(f"removed {name!r} from Home Assistant ({topics[0]} cleared)")
    return 0
