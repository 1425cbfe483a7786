"""Recognising home-control sentences: hassil with Home Assistant's English templates first,
then (optionally) the LLM constrained to a JSON schema whose entity can only be a known one.

Only ever called with the user's own transcript, never with retrieved text.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from familiar_hub.brain.home import (
    CANCEL_ALL_TIMERS,
    CANCEL_TIMER,
    CLIMATE_SET,
    DEVICE_INTENTS,
    LIGHT_SET,
    NEVERMIND,
    SET_POSITION,
    START_TIMER,
    SUPPORTED_INTENTS,
    TURN_OFF,
    TURN_ON,
    Entity,
    HomeIntent,
    UnknownDevice,
    words,
)

_LOGGER = logging.getLogger(__name__)

Recognised = HomeIntent | UnknownDevice | None

# Sentences people say that the upstream templates leave to other parts of Home Assistant
# (the pipeline's own "stop", dimming verbs), in hassil's template syntax.
# A bare "stop" must win over the media templates, so these are tried on their own first.
_STOP_WORDS = frozenset(
    ["stop", "cancel", "be quiet", "quiet", "shut up", "stop talking", "forget it", "never mind"]
)
# A sentence only counts as naming an unknown device when it starts like a command.
_COMMAND_START = re.compile(
    r"^\s*(please\s+)?(turn|switch|open|close|shut|lock|unlock|set|dim|brighten|start|activate)\b",
    re.IGNORECASE,
)
_MAX_UNKNOWN_WORDS = 4
_EXTRA_SENTENCES: dict[str, list[dict[str, Any]]] = {
    LIGHT_SET: [
        {
            "sentences": [
                "(dim|brighten|set) [<the>] {name} [to] {brightness}[([ ]%)| percent]",
                "(dim|brighten|set) [<the>] {area} (light|lights) [to] {brightness}"
                "[([ ]%)| percent]",
            ],
            "requires_context": {"domain": "light"},
        }
    ],
    TURN_ON: [
        {"sentences": ["(start|run) [<the>] {name} [please]"]},
        {
            "sentences": ["arm [<the>] {name} [please]"],
            "requires_context": {"domain": "alarm_control_panel"},
        },
    ],
    # Said to an alarm panel, only "disarm" disarms it (never "turn off"): see brain/safety.py.
    TURN_OFF: [
        {
            "sentences": ["disarm [<the>] {name} [please]"],
            "requires_context": {"domain": "alarm_control_panel"},
        }
    ],
}

_SLOT_KEYS = ("brightness", "temperature", "position", "hours", "minutes", "seconds", "color")


class TemplateRecognizer:
    """hassil over ``home-assistant-intents`` with slot lists made from the known entities."""

    def __init__(
        self,
        entities: Sequence[Entity],
        language: str = "en",
        area: str | None = None,
        area_aliases: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        from hassil import Intents
        from hassil.intents import TextSlotList
        from home_assistant_intents import get_intents

        data = get_intents(language)
        if data is None:
            raise ValueError(f"no home-control templates for language {language!r}")
        data = copy.deepcopy(data)
        if language.startswith("en"):
            for name, extra in _EXTRA_SENTENCES.items():
                data["intents"].setdefault(name, {"data": []})["data"].extend(extra)
        self._intents = Intents.from_dict(data)
        self.entities = list(entities)
        self._by_id = {e.entity_id: e for e in self.entities}
        names = [
            (spoken, entity.entity_id, {"domain": entity.domain})
            for entity in self.entities
            for spoken in entity.names
        ]
        areas = sorted({e.area for e in self.entities if e.area} | ({area} if area else set()))
        # An area's aliases (from Home Assistant) are other ways to say it: the value stays
        # the area's name, which is what entities carry.
        spoken_areas = [(a, a) for a in areas] + [
            (alias, a) for a in areas for alias in (area_aliases or {}).get(a, ()) if alias != a
        ]
        self._slot_lists: dict[str, Any] = {
            "name": TextSlotList.from_tuples(names, allow_template=False),
            "area": TextSlotList.from_tuples(spoken_areas, allow_template=False),
            "floor": TextSlotList.from_tuples([], allow_template=False),
        }
        self._area = area
        self._language = language

    def warm_up(self) -> None:
        """hassil compiles templates lazily; the first sentence pays for it unless we do."""
        self.recognize("turn on the light")

    def _match(self, text: str, *, unmatched: bool) -> Any:
        from hassil import recognize_best

        return recognize_best(
            text,
            self._intents,
            slot_lists=self._slot_lists,
            intent_context={"area": self._area} if self._area else None,
            allow_unmatched_entities=unmatched,
            language=self._language,
            best_slot_name="name",
        )

    def recognize(self, text: str) -> Recognised:
        if " ".join(words(text)) in _STOP_WORDS:
            return HomeIntent(NEVERMIND)
        result = self._match(text, unmatched=False)
        if result is None:
            return self._unknown_device(text)
        name = result.intent.name
        if name not in SUPPORTED_INTENTS:
            _LOGGER.debug("template intent %s is not home control here", name)
            return None
        slots: dict[str, Any] = {}
        for key in _SLOT_KEYS:
            entity = result.entities.get(key)
            if entity is not None:
                slots[key] = entity.value
        if name in (START_TIMER, CANCEL_TIMER) and "name" in result.entities:
            slots["name"] = result.entities["name"].value
        if name not in DEVICE_INTENTS:
            return HomeIntent(name, (), slots)
        context = dict(result.context or {})
        domain = _value(result.entities.get("domain")) or context.get("domain")
        targets = self._targets(result, domain)
        if not targets:
            return None
        if "name" not in result.entities:
            if result.entities.get("area") is not None:
                slots["area"] = _value(result.entities["area"])
            elif self._area:
                slots["area"] = self._area
            if domain:
                slots["domain"] = domain
        return HomeIntent(name, tuple(targets), slots)

    def _unknown_device(self, text: str) -> UnknownDevice | None:
        """A command naming something we do not know (refused rather than guessed)."""
        if not _COMMAND_START.match(text):
            return None
        loose = self._match(text, unmatched=True)
        if loose is None or loose.intent.name not in DEVICE_INTENTS:
            return None
        unmatched = loose.unmatched_entities.get("name") or loose.unmatched_entities.get("area")
        said = str(getattr(unmatched, "text", "") or "").strip()
        if not said or len(said.split()) > _MAX_UNKNOWN_WORDS:
            return None
        return UnknownDevice(said)

    def _targets(self, result: Any, domain: Any) -> list[Entity]:
        named = result.entities.get("name")
        if named is not None:
            entity = self._by_id.get(str(named.value))
            return [entity] if entity is not None else []
        area = _value(result.entities.get("area")) or (
            self._area if result.intent.name == CLIMATE_SET else None
        )
        domains = _domains(result.intent.name, domain)
        found = [
            e
            for e in self.entities
            if (area is None or (e.area or "").lower() == str(area).lower())
            and (not domains or e.domain in domains)
        ]
        if area is None and len(found) != 1:
            return []  # "turn on the light" with several lights and no room: not ours to guess
        return found


def _value(entity: Any) -> Any:
    if entity is None:
        return None
    value = entity.value
    return value if value not in ("", None) else None


def _domains(intent: str, domain: Any) -> set[str]:
    if isinstance(domain, str) and domain:
        return {domain}
    if isinstance(domain, list):
        return {str(d) for d in domain}
    if intent == CLIMATE_SET:
        return {"climate"}
    if intent == LIGHT_SET:
        return {"light"}
    if intent == SET_POSITION:
        return {"cover", "valve"}
    return set()


# --- LLM fallback ---------------------------------------------------------------------------

LLM_INTENTS = (TURN_ON, TURN_OFF, LIGHT_SET, CLIMATE_SET, START_TIMER, CANCEL_ALL_TIMERS)
NONE = "none"


def intent_schema(entities: Sequence[Entity]) -> dict[str, Any]:
    """JSON schema for the fallback: the entity can only be a known entity id (or none)."""
    return {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": [*LLM_INTENTS, NONE]},
            "entity": {"type": "string", "enum": [*(e.entity_id for e in entities), NONE]},
            "value": {"type": "integer", "minimum": 0, "maximum": 1000},
        },
        "required": ["intent", "entity", "value"],
    }


def intent_instructions(entities: Sequence[Entity]) -> str:
    """The task for the fallback, sent as a user message (the persona prefix stays cached)."""
    devices = "\n".join(
        f"- {e.entity_id}: {e.name}" + (f" ({e.area})" if e.area else "") for e in entities
    )
    return (
        "TASK: decide whether the sentence below asks to control one of these devices.\n"
        f"{devices}\n"
        "Reply with JSON only. intent is one of: HassTurnOn (switch on, open, start), "
        "HassTurnOff (switch off, close, stop), HassLightSet (light brightness, value = percent), "
        "HassClimateSetTemperature (value = degrees), HassStartTimer (value = minutes), "
        "HassCancelAllTimers, or none when it is not a device command (questions, chat). "
        "entity is the device id from the list, or none. value is 0 when there is no number.\n"
        'Example: "make the kitchen light dimmer, 20" -> '
        '{"intent": "HassLightSet", "entity": "light.kitchen", "value": 20}\n'
        'Example: "when is the party?" -> {"intent": "none", "entity": "none", "value": 0}\n'
        "Sentence: "
    )


def parse_llm_intent(raw: str, entities: Sequence[Entity]) -> HomeIntent | None:
    """Validate what the LLM returned; anything not fully valid is no intent (never a guess)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name, entity_id, value = data.get("intent"), data.get("entity"), data.get("value", 0)
    if name not in LLM_INTENTS:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = 0
    if name == START_TIMER:
        return HomeIntent(name, (), {"minutes": value}, "llm") if value > 0 else None
    if name == CANCEL_ALL_TIMERS:
        return HomeIntent(name, (), {}, "llm")
    by_id = {e.entity_id: e for e in entities}
    entity = by_id.get(str(entity_id))
    if entity is None:
        return None
    if name == LIGHT_SET:
        if entity.domain != "light" or not 0 < value <= 100:
            return None
        return HomeIntent(name, (entity,), {"brightness": int(value)}, "llm")
    if name == CLIMATE_SET:
        if entity.domain != "climate" or not 5 <= value <= 35:
            return None
        return HomeIntent(name, (entity,), {"temperature": value}, "llm")
    return HomeIntent(name, (entity,), {}, "llm")
