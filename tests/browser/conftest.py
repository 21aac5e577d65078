"""Browser tests: JupyterLab on 127.0.0.1 driven by Playwright through Debian's Chromium.

Playwright's own browser download is never used: the browser is the system ``chromium``
(``.ci/install-browser`` installs it). Without it the tests are skipped with a loud reason (and
a warning in the summary); under CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def _missing(reason: str) -> None:
    message = f"BROWSER TESTS NOT RUN: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI installs it with .ci/install-browser)")
    warnings.warn(message, UserWarning, stacklevel=2)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium (``$TIERLAB_CHROMIUM`` or ``chromium`` on the PATH)."""
    for name in ((os.environ.get("TIERLAB_CHROMIUM") or "",) + CHROMIUM_NAMES):
        found = shutil.which(name) if name else None
        if found:
            return found
    _missing("no `chromium` on this machine; install it with `sudo .ci/install-browser` "
             "(apt-get install chromium)")
    raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium_path) -> Iterator[SimpleNamespace]:
    """JupyterLab on a random free port with a token, serving a temporary project copy.

    The copy holds ``notebooks/`` (the committed explorer notebook and its .py) and links to
    ``data/``; the server's working directory is a separate temporary folder; the project's
    Jupyter config (``jupyter-config/``) is on the config path, user settings are temporary.
    """
    project = tmp_path_factory.mktemp("project")
    (project / "notebooks").mkdir()
    for name in ("explore.ipynb", "explore.py"):
        shutil.copy2(ROOT / "notebooks" / name, project / "notebooks" / name)
    (project / "data").symlink_to(ROOT / "data")
    work = tmp_path_factory.mktemp("work")
    home = tmp_path_factory.mktemp("jupyter_home")
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "get Jupyter news?" pop-up over the page
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "TIERLAB_PROJECT_ROOT": str(project),
           "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={project}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError("JupyterLab did not start:\n" + (home / "server.log")
                                       .read_text(errors="replace")[-3000:]) from None
                time.sleep(0.5)
        yield SimpleNamespace(url=url, token=token, project=project, work=work,
                              log=home / "server.log", proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(chromium_path) -> Iterator:
    """Headless Chromium (the system one) under Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the `playwright` package is not installed (pip install -e '.[dev]')")
        raise AssertionError("unreachable") from None
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: ``$TIERLAB_SCREENSHOTS`` or a temporary folder (never the repo)."""
    folder = os.environ.get("TIERLAB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
