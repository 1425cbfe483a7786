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
    """Speech-to-text failed for one utterance."""

    code = "stt-failed"


class TtsFailed(BackendError):
    """Text-to-speech failed for one piece of text."""

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


class WebError(FamiliarError):
    """A web/REST request was refused; the HTTP status goes with the code."""

    code = "web-error"
    status = 400


class Unauthorized(WebError):
    """No credentials, or wrong ones (admin login, phone pairing token, API token)."""

    code = "unauthorized"
    status = 401


class Forbidden(WebError):
    """The client's network is not in the allow-list."""

    code = "forbidden"
    status = 403


class CsrfFailed(WebError):
    """A state-changing request with the session cookie lacked the session's CSRF token."""

    code = "csrf-failed"
    status = 403


class NotFound(WebError):
    """No such page, file, voice clip or token."""

    code = "not-found"
    status = 404


class PersonaNotConfigured(WebError):
    """The hub has no persona store (``brain.persona_config`` unset or missing)."""

    code = "persona-not-configured"
    status = 409


class TooLarge(WebError):
    """An upload is larger than ``web.max_upload_mb``."""

    code = "too-large"
    status = 413


class InvalidRequest(WebError):
    """A request body or parameter is malformed; the message lists every problem."""

    code = "invalid-request"
    status = 422


class TooManyAttempts(WebError):
    """Too many failed admin logins from this address; ``Retry-After`` says when to try again."""

    code = "too-many-attempts"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(WebError):
    """The hub cannot serve this now (every phone slot taken, no voice loop loaded)."""

    code = "busy"
    status = 503
