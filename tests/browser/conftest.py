"""Browser tests: JupyterLab driven by Debian's chromium through Playwright.

They run in ``make test`` when ``/usr/bin/chromium`` and the ``playwright``
Python package are present (``scripts/browser-test-deps.sh`` installs the
browser) and skip with the reason otherwise. Playwright's own browser
downloads are never used.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's chromium against a real JupyterLab server"
    )
