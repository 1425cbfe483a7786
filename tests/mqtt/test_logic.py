"""Pure logic: config, topic layout, command parsing, rendering, discovery, backoff, outbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from familiar.errors import FamiliarError
from familiar.mqtt import (
    HA_MAX_STATE_CHARS,
    MAX_TEXT_CHARS,
    VOICE_STATES,
    Announce,
    AnswerSpoken,
    Ask,
    CommandRejected,
    DeviceInfo,
    MqttConfig,
    MqttError,
    MutedChanged,
    Outbox,
    Outgoing,
    SetMuted,
    SetVolume,
    StartListening,
    StateChanged,
    Topics,
    TranscriptHeard,
    VolumeChanged,
    WakeDetected,
    device_slug,
    forget_messages,
    hub_discovery,
    parse_command,
    render_update,
    satellite_device_id,
    satellite_discovery,
)
from familiar_hub.mqtt import parse_satellite_list
from tests.mqtt.ha_schema import check_device_discovery

TOPICS = Topics("familiar", "kitchen")
CONFIG = MqttConfig()


# ---------------------------------------------------------------- config


def test_config_defaults_and_problems() -> None:
    assert CONFIG.discovery_prefix == "homeassistant"
    assert CONFIG.base_topic == "familiar"
    for bad in (
        {"password": "x"},
        {"username": "u", "password": "x", "password_file": "/tmp/p"},
        {"base_topic": "familiar/#"},
        {"base_topic": "/familiar"},
        {"discovery_prefix": ""},
        {"reconnect_min": 5, "reconnect_max": 1},
        {"tls": {"cert": "/c.pem"}},
        {"port": 0},
        {"bogus": 1},
    ):
        with pytest.raises(ValidationError):
            MqttConfig.model_validate(bad)


def test_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\nignored\n")
    config = MqttConfig(username="u", password_file=secret)
    assert config.read_password() == "s3cret"
    with pytest.raises(ValidationError, match="password_file not found"):
        MqttConfig(username="u", password_file=tmp_path / "none")  # at load, not every retry
    secret.unlink()  # removed after loading: a clear error when connecting
    with pytest.raises(MqttError) as err:
        config.read_password()
    assert err.value.code == "mqtt-config"


def test_tls_params(tmp_path: Path) -> None:
    assert CONFIG.tls_params() is None
    for name in ("ca.pem", "c.pem", "k.pem"):
        (tmp_path / name).write_text("PEM\n")
        (tmp_path / name).chmod(0o600)
    ca, cert, key = (str(tmp_path / name) for name in ("ca.pem", "c.pem", "k.pem"))
    tls = MqttConfig.model_validate({"tls": {"ca": ca, "cert": cert, "key": key}}).tls_params()
    assert tls is not None
    assert (tls.ca_certs, tls.certfile, tls.keyfile) == (ca, cert, key)
    system = MqttConfig.model_validate({"tls": {}}).tls_params()
    assert system is not None and system.ca_certs is None


# ---------------------------------------------------------------- topics (a public contract)


def test_topic_layout_is_stable() -> None:
    assert TOPICS.availability == "familiar/kitchen/availability"
    assert TOPICS.state == "familiar/kitchen/state"
    assert TOPICS.transcript == "familiar/kitchen/transcript"
    assert TOPICS.answer == "familiar/kitchen/answer"
    assert TOPICS.wake == "familiar/kitchen/wake"
    assert TOPICS.muted == "familiar/kitchen/muted"
    assert TOPICS.volume == "familiar/kitchen/volume"
    assert TOPICS.command("announce") == "familiar/kitchen/announce/set"
    assert TOPICS.commands == "familiar/kitchen/+/set"
    assert TOPICS.announce_all == "familiar/announce"
    assert TOPICS.ha_status == "homeassistant/status"
    assert TOPICS.discovery == "homeassistant/device/familiar_kitchen/config"
    hub = Topics("home/familiar", "hub", "ha")
    assert hub.health == "home/familiar/hub/health"
    assert hub.discovery == "ha/device/home_familiar_hub/config"


def test_device_ids() -> None:
    assert device_slug("Kitchen Pi") == "kitchen_pi"
    assert device_slug(" Living-room #2 ") == "living-room_2"
    with pytest.raises(FamiliarError):
        device_slug("!!!")
    with pytest.raises(FamiliarError):
        satellite_device_id("Hub")


# ---------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("familiar/kitchen/announce/set", b"Dinner is ready", Announce("Dinner is ready")),
        (
            "familiar/kitchen/announce/set",
            "  Caf\u00e9 \u2615 ".encode(),
            Announce("Caf\u00e9 \u2615"),
        ),
        ("familiar/kitchen/announce/set", b"x" * MAX_TEXT_CHARS, Announce("x" * MAX_TEXT_CHARS)),
        ("familiar/announce", b"Everyone: dinner", Announce("Everyone: dinner")),
        ("familiar/kitchen/ask/set", b"Shall I order pizza?", Ask("Shall I order pizza?")),
        ("familiar/kitchen/muted/set", b"ON", SetMuted(True)),
        ("familiar/kitchen/muted/set", b"off", SetMuted(False)),
        ("familiar/kitchen/muted/set", b"true", SetMuted(True)),
        ("familiar/kitchen/volume/set", b"40", SetVolume(0.4)),
        ("familiar/kitchen/volume/set", b" 100.0 ", SetVolume(1.0)),
        ("familiar/kitchen/volume/set", b"0", SetVolume(0.0)),
        ("familiar/kitchen/listen/set", b"PRESS", StartListening()),
        ("familiar/kitchen/listen/set", b"", StartListening()),
    ],
)
def test_commands_accepted(topic: str, payload: bytes, expected: object) -> None:
    assert parse_command(TOPICS, topic, payload) == expected


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("familiar/bedroom/announce/set", b"hi", "unknown device"),
        ("familiar/kitchen/frobnicate/set", b"hi", "unknown command"),
        ("familiar/kitchen/announce", b"hi", "not a command topic"),
        ("other/kitchen/announce/set", b"hi", "not a command topic"),
        ("familiar/kitchen/announce/set", b"", "empty"),
        ("familiar/kitchen/announce/set", b"   \n ", "empty"),
        ("familiar/announce", b"", "empty"),
        ("familiar/kitchen/ask/set", b"x" * (MAX_TEXT_CHARS + 1), "too long"),
        ("familiar/kitchen/announce/set", b"x" * 100_000, "too large"),
        ("familiar/kitchen/announce/set", b"\xff\xfe bad", "not UTF-8"),
        ("familiar/kitchen/announce/set", b"a\x00b", "NUL"),
        ("familiar/kitchen/muted/set", b"maybe", "ON or OFF"),
        ("familiar/kitchen/muted/set", b"\xc3", "not UTF-8"),
        ("familiar/kitchen/volume/set", b"loud", "a number"),
        ("familiar/kitchen/volume/set", b"nan", "out of range"),
        ("familiar/kitchen/volume/set", b"inf", "out of range"),
        ("familiar/kitchen/volume/set", b"-1", "out of range"),
        ("familiar/kitchen/volume/set", b"101", "out of range"),
        ("familiar/kitchen/volume/set", b"", "a number"),
        ("familiar/kitchen/listen/set", b"\xff", "not UTF-8"),
    ],
)
def test_commands_rejected(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(CommandRejected, match=reason) as err:
        parse_command(TOPICS, topic, payload)
    assert err.value.code == "mqtt-command-rejected"


# ---------------------------------------------------------------- rendering updates


def test_render_updates() -> None:
    def render(update: object, config: MqttConfig = CONFIG) -> Outgoing | None:
        return render_update(TOPICS, config, update)  # type: ignore[arg-type]

    assert render(StateChanged("speaking")) == Outgoing(TOPICS.state, b"speaking", True)
    assert render(StateChanged("dancing")) is None
    assert render(MutedChanged(True)) == Outgoing(TOPICS.muted, b"ON", True)
    assert render(VolumeChanged(0.456)) == Outgoing(TOPICS.volume, b"46", True)
    assert render(VolumeChanged(3.0)) == Outgoing(TOPICS.volume, b"100", True)
    heard = render(TranscriptHeard("turn on the light"))
    assert heard == Outgoing(TOPICS.transcript, b"turn on the light", False)
    answer = render(AnswerSpoken("Done, love."))
    assert answer is not None and not answer.retain
    wake = render(WakeDetected("hey_jarvis"))
    assert wake is not None and not wake.retain
    assert json.loads(wake.payload) == {"event_type": "detected", "wake_word": "hey_jarvis"}
    private = MqttConfig(publish_transcript=False, publish_answer=False)
    assert render(TranscriptHeard("secret"), private) is None
    assert render(AnswerSpoken("secret"), private) is None


# ---------------------------------------------------------------- discovery


def test_satellite_discovery_is_valid_for_home_assistant() -> None:
    info = DeviceInfo("kitchen", "Kitchen", "Familiar satellite")
    payload = satellite_discovery(CONFIG, info)
    assert check_device_discovery(TOPICS.discovery, payload) == []
    components = payload["cmps"]
    assert {c["p"] for c in components.values()} == {
        "sensor",
        "event",
        "switch",
        "number",
        "button",
        "text",
    }
    assert set(components) == {
        "state",
        "transcript",
        "answer",
        "wake",
        "muted",
        "volume",
        "listen",
        "announce",
        "ask",
    }
    assert components["state"]["ops"] == list(VOICE_STATES)
    assert payload["avty_t"] == TOPICS.availability
    assert payload["dev"]["ids"] == ["familiar_kitchen"]
    assert str(HA_MAX_STATE_CHARS) in components["transcript"]["val_tpl"]
    # The payload is JSON as sent.
    assert json.loads(json.dumps(payload)) == payload


def test_privacy_removes_transcript_and_answer_entities() -> None:
    config = MqttConfig(publish_transcript=False, publish_answer=False)
    payload = satellite_discovery(config, DeviceInfo("kitchen", "Kitchen", "x"))
    assert check_device_discovery(TOPICS.discovery, payload) == []
    assert "transcript" not in payload["cmps"] and "answer" not in payload["cmps"]


def test_hub_discovery_is_valid_for_home_assistant() -> None:
    hub = Topics("familiar", "hub")
    payload = hub_discovery(CONFIG, DeviceInfo("hub", "Familiar", "Familiar hub"))
    assert check_device_discovery(hub.discovery, payload) == []
    components = payload["cmps"]
    assert set(components) == {"asr", "tts", "brain", "persona_chunks", "satellites", "announce"}
    assert components["announce"]["cmd_t"] == "familiar/announce"
    assert all(components[k]["stat_t"] == hub.health for k in ("asr", "satellites"))


def test_checker_catches_mistakes() -> None:
    """The schema restatement itself must be able to fail."""
    good = satellite_discovery(CONFIG, DeviceInfo("kitchen", "Kitchen", "x"))
    broken = json.loads(json.dumps(good))
    broken["unexpected"] = 1
    del broken["o"]
    broken["dev"] = {"name": "no ids"}
    broken["cmps"]["state"].pop("uniq_id")
    broken["cmps"]["wake"].pop("evt_typ")
    broken["cmps"]["volume"]["stat_t"] = "familiar/+/volume"
    broken["cmps"]["listen"]["p"] = "buttn"
    problems = "\n".join(check_device_discovery("homeassistant/device/a b/config", broken))
    for expected in (
        "bad discovery topic",
        "unknown key 'unexpected'",
        "origin.name",
        "identifiers",
        "components.state: unique_id",
        "components.wake: event requires event_types",
        "components.volume: state_topic",
        "'buttn' is not supported",
    ):
        assert expected in problems


def test_forget_clears_discovery_and_retained_state() -> None:
    messages = forget_messages(TOPICS)
    assert all(m.retain and m.payload == b"" for m in messages)
    topics = {m.topic for m in messages}
    assert {TOPICS.discovery, TOPICS.availability, TOPICS.state, TOPICS.muted} <= topics


def test_satellite_registry_parse() -> None:
    assert parse_satellite_list(b'["a", "b"]') == ["a", "b"]
    assert parse_satellite_list(b'["a", 3]') == ["a"]
    assert parse_satellite_list(b"{}") == []
    assert parse_satellite_list(b"\xff") == []
    assert parse_satellite_list(b"not json") == []


# ---------------------------------------------------------------- outbox


def _msg(topic: str, payload: str, retain: bool) -> Outgoing:
    return Outgoing(topic, payload.encode(), retain)


def test_outbox_keeps_latest_state_per_topic() -> None:
    box = Outbox(8)
    box.put(_msg("s", "idle", True))
    box.put(_msg("e", "wake1", False))
    box.put(_msg("s", "listening", True))
    box.put(_msg("s", "thinking", True))
    assert [m.payload for m in box.items()] == [b"wake1", b"thinking"]
    assert box.dropped == 0


def test_outbox_overflow_drops_oldest_state_first_then_oldest_event() -> None:
    box = Outbox(3)
    box.put(_msg("state", "idle", True))
    box.put(_msg("e", "1", False))
    box.put(_msg("volume", "10", True))
    box.put(_msg("e", "2", False))  # full: the oldest state (state=idle) goes
    assert [m.payload for m in box.items()] == [b"1", b"10", b"2"]
    box.put(_msg("e", "3", False))  # full: the remaining state (volume) goes
    assert [m.payload for m in box.items()] == [b"1", b"2", b"3"]
    box.put(_msg("e", "4", False))  # only events: the oldest event goes
    assert [m.payload for m in box.items()] == [b"2", b"3", b"4"]
    box.put(_msg("state", "speaking", True))  # the latest state is always kept
    assert box.items()[-1].payload == b"speaking"
    assert box.dropped == 4
    assert len(box) == 3


async def test_outbox_get_waits_and_drop_retained() -> None:
    box = Outbox(4)
    box.put(_msg("s", "idle", True))
    box.put(_msg("e", "1", False))
    box.drop_retained()
    assert (await box.get()).payload == b"1"
    assert box.get_nowait() is None
    box.push_front(_msg("e", "0", False))
    assert (await box.get()).payload == b"0"
    with pytest.raises(ValueError):
        Outbox(0)
