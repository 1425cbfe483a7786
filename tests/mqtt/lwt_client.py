"""A satellite's MQTT side in its own process, for the last-will test (it gets killed)."""

from __future__ import annotations

import asyncio
import sys

from familiar.mqtt import MqttConfig
from familiar_satellite.mqtt import SatelliteMqtt
from tests.mqtt.conftest import FakeVoiceDevice


async def main(port: int, name: str) -> None:
    config = MqttConfig(host="127.0.0.1", port=port, keepalive=5)
    async with SatelliteMqtt(config, name, FakeVoiceDevice()) as satellite:
        await satellite.link.wait_connected(10.0)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
