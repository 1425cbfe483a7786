"""A real Home Assistant for the ``real_ha`` layer (opt-in: not in the default suite).

Run it with the Home Assistant installed by the lab scripts (``install-ha.sh`` in the shared
``real-ha`` folder; see docs/home-assistant.md):

    FAMILIAR_HA_VENV=$LAB/venv-ha     pytest -m real_ha tests/real_ha   # HA 2024.3.3
    FAMILIAR_HA_VENV=$LAB/venv-ha2611 pytest -m real_ha tests/real_ha   # HA 2026.11.0

Each session starts one HA (10-30 s) with a fresh config directory on 127.0.0.1, onboards it
by script and makes a long-lived token. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from familiar_hub.brain.backends.home_assistant import HomeAssistantWs
from familiar_testkit.ports import free_port

START_TIMEOUT = 180.0

CONFIGURATION = """
homeassistant:
  name: familiar-test
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: NL
  currency: EUR
  language: en
  internal_url: http://127.0.0.1:{port}
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
assist_pipeline:
conversation:
stt:
tts:
media_source:
ffmpeg:
logger:
  default: warning
input_boolean:
{booleans}
light:
  - platform: template
    lights:
{lights}
"""

LIGHTS = {
    "kitchen_ceiling": "Kitchen ceiling",
    "kitchen_counter": "Kitchen counter",
    "hall_light": "Hall light",
}
"""Template lights (entity id = the name's slug, so both YAML formats give the same ids)."""


def _configuration(port: int, version: tuple[int, int]) -> str:
    booleans = "".join(f"  {key}_state:\n    name: {key} state\n" for key in LIGHTS)
    if version >= (2025, 1):  # the legacy "platform: template" lights are gone
        return CONFIGURATION.replace(
            "light:\n  - platform: template\n    lights:\n{lights}\n", _modern_lights()
        ).format(port=port, booleans=booleans)
    lights = ""
    for key, name in LIGHTS.items():
        target = f"input_boolean.{key}_state"
        lights += (
            f"      {key}:\n"
            f"        unique_id: familiar_test_{key}\n"
            f"        friendly_name: {name}\n"
            f"        value_template: \"{{{{ is_state('{target}', 'on') }}}}\"\n"
            f"        turn_on:\n"
            f"          service: input_boolean.turn_on\n"
            f"          target: {{entity_id: {target}}}\n"
            f"        turn_off:\n"
            f"          service: input_boolean.turn_off\n"
            f"          target: {{entity_id: {target}}}\n"
        )
    return CONFIGURATION.format(port=port, booleans=booleans, lights=lights)


def _modern_lights() -> str:
    out = "template:\n  - light:\n"
    for key, name in LIGHTS.items():
        target = f"input_boolean.{key}_state"
        out += (
            f"      - name: {name}\n"
            f"        unique_id: familiar_test_{key}\n"
            f"        state: \"{{{{{{{{ is_state('{target}', 'on') }}}}}}}}\"\n"
            f"        turn_on:\n"
            f"          action: input_boolean.turn_on\n"
            f"          target: {{{{entity_id: {target}}}}}\n"
            f"        turn_off:\n"
            f"          action: input_boolean.turn_off\n"
            f"          target: {{{{entity_id: {target}}}}}\n"
        )
    return out


def _hass_version(venv: Path) -> tuple[int, int]:
    python = next((venv / "bin").glob("python3*"))
    out = subprocess.run(
        [str(python), "-c", "import homeassistant.const as c; print(c.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    year, month = out.strip().split(".")[:2]
    return int(year), int(month)


def _request(
    method: str, url: str, body: Any = None, token: str | None = None, form: bool = False
) -> tuple[int, Any]:
    data = None
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None and form:
        data = "&".join(f"{k}={v}" for k, v in body.items()).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@dataclass
class RealHa:
    url: str
    token: str
    version: str
    config_dir: Path

    def rest(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return _request(method, self.url + path, body, self.token)

    def state(self, entity_id: str) -> str:
        status, data = self.rest("GET", f"/api/states/{entity_id}")
        assert status == 200, (status, data)
        return str(data["state"])

    async def ws(self, kind: str, **fields: Any) -> Any:
        async with aiohttp.ClientSession() as session:
            ws = HomeAssistantWs(session, self.url.replace("http", "ws") + "/api/websocket",
                                 self.token)  # fmt: skip
            await ws.connect()
            receiver = asyncio.create_task(ws.receive_forever())
            try:
                return await asyncio.wait_for(ws.command(kind, **fields), 30)
            finally:
                receiver.cancel()
                await ws.close()

    @property
    def major_minor(self) -> tuple[int, int]:
        year, month = self.version.split(".")[:2]
        return int(year), int(month)


def _onboard(url: str) -> str:
    client_id = url + "/"
    status, res = _request(
        "POST",
        url + "/api/onboarding/users",
        {"name": "Test Owner", "username": "owner", "password": "owner-pass-123",
         "client_id": client_id, "language": "en"},
    )  # fmt: skip
    assert status == 200, (status, res)
    status, tokens = _request(
        "POST",
        url + "/auth/token",
        {"grant_type": "authorization_code", "code": res["auth_code"], "client_id": client_id},
        form=True,
    )
    assert status == 200, (status, tokens)
    access = tokens["access_token"]

    async def long_lived() -> str:
        async with aiohttp.ClientSession() as session:
            ws = HomeAssistantWs(session, url.replace("http", "ws") + "/api/websocket", access)
            await ws.connect()
            receiver = asyncio.create_task(ws.receive_forever())
            try:
                return str(
                    await ws.command(
                        "auth/long_lived_access_token", client_name="familiar", lifespan=30
                    )
                )
            finally:
                receiver.cancel()
                await ws.close()

    return asyncio.run(long_lived())


@pytest.fixture(scope="session")
def real_ha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealHa]:
    venv = os.environ.get("FAMILIAR_HA_VENV")
    if not venv:
        pytest.skip("FAMILIAR_HA_VENV is not set (the real_ha layer is opt-in)")
    hass = Path(venv) / "bin" / "hass"
    if not hass.exists():
        pytest.fail(f"no hass at {hass}")
    config_dir = tmp_path_factory.mktemp("ha-config")
    port = free_port()
    (config_dir / "configuration.yaml").write_text(_configuration(port, _hass_version(Path(venv))))
    log = (config_dir / "hass.out").open("wb")
    proc = subprocess.Popen(
        [str(hass), "-c", str(config_dir), "--log-file", str(config_dir / "ha.log")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"hass exited: {(config_dir / 'hass.out').read_text()[-2000:]}")
            try:
                status, _ = _request("GET", url + "/api/onboarding")
            except OSError:
                status = 0
            if status == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail("Home Assistant did not start")
            time.sleep(0.25)  # waiting for another process to open its port
        token = _onboard(url)
        while True:  # onboarding answers before every integration is set up
            status, api = _request("GET", url + "/api/config", token=token)
            assert status == 200, (status, api)
            if api.get("state") == "RUNNING":
                break
            if time.monotonic() > deadline:
                pytest.fail(f"Home Assistant did not finish starting: {api.get('state')}")
            time.sleep(0.25)
        yield RealHa(url, token, str(api["version"]), config_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
