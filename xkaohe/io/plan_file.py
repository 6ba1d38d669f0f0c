"""Read a plan file into the frozen :class:`~xkaohe.plan.Plan`, and hash it for certificates."""

from __future__ import annotations

from pathlib import Path

from xkaohe.io.files import read_text, sha256_file
from xkaohe.io.memo import remembered
from xkaohe.plan import Plan, parse_plan


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file (parsed once while the file is unchanged: see io.memo)."""
    return remembered("plan", [Path(path)], lambda: parse_plan(read_text(path), str(path)))


def plan_hash(path: str | Path) -> str:
    """SHA-256 of the plan file's bytes, as recorded in certificates."""
    return sha256_file(Path(path))


__all__ = ["load_plan", "plan_hash"]
