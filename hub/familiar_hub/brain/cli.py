"""``familiar brain ask TEXT``: one turn through the brain, printed as it streams."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    brain = subparsers.add_parser("brain", help="talk to the brain directly")
    brain_sub = brain.add_subparsers(dest="brain_command", required=True)
    ask = brain_sub.add_parser("ask", help="answer one sentence (home command or question)")
    ask.add_argument("text", nargs="+", help="what the user said")
    ask.add_argument("-c", "--config", type=Path, help="hub YAML (default: config/hub.yaml)")
    ask.add_argument("--conversation", help="conversation id (to continue one)")
    ask.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace) -> int:
    from familiar.config import default_config_path, load_config
    from familiar_hub.config import HubConfig

    config = load_config(HubConfig, args.config or default_config_path("hub"))
    return asyncio.run(_ask(config, " ".join(args.text), args.conversation))


async def _ask(config: Any, text: str, conversation: str | None) -> int:
    from familiar.mqtt import OneShotPublisher
    from familiar_hub.brain.brain import open_brain

    # A tool, not the hub: no device on MQTT, one short connection per command.
    publisher = OneShotPublisher(config.mqtt) if config.mqtt is not None else None
    async with open_brain(config.brain, mqtt=publisher) as brain:
        start = time.monotonic()
        async with brain.respond(text, conversation) as reply:
            async for sentence in reply:
                print(f"[{time.monotonic() - start:5.2f} s] {sentence}", flush=True)
        result = reply.result
        print(
            f"-- {result.kind}"
            + (f", intent {result.intent.name}" if result.intent else "")
            + (f", error {result.error_code}" if result.error_code else "")
            + f", conversation {result.conversation_id}"
        )
        return 1 if result.error_code else 0
