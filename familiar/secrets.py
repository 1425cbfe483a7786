"""Secrets from a value or, better, from a file only the service user can read.

Every secret in our configuration (Home Assistant's token, an LLM server's API key, MQTT
passwords) can be given as ``x_file: /etc/familiar/x`` instead of inline as ``x: ...``, so the
YAML itself holds nothing secret. A file is checked when the configuration is loaded (it must
exist and be readable: ``familiar config check`` says so, instead of an error on every retry
later) and a file that other users may read is logged as a warning.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

_LOGGER = logging.getLogger(__name__)


def check_file(path: Path, what: str = "file") -> Path:
    """``path`` is a readable regular file, or ValueError saying why not."""
    expanded = path.expanduser()
    try:
        info = expanded.stat()
    except FileNotFoundError as err:
        raise ValueError(f"{what} not found: {expanded}") from err
    except OSError as err:
        raise ValueError(f"cannot read {what} {expanded}: {err.strerror or err}") from err
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{what} is not a regular file: {expanded}")
    try:
        with expanded.open("rb"):
            pass
    except OSError as err:
        raise ValueError(f"cannot read {what} {expanded}: {err.strerror or err}") from err
    return path


def readable_by_others(path: Path) -> bool:
    """Whether users other than the owner and the group may read ``path``."""
    try:
        return bool(path.expanduser().stat().st_mode & stat.S_IROTH)
    except OSError:
        return False


def check_secret_file(path: Path, what: str) -> Path:
    """A secret file: readable by us; a warning when it is world-readable."""
    check_file(path, what)
    if readable_by_others(path):
        _LOGGER.warning("%s %s is readable by every user on this machine; chmod 600 it", what, path)
    return path


def read_secret(value: str | None, path: Path | None, what: str) -> str | None:
    """The secret: ``value`` as given, or the first line of ``path`` (without its newline).

    Raises ValueError when the file cannot be read (it was checked at load time, so this only
    happens when it was removed since).
    """
    if path is None:
        return value
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {what} {path}: {err}") from err
    return lines[0].strip() if lines else ""


def one_of(value: str | None, path: Path | None, name: str) -> None:
    """At most one of ``name`` and ``name_file``."""
    if value is not None and path is not None:
        raise ValueError(f"give {name} or {name}_file, not both")
