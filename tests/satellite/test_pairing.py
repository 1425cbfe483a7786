"""Who may drive a satellite: listed controllers, or a hub that proves the shared secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wyoming.error import Error
from wyoming.event import Event
from wyoming.satellite import RunSatellite

from familiar import pairing
from familiar.client import WyomingClient
from familiar_hub.conductor.conductor import Conductor
from familiar_hub.conductor.link import SatelliteLink
from familiar_hub.conductor.turn import Services
from familiar_hub.config import ConductorConfig, SatelliteEntry
from tests.fakes import FakeAsr, FakeTts
from tests.satellite.conftest import wait_until
from tests.satellite.test_satellite import satellite
from tests.test_conductor import EchoResponder

SECRET = "correct horse battery staple"


def secret_file(tmp_path: Path, text: str = SECRET, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


async def handshake(client: WyomingClient, secret: str) -> Event:
    mine = pairing.nonce()
    await client.send(pairing.PairHello(nonce=mine).event())
    challenge = await client.expect(pairing.PairChallenge, 5)
    assert pairing.verify(secret, pairing.SATELLITE, mine, challenge.data["proof"])
    proof = pairing.proof(secret, pairing.CONTROLLER, challenge.data["nonce"])
    await client.send(pairing.PairProof(proof=proof).event())
    answer = await client.read(5)
    assert answer is not None
    return answer


def test_proofs_depend_on_secret_role_and_nonce() -> None:
    assert pairing.verify(SECRET, "satellite", "n1", pairing.proof(SECRET, "satellite", "n1"))
    assert not pairing.verify(SECRET, "controller", "n1", pairing.proof(SECRET, "satellite", "n1"))
    assert not pairing.verify(SECRET, "satellite", "n2", pairing.proof(SECRET, "satellite", "n1"))
    assert not pairing.verify("other", "satellite", "n1", pairing.proof(SECRET, "satellite", "n1"))
    assert not pairing.verify(SECRET, "satellite", "n1", None)


async def test_an_unlisted_controller_is_refused(workdir: Path) -> None:
    async with (
        satellite(workdir, pairing={"controllers": ["10.0.0.0/8"]}) as running,
        WyomingClient(running.uri) as client,
    ):
        await client.send(RunSatellite().event())
        refusal = await client.expect(Error, 5)
        assert refusal.data["code"] == pairing.NOT_AUTHORIZED_CODE
        assert await client.read(5) is None
        assert not running.satellite.status.connected


async def test_only_a_paired_hub_may_drive_a_satellite_with_a_secret(
    workdir: Path, tmp_path: Path
) -> None:
    sections: dict[str, Any] = {"pairing": {"secret_file": str(secret_file(tmp_path))}}
    async with satellite(workdir, **sections) as running:
        async with WyomingClient(running.uri) as stranger:
            await stranger.send(RunSatellite().event())
            assert (await stranger.expect(Error, 5)).data["code"] == pairing.NOT_AUTHORIZED_CODE
        async with WyomingClient(running.uri) as liar:
            answer = await handshake_with_wrong_secret(liar)
            assert answer.data["code"] == pairing.FAILED_CODE
            assert await liar.read(5) is None
        async with WyomingClient(running.uri) as hub:
            assert pairing.Paired.is_type((await handshake(hub, SECRET)).type)
            await hub.send(RunSatellite().event())
            await wait_until(lambda: running.satellite.status.connected)


async def handshake_with_wrong_secret(client: WyomingClient) -> Event:
    await client.send(pairing.PairHello(nonce=pairing.nonce()).event())
    challenge = await client.expect(pairing.PairChallenge, 5)
    proof = pairing.proof("wrong", pairing.CONTROLLER, challenge.data["nonce"])
    await client.send(pairing.PairProof(proof=proof).event())
    return await client.expect(Error, 5)


def services(config: ConductorConfig) -> Services:
    return Services(asr=FakeAsr(), tts=FakeTts(), responder=EchoResponder(), config=config)


async def test_the_conductor_pairs_with_a_listed_satellite(workdir: Path, tmp_path: Path) -> None:
    path = str(secret_file(tmp_path))
    async with satellite(workdir, pairing={"secret_file": path}) as running:
        config = ConductorConfig(
            discover=False, secret_file=path, satellites=[SatelliteEntry(uri=running.uri)]
        )
        async with Conductor(services(config)) as conductor:
            link = conductor.links[running.uri]
            await wait_until(lambda: link.status.connected)
            assert link.status.paired and running.satellite.status.connected


async def test_a_discovered_satellite_without_the_secret_is_not_driven(
    workdir: Path, tmp_path: Path
) -> None:
    ours = str(secret_file(tmp_path))
    theirs = str(secret_file(tmp_path, "another secret", "theirs"))
    async with satellite(workdir, pairing={"secret_file": theirs}) as running:
        config = ConductorConfig(discover=False, secret_file=ours)
        async with Conductor(services(config)) as conductor:
            link: SatelliteLink = conductor.add("rogue", running.uri, paired_only=True)
            await wait_until(lambda: link.status.last_error is not None)
            assert "pairing" in (link.status.last_error or "")
            assert not link.status.connected and not running.satellite.status.connected


async def test_without_a_secret_zeroconf_finds_are_not_driven(tmp_path: Path) -> None:
    async with Conductor(services(ConductorConfig(discover=True))) as conductor:
        assert conductor.links == {}
        assert conductor._watcher is None
