from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=25, deadline=None)
settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
PLAN = REPO / "params" / "plan-2019.yaml"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small synthetic run (frame, roster, sample, lottery), shared read-only."""
    from xkaohe.run.stages import prepare_demo_run

    run = tmp_path_factory.mktemp("run")
    prepare_demo_run(run)
    return run
