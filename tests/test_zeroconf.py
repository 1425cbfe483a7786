"""Zeroconf: the hub's record is seen by a browser on loopback and withdrawn on exit."""

from __future__ import annotations

import asyncio

import pytest
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from familiar.discovery import (
    SERVICE_TYPE,
    Advertisement,
    Browser,
    advertised_address,
    lan_address,
    service_name,
)


def test_never_advertise_a_wildcard_address() -> None:
    assert advertised_address("0.0.0.0", None) == lan_address()
    assert advertised_address("0.0.0.0", None) != "0.0.0.0"
    assert advertised_address("::", None) != "::"
    assert advertised_address("192.168.1.5", None) == "192.168.1.5"
    assert advertised_address("0.0.0.0", "10.1.2.3") == "10.1.2.3"


@pytest.mark.timeout(60)
async def test_advertisement_seen_and_withdrawn() -> None:
    loopback = ["127.0.0.1"]
    async with (
        Browser(interfaces=loopback) as browser,
        Advertisement("familiar-test", 10399, "127.0.0.1", interfaces=loopback),
    ):
        uri = await browser.wait_for("familiar-test", timeout=20)
        assert uri == "tcp://127.0.0.1:10399"
    # Withdrawn: a fresh resolver (nothing cached) gets no answer any more. (A browser's cache
    # only forgets it if the goodbye packet arrives, which multicast does not promise.)
    async with asyncio.timeout(30):
        while await resolves(service_name("familiar-test"), loopback):  # noqa: ASYNC110
            await asyncio.sleep(0.5)


async def resolves(name: str, interfaces: list[str]) -> bool:
    zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
    try:
        return bool(await AsyncServiceInfo(SERVICE_TYPE, name).async_request(zc.zeroconf, 1500))
    finally:
        await zc.async_close()
