"""Installable anywhere (issue 9 item 6): the built wheel runs the demo outside the checkout.

The wheel is built from a copy of the checkout (nothing is written into it),
installed without dependencies into a fresh virtual environment that reuses
this environment's dependencies through a ``.pth`` file, and ``xkaohe demo``
runs from a temporary folder with a clean environment. The checkout's
editable install cannot leak in: the new environment's ``site-packages``
comes first, the editable ``.pth`` of this environment is not processed
(only the site directory's own ``.pth`` files are), and the test checks that
``xkaohe`` — in the CLI's process and in a report kernel — is the installed copy.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
JUNK = shutil.ignore_patterns(
    ".git", ".venv", "runs", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis", ".ipynb_checkpoints", "out", "generated",
)  # fmt: skip
PROBE = """
import json, sys
import xkaohe
from xkaohe.io import resources
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="python3", cwd=str(resources.notebooks_dir()))
try:
    seen = []
    kc.execute_interactive(
        "import sys, xkaohe; print(xkaohe.__file__); print(sys.executable)",
        output_hook=lambda m: seen.append(m["content"].get("text", "")),
        timeout=60,
    )
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
kernel_file, kernel_python = "".join(seen).split()
print(json.dumps({
    "package": xkaohe.__file__,
    "notebooks": str(resources.notebooks_dir()),
    "plan": str(resources.default_plan()),
    "reference": str(resources.reference_dir()),
    "kernel_package": kernel_file,
    "kernel_python": kernel_python,
}))
"""


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.wheel
def test_the_wheel_runs_the_demo_from_anywhere(tmp_path: Path) -> None:
    src, dist, env_dir, work = (tmp_path / n for n in ("src", "dist", "venv", "elsewhere"))
    shutil.copytree(REPO, src, ignore=JUNK, symlinks=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src], src)
    (wheel,) = dist.glob("xkaohe-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "xkaohe/_bundled/notebooks/county_report.ipynb",
        "xkaohe/_bundled/params/plan-2019.yaml",
        "xkaohe/_bundled/params/run-demo.yaml",
        "xkaohe/_bundled/reference/anhui_counties.csv",
        "xkaohe/py.typed",
    ):
        assert name in shipped, name

    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    work.mkdir()
    where_lib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    purelib = Path(_run([python, "-I", "-c", where_lib], work).strip()).resolve()
    deps = [p for p in (*site.getsitepackages(), sysconfig.get_path("purelib")) if Path(p).is_dir()]
    (purelib / "zz_reuse_dependencies.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], work)

    clean = {
        "PATH": f"{env_dir / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        # the dependencies' data files (nbconvert's templates, the kernel spec) live
        # in this environment's prefix, not in the new one
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    where = json.loads(_run([python, "-I", "-c", PROBE], work, clean).strip().splitlines()[-1])
    for key in ("package", "notebooks", "plan", "reference", "kernel_package"):
        assert Path(where[key]).resolve().is_relative_to(purelib), (key, where[key])
    assert Path(where["kernel_python"]).parent == env_dir / "bin"

    run = work / "demo"
    _run([env_dir / "bin" / "xkaohe", "demo", "--scale", "small", "--out", run], work, clean)
    assert (run / "reports" / "index.html").is_file()
    assert len(list((run / "reports").glob("*.html"))) > 10
    assert Path(where["plan"]).name in (run / "run.yaml").read_text(encoding="utf-8")
