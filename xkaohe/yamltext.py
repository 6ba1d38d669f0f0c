"""YAML text parsing that keeps dates as text (pydantic parses them), as papermill does.

Pure parsing, no file access: the plan model and the run parameters both use it.
"""

from __future__ import annotations

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
