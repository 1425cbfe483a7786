"""Home Assistant as the brain's executor: service calls over REST, and the home itself
(entities, areas, aliases, Assist exposure) from the WebSocket API, kept current by
subscribing to registry updates."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import aiohttp

from familiar.backoff import Backoff
from familiar.errors import HomeControlFailed
from familiar_hub.brain.ha_registry import ASSISTANT, CONTROLLABLE, HomeSnapshot, build_home
from familiar_hub.brain.home import Entity, ServiceCall
from familiar_hub.config import HomeAssistantApiConfig

_LOGGER = logging.getLogger(__name__)

REGISTRY_EVENTS = ("area_registry_updated", "device_registry_updated", "entity_registry_updated")
"""Subscribed to: any of them means the home is read again (after ``settle_seconds``)."""
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""A big home's registries fit; anything beyond is refused rather than buffered."""


def entities_from_states(states: list[dict[str, Any]]) -> list[Entity]:
    """``/api/states`` -> entities (pure; ``friendly_name`` is the spoken name)."""
    out = []
    for state in states:
        entity_id = str(state.get("entity_id", ""))
        domain = entity_id.partition(".")[0]
        if domain not in CONTROLLABLE:
            continue
        attributes = state.get("attributes") or {}
        name = attributes.get("friendly_name") or entity_id.partition(".")[2].replace("_", " ")
        out.append(Entity(entity_id, str(name)))
    return out


def _token(config: HomeAssistantApiConfig) -> str:
    return config.read_token()


