"""The home as Home Assistant knows it, pure: entities, areas, aliases and Assist exposure
made from what HA's WebSocket API returns (no I/O here; ``backends/home_assistant.py`` talks).

Exposure follows HA's own rule (``homeassistant/components/homeassistant/exposed_entities.py``):
an explicit "Expose to Assist" setting wins; an entity without one is exposed when new entities
are exposed to Assist (``expose_new``, on by default) and its domain is exposed by default, unless
it is hidden or an entity-category (config/diagnostic) entity. Only exposed entities are offered
to voice control.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from familiar_hub.brain.home import Entity

ASSISTANT = "conversation"
"""HA's name for Assist in exposure settings."""

OLD_DEFAULT_EXPOSED_DOMAINS = frozenset(
    {"climate", "cover", "fan", "humidifier", "light", "lock", "scene", "script", "switch",
     "todo", "vacuum", "water_heater"}
)  # fmt: skip
"""HA 2024.3.3's ``DEFAULT_EXPOSED_DOMAINS`` (read from its source): locks and scripts too."""

DEFAULT_EXPOSED_DOMAINS = frozenset(
    {"climate", "cover", "fan", "humidifier", "light", "media_player", "scene", "switch",
     "todo", "vacuum", "water_heater"}
)  # fmt: skip
"""HA 2026.11.0's: no locks or scripts by default, media players are."""

NEW_DEFAULTS_FROM = (2025, 1)
"""Where we switch sets. Only the two ends were read (2024.3.3, 2026.11.0); the rule matters
only for an entity HA itself never judged, as HA stores its answer once its Assist has asked."""


def default_exposed_domains(ha_version: str | None) -> frozenset[str]:
    """The default-exposed domains of the HA version that answered (``auth_ok``'s version)."""
    try:
        year, month = (int(part) for part in (ha_version or "").split(".")[:2])
    except ValueError:
        return DEFAULT_EXPOSED_DOMAINS
    return (
        DEFAULT_EXPOSED_DOMAINS
        if (year, month) >= NEW_DEFAULTS_FROM
        else OLD_DEFAULT_EXPOSED_DOMAINS
    )


CONTROLLABLE = frozenset(
    {
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
        "alarm_control_panel",
    }
)
"""Domains the brain can act on."""


@dataclass(frozen=True)
class Area:
    area_id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class HomeSnapshot:
    """What HA offers voice control at one moment."""

    entities: tuple[Entity, ...] = ()
    """Exposed, enabled, controllable entities with their area and aliases."""
    areas: tuple[Area, ...] = ()
    not_exposed: frozenset[str] = field(default_factory=frozenset)
    """Controllable entities HA has but does not expose to Assist (refused if named)."""

    def area_aliases(self) -> dict[str, tuple[str, ...]]:
        return {area.name: area.aliases for area in self.areas}

    def entity(self, entity_id: str) -> Entity | None:
        return next((e for e in self.entities if e.entity_id == entity_id), None)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _aliases(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple | set):
        return ()
    return tuple(sorted(str(a).strip() for a in value if isinstance(a, str) and a.strip()))


def should_expose(
    entity_id: str,
    entry: Mapping[str, Any] | None,
    explicit: Mapping[str, Any] | None,
    expose_new: bool,
    default_domains: frozenset[str] = DEFAULT_EXPOSED_DOMAINS,
) -> bool:
    """HA's exposure rule for Assist (see the module docstring)."""
    if explicit is not None and isinstance(explicit.get(ASSISTANT), bool):
        return bool(explicit[ASSISTANT])
    options = (entry or {}).get("options") or {}
    setting = options.get(ASSISTANT) if isinstance(options, Mapping) else None
    if isinstance(setting, Mapping) and isinstance(setting.get("should_expose"), bool):
        return bool(setting["should_expose"])
    if not expose_new:
        return False
    if entry is not None and (entry.get("entity_category") or entry.get("hidden_by")):
        return False
    return entity_id.partition(".")[0] in default_domains


def build_home(
    *,
    states: Iterable[Mapping[str, Any]],
    entity_entries: Iterable[Mapping[str, Any]],
    devices: Iterable[Mapping[str, Any]],
    areas: Iterable[Mapping[str, Any]],
    exposed: Mapping[str, Mapping[str, Any]],
    expose_new: bool = True,
    ha_version: str | None = None,
) -> HomeSnapshot:
    """The replies of ``get_states``, ``config/entity_registry/list`` (with aliases and options
    where the version gives them), ``config/device_registry/list``, ``config/area_registry/list``
    and ``homeassistant/expose_entity/list`` -> what voice control may use."""
    area_list = []
    area_names: dict[str, str] = {}
    for raw in areas:
        area_id, name = _str(raw.get("area_id")), _str(raw.get("name"))
        if area_id and name:
            area_names[area_id] = name
            area_list.append(Area(area_id, name, _aliases(raw.get("aliases"))))
    device_area = {
        str(d["id"]): _str(d.get("area_id")) for d in devices if _str(d.get("id")) is not None
    }
    registry = {str(e["entity_id"]): e for e in entity_entries if _str(e.get("entity_id"))}
    entities: list[Entity] = []
    hidden: set[str] = set()
    for state in states:
        entity_id = _str(state.get("entity_id"))
        if entity_id is None or entity_id.partition(".")[0] not in CONTROLLABLE:
            continue
        entry = registry.get(entity_id)
        if entry is not None and entry.get("disabled_by"):
            continue
        defaults = default_exposed_domains(ha_version)
        if not should_expose(entity_id, entry, exposed.get(entity_id), expose_new, defaults):
            hidden.add(entity_id)
            continue
        attributes = state.get("attributes") or {}
        name = (
            _str(attributes.get("friendly_name"))
            or _str((entry or {}).get("name"))
            or entity_id.partition(".")[2].replace("_", " ")
        )
        area_id = _str((entry or {}).get("area_id"))
        if area_id is None and entry is not None and _str(entry.get("device_id")):
            area_id = device_area.get(str(entry["device_id"]))
        area = area_names.get(area_id) if area_id else None
        aliases = tuple(a for a in _aliases((entry or {}).get("aliases")) if a != name)
        entities.append(Entity(entity_id, name, area, aliases))
    entities.sort(key=lambda e: e.entity_id)
    area_list.sort(key=lambda a: a.name)
    return HomeSnapshot(tuple(entities), tuple(area_list), frozenset(hidden))


def merge_with_configured(
    snapshot: HomeSnapshot, configured: Sequence[Entity]
) -> tuple[list[Entity], list[str]]:
    """YAML entries refine HA's (name, area, aliases) for entities HA exposes; a YAML entry for
    an entity HA does not expose stays out. Returns the entities and the ids left out."""
    by_id = {e.entity_id: e for e in configured}
    out = []
    for entity in snapshot.entities:
        mine = by_id.pop(entity.entity_id, None)
        if mine is None:
            out.append(entity)
        else:
            aliases = tuple(dict.fromkeys((*mine.aliases, *entity.aliases)))
            out.append(Entity(entity.entity_id, mine.name, mine.area or entity.area, aliases))
    return out, sorted(by_id)
