"""The hub process: every role in one asyncio task tree, started and stopped in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from wyoming.info import HandleProgram

from familiar.discovery import Advertisement, advertised_address
from familiar.server import Connection, WyomingServer
from familiar.tasks import cancel_and_wait, wait_for_stop
from familiar_hub.asr import backends as asr_backends
from familiar_hub.asr.backend import AsrBackend
from familiar_hub.asr.handler import EVENT_TYPES as ASR_EVENTS
from familiar_hub.asr.handler import AsrHandler
from familiar_hub.conductor.conductor import Conductor
from familiar_hub.conductor.turn import Services, TurnEngine
from familiar_hub.config import HubConfig
from familiar_hub.endpoint import Endpoint, Role
from familiar_hub.mqtt import HubHealth, HubMqtt
from familiar_hub.tts import backends as tts_backends
from familiar_hub.tts.backend import TtsBackend
from familiar_hub.tts.handler import EVENT_TYPES as TTS_EVENTS
from familiar_hub.tts.handler import TtsHandler

if TYPE_CHECKING:
    from familiar_hub.brain.brain import Brain
    from familiar_hub.web.server import WebServer

_LOGGER = logging.getLogger(__name__)

ALL_ROLES = ("asr", "tts", "brain")


@dataclass
class RunningHub:
    config: HubConfig
    endpoint: Endpoint
    server: WyomingServer
    advertisement: Advertisement | None
    mqtt: HubMqtt | None = None
    conductor: Conductor | None = None
    web: WebServer | None = None

    @property
    def uri(self) -> str:
        return self.server.uri


@dataclass
class Loaded:
    """The backends this process loaded, each owned by the hub's exit stack."""

    asr: AsrBackend | None = None
    tts: TtsBackend | None = None
    brain: Brain | None = None
    mqtt: HubMqtt | None = None
    """The process's one MQTT connection (home commands from the brain go out on it too)."""
    persona_chunks: int | None = None
    """Passages in the persona store, counted now and then (None: no store, or not yet)."""


Load = Callable[[contextlib.AsyncExitStack], Awaitable[None]]


def _asr_role(config: HubConfig, loaded: Loaded) -> tuple[Role, Load]:
    manager = asr_backends.create(config.asr)
    backend = cast("AsrBackend", manager)  # each backend is its own context manager

    async def load(stack: contextlib.AsyncExitStack) -> None:
        loaded.asr = await stack.enter_async_context(manager)

    role = Role(
        "asr",
        ASR_EVENTS,
        lambda conn: AsrHandler(backend, conn, config.asr.max_seconds),
        backend.program,
        asyncio.Event(),
    )
    return role, load


def _tts_role(config: HubConfig, loaded: Loaded) -> tuple[Role, Load]:
    manager = tts_backends.create(config.tts)
    backend = cast("TtsBackend", manager)

    async def load(stack: contextlib.AsyncExitStack) -> None:
        loaded.tts = await stack.enter_async_context(manager)

    role = Role(
        "tts",
        TTS_EVENTS,
        lambda conn: TtsHandler(backend, config.tts, conn),
        backend.program,
        asyncio.Event(),
    )
    return role, load


def _brain_role(config: HubConfig, loaded: Loaded) -> tuple[Role, Load]:
    from familiar_hub.brain.brain import open_brain
    from familiar_hub.brain.handler import EVENT_TYPES as BRAIN_EVENTS
    from familiar_hub.brain.handler import BrainHandler, program, program_for

    async def load(stack: contextlib.AsyncExitStack) -> None:
        loaded.brain = await stack.enter_async_context(
            open_brain(config.brain, mqtt=loaded.mqtt.link if loaded.mqtt else None)
        )

    def make_handler(conn: Connection) -> BrainHandler:
        assert loaded.brain is not None  # made only once the role is ready
        return BrainHandler(loaded.brain, conn)

    def describe() -> HandleProgram:
        return program(loaded.brain) if loaded.brain is not None else program_for(config.brain)

    return Role("brain", BRAIN_EVENTS, make_handler, describe, asyncio.Event()), load


async def _load_role(stack: contextlib.AsyncExitStack, role: Role, load: Load) -> None:
    await load(stack)
    assert role.ready is not None
    role.ready.set()
    _LOGGER.info("%s ready", role.name)


