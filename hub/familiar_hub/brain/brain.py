"""The brain: a transcript in, speakable sentences out.

1. Home control first: hassil templates over the user's transcript (never retrieved text), then
   the LLM constrained to known entities. Carried out through Home Assistant or MQTT, or left to
   the caller (Home Assistant's own handlers) as a Wyoming ``intent``.
2. Otherwise a grounded answer: passages from the persona store, a prompt in the persona's
   style, streamed and cut into sentences as tokens arrive, so speech starts early.
3. A stalled or failing LLM becomes a short spoken apology with an error code, never a hang.

Usage (the conductor and the Wyoming handler)::

    async with brain.respond(text, conversation_id) as reply:
        async for sentence in reply:
            await speak(sentence)
    reply.result.continue_conversation
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

from familiar.errors import FamiliarError, HomeControlFailed, LlmFailed, LlmTimeout
from familiar.mqtt import Publisher
from familiar.tasks import bounded
from familiar.threads import Worker
from familiar_hub.brain import intents as intent_lib
from familiar_hub.brain import safety
from familiar_hub.brain.backend import ChatMessage, HomeExecutor, Llm
from familiar_hub.brain.completeness import complete_command, complete_question, is_question
from familiar_hub.brain.ha_registry import HomeSnapshot, merge_with_configured
from familiar_hub.brain.home import (
    CANCEL_ALL_TIMERS,
    CANCEL_TIMER,
    CURRENT_TIME,
    DEVICE_INTENTS,
    NEVERMIND,
    START_TIMER,
    TIMER_INTENTS,
    Entity,
    HomeIntent,
    UnknownDevice,
    confirmation,
    duration_seconds,
    looks_like_home_control,
    refusal,
    service_calls,
)
from familiar_hub.brain.memory import Conversation, ConversationMemory, Turn
from familiar_hub.brain.prompt import (
    apology,
    build_messages,
    is_decline,
    retrieval_query,
    system_prompt,
)
from familiar_hub.brain.retrieval import DEFAULT_NAME
from familiar_hub.brain.smalltalk import classify, strip_greeting
from familiar_hub.brain.speaking import (
    Voice,
    carries_answer,
    doer_for_you,
    echoes,
    first_person,
    names_herself,
    ungrounded,
    you_for_someone,
)
from familiar_hub.brain.timers import Timers
from familiar_hub.config import BrainConfig
from familiar_hub.persona.api import Passage, Retriever, StyleProfile
from familiar_hub.persona.language import (
    question_language,
    without_question_words,
    word_for_word,
)
from familiar_hub.persona.relevance import RelevancePolicy, relevant, sure
from familiar_hub.tts.sentences import SentenceSplitter

_LOGGER = logging.getLogger(__name__)

HOME_NOT_CONFIGURED_CODE = "home-not-configured"
"""A home command was understood, but neither ``home_assistant`` nor ``mqtt`` can carry it out."""

ReplyKind = Literal[
    "home", "answer", "smalltalk", "declined", "refused", "confirm", "error", "empty"
]
_PRONOUN = re.compile(r"\b(it|them)\b", re.IGNORECASE)
# Questions are never home commands ("what did the alarm company write?").
_WH_QUESTION = re.compile(r"^\s*(who|whom|whose|what|when|where|which|why)\b", re.IGNORECASE)
_RETRIEVAL_TIMEOUT = 10.0
_INTENT_MAX_TOKENS = 40
_FIRST_CLAUSE_CHARS = 25
_MAX_SENTENCES = 3
_TERSE_SENTENCES = 2


@dataclass
class ReplyResult:
    """What a reply came to, known once its sentences are consumed."""

    conversation_id: str
    kind: ReplyKind = "empty"
    text: str = ""
    """Everything said, sentences joined."""
    continue_conversation: bool = False
    """The persona asked a question back: listen again without the wake word."""
    error_code: str | None = None
    """``llm-timeout``, ``llm-failed``, ``home-control-failed``, ``home-not-configured`` ..."""
    intent: HomeIntent | None = None
    forwarded: bool = False
    """The intent is left to the caller to carry out (Home Assistant's handlers)."""
    passages: list[Passage] = field(default_factory=list)
    plain: str = ""
    """The same reply without the persona's habits (a neutral baseline for benchmarks)."""


@dataclass
class _Said:
    """What one answer may rest on, and what of it was said so far."""

    question: str
    language: str
    """The language the question is asked in (``question_language``)."""
    copy: str | None
    """A Tamil or Hindi question with its question words in English (``word_for_word``)."""
    sources: list[str]
    names: list[str]
    key: str
    kept: list[str] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    declined: bool = False
    tainted: bool = False
    """A piece was unfounded: the model has left the passages, nothing after it is said."""
    leaks: safety.Leaks | None = None
    """Recitals of the instructions, which are never said (the model's answer ends there)."""
    passages: Sequence[Passage] = ()
    """This turn's passages."""
    unsafe: bool = False
    """A sentence was JSON or claimed an action: nothing more is asked of the model."""
    held: str = ""
    """A first clause with nothing in it to check ("Yes,", "Kanna,"), kept back until the
    rest of its sentence is: said with it, or dropped with it."""

    @property
    def addressed(self) -> str:
        """The passages written to her (their "your" is her "my")."""
        return " ".join(p.text for p in self.passages if not p.by_persona)

    @property
    def documents(self) -> list[str]:
        return [p.text for p in self.passages]

    @property
    def asked(self) -> str:
        """The question as the model may say it back: with its English copy, when it has one."""
        return f"{self.question} {self.copy}" if self.copy else self.question


_BARE_CLAUSE_WORDS = 2


def _bare_clause(piece: str) -> bool:
    """A clause cut off a first sentence too short to say anything by itself: "Yes,",
    "Kanna,", "Oh, okay,"."""
    return piece.rstrip().endswith(",") and len(piece.split()) <= _BARE_CLAUSE_WORDS


@dataclass
class Anticipation:
    """Work started at the speaker's pause, kept for a ``respond`` with the same words."""

    query: str
    passages: asyncio.Future[list[Passage]]
    prefill: asyncio.Future[None]


class Reply:
    """Sentences as they are ready (async iterator), then ``result``."""

    def __init__(self, sentences: AsyncGenerator[str, None], result: ReplyResult) -> None:
        self._sentences = sentences
        self._result = result
        self._done = False

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        async for sentence in self._sentences:
            yield sentence
        self._done = True

    @property
    def result(self) -> ReplyResult:
        if not self._done:
            raise RuntimeError("reply not finished: consume its sentences first")
        return self._result

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._sentences.aclose()

    async def text(self) -> ReplyResult:
        """Consume everything; the result (for callers that do not stream)."""
        async with self:
            async for _ in self:
                pass
        return self.result


class Brain:
    def __init__(
        self,
        config: BrainConfig,
        llm: Llm | None,
        retriever: Retriever,
        *,
        executor: HomeExecutor | None = None,
        entities: Sequence[Entity] = (),
        timers: Timers | None = None,
        persona_name: str = DEFAULT_NAME,
        area_aliases: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.config = config
        self.persona_name = persona_name
        """Who the brain speaks as: the persona config's ``name`` (the one source)."""
        self.llm = llm
        self.retriever = retriever
        self.executor = executor
        self.entities = list(entities)
        self._leaks_cache: tuple[list[Entity], StyleProfile | None, safety.Leaks] | None = None
        self.area_aliases = {a: tuple(names) for a, names in (area_aliases or {}).items()}
        self.timers = timers or Timers()
        self.memory = ConversationMemory(
            config.history_turns, config.max_conversations, config.conversation_ttl
        )
        self.style: StyleProfile | None = None
        self.voice = Voice(persona_name)
        self._recognizer: intent_lib.TemplateRecognizer | None = None
        self._intent_thread = Worker("intents")
        self._anticipation: Anticipation | None = None

    async def __aenter__(self) -> Self:
        await self.prepare()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._drop_anticipation()
        await self._intent_thread.close()

    async def prepare(self) -> None:
        """Read the style profile and compile the templates for the known entities."""
        try:
            self.style = await bounded(self.retriever.style(), _RETRIEVAL_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("could not read the persona's style profile; plain style")
        self.voice = Voice(self.persona_name, self.style)
        if self.config.home.enabled:
            self._recognizer = await self._intent_thread.run(self._compile)
        if self.llm is not None:
            # The persona's fixed prefix goes into the model's cache now, not on the first turn.
            try:
                await self.llm.prefill([ChatMessage("system", self.system_prompt)])
            except FamiliarError as err:
                _LOGGER.warning("could not prepare the persona prefix (%s): %s", err.code, err)
        _LOGGER.info(
            "brain ready: %d entities, executor %s, llm %s, style %s",
            len(self.entities),
            self.executor.name if self.executor else "none",
            self.llm.name if self.llm else "none",
            "yes" if self.style else "no",
        )

    async def set_home(
        self, entities: Sequence[Entity], area_aliases: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        """The home changed (Home Assistant's registries): new entities, areas and aliases.
        The templates are compiled again off the loop; sentences meanwhile use the old ones."""
        entities = list(entities)
        aliases = {area: tuple(names) for area, names in (area_aliases or {}).items()}
        if self.config.home.enabled:
            recognizer = await self._intent_thread.run(self._compile, entities, aliases)
            self._recognizer = recognizer
        self.entities, self.area_aliases = entities, aliases
        _LOGGER.info("home updated: %d entities", len(entities))

    def _compile(
        self,
        entities: Sequence[Entity] | None = None,
        area_aliases: Mapping[str, Sequence[str]] | None = None,
    ) -> intent_lib.TemplateRecognizer:
        recognizer = intent_lib.TemplateRecognizer(
            self.entities if entities is None else entities,
            self.config.language,
            self.config.home.area,
            self.area_aliases if area_aliases is None else area_aliases,
        )
        recognizer.warm_up()
        return recognizer

    @property
    def system_prompt(self) -> str:
        return system_prompt(self.persona_name, self.style)

    @property
    def controls_home(self) -> bool:
        """Whether a handle caller can expect home control (reported in ``describe``)."""
        home = self.config.home
        return home.enabled and (self.executor is not None or home.ha_caller_intents)

    def respond(
        self, text: str, conversation_id: str | None = None, *, forward_intents: bool = False
    ) -> Reply:
        """Answer ``text``; ``forward_intents``: leave device and timer commands to the caller."""
        result = ReplyResult(conversation_id or uuid.uuid4().hex)
        return Reply(self._run(text.strip(), result, forward_intents), result)

    # --- the speaker's pause ----------------------------------------------------------------

    async def complete(self, text: str) -> bool:
        """Whether ``text`` (a transcript taken at the speaker's pause) is already a whole
        request: a home command matched with everything it needs, or a finished question.
        Unsure is "no" (the caller then waits for the end of speech)."""
        text = text.strip()
        return complete_question(text) or await self.complete_command(text)

    async def complete_command(self, text: str) -> bool:
        """Whether ``text`` is already a whole home command (matched by the templates, with
        nothing that suggests more is coming)."""
        text = text.strip()
        recognizer = self._recognizer
        if recognizer is None or not text:
            return False
        found = await self._intent_thread.run(recognizer.recognize, text)
        names = [name for e in self.entities for name in (*e.names, e.area or "") if name]
        return isinstance(found, HomeIntent) and complete_command(text, found, names)

    def anticipate(self, text: str, conversation_id: str | None) -> None:
        """Start on what the speaker has said so far: retrieval, then the model's prompt
        processing. A ``respond`` with the same words reuses both; other words discard them."""
        text = text.strip()
        if not text or self.llm is None:
            return
        history = list(self.memory.get(conversation_id).turns) if conversation_id else []
        question = strip_greeting(text)  # as the answer will ask it
        query = retrieval_query(question, history)
        if self._anticipation is not None and self._anticipation.query == query:
            return
        self._cancel_anticipation()
        passages = asyncio.ensure_future(self._retrieve(query))
        self._anticipation = Anticipation(
            query,
            passages,
            asyncio.ensure_future(self._prefill(question, history, passages)),
        )

    async def _prefill(
        self, text: str, history: list[Turn], passages: asyncio.Future[list[Passage]]
    ) -> None:
        assert self.llm is not None
        found = await passages
        if not found:
            return  # nothing to say from documents: no prompt worth preparing
        try:
            await self.llm.prefill(self._messages(text, history, found))
        except FamiliarError as err:
            _LOGGER.debug("prefill failed (%s): %s", err.code, err)

    def _cancel_anticipation(self) -> None:
        if self._anticipation is not None:
            self._anticipation.passages.cancel()
            self._anticipation.prefill.cancel()
            self._anticipation = None

    async def _drop_anticipation(self) -> None:
        anticipation, self._anticipation = self._anticipation, None
        if anticipation is not None:
            anticipation.passages.cancel()
            anticipation.prefill.cancel()
            await asyncio.gather(
                anticipation.passages, anticipation.prefill, return_exceptions=True
            )

    async def _passages(self, query: str) -> list[Passage]:
        """Passages for ``query``: the anticipated ones when the words match."""
        anticipation, self._anticipation = self._anticipation, None
        if anticipation is not None:
            if anticipation.query == query and not anticipation.passages.cancelled():
                _LOGGER.debug("using passages retrieved at the pause")
                passages = await anticipation.passages
                # Its prompt is this request's prompt: let it finish rather than race it.
                await asyncio.gather(anticipation.prefill, return_exceptions=True)
                return passages
            anticipation.passages.cancel()
            anticipation.prefill.cancel()
        return await self._retrieve(query)

    # --- the flow --------------------------------------------------------------------------

    async def _run(
        self, text: str, result: ReplyResult, forward_intents: bool
    ) -> AsyncGenerator[str, None]:
        _LOGGER.debug("[%s] heard: %s", result.conversation_id, text)
        if not text:
            return
        conversation = self.memory.get(result.conversation_id)
        said: list[str] = []
        pending, confirmed = self._take_pending(conversation), False
        if pending is not None and safety.is_yes(text):
            recognised: HomeIntent | UnknownDevice | None = pending
            confirmed = True
        elif pending is not None and safety.is_no(text):
            result.kind = "refused"
            said.append("Okay, I've left it alone.")
            yield said[-1]
            recognised = None
        else:
            recognised = await self._recognise(text, conversation)
        if result.kind == "refused":
            pass
        elif (
            isinstance(recognised, HomeIntent)
            and not confirmed
            and (check := self._check_sensitive(recognised, text, conversation, result))
        ):
            said.append(check)
            yield check
        elif isinstance(recognised, UnknownDevice):
            result.kind = "refused"
            said.append(refusal(recognised))
            yield said[-1]
        elif isinstance(recognised, HomeIntent):
            result.kind, result.intent = "home", recognised
            if recognised.targets:
                conversation.last_targets = recognised.targets
            spoken = await self._carry_out(recognised, result, forward_intents)
            if spoken:
                said.append(spoken)
                yield spoken
        elif (small_talk := classify(text)) is not None:
            result.kind = "smalltalk"
            key = f"{text}|{len(conversation.turns)}"
            for sentence in self.voice.small_talk(small_talk, conversation.turns, key):
                said.append(sentence)
                yield sentence
            plain = Voice(self.persona_name).small_talk(small_talk, conversation.turns, key)
            result.plain = " ".join(plain)
        else:
            async for sentence in self._answer(text, conversation, result):
                said.append(sentence)
                yield sentence
        result.text = " ".join(said)
        result.continue_conversation = result.kind == "confirm" or (
            result.kind in ("answer", "smalltalk") and result.text.endswith("?")
        )
        self.memory.add(result.conversation_id, Turn(text, result.text))
        _LOGGER.debug("[%s] said: %s", result.conversation_id, result.text)

    def _take_pending(self, conversation: Conversation) -> HomeIntent | None:
        """The sensitive action asked about in this conversation, if still fresh; it is
        asked about once only (whatever is said next, it is gone)."""
        pending, conversation.pending = conversation.pending, None
        if pending is None:
            return None
        age = asyncio.get_running_loop().time() - conversation.pending_since
        return pending if age <= self.config.home.confirm_seconds else None

    def _check_sensitive(
        self, intent: HomeIntent, text: str, conversation: Conversation, result: ReplyResult
    ) -> str | None:
        """What to say instead of acting: a wrong verb, a refusal, or "are you sure?"."""
        home = self.config.home
        if intent.name not in DEVICE_INTENTS:
            return None
        wrong = safety.wrong_verb(intent, text)
        if wrong is not None:
            result.kind, result.intent = "refused", intent
            return wrong
        decision = safety.decide(intent, home.policy, home.sensitive)
        if decision.policy == "refuse":
            result.kind, result.intent = "refused", intent
            _LOGGER.info("refused a %s by policy", intent.name)
            return safety.refusal(decision.calls, intent)
        if decision.policy == "confirm":
            result.kind, result.intent = "confirm", intent
            conversation.pending = intent
            conversation.pending_since = asyncio.get_running_loop().time()
            return safety.question(decision.calls, intent)
        return None

    async def _recognise(
        self, text: str, conversation: Conversation
    ) -> HomeIntent | UnknownDevice | None:
        """Templates, then "it" as the last device, then the constrained LLM."""
        recognizer = self._recognizer
        if recognizer is None:
            return None
        found = await self._intent_thread.run(recognizer.recognize, text)
        if (
            not isinstance(found, HomeIntent)
            and len(conversation.last_targets) == 1
            and _PRONOUN.search(text)
        ):
            resolved = _PRONOUN.sub(conversation.last_targets[0].name, text)
            again = await self._intent_thread.run(recognizer.recognize, resolved)
            found = again if isinstance(again, HomeIntent) else None
        if found is not None:
            return found
        if (
            self.config.home.llm_fallback
            and self.llm is not None
            and self.entities
            and not _WH_QUESTION.match(text)
            and looks_like_home_control(text, self.entities)
        ):
            return await self._llm_intent(text)
        return None

    async def _llm_intent(self, text: str) -> HomeIntent | None:
        assert self.llm is not None
        messages = [
            ChatMessage("system", self.system_prompt),
            ChatMessage("user", intent_lib.intent_instructions(self.entities) + text),
        ]
        raw = []
        try:
            stream = self.llm.stream(
                messages,
                max_tokens=_INTENT_MAX_TOKENS,
                temperature=0.0,
                json_schema=intent_lib.intent_schema(self.entities),
            )
            async for piece in self._bounded(stream):
                raw.append(piece)
        except FamiliarError as err:
            _LOGGER.warning("intent fallback failed (%s): %s", err.code, err)
            return None
        intent = intent_lib.parse_llm_intent("".join(raw), self.entities)
        _LOGGER.debug("intent fallback: %s -> %s", "".join(raw), intent)
        return intent

    async def _carry_out(
        self, intent: HomeIntent, result: ReplyResult, forward_intents: bool
    ) -> str:
        now_text = dt.datetime.now().strftime("%-I:%M %p")
        spoken = confirmation(intent, self.style, now_text=now_text)
        if forward_intents and intent.name in DEVICE_INTENTS | TIMER_INTENTS:
            result.forwarded = True
            return spoken
        if intent.name == START_TIMER:
            seconds = duration_seconds(intent.slots)
            name = intent.slots.get("name")
            self.timers.start(seconds, str(name) if name else None, result.conversation_id)
        elif intent.name in (CANCEL_TIMER, CANCEL_ALL_TIMERS):
            name = intent.slots.get("name") if intent.name == CANCEL_TIMER else None
            if self.timers.cancel(str(name) if name else None) == 0:
                return "There's no timer running."
        elif intent.name in (NEVERMIND, CURRENT_TIME):
            pass
        elif self.executor is None:
            result.error_code = HOME_NOT_CONFIGURED_CODE
            _LOGGER.error("home command but no home_assistant or mqtt configured (%s)", intent.name)
            return "Sorry, I can't reach the house controls, so nothing was changed."
        else:
            try:
                for call in service_calls(intent):
                    await self.executor.call(call)
            except HomeControlFailed as err:
                result.error_code = err.code
                _LOGGER.error("home command failed (%s): %s", err.code, err)
                return "Sorry, that didn't work. The house controls didn't answer."
        return spoken

    def _leaks(self) -> safety.Leaks:
        """Recitals of the instructions (both prompt variants and the intent rules), built
        once: the instructions change only with the entities and the style profile."""
        cached = self._leaks_cache
        if cached is None or cached[0] is not self.entities or cached[1] is not self.style:
            leaks = safety.Leaks(
                self.system_prompt,
                system_prompt(self.persona_name, self.style, sure=True),
                intent_lib.intent_instructions(self.entities),
            )
            cached = self._leaks_cache = (self.entities, self.style, leaks)
        return cached[2]

    async def _retrieve(self, query: str) -> list[Passage]:
        try:
            passages = await bounded(
                self.retriever.search(query, self.config.retrieval_k), _RETRIEVAL_TIMEOUT
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("retrieval failed; answering without documents")
            return []
        # Fused ranks always look like a match: the evidence says whether one is.
        kept = [p for p in passages if p.score >= self.config.min_score]
        return relevant(
            kept, self._policy, cross_language=self._language(query) != "en", question=query
        )

    @property
    def _policy(self) -> RelevancePolicy:
        return RelevancePolicy(fallback_similarity=self.config.min_similarity)

    def _language(self, text: str) -> str:
        """The language a question is asked in, among those the persona writes."""
        languages = ["en", *(self.style.languages if self.style is not None else [])]
        return question_language(text, languages)

    def _sources(
        self, passages: Sequence[Passage], question: str, history: list[Turn]
    ) -> list[str]:
        """What an answer may rest on: this turn's passages, the question, the conversation."""
        out = [question, self.persona_name]
        for passage in passages:
            out += [passage.text, passage.subject or "", passage.author or "", passage.date or ""]
        for turn in history:
            out += [turn.user, turn.answer]
        return out

    def _names(self) -> list[str]:
        names = [self.persona_name]
        if self.style is not None:
            names += [s.rstrip(".") for s in self.style.signatures if len(s) > 2]
        return names

    async def _answer(
        self, text: str, conversation: Conversation, result: ReplyResult
    ) -> AsyncGenerator[str, None]:
        history = list(conversation.turns)
        key = f"{text}|{len(history)}"
        question = strip_greeting(text)
        passages = await self._passages(retrieval_query(question, history))
        result.passages = passages
        if not passages and is_question(question):
            result.kind = "declined"
            result.plain = " ".join(Voice(self.persona_name).decline(key))
            for sentence in self.voice.decline(key):
                yield sentence
            return
        if self.llm is None:
            result.kind, result.error_code = "error", LlmFailed.code
            yield apology()
            return
        messages = self._messages(question, history, passages)
        result.kind = "answer"
        language = self._language(question)
        said = _Said(
            question,
            language,
            word_for_word(question, language),
            self._sources(passages, question, history),
            self._names(),
            key,
        )
        said.leaks = self._leaks()
        said.passages = passages
        limit = _TERSE_SENTENCES if self.voice.terse else _MAX_SENTENCES
        splitter = SentenceSplitter(_FIRST_CLAUSE_CHARS)
        accept = functools.partial(self._accept, said, result.conversation_id)
        try:
            first = self._spoken(messages, splitter, accept, said, limit=limit)
            async with contextlib.aclosing(first):
                async for piece in first:
                    yield piece
            nothing_said = not (said.kept or said.declined or said.unsafe)
            if nothing_said and messages != (
                again := self._messages(
                    question, history, passages, told_sure=False, in_english=True
                )
            ):
                # Told "The answer is in the documents.", the 0.5B sometimes says just that,
                # or the mail's own date ("The documents give you the date of your diabetes
                # check-up, which is 2025-02-20."), and nothing of it may be said. Asked
                # without that line (most of the prompt is still in the cache), it reads the
                # passage ("...confirmed for 12 March at 9:30 am"). A question in Tamil or
                # Hindi said back ("Amma tablets enga irukku.") is asked again with a copy
                # whose question words are in English.
                _LOGGER.debug("[%s] nothing to say from the answer: asked again", key)
                said.tainted, said.held = False, ""
                splitter = SentenceSplitter(_FIRST_CLAUSE_CHARS)
                second = self._spoken(again, splitter, accept, said, limit=limit)
                async with contextlib.aclosing(second):
                    async for piece in second:
                        yield piece
        except FamiliarError as err:
            code = err.code if err.code in (LlmTimeout.code, LlmFailed.code) else LlmFailed.code
            result.kind, result.error_code = "error", code
            _LOGGER.error("answer failed (%s): %s", code, err)
            for sentence in splitter.flush():  # what was already written is still said
                if (spoken := accept(sentence)) is not None:
                    yield spoken
            yield apology()
            return
        if not said.kept:
            result.kind = "declined"
            result.plain = " ".join(Voice(self.persona_name).decline(key))
            for sentence in self.voice.decline(key):
                yield sentence
            return
        result.plain = " ".join(said.plain)
        closer = self.voice.closer(key, said.kept)
        if closer is not None:
            yield closer

    async def _spoken(
        self,
        messages: list[ChatMessage],
        splitter: SentenceSplitter,
        accept: Callable[[str], str | None],
        said: _Said,
        *,
        limit: int,
    ) -> AsyncGenerator[str, None]:
        """The sentences of one generation that may be said."""
        assert self.llm is not None
        stream = self.llm.stream(
            messages, max_tokens=self.config.max_tokens, temperature=self.config.temperature
        )
        async for piece in self._bounded(stream):
            for sentence in splitter.feed(piece):
                if (spoken := accept(sentence)) is not None:
                    yield spoken
            if said.declined or len(said.kept) >= limit:
                return
        for sentence in splitter.flush():
            if (spoken := accept(sentence)) is not None:
                yield spoken

    def _accept(self, said: _Said, conversation_id: str, piece: str) -> str | None:
        """A piece of the LLM's answer in the persona's voice, or None when it must not be
        said: the model's own "I don't know" (declined in her words instead), or a sentence
        naming something found in neither the passages nor the conversation."""
        if said.held:
            piece, said.held = f"{said.held} {piece}", ""
        elif not said.kept and _bare_clause(piece):
            # Said at once, "Yes," would stand alone as the answer when the rest ("Lakshmi
            # has it since Friday.") is dropped as unfounded.
            said.held = piece
            return None
        if echoes(piece, said.asked):
            return None  # the question said back ("When is your eye exam? ...")
        piece = without_question_words(piece, said.question, said.language)
        if not piece:
            return None
        leaks = said.leaks
        if leaks is not None and (leaks.structured(piece) or safety.claims_action(piece)):
            # The brain never speaks JSON or its prompt's markers, and the answer path controls
            # nothing (the home path does): the answer ends here, declined if nothing was said.
            _LOGGER.warning(
                "[%s] withheld a sentence that was JSON or claimed an action", conversation_id
            )
            said.tainted = said.unsafe = True
            return None
        if leaks is not None and leaks.recites(piece):
            # A line of the instructions said back ("The answer is in the documents."): not
            # said, and the answer goes on (the 0.5B often gives the real one next).
            _LOGGER.warning("[%s] withheld a sentence reciting the instructions", conversation_id)
            return None
        piece = first_person(piece.strip(), said.question, said.names, said.addressed)
        if not piece or said.tainted:
            return None
        doer = doer_for_you(piece, said.question, said.documents, said.names)
        if doer is not None:
            _LOGGER.debug("[%s] 'you' for the one the passage names: %s", conversation_id, doer)
            piece = doer
        if names_herself(piece, said.names, said.asked) or you_for_someone(piece):
            # She speaks as "I": her own name left in an answer is the model putting her
            # where someone else belongs ("Mateo's girlfriend is called Rosa", "Harold Voss
            # is coming to service the boiler"), as is "You is coming to service the boiler".
            _LOGGER.debug("[%s] dropped, names the persona: %s", conversation_id, piece)
            said.tainted = True
            return None
        if is_decline(piece):
            said.declined = True
            return None
        if not said.kept and not carries_answer(piece, said.question, said.copy):
            # "Pension statements attached." to "What is your pension income?": not an
            # answer; a later sentence may be one, else she says she doesn't know.
            _LOGGER.debug("[%s] skipped, not what was asked: %s", conversation_id, piece)
            return None
        missing = ungrounded(piece, said.sources, said.asked)
        if missing:
            _LOGGER.debug("[%s] dropped, unfounded %s: %s", conversation_id, missing, piece)
            said.tainted = True
            return None
        if piece[-1:].isalnum():
            # the model stopped without ending its sentence ("Selvam Plumbing Works"): her
            # closer after it is a sentence of its own, in the text as in the voice
            piece += "."
        spoken = self.voice.lead(piece, said.key) if not said.kept else piece
        said.kept.append(spoken)
        said.plain.append(piece)
        return spoken

    def _messages(
        self,
        text: str,
        history: Sequence[Turn],
        passages: Sequence[Passage],
        *,
        told_sure: bool = True,
        in_english: bool = False,
    ) -> list[ChatMessage]:
        """The prompt for a question (the same at the pause and at the answer), telling the
        model the answer is there when retrieval is sure of it; ``in_english``: see
        ``build_messages``."""
        language = self._language(text)
        certain = told_sure and sure(
            passages, self._policy, cross_language=language != "en", question=text
        )
        return build_messages(
            self.persona_name,
            self.style,
            history,
            passages,
            text,
            max_passage_chars=self.config.passage_chars,
            sure=certain,
            language=language,
            in_english=in_english,
        )

    async def _bounded(self, stream: AsyncIterator[str]) -> AsyncIterator[str]:
        """The LLM's pieces, with a deadline for the first, between pieces, and overall."""
        config = self.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.answer_timeout
        wait = config.first_token_timeout
        try:
            while True:
                left = min(wait, deadline - loop.time())
                try:
                    async with asyncio.timeout(max(left, 0.0)) as scope:
                        piece = await anext(stream)
                except StopAsyncIteration:
                    return
                except TimeoutError as err:
                    if scope.expired():
                        raise LlmTimeout(f"no token within {left:.1f} s") from err
                    raise LlmFailed(f"LLM failed: {err!r}") from err
                except FamiliarError:
                    raise
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    raise LlmFailed(f"LLM failed: {err!r}") from err
                wait = config.token_timeout
                yield piece
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()


def _home_entities(home: HomeSnapshot, configured: Sequence[Entity]) -> list[Entity]:
    entities, left_out = merge_with_configured(home, configured)
    if left_out:
        _LOGGER.warning(
            "configured but not exposed to Assist in Home Assistant, so not controllable: %s",
            ", ".join(left_out),
        )
    return entities


class _HomeFollower:
    """Hands each new home from Home Assistant to the brain, latest first, on one owned task."""

    def __init__(self, brain: Brain, configured: Sequence[Entity]) -> None:
        self._brain = brain
        self._configured = list(configured)
        self._latest: HomeSnapshot | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def changed(self, home: HomeSnapshot) -> None:
        self._latest = home
        self._wake.set()

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="brain-home")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            home, self._latest = self._latest, None
            if home is None:
                continue
            try:
                entities = _home_entities(home, self._configured)
                await self._brain.set_home(entities, home.area_aliases())
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("could not take the new home from Home Assistant")


def yaml_entities(config: BrainConfig) -> list[Entity]:
    return [Entity(e.entity_id, e.name, e.area, tuple(e.aliases)) for e in config.home.entities]


def merge_entities(configured: Sequence[Entity], discovered: Sequence[Entity]) -> list[Entity]:
    """YAML entries win (they carry areas and aliases); Home Assistant adds the rest."""
    known = {e.entity_id for e in configured}
    return [*configured, *(e for e in discovered if e.entity_id not in known)]


@contextlib.asynccontextmanager
async def open_brain(
    config: BrainConfig, llm: Llm | None = None, mqtt: Publisher | None = None
) -> AsyncIterator[Brain]:
    """Everything the brain needs, opened in order and closed in reverse.

    ``llm`` lets a caller share one already loaded model (tests, benchmarks); ``mqtt`` is the
    process's MQTT connection, through which ``home.mqtt`` commands go.
    """
    from familiar_hub.brain import backends
    from familiar_hub.brain.retrieval import open_persona

    async with contextlib.AsyncExitStack() as stack:
        if llm is None:
            llm = await stack.enter_async_context(backends.create_llm(config))
        persona = await stack.enter_async_context(open_persona(config.persona_config))
        retriever = persona.retriever
        executor = await stack.enter_async_context(backends.create_executor(config.home, mqtt))
        entities = yaml_entities(config)
        if executor is not None and config.home.enabled:
            try:
                entities = merge_entities(entities, await executor.entities())
            except HomeControlFailed as err:
                _LOGGER.warning("could not read entities from %s: %s", executor.name, err)
        home = getattr(executor, "home", None)
        if isinstance(home, HomeSnapshot):  # HA's registries: only what HA exposes
            entities = _home_entities(home, yaml_entities(config))
        timers = await stack.enter_async_context(Timers())
        brain = await stack.enter_async_context(
            Brain(
                config,
                llm,
                retriever,
                executor=executor,
                entities=entities,
                timers=timers,
                persona_name=persona.name,
                area_aliases=home.area_aliases() if isinstance(home, HomeSnapshot) else None,
            )
        )
        add_listener = getattr(executor, "add_listener", None)
        if add_listener is not None and config.home.enabled:
            follower = _HomeFollower(brain, yaml_entities(config))
            add_listener(follower.changed)
            await stack.enter_async_context(follower)
            latest = getattr(executor, "home", None)
            if isinstance(latest, HomeSnapshot) and latest != home:
                follower.changed(latest)  # changed while the brain was being made
        yield brain
