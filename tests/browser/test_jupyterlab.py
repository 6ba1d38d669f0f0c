"""The explorer notebook in a real JupyterLab, driven by Debian's chromium.

Builds a small run, starts ``jupyter lab`` on loopback with a random token
and a root folder holding a copy of ``notebooks/explore.ipynb``, runs all
cells, reads the rates chart and the household table, changes the county and
checks that both changed. The server is stopped in the fixture's teardown
whatever happens. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
HOST = "127.0.0.1"
SERVER_START_S = 90
CELLS_DONE_MS = 180_000
CHANGE_MS = 30_000


def _missing() -> str | None:
    """Why this test cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (run scripts/browser-test-deps.sh as root)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _isolated_settings(home: Path) -> dict[str, str]:
    """Jupyter config, settings and workspaces of this test only (no user state leaks in).

    Notebook windowing is off so every output is in the DOM, the notebook's
    kernel starts without asking, and JupyterLab's news and update checks are
    off (loopback only).
    """
    settings = home / "lab-settings"
    _write(
        settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
        '{"windowingMode": "none", "autoStartDefaultKernel": true}',
    )
    _write(
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
        '{"fetchNews": "false", "checkForUpdates": false}',
    )
    return {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # loopback only
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer within {SERVER_START_S} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A small run and a JupyterLab server serving a copy of the explorer notebook."""
    from xkaohe.run.stages import prepare_demo_run

    run = tmp_path / "run"
    prepare_demo_run(run, field_lists=False)
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(24)
    log = tmp_path / "jupyter-lab.log"
    env = os.environ | _isolated_settings(tmp_path / "jupyter") | {"XKAOHE_RUN": str(run)}
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.ip={HOST}",
        f"--IdentityProvider.token={token}",  # ServerApp.token is deprecated in server 2.x
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI and this workplace run as root
        command.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://{HOST}:{port}"
        _wait_until_up(proc, f"{base}/api/status?token={token}", log)
        yield Lab(base, token, log)
    finally:
        _stop(proc)


def _accept_kernel_dialog(page: Any) -> None:
    """Accept a "Select Kernel" dialog if one shows (it should not: the kernel autostarts)."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(state="visible", timeout=3_000)
    except Exception:  # no dialog: the usual case
        return
    dialog.get_by_role("button", name="Select").click(timeout=10_000)
    dialog.wait_for(state="detached", timeout=10_000)


def _wait_for_idle_kernel(page: Any) -> None:
    """Best effort: the notebook's execution indicator says idle (JupyterLab 4.x markup)."""
    # If the markup differs in this version, running the cells still waits for the kernel.
    with contextlib.suppress(Exception):
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
            state="attached", timeout=30_000
        )


def _run_all_cells(page: Any) -> None:
    """Run > Run All Cells from the menu bar; the command palette if the menu differs."""
    try:
        page.get_by_role("menuitem", name="Run", exact=True).click(timeout=10_000)
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click(timeout=10_000)
    except Exception:  # a JupyterLab whose menus differ: the command palette by keyboard
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Shift+C")
        page.keyboard.type("Run All Cells")
        page.keyboard.press("Enter")


def test_the_explorer_answers_a_county_change_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            timeout=60_000,
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, locale="zh-CN")
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}")
            page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(state="visible")
            _accept_kernel_dialog(page)
            _wait_for_idle_kernel(page)
            page.locator(".jp-Notebook .jp-Cell").first.click()  # focus the notebook
            _run_all_cells(page)
            _accept_kernel_dialog(page)

            households = page.locator(".xk-households").first
            rates = page.locator(".xk-rates").first
            county = page.locator(".xk-county select").first
            households.locator("table").wait_for(state="attached", timeout=CELLS_DONE_MS)
            rates.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=CELLS_DONE_MS)
            title = rates.locator(".gtitle").first
            expect(title).to_contain_text("三率", timeout=CHANGE_MS)

            first_county = county.locator("option:checked").inner_text()
            before = (title.text_content(), rates.text_content(), households.text_content())
            assert before[2] and "户编号" in before[2] and "**" in before[2]
            assert before[1] and "错退率" in before[1]

            options = county.locator("option").all_inner_texts()
            assert len(options) >= 2, options
            changed_at = time.monotonic()
            county.select_option(index=1)
            new_name = options[1].split("（")[0]
            expect(title).to_contain_text(new_name, timeout=CHANGE_MS)
            expect(households).not_to_have_text(before[2], timeout=CHANGE_MS)
            answered = time.monotonic() - changed_at
            after = (title.text_content(), rates.text_content(), households.text_content())

            assert first_county.split("（")[0] in (before[0] or "")
            assert after[0] != before[0] and new_name in (after[0] or "")
            assert after[1] != before[1]  # chart and rates table
            assert after[2] != before[2]

            # drill down: a village, then one of its households
            page.locator(".xk-village select").first.select_option(index=1)
            expect(households).not_to_have_text(after[2], timeout=CHANGE_MS)
            page.locator(".xk-household select").first.select_option(index=1)
            detail = page.locator(".xk-detail").first
            expect(detail).to_contain_text("入户调查结果", timeout=CHANGE_MS)
            expect(detail).to_contain_text("帮扶责任人", timeout=CHANGE_MS)

            shot = tmp_path / "explore.png"
            page.set_viewport_size({"width": 1500, "height": 4000})  # the notebook scrolls inside
            page.wait_for_timeout(500)
            page.screenshot(path=str(shot), full_page=True)
        except Exception:
            failure = tmp_path / "failure.png"
            page.screenshot(path=str(failure), full_page=True)
            print(f"\nfailure screenshot: {failure}\nserver log:\n{_tail(lab.log)}")
            raise
        finally:
            browser.close()
    print(
        f"\nscreenshot: {shot}\ncounty change answered in the browser in {answered:.2f} s; "
        f"browser part {time.monotonic() - started:.1f} s"
    )