@contextlib.asynccontextmanager
async def running_hub(
    config: HubConfig,
    roles: Collection[str] = ALL_ROLES,
    *,
    zeroconf_interfaces: list[str] | None = None,
) -> AsyncIterator[RunningHub]:
    """Open the port at once (``describe`` answers, requests wait for their role), load the
    models in parallel on worker threads, then serve until the context exits."""
    async with contextlib.AsyncExitStack() as stack:
        makers = {"asr": _asr_role, "tts": _tts_role, "brain": _brain_role}
        loaded = Loaded()
        hub: list[RunningHub] = []  # the health sensors show nothing until the hub runs
        if config.mqtt is not None:
            # First: the one MQTT connection of this process, shared with the brain's executor.
            loaded.mqtt = await stack.enter_async_context(
                HubMqtt(
                    config.mqtt,
                    config.name,
                    lambda: _health(hub[0], loaded) if hub else None,
                    satellites=[s.name or s.uri for s in config.conductor.satellites],
                )
            )
        made = [makers[name](config, loaded) for name in ALL_ROLES if name in roles]
        endpoint = Endpoint([role for role, _ in made], name=config.name)
        listen = config.endpoint
        server = await stack.enter_async_context(
            WyomingServer.listening(
                endpoint, listen, f"hub[{','.join(r.name for r in endpoint.roles)}]"
            )
        )
        await asyncio.gather(*(_load_role(stack, role, load) for role, load in made))
        advertisement = None
        if config.zeroconf.enabled and listen.socket_path is None:
            name = config.zeroconf.name or config.name
            address = advertised_address(listen.host, config.zeroconf.host)
            advertisement = await stack.enter_async_context(
                Advertisement(name, server.port, address, interfaces=zeroconf_interfaces)
            )
        if config.asr.persona_hotwords and loaded.asr is not None and loaded.brain is not None:
            from familiar_hub.asr.backend import HotwordAsr
            from familiar_hub.asr.hotwords import HotwordFeeder

            names = getattr(loaded.brain.retriever, "names", None)
            if isinstance(loaded.asr, HotwordAsr) and names is not None:
                await stack.enter_async_context(HotwordFeeder(loaded.asr, names))
        conductor = None
        services = None
        if loaded.asr is not None and loaded.tts is not None and loaded.brain is not None:
            services = Services(
                loaded.asr,
                loaded.tts,
                loaded.brain,
                config.conductor,
                config.tts.first_clause_chars,
                endpointer=loaded.brain if config.conductor.end_on_meaning else None,
            )
        if config.conductor.enabled and services is not None:
            conductor = await stack.enter_async_context(
                Conductor(services, zeroconf_interfaces=zeroconf_interfaces)
            )
            assert loaded.brain is not None
            # standalone timers ring on the satellite whose conversation set them
            loaded.brain.timers.add_listener(conductor.timer_finished)
        web = None
        if config.web.enabled and services is not None:
            # The web app needs the whole voice loop (phone page, chat test, /api/interact).
            from familiar_hub.web.server import WebServer

            web = await stack.enter_async_context(
                WebServer(
                    config.web,
                    TurnEngine(services),
                    loaded.brain,
                    config.brain.persona_config,
                    config.name,
                )
            )
        running = RunningHub(config, endpoint, server, advertisement, loaded.mqtt, conductor, web)
        hub.append(running)
        mqtt = loaded.mqtt
        if mqtt is not None:
            counting = asyncio.create_task(
                _count_persona(loaded, mqtt.config.health_interval), name="persona-count"
            )
            stack.push_async_callback(cancel_and_wait, [counting])
            mqtt.refresh()
            if conductor is not None:
                # "Satellites connected" follows each link at once, not at the next tick.
                conductor.on_link_change = lambda _name, _connected: mqtt.refresh()
        yield running


def _health(hub: RunningHub, loaded: Loaded) -> HubHealth:
    """What the MQTT health sensors show."""
    config = hub.config

    def status(backend: object, uri: str | None) -> str:
        if backend is None:
            return "off"
        return "remote" if uri else "ok"

    return HubHealth(
        asr=status(loaded.asr, config.asr.uri),
        tts=status(loaded.tts, config.tts.uri),
        brain=status(loaded.brain, None),
        persona_chunks=loaded.persona_chunks,
        satellites=len(hub.conductor.connected) if hub.conductor is not None else 0,
    )


async def _count_persona(loaded: Loaded, interval: float) -> None:
    """Keep ``loaded.persona_chunks`` current for the "Persona store size" sensor (the health
    source must answer at once, so the count is taken here, off its path). Ends when the loaded
    brain has no store."""
    while True:
        if loaded.brain is not None:
            store = getattr(loaded.brain.retriever, "store", None)
            stats = getattr(store, "stats", None)
            if stats is None:
                return
            try:
                loaded.persona_chunks = (await stats()).chunks
            except asyncio.CancelledError:
                raise
            except Exception as err:
                _LOGGER.debug("could not count the persona store: %r", err)
        await asyncio.sleep(interval)


async def run_hub(config: HubConfig, roles: Collection[str] = ALL_ROLES) -> None:
    async with running_hub(config, roles) as hub:
        _LOGGER.info(
            "hub %r ready at %s (%s)",
            config.name,
            hub.uri,
            ", ".join(r.name for r in hub.endpoint.roles),
        )
        await wait_for_stop()
        _LOGGER.info("stopping")
