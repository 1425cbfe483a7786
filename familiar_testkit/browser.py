"""Real headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for
the web app's browser tests and benches.

The fake microphone plays a WAV file (``--use-file-for-fake-audio-capture``); the page's own
record of what it did (``window.familiar``) tells what it heard, said and played.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PHONE = (412, 915)
DESKTOP = (1280, 900)


@contextmanager
def chromium(
    mic_wav: Path | None = None, size: tuple[int, int] = PHONE, downloads: Path | None = None
) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--ignore-certificate-errors",  # the hub's self-signed certificate
        "--use-fake-ui-for-media-stream",  # allow the microphone without asking
        "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(arg)
    if mic_wav is not None:
        options.add_argument(f"--use-file-for-fake-audio-capture={mic_wav}%noloop")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.set_window_size(*size)
        yield driver
    finally:
        driver.quit()


def wait_until(driver: Any, condition: Callable[[Any], T], timeout: float = 20) -> T:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)  # type: ignore[no-any-return]


def page_state(driver: Any) -> dict[str, Any]:
    return driver.execute_script("return window.familiar || {}")  # type: ignore[no-any-return]


def screenshot(driver: Any, path: Path, size: tuple[int, int]) -> None:
    """A full-page screenshot at ``size`` (width; height grows to the page)."""
    driver.set_window_size(*size)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size[0], max(size[1], min(int(height) + 120, 2600)))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    driver.set_window_size(*size)


def docs_screenshot(
    driver: Any, path: Path, size: tuple[int, int] = (412, 772), scale: float = 0.6
) -> None:
    """A screenshot for docs/: the page laid out at ``size`` CSS pixels and drawn at ``scale``
    (docs/web's phone shots: 412 x 772 at 0.6, 247 x 463 pixels)."""
    metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": scale, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
