"""YAML loading that keeps dates as text (pydantic parses them), as papermill does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from xkaohe.errors import PlanError


class _NoDatesLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``2019-11-24`` stays a string."""


_NoDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML; a syntax error becomes a PlanError naming the line."""
    try:
        return yaml.load(text, Loader=_NoDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlanError(f"{source}{where}: not valid YAML ({problem})") from None


def write_yaml(path: Path, data: Any) -> None:
    """Readable YAML (Chinese kept as is, keys in the given order)."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
