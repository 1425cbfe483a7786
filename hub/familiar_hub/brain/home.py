"""Home control, pure: entities, recognised intents, the service calls they become, and the
words that confirm them. No I/O here; executors live in ``backends/``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from familiar_hub.persona.api import StyleProfile

# The intents the brain acts on. Anything else the templates recognise (weather, shopping
# lists...) is not home control for us and goes on to the conversation.
TURN_ON = "HassTurnOn"
TURN_OFF = "HassTurnOff"
LIGHT_SET = "HassLightSet"
SET_POSITION = "HassSetPosition"
CLIMATE_SET = "HassClimateSetTemperature"
START_TIMER = "HassStartTimer"
CANCEL_TIMER = "HassCancelTimer"
CANCEL_ALL_TIMERS = "HassCancelAllTimers"
NEVERMIND = "HassNevermind"
CURRENT_TIME = "HassGetCurrentTime"

DEVICE_INTENTS = frozenset({TURN_ON, TURN_OFF, LIGHT_SET, SET_POSITION, CLIMATE_SET})
TIMER_INTENTS = frozenset({START_TIMER, CANCEL_TIMER, CANCEL_ALL_TIMERS})
LOCAL_INTENTS = frozenset({NEVERMIND, CURRENT_TIME})
SUPPORTED_INTENTS = DEVICE_INTENTS | TIMER_INTENTS | LOCAL_INTENTS

# Domains whose "on"/"off" has its own service name.
_ON_SERVICE = {
    "cover": "open_cover",
    "valve": "open_valve",
    "lock": "lock",
    "vacuum": "start",
    "lawn_mower": "start_mowing",
    "alarm_control_panel": "alarm_arm_away",
}
_OFF_SERVICE = {
    "cover": "close_cover",
    "valve": "close_valve",
    "lock": "unlock",
    "vacuum": "return_to_base",
    "lawn_mower": "dock",
    "alarm_control_panel": "alarm_disarm",
}
_ON_WORD = {
    "cover": "open",
    "valve": "open",
    "lock": "locked",
    "vacuum": "cleaning",
    "alarm_control_panel": "armed",
}
_OFF_WORD = {
    "cover": "closed",
    "valve": "closed",
    "lock": "unlocked",
    "vacuum": "docking",
    "alarm_control_panel": "disarmed",
}
_ONE_SHOT = frozenset({"scene", "script", "button"})


@dataclass(frozen=True)
class Entity:
    """A device the brain may control."""

    entity_id: str
    name: str
    area: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def domain(self) -> str:
        return self.entity_id.partition(".")[0]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class HomeIntent:
    """A recognised home-control request, with its targets resolved to known entities."""

    name: str
    """Home Assistant intent name (``HassTurnOn`` ...)."""
    targets: tuple[Entity, ...] = ()
    slots: dict[str, Any] = field(default_factory=dict)
    """What was said besides the target: ``brightness``, ``temperature``, ``position``,
    ``hours``/``minutes``/``seconds``, timer ``name``; and ``area``/``domain`` when the target
    was a whole room."""
    source: str = "template"
    """``template`` (hassil) or ``llm`` (the constrained fallback)."""

    def wyoming_entities(self) -> list[tuple[str, Any]]:
        """Slots as Home Assistant's intent handlers want them (``name`` is the entity name)."""
        out: list[tuple[str, Any]] = []
        if len(self.targets) == 1 and "area" not in self.slots:
            out.append(("name", self.targets[0].name))
        out += [(key, value) for key, value in self.slots.items() if value is not None]
        return out


@dataclass(frozen=True)
class UnknownDevice:
    """A home-control sentence naming something we do not know: refused, never guessed."""

    said: str


@dataclass(frozen=True)
class ServiceCall:
    """``POST /api/services/<domain>/<service>`` with ``entity_id`` and ``data``."""

    domain: str
    service: str
    entity_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"entity_id": self.entity_id, **self.data}


def service_calls(intent: HomeIntent) -> list[ServiceCall]:
    """What carrying out ``intent`` means, one call per target."""
    calls = []
    for entity in intent.targets:
        domain = entity.domain
        if intent.name == TURN_ON:
            if domain in _ONE_SHOT:
                service = "press" if domain == "button" else "turn_on"
            else:
                service = _ON_SERVICE.get(domain, "turn_on")
            calls.append(ServiceCall(domain, service, entity.entity_id))
        elif intent.name == TURN_OFF:
            calls.append(
                ServiceCall(domain, _OFF_SERVICE.get(domain, "turn_off"), entity.entity_id)
            )
        elif intent.name == LIGHT_SET:
            data: dict[str, Any] = {}
            if intent.slots.get("brightness") is not None:
                data["brightness_pct"] = int(intent.slots["brightness"])
            if intent.slots.get("color") is not None:
                data["color_name"] = str(intent.slots["color"])
            calls.append(ServiceCall("light", "turn_on", entity.entity_id, data))
        elif intent.name == SET_POSITION:
            position = int(intent.slots.get("position", 0))
            calls.append(
                ServiceCall(
                    domain, f"set_{domain}_position", entity.entity_id, {"position": position}
                )
            )
        elif intent.name == CLIMATE_SET:
            calls.append(
                ServiceCall(
                    "climate",
                    "set_temperature",
                    entity.entity_id,
                    {"temperature": float(intent.slots["temperature"])},
                )
            )
    return calls


