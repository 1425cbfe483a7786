"""``familiar satellite``: run a satellite (or remove it from Home Assistant's MQTT)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def cmd_satellite(args: argparse.Namespace) -> int:
    from familiar.config import default_config_path, load_config
    from familiar.logs import setup_logging
    from familiar_satellite.app import run_satellite
    from familiar_satellite.config import SatelliteConfig

    path = args.config or default_config_path("satellite")
    config = load_config(SatelliteConfig, path)
    setup_logging(args.log_level or config.logging.level)
    if args.forget_mqtt:
        if config.mqtt is None:
            print(
                "no mqtt: section in the satellite configuration; nothing to forget",
                file=sys.stderr,
            )
            return 2
        from familiar_satellite.mqtt import forget_satellite_command

        return forget_satellite_command(config.mqtt, config.name)
    asyncio.run(run_satellite(config))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "satellite", help="run a satellite (Wyoming satellite server with local wake word)"
    )
    parser.add_argument(
        "-c", "--config", type=Path, help="satellite YAML (default: config/satellite.yaml)"
    )
    parser.add_argument(
        "--forget-mqtt",
        action="store_true",
        help="remove this satellite's device from Home Assistant (empty retained discovery) "
        "and exit",
    )
    parser.set_defaults(func=cmd_satellite)
