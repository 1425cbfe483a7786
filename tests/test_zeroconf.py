"""Zeroconf: the hub's record is seen by a browser on loopback and withdrawn on exit."""

from __future__ import annotations

import asyncio

import pytest

from familiar.discovery import Advertisement, Browser, advertised_address, lan_address


def test_never_advertise_a_wildcard_address() -> None:
    assert advertised_address("0.0.0.0", None) == lan_address()
    assert advertised_address("0.0.0.0", None) != "0.0.0.0"
    assert advertised_address("::", None) != "::"
    assert advertised_address("192.168.1.5", None) == "192.168.1.5"
    assert advertised_address("0.0.0.0", "10.1.2.3") == "10.1.2.3"


@pytest.mark.timeout(60)
async def test_advertisement_seen_and_withdrawn() -> None:
    loopback = ["127.0.0.1"]
    async with Browser(interfaces=loopback) as browser:
        async with Advertisement("familiar-test", 10399, "127.0.0.1", interfaces=loopback):
            uri = await browser.wait_for("familiar-test", timeout=20)
            assert uri == "tcp://127.0.0.1:10399"
        async with asyncio.timeout(20):
            while any(name.startswith("familiar-test") for name in browser.services):
                browser.changed.clear()
                await browser.changed.wait()
