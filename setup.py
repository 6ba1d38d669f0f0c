"""Build step: the wheel carries copies of notebooks/, params/ and data/reference/.

Everything else about the package is declared in pyproject.toml. Git keeps one
copy of these folders, at the top of the checkout where users edit them (the
design card names them). A built wheel gets them as package data under
``xkaohe/_bundled/`` (``xkaohe.io.resources`` finds them there); an editable
install and a plain checkout read the top-level folders themselves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = "_bundled"  # xkaohe/_bundled/<name>/ in the wheel; see xkaohe/io/resources.py
FOLDERS = {  # name in the wheel: (folder in the checkout, files shipped)
    "notebooks": ("notebooks", "*.ipynb"),
    "params": ("params", "*.yaml"),
    "reference": ("data/reference", "*.csv"),
}


class BuildWithFolders(build_py):
    """``build_py`` that also copies the top-level folders into the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # the checkout's own folders are used
            return
        for name, (folder, pattern) in FOLDERS.items():
            target = Path(self.build_lib) / "xkaohe" / BUNDLED / name
            shutil.rmtree(target, ignore_errors=True)  # no file left from an earlier build
            target.mkdir(parents=True)
            files = sorted((HERE / folder).glob(pattern))
            if not files:
                raise SystemExit(f"setup.py: no {pattern} in {HERE / folder}: nothing to ship")
            for path in files:
                shutil.copyfile(path, target / path.name)


setup(cmdclass={"build_py": BuildWithFolders})
