"""The set-up contract: pyproject and environment.yml agree; the public API is honest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

import xkaohe

REPO = Path(__file__).parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_has_the_same_packages_as_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda |= {_name(d) for d in pip if not d.startswith("-e")}
    assert conda == wanted


def test_all_is_honest() -> None:
    for name in xkaohe.__all__:
        assert hasattr(xkaohe, name), name


def test_notebooks_are_committed_without_outputs() -> None:
    import json

    for path in (REPO / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name} has outputs"
                assert cell.get("execution_count") is None, f"{path.name} has counts"


def _setup_folders() -> dict[str, tuple[str, str]]:
    """``FOLDERS`` of setup.py, read without running it."""
    import ast

    for node in ast.parse((REPO / "setup.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FOLDERS":
            value: dict[str, tuple[str, str]] = ast.literal_eval(node.value)
            return value
    raise AssertionError("setup.py defines no FOLDERS")


def test_the_wheel_ships_the_folders_resources_looks_for() -> None:
    from xkaohe.io import resources

    folders = _setup_folders()
    assert set(folders) == set(resources.FOLDERS)
    manifest = (REPO / "MANIFEST.in").read_text(encoding="utf-8")
    for name, (folder, pattern) in folders.items():
        assert resources.FOLDERS[name] == folder
        assert f"recursive-include {folder} {pattern}" in manifest
        assert list((REPO / folder).glob(pattern)), f"nothing to ship in {folder}"
        # a checkout (this editable install) reads the top-level folder itself
        assert resources.folder(name) == REPO / folder


def test_shipped_resources_are_the_ones_the_code_uses() -> None:
    from xkaohe.io import resources
    from xkaohe.run.batch import NOTEBOOKS
    from xkaohe.run.commands import DEFAULT_PLAN

    assert NOTEBOOKS == resources.notebooks_dir() == REPO / "notebooks"
    assert DEFAULT_PLAN == REPO / "params" / resources.PLAN_FILE
    assert (resources.params_dir() / resources.RUN_PARAMS_FILE).is_file()
    assert (resources.reference_dir() / "anhui_counties.csv").is_file()


def test_a_missing_shipped_folder_names_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xkaohe.io import resources

    (tmp_path / "xkaohe").mkdir()
    monkeypatch.setattr(resources, "package_dir", lambda: tmp_path / "xkaohe")
    with pytest.raises(resources.ResourceError, match=r"notebooks folder is missing.*_bundled"):
        resources.notebooks_dir()
    (tmp_path / "xkaohe" / resources.BUNDLED / "notebooks").mkdir(parents=True)
    assert resources.notebooks_dir() == tmp_path / "xkaohe" / resources.BUNDLED / "notebooks"
