"""The hub's port opens at once and answers ``describe`` while its models load (issue 14)."""

from __future__ import annotations

import asyncio
import contextlib

from wyoming.info import Describe, Info

from familiar.client import WyomingClient
from familiar.errors import RemoteUnavailable
from familiar_hub.app import running_hub
from familiar_hub.config import HubConfig
from familiar_testkit.ports import free_port


async def test_describe_answers_while_a_role_is_still_loading() -> None:
    # A remote ASR that does not answer until released: the ASR role cannot finish loading.
    release = asyncio.Event()
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await release.wait()
        writer.close()

    held = await asyncio.start_server(silent, "127.0.0.1", 0)
    held_port = held.sockets[0].getsockname()[1]
    port = free_port()
    config = HubConfig.model_validate(
        {
            "endpoint": {"uri": f"tcp://127.0.0.1:{port}"},
            "zeroconf": {"enabled": False},
            "asr": {"uri": f"tcp://127.0.0.1:{held_port}"},
            "conductor": {"enabled": False},
        }
    )
    started = asyncio.Event()

    async def run() -> None:
        async with running_hub(config, roles=["asr"]):
            started.set()
            await asyncio.Event().wait()

    hub = asyncio.create_task(run())
    try:
        info = None
        for _ in range(500):  # until the port is open (bounded)
            with contextlib.suppress(OSError, RemoteUnavailable):
                async with WyomingClient(f"tcp://127.0.0.1:{port}") as client:
                    await client.send(Describe().event())
                    info = Info.from_event(await client.expect(Info, 5))
                    break
            await asyncio.sleep(0.01)
        assert info is not None and [p.name for p in info.asr] == ["familiar"]  # the hub's name
        assert (
            info.asr[0].description is not None and "speech-to-text at" in info.asr[0].description
        )
        assert connections, "the ASR role was loading (asking its remote) meanwhile"
        assert not started.is_set(), "the hub answered before its models were loaded"
        release.set()
        await asyncio.wait_for(started.wait(), 30)
    finally:
        release.set()
        hub.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hub
        held.close()
        await held.wait_closed()
