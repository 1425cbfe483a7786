"""Errors with stable string codes.

Codes are part of the public surface (logs, Wyoming ``error`` events, MQTT): they never
change meaning once released. ``docs/errors.md`` lists them.
"""

from __future__ import annotations


class FamiliarError(Exception):
    """Base of every error we raise on purpose."""

    code = "familiar-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(FamiliarError):
    """Configuration could not be loaded; ``problems`` lists every ``path: message``."""

    code = "config-invalid"

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s)"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


class ProtocolError(FamiliarError):
    """A peer sent something that is not valid Wyoming; that connection is closed."""

    code = "protocol-error"


class ModelNotFound(FamiliarError):
    """A configured model name or path does not exist."""

    code = "model-not-found"


class BackendError(FamiliarError):
    """A backend (model or remote server) failed while serving a request."""

    code = "backend-failed"


class RemoteUnavailable(BackendError):
    """A remote Wyoming server could not be reached or closed mid-request."""

    code = "remote-unavailable"


class SttFailed(BackendError):
    code = "stt-failed"


class TtsFailed(BackendError):
    code = "tts-failed"


class LlmTimeout(BackendError):
    """The LLM did not produce a token in time."""

    code = "llm-timeout"


class LlmFailed(BackendError):
    """The LLM (in process or remote) failed while answering."""

    code = "llm-failed"


class HomeControlFailed(BackendError):
    """A home-control command could not be carried out."""

    code = "home-control-failed"


class PersonaStoreError(FamiliarError):
    """The persona store could not be opened or written."""

    code = "persona-store-failed"


class PersonaStoreMismatch(PersonaStoreError):
    """The store was built with another embedding model; its vectors cannot be mixed."""

    code = "persona-store-mismatch"
