"""Shared pytest set-up.

Notebooks run under nbval read their run folder from ``$XKAOHE_RUN``. When a
session collects notebooks, one small synthetic run (synthesis, sample,
lottery) is built once in a temporary folder and handed to them that way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_BUILT: list[Path] = []


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    wants_run = any(str(item.fspath).endswith(".ipynb") for item in items)
    if wants_run and not os.environ.get("XKAOHE_RUN"):
        from xkaohe.run.stages import prepare_demo_run

        run = Path(tempfile.mkdtemp(prefix="xkaohe-nbval-"))
        _BUILT.append(run)
        prepare_demo_run(run, field_lists=False)
        os.environ["XKAOHE_RUN"] = str(run)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for run in _BUILT:
        shutil.rmtree(run, ignore_errors=True)
