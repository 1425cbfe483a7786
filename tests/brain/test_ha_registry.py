"""The home from Home Assistant's registries (pure): areas, aliases, exposure."""

from __future__ import annotations

from typing import Any

from familiar_hub.brain.ha_registry import (
    build_home,
    default_exposed_domains,
    merge_with_configured,
    should_expose,
)
from familiar_hub.brain.home import TURN_OFF, Entity, HomeIntent
from familiar_hub.brain.intents import TemplateRecognizer


def state(entity_id: str, name: str) -> dict[str, Any]:
    return {"entity_id": entity_id, "state": "off", "attributes": {"friendly_name": name}}


STATES = [
    state("light.kitchen_ceiling", "Kitchen ceiling"),
    state("light.kitchen_counter", "Counter lights"),
    state("light.hall", "Hall light"),
    state("lock.front_door", "Front door"),
    state("switch.coffee", "Coffee maker"),
    state("switch.debug", "Debug switch"),
    state("light.old", "Old lamp"),
    state("sensor.temperature", "Temperature"),
    state("light.yaml_only", "Porch light"),  # no unique id: not in the entity registry
]
ENTRIES = [
    {"entity_id": "light.kitchen_ceiling", "area_id": "kitchen", "device_id": None},
    # area from its device; aliases from get_entries
    {"entity_id": "light.kitchen_counter", "area_id": None, "device_id": "dev1",
     "aliases": ["worktop lights"]},
    {"entity_id": "light.hall", "area_id": "hall", "device_id": None},
    {"entity_id": "lock.front_door", "area_id": "hall", "device_id": None},
    {"entity_id": "switch.coffee", "area_id": "kitchen", "device_id": None,
     "options": {"conversation": {"should_expose": False}}},
    {"entity_id": "switch.debug", "area_id": None, "device_id": None, "entity_category": "config"},
    {"entity_id": "light.old", "area_id": None, "device_id": None, "disabled_by": "user"},
]  # fmt: skip
DEVICES = [{"id": "dev1", "area_id": "kitchen", "name": "Counter strip"}]
AREAS = [
    {"area_id": "kitchen", "name": "Kitchen", "aliases": ["cookhouse"]},
    {"area_id": "hall", "name": "Hall", "aliases": []},
]


def test_areas_aliases_and_exposure() -> None:
    exposed = {"lock.front_door": {"conversation": True}}
    home = build_home(
        states=STATES, entity_entries=ENTRIES, devices=DEVICES, areas=AREAS, exposed=exposed
    )
    by_id = {e.entity_id: e for e in home.entities}
    assert sorted(by_id) == [
        "light.hall",
        "light.kitchen_ceiling",
        "light.kitchen_counter",
        "light.yaml_only",
        "lock.front_door",
    ]
    assert by_id["light.kitchen_ceiling"].area == "Kitchen"
    assert by_id["light.kitchen_counter"].area == "Kitchen"  # through its device
    assert by_id["light.kitchen_counter"].aliases == ("worktop lights",)
    assert by_id["light.yaml_only"].area is None
    # switched off in the Assist settings, an entity-category one, never exposed domains
    assert home.not_exposed == {"switch.coffee", "switch.debug"}
    assert home.area_aliases() == {"Hall": (), "Kitchen": ("cookhouse",)}


def test_default_exposure_and_expose_new_off_exposes_nothing_new() -> None:
    home = build_home(states=STATES, entity_entries=ENTRIES, devices=DEVICES, areas=AREAS,
                      exposed={"lock.front_door": {"conversation": False}})  # fmt: skip
    assert "lock.front_door" in home.not_exposed
    # the defaults differ between versions: read from HA 2024.3.3 and 2026.11.0
    old, new = default_exposed_domains("2024.3.3"), default_exposed_domains("2026.11.0")
    assert should_expose("lock.back_door", None, None, True, old)
    assert not should_expose("lock.back_door", None, None, True, new)
    assert should_expose("media_player.tv", None, None, True, new)
    assert not should_expose("media_player.tv", None, None, True, old)
    assert not should_expose("light.new", None, None, expose_new=False)
    assert should_expose("light.new", None, {"conversation": True}, expose_new=False)
    assert should_expose("light.new", None, None, expose_new=True)
    assert not should_expose("light.new", {"hidden_by": "user"}, None, expose_new=True)


def test_configured_entries_refine_but_cannot_expose() -> None:
    home = build_home(states=STATES, entity_entries=ENTRIES, devices=DEVICES, areas=AREAS,
                      exposed={"lock.front_door": {"conversation": False}})  # fmt: skip
    configured = [
        Entity("light.hall", "Hallway light", None, ("corridor light",)),
        Entity("lock.front_door", "Front door"),
    ]
    entities, left_out = merge_with_configured(home, configured)
    hall = next(e for e in entities if e.entity_id == "light.hall")
    assert hall.name == "Hallway light" and hall.area == "Hall"
    assert hall.aliases == ("corridor light",)
    assert left_out == ["lock.front_door"]
    assert all(e.entity_id != "lock.front_door" for e in entities)


def test_lights_in_the_kitchen_by_area_and_area_alias() -> None:
    home = build_home(states=STATES, entity_entries=ENTRIES, devices=DEVICES, areas=AREAS,
                      exposed={})  # fmt: skip
    recognizer = TemplateRecognizer(home.entities, "en", None, home.area_aliases())
    for sentence in ("turn off the lights in the kitchen", "turn off the cookhouse lights"):
        intent = recognizer.recognize(sentence)
        assert isinstance(intent, HomeIntent), sentence
        assert intent.name == TURN_OFF
        assert {t.entity_id for t in intent.targets} == {
            "light.kitchen_ceiling",
            "light.kitchen_counter",
        }
    intent = recognizer.recognize("turn on the worktop lights")
    assert isinstance(intent, HomeIntent)
    assert [t.entity_id for t in intent.targets] == ["light.kitchen_counter"]
