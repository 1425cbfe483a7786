"""Home Assistant's REST API: the entity list (``/api/states``) and service calls."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

import aiohttp

from familiar.errors import HomeControlFailed
from familiar_hub.brain.home import Entity, ServiceCall
from familiar_hub.config import HomeAssistantApiConfig

_LOGGER = logging.getLogger(__name__)

# Domains worth offering to voice control from /api/states.
CONTROLLABLE = frozenset(
    [
        "light",
        "switch",
        "fan",
        "cover",
        "lock",
        "climate",
        "media_player",
        "scene",
        "script",
        "input_boolean",
        "valve",
        "vacuum",
        "button",
        "humidifier",
        "water_heater",
        "lawn_mower",
    ]
)


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


class HomeAssistantRest:
    def __init__(self, config: HomeAssistantApiConfig) -> None:
        self._config = config
        self._base = config.url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    @property
    def name(self) -> str:
        return "home-assistant"

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._config.read_token()}"},
            timeout=aiohttp.ClientTimeout(total=self._config.timeout),
            connector=aiohttp.TCPConnector(ssl=self._config.verify_tls),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def entities(self) -> list[Entity]:
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
