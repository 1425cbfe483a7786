"""The ``familiar`` command, composed from plug-ins.

The core knows no side: the hub and the satellite each register their subcommands and
configuration kinds through entry points (``familiar.commands`` and ``familiar.configs`` in
``pyproject.toml``), loaded when the command starts. A side whose package is not installed
(a satellite-only environment has no hub) is simply absent from the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from familiar.config import load_config, read_yaml
from familiar.errors import ConfigError, FamiliarError
from familiar.logs import setup_logging

_LOGGER = logging.getLogger(__name__)

COMMANDS_GROUP = "familiar.commands"
CONFIGS_GROUP = "familiar.configs"


def _plugins(group: str) -> dict[str, str]:
    """``name -> "module:attr"`` for every entry point of ``group``, in name order."""
    return {ep.name: ep.value for ep in sorted(entry_points(group=group), key=lambda e: e.name)}


def _load(target: str) -> Any | None:
    """The object named by ``module:attr``, or None when its package is not installed."""
    module, _, attr = target.partition(":")
    try:
        loaded = importlib.import_module(module)
    except ImportError as err:
        _LOGGER.debug("%s not available: %s", target, err)
        return None
    return getattr(loaded, attr)


def config_kinds() -> dict[str, str]:
    """What ``familiar config check`` knows: kind -> ``module:Model``."""
    return _plugins(CONFIGS_GROUP)


def config_model(kind: str) -> Any:
    kinds = config_kinds()
    model = _load(kinds[kind]) if kind in kinds else None
    if model is None:
        raise ConfigError(kind, [f"the {kind} side of Familiar is not installed here"])
    return model


def _kind_of(path: Path, explicit: str | None) -> str:
    """The kind named by ``--kind``, else by the file's name, else by its top-level keys."""
    if explicit:
        return explicit
    kinds = config_kinds()
    for kind in kinds:
        if path.stem.startswith(kind):
            return kind
    keys = set(read_yaml(path))
    fitting = []
    for kind in kinds:
        model = _load(kinds[kind])
        fields = set(getattr(model, "model_fields", {}))
        if keys and keys <= fields:
            fitting.append(kind)
    if len(fitting) == 1:  # only keys several kinds share (name, mqtt...): ask
        return fitting[0]
    raise ConfigError(
        str(path), ["cannot tell what this file configures; pass --kind " + "|".join(kinds)]
    )


def cmd_config_check(args: argparse.Namespace) -> int:
    kind = _kind_of(args.file, args.kind)
    load_config(config_model(kind), args.file)
    print(f"{args.file}: valid {kind} configuration")
    return 0


def installed_packages() -> list[str]:
    """``familiar`` and the top-level package of every installed side (from the entry points)."""
    found = ["familiar"]
    for target in _plugins(COMMANDS_GROUP).values():
        package = target.partition(":")[0].split(".")[0]
        if package not in found and _load(target) is not None:
            found.append(package)
    return found


def render_docs() -> dict[str, str]:
    """The generated docs of what is installed here (``familiar.docgen``)."""
    from familiar.docgen import render

    kinds = {kind: config_model(kind) for kind in config_kinds()}
    return render(kinds, installed_packages())


def cmd_docs(args: argparse.Namespace) -> int:
    from familiar.docgen import stale

    rendered = render_docs()
    if args.check:
        behind = stale(args.out, rendered)
        for path in behind:
            print(f"{path} is stale: run `familiar docs`", file=sys.stderr)
        return 1 if behind else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="familiar", description=__doc__)
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a YAML file and list every problem")
    check.add_argument("file", type=Path)
    check.add_argument("--kind", choices=sorted(config_kinds()))
    check.set_defaults(func=cmd_config_check)

    docs = sub.add_parser(
        "docs", help="write docs/configuration.md and docs/errors.md from the code"
    )
    docs.add_argument("--out", type=Path, default=Path("docs"), help="folder (default: docs)")
    docs.add_argument("--check", action="store_true", help="only say whether they are stale")
    docs.set_defaults(func=cmd_docs)

    for target in _plugins(COMMANDS_GROUP).values():
        register: Callable[[Any], None] | None = _load(target)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level or "INFO")
    try:
        return int(args.func(args))
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 2
    except FamiliarError as err:
        print(f"error ({err.code}): {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
