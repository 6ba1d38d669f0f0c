"""Writing YAML files (run parameters); parsing is :mod:`xkaohe.yamltext`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from xkaohe.io.files import write_text


def write_yaml(path: Path, data: Any) -> None:
    """Readable YAML (Chinese kept as is, keys in the given order)."""
    write_text(path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
