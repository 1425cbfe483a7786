"""The brain as a Wyoming ``handle`` program (Home Assistant's conversation agent).

Home Assistant opens a connection per turn and sends ``transcript{text, context{conversation_id}}``.
We stream ``handled-start``, ``handled-chunk``..., ``handled-stop`` as an extra (HA ignores them)
and ALWAYS finish with ``handled`` (or ``not-handled`` on failure): HA waits for it. A home
command left to Home Assistant is sent as an ``intent`` event first (HA stops reading there and
runs its own handlers, speaking our ``text``), then ``handled`` for older versions.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from wyoming.asr import Transcript
from wyoming.event import Event, Eventable
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop, NotHandled
from wyoming.info import Attribution, HandleModel, HandleProgram
from wyoming.intent import Entity as WyomingEntity
from wyoming.intent import Intent

from familiar import __version__
from familiar.server import Connection
from familiar_hub.brain.brain import Brain, ReplyResult
from familiar_hub.brain.prompt import apology
from familiar_hub.brain.retrieval import configured_name
from familiar_hub.config import BrainConfig

_LOGGER = logging.getLogger(__name__)

EVENT_TYPES: tuple[type[Eventable], ...] = (Transcript,)


def program(brain: Brain) -> HandleProgram:
    return program_for(
        brain.config, controls_home=brain.controls_home, persona_name=brain.persona_name
    )


def program_for(
    config: BrainConfig, *, controls_home: bool | None = None, persona_name: str | None = None
) -> HandleProgram:
    """What ``describe`` says about the brain; from the config alone while its models load."""
    name = persona_name or configured_name(config.persona_config)
    if controls_home is None:
        home = config.home
        executor = home.home_assistant is not None or home.mqtt is not None
        controls_home = home.enabled and (executor or home.ha_caller_intents)
    return HandleProgram(
        name="familiar-brain",
        description=f"Familiar: answers as {name}",
        attribution=Attribution(name="Familiar", url="https://github.com/familiar"),
        installed=True,
        version=__version__,
        models=[
            HandleModel(
                name=name,
                description=f"{name} (persona)",
                attribution=Attribution(name="Familiar", url="https://github.com/familiar"),
                installed=True,
                version=None,
                languages=[config.language],
            )
        ],
        supports_handled_streaming=True,
        supports_home_control=controls_home,
    )


def intent_event(result: ReplyResult, context: dict[str, Any]) -> Event:
    assert result.intent is not None
    entities = [WyomingEntity(name, value) for name, value in result.intent.wyoming_entities()]
    return Intent(result.intent.name, entities, text=result.text or None, context=context).event()


class BrainHandler:
    """One per connection; each ``transcript`` is one turn."""

    def __init__(self, brain: Brain, conn: Connection) -> None:
        self._brain = brain
        self._conn = conn

    async def handle_event(self, event: Event) -> bool:
        if not Transcript.is_type(event.type):
            return True
        transcript = Transcript.from_event(event)
        context = dict(transcript.context or {})
        conversation_id = str(context.get("conversation_id") or uuid.uuid4().hex)
        context["conversation_id"] = conversation_id
        send = self._conn.send
        await send(HandledStart(context=context).event())
        forward = self._brain.config.home.ha_caller_intents
        try:
            async with self._brain.respond(
                transcript.text, conversation_id, forward_intents=forward
            ) as reply:
                async for sentence in reply:
                    await send(HandledChunk(sentence + " ").event())
            result = reply.result
        except Exception:
            # The brain turns model failures into apologies; this is the last safety net so
            # Home Assistant is never left waiting.
            _LOGGER.exception("brain failed on a handle request from %s", self._conn.peer)
            await send(HandledStop().event())
            await send(NotHandled(text=apology(), context=context).event())
            return True
        await send(HandledStop().event())
        if result.forwarded and result.intent is not None:
            await send(intent_event(result, context))
        if result.error_code is not None:
            _LOGGER.info("handle turn ended with %s", result.error_code)
            await send(NotHandled(text=result.text, context=context).event())
        else:
            await send(Handled(text=result.text, context=context).event())
        return True

    async def disconnected(self) -> None:
        return None