def _spoken_list(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _target_phrase(intent: HomeIntent) -> str:
    if "area" in intent.slots and len(intent.targets) > 1:
        return f"the {intent.slots['area']} {intent.targets[0].domain.replace('_', ' ')}s"
    return "the " + _spoken_list([t.name for t in intent.targets])


def duration_words(slots: dict[str, Any]) -> str:
    parts = []
    for unit in ("hours", "minutes", "seconds"):
        value = slots.get(unit)
        if value:
            number = int(value) if float(value).is_integer() else float(value)
            parts.append(f"{number} {unit if number != 1 else unit[:-1]}")
    return _spoken_list(parts) or "a moment"


def duration_seconds(slots: dict[str, Any]) -> float:
    return (
        float(slots.get("hours") or 0) * 3600
        + float(slots.get("minutes") or 0) * 60
        + float(slots.get("seconds") or 0)
    )


def _state_phrase(intent: HomeIntent) -> str:
    domain = intent.targets[0].domain if intent.targets else ""
    target = _target_phrase(intent)
    plural = len(intent.targets) > 1
    verb = "are" if plural else "is"
    if intent.name == TURN_ON:
        if domain in _ONE_SHOT:
            return f"{target} {'have' if plural else 'has'} been started"
        return f"{target} {verb} {_ON_WORD.get(domain, 'on')}"
    if intent.name == TURN_OFF:
        return f"{target} {verb} {_OFF_WORD.get(domain, 'off')}"
    if intent.name == LIGHT_SET:
        if intent.slots.get("brightness") is not None:
            return f"{target} {verb} at {int(intent.slots['brightness'])} percent"
        return f"{target} {verb} {intent.slots.get('color', 'set')}"
    if intent.name == SET_POSITION:
        return f"{target} {verb} at {int(intent.slots.get('position', 0))} percent"
    if intent.name == CLIMATE_SET:
        temperature = float(intent.slots["temperature"])
        shown = int(temperature) if temperature.is_integer() else temperature
        return f"{target} {verb} set to {shown} degrees"
    return "that's done"


def confirmation(intent: HomeIntent, style: StyleProfile | None, *, now_text: str = "") -> str:
    """Spoken confirmation in the persona's register (fast: no LLM on the home-control path)."""
    casual = style is not None and style.formality == "casual"
    formal = style is not None and style.formality == "formal"
    if intent.name == START_TIMER:
        what = f" for {intent.slots['name']}" if intent.slots.get("name") else ""
        opener = "Certainly" if formal else "Okay"
        return f"{opener}, {duration_words(intent.slots)} timer{what}, starting now."
    if intent.name in (CANCEL_TIMER, CANCEL_ALL_TIMERS):
        return "Timer cancelled." if not casual else "Okay, timer's off."
    if intent.name == NEVERMIND:
        return ""
    if intent.name == CURRENT_TIME:
        return f"It's {now_text}."
    phrase = _state_phrase(intent)
    if casual:
        return f"Done, {phrase}."
    if formal:
        return f"Certainly. {phrase[0].upper()}{phrase[1:]} now."
    return f"Okay, {phrase} now."


def refusal(unknown: UnknownDevice) -> str:
    return f"Sorry, I don't know a device called {unknown.said}, so I haven't touched anything."


_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# Words that make a sentence worth trying on the LLM fallback even without a device name.
_CONTROL_WORDS = frozenset(
    [
        "light",
        "lights",
        "lamp",
        "lamps",
        "bright",
        "brighter",
        "brightness",
        "dim",
        "dimmer",
        "darker",
        "dark",
        "heating",
        "heater",
        "warm",
        "warmer",
        "cold",
        "colder",
        "cool",
        "cooler",
        "temperature",
        "thermostat",
        "degrees",
        "fan",
        "fans",
        "blind",
        "blinds",
        "curtain",
        "curtains",
        "shutter",
        "shutters",
        "door",
        "doors",
        "gate",
        "garage",
        "lock",
        "unlock",
        "alarm",
        "switch",
        "plug",
        "socket",
        "tv",
        "music",
        "timer",
        "timers",
        "percent",
    ]
)
_STOP = frozenset(
    ["the", "a", "an", "in", "on", "of", "to", "my", "it", "is", "please", "and", "off"]
)


def looks_like_home_control(text: str, entities: Iterable[Entity]) -> bool:
    """Cheap gate before the LLM fallback: does the sentence mention a device or room at all?"""
    said = set(words(text))
    if said & _CONTROL_WORDS:
        return True
    for entity in entities:
        for name in (*entity.names, entity.area or ""):
            if set(words(name)) - _STOP & said:
                return True
    return False
