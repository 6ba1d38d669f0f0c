"""Where the shipped notebooks, default plan and reference data are.

Found through :mod:`importlib.resources`, so ``xkaohe demo`` runs from any
folder wherever the package is installed. A built wheel carries copies under
``xkaohe/_bundled/`` (``setup.py`` puts them there); a checkout, or an
editable install of one, uses the top-level ``notebooks/``, ``params/`` and
``data/reference/`` beside the package, where users edit them — git keeps one
copy.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

BUNDLED = "_bundled"  # as in setup.py
FOLDERS = {  # name in the wheel: folder in the checkout
    "notebooks": "notebooks",
    "params": "params",
    "reference": "data/reference",
}
PLAN_FILE = "plan-2019.yaml"  # the default plan, in params/
RUN_PARAMS_FILE = "run-demo.yaml"  # an example run parameter file, in params/


class ResourceError(RuntimeError):
    """The installation lacks a shipped folder (a broken install, not the user's input)."""


def package_dir() -> Path:
    """The installed xkaohe package folder (its code is part of every report fingerprint)."""
    root = files("xkaohe")
    if not isinstance(root, Path):  # e.g. imported from a zip: papermill needs real files
        raise ResourceError(f"xkaohe is not installed as plain files ({root!r}): reinstall it")
    return root


def folder(name: str) -> Path:
    """The shipped folder ``name`` (notebooks, params or reference) on disk."""
    package = package_dir()
    candidates = (package / BUNDLED / name, package.parent / FOLDERS[name])
    for path in candidates:
        if path.is_dir():
            return path
    raise ResourceError(
        f"xkaohe's {name} folder is missing (looked in {', '.join(map(str, candidates))}): "
        "reinstall the package or restore the folder in the checkout"
    )


def notebooks_dir() -> Path:
    """The report notebooks."""
    return folder("notebooks")


def params_dir() -> Path:
    """The default plan and the example run parameter file."""
    return folder("params")


def reference_dir() -> Path:
    """The small public reference tables (data/reference/)."""
    return folder("reference")


def default_plan() -> Path:
    """The plan file used when none is given (``params/plan-2019.yaml``)."""
    return params_dir() / PLAN_FILE


__all__ = [
    "FOLDERS",
    "PLAN_FILE",
    "RUN_PARAMS_FILE",
    "ResourceError",
    "default_plan",
    "folder",
    "notebooks_dir",
    "package_dir",
    "params_dir",
    "reference_dir",
]