class HomeAssistantWs:
    """One authenticated connection to ``/api/websocket``: commands by id, event streams."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self._session = session
        self._url = url
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: dict[int, Callable[[dict[str, Any]], None]] = {}
        self.ha_version: str | None = None

    async def connect(self) -> None:
        ws = await self._session.ws_connect(self._url, max_msg_size=MAX_MESSAGE_BYTES)
        try:
            answer = await self._authenticate(ws)
        except BaseException:
            await ws.close()
            raise
        self.ha_version = answer.get("ha_version")
        self._ws = ws

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        hello = await ws.receive_json()
        if hello.get("type") != "auth_required":
            raise HomeControlFailed(f"websocket: unexpected greeting {hello.get('type')!r}")
        await ws.send_json({"type": "auth", "access_token": self._token})
        answer: dict[str, Any] = await ws.receive_json()
        if answer.get("type") != "auth_ok":
            raise HomeControlFailed("websocket: the access token was refused")
        return answer

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(HomeControlFailed("websocket closed"))
        self._pending.clear()

    async def command(self, kind: str, **fields: Any) -> Any:
        """Send one command; its result (raises ``HomeControlFailed`` on an error reply)."""
        ws = self._ws
        if ws is None:
            raise HomeControlFailed("websocket not connected")
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        try:
            await ws.send_json({"id": message_id, "type": kind, **fields})
            return await future
        finally:
            self._pending.pop(message_id, None)

    async def subscribe(self, event_type: str, handler: Callable[[dict[str, Any]], None]) -> None:
        ws = self._ws
        if ws is None:
            raise HomeControlFailed("websocket not connected")
        message_id = next(self._ids)
        self._events[message_id] = handler
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        try:
            await ws.send_json(
                {"id": message_id, "type": "subscribe_events", "event_type": event_type}
            )
            await future
        except BaseException:
            self._events.pop(message_id, None)
            raise
        finally:
            self._pending.pop(message_id, None)

    async def receive_forever(self) -> None:
        """Route replies and events until the connection ends (then raises)."""
        ws = self._ws
        assert ws is not None
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                data = json.loads(message.data)
            except ValueError:
                _LOGGER.warning("websocket: a message that is not JSON; ignored")
                continue
            for item in data if isinstance(data, list) else [data]:
                self._route(item)
        raise HomeControlFailed("websocket closed by Home Assistant")

    def _route(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        message_id = item.get("id")
        if item.get("type") == "event" and message_id in self._events:
            event = item.get("event")
            if isinstance(event, dict):
                self._events[message_id](event)
            return
        future = self._pending.get(message_id) if isinstance(message_id, int) else None
        if future is None or future.done() or item.get("type") != "result":
            return
        if item.get("success"):
            future.set_result(item.get("result"))
        else:
            error = item.get("error") or {}
            future.set_exception(
                HomeControlFailed(f"{error.get('code', 'error')}: {error.get('message', '')}")
            )


async def read_home(ws: HomeAssistantWs) -> HomeSnapshot:
    """Registries, states and exposure, read once (pure assembly in ``ha_registry``)."""
    states = await ws.command("get_states")
    areas = await ws.command("config/area_registry/list")
    devices = await ws.command("config/device_registry/list")
    entries = await ws.command("config/entity_registry/list")
    ids = [e["entity_id"] for e in entries if isinstance(e, dict) and "entity_id" in e]
    # The list leaves out aliases and options; get_entries has them in one call.
    extended = await ws.command("config/entity_registry/get_entries", entity_ids=ids) if ids else {}
    merged = [
        {**entry, **(extended.get(entry.get("entity_id")) or {})}
        for entry in entries
        if isinstance(entry, dict)
    ]
    exposed = (await ws.command("homeassistant/expose_entity/list")).get("exposed_entities", {})
    expose_new = (
        await ws.command("homeassistant/expose_new_entities/get", assistant=ASSISTANT)
    ).get("expose_new", True)
    return build_home(
        states=states,
        entity_entries=merged,
        devices=devices,
        areas=areas,
        exposed=exposed,
        expose_new=bool(expose_new),
        ha_version=ws.ha_version,
    )


HomeListener = Callable[[HomeSnapshot], None]


class HomeAssistantRest:
    """Service calls over REST; with ``registries`` (the default) the home is read from the
    WebSocket API and kept current by subscription: :meth:`entities` is HA's exposed home and
    listeners hear of every change."""

    def __init__(self, config: HomeAssistantApiConfig) -> None:
        self._config = config
        self._base = config.url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._listeners: list[HomeListener] = []
        self._home: HomeSnapshot | None = None
        self._first = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reads = 0
        """How often the home was read (diagnostics, tests)."""

    @property
    def name(self) -> str:
        return "home-assistant"

    @property
    def home(self) -> HomeSnapshot | None:
        """The latest home read from the registries (None before the first, or without)."""
        return self._home

    def add_listener(self, listener: HomeListener) -> None:
        self._listeners.append(listener)

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._config.read_token()}"},
            timeout=aiohttp.ClientTimeout(total=self._config.timeout),
            connector=aiohttp.TCPConnector(ssl=self._config.verify_tls),
        )
        if self._config.registries:
            self._task = asyncio.create_task(self._watch(), name="home-assistant-registries")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def entities(self) -> list[Entity]:
        """HA's exposed home (waiting up to ``timeout`` for the first read), else /api/states."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._config.timeout):
                    await self._first.wait()
            if self._home is not None:
                return list(self._home.entities)
            _LOGGER.warning("registries not read yet; using /api/states for now")
        return await self._states()

    async def _states(self) -> list[Entity]:
        assert self._session is not None
        try:
            async with self._session.get(f"{self._base}/api/states") as response:
                if response.status != 200:
                    raise HomeControlFailed(f"/api/states: HTTP {response.status}")
                states = await response.json()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise HomeControlFailed(f"/api/states: {err!r}") from err
        if not isinstance(states, list):
            raise HomeControlFailed("/api/states: not a list")
        return entities_from_states(states)

    async def call(self, call: ServiceCall) -> None:
        assert self._session is not None
        home = self._home
        if home is not None and home.entity(call.entity_id) is None:
            # Only what HA exposes to Assist is controllable (also for the LLM fallback).
            raise HomeControlFailed(f"{call.entity_id} is not exposed to Assist")
        url = f"{self._base}/api/services/{call.domain}/{call.service}"
        try:
            async with self._session.post(url, json=call.payload()) as response:
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise HomeControlFailed(
                        f"{call.domain}.{call.service}: HTTP {response.status} {detail}"
                    )
        except (aiohttp.ClientError, TimeoutError) as err:
            raise HomeControlFailed(f"{call.domain}.{call.service}: {err!r}") from err
        _LOGGER.info("called %s.%s on %s", call.domain, call.service, call.entity_id)

    # --- the registries ------------------------------------------------------------------

    def _ws_url(self) -> str:
        base = self._base
        if base.startswith("https://"):
            return "wss://" + base.removeprefix("https://") + "/api/websocket"
        return "ws://" + base.removeprefix("http://") + "/api/websocket"

    async def _watch(self) -> None:
        """Connect, read, subscribe, re-read on changes; reconnect with backoff."""
        backoff = Backoff(1.0, 60.0)
        while True:
            assert self._session is not None
            ws = HomeAssistantWs(self._session, self._ws_url(), _token(self._config))
            try:
                await ws.connect()
                await self._follow(ws)
            except asyncio.CancelledError:
                raise
            except (HomeControlFailed, aiohttp.ClientError, OSError, TimeoutError) as err:
                self._first.set()  # entities() need not wait: /api/states meanwhile
                delay = backoff.next_delay()
                _LOGGER.warning(
                    "Home Assistant registries: %s; again in %.0f s", err or repr(err), delay
                )
                await asyncio.sleep(delay)
                continue
            finally:
                await ws.close()
            backoff.reset()

    async def _follow(self, ws: HomeAssistantWs) -> None:
        changed = asyncio.Event()
        receiver = asyncio.create_task(ws.receive_forever(), name="home-assistant-ws")
        try:
            for event_type in REGISTRY_EVENTS:
                await self._bounded(ws.subscribe(event_type, lambda _e: changed.set()), receiver)
            while True:
                changed.clear()
                self._publish(await self._bounded(read_home(ws), receiver))
                waiter = asyncio.create_task(changed.wait())
                try:
                    done, _ = await asyncio.wait(
                        {waiter, receiver},
                        timeout=self._config.refresh_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    waiter.cancel()
                if receiver in done:
                    receiver.result()  # raises: the connection ended
                if changed.is_set():
                    # a burst of registry events (a new device brings several) is read once
                    await asyncio.sleep(self._config.settle_seconds)
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiver

    async def _bounded(self, work: Any, receiver: asyncio.Task[None]) -> Any:
        """Await ``work`` unless the connection ends first (then its error is raised)."""
        task = asyncio.ensure_future(work)
        try:
            async with asyncio.timeout(self._config.timeout * 4):
                done, _ = await asyncio.wait({task, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
        if task in done:
            return task.result()
        receiver.result()
        raise HomeControlFailed("websocket closed")

    def _publish(self, home: HomeSnapshot) -> None:
        self.reads += 1
        previous, self._home = self._home, home
        self._first.set()
        if previous == home:
            return
        _LOGGER.info(
            "Home Assistant: %d entities exposed to Assist, %d areas, %d not exposed",
            len(home.entities),
            len(home.areas),
            len(home.not_exposed),
        )
        for listener in self._listeners:
            try:
                listener(home)
            except Exception:
                _LOGGER.exception("home listener failed")
