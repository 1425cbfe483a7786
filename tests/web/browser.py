"""Real headless Chromium for the web app's tests (``familiar_testkit.browser``), and the mark
that skips them where Debian's ``chromium`` and ``chromium-driver`` are not installed."""

from __future__ import annotations

import pytest

from familiar_testkit.browser import (
    CHROMEDRIVER,
    CHROMIUM,
    DESKTOP,
    PHONE,
    chromium,
    docs_screenshot,
    page_state,
    screenshot,
    wait_until,
)

__all__ = [
    "DESKTOP",
    "PHONE",
    "chromium",
    "docs_screenshot",
    "needs_chromium",
    "page_state",
    "screenshot",
    "wait_until",
]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (setup.sh installs them)",
)
