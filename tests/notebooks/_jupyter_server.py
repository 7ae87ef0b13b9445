"""Start a headless JupyterLab on a free loopback port with a random token, and always stop it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "file://", "data:", "blob:", "about:")


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: base URL, token, root folder and its log file."""

    url: str
    token: str
    root: Path
    log: Path

    def lab_url(self, path: str) -> str:
        """The URL that opens ``path`` (relative to the root) in JupyterLab, token included."""
        return f"{self.url}/lab/tree/{path}?token={self.token}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (loopback, file, data, blob, about)."""
    return url.startswith(LOCAL_PREFIXES)


def _wait_ready(proc: subprocess.Popen, url: str, token: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}; log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"jupyter lab not ready at {url} after {timeout:.0f} s; log:\n"
                       f"{log.read_text()[-3000:]}")


@contextlib.contextmanager
def jupyter_lab(root: Path, timeout: float = 90.0) -> Iterator[LabServer]:
    """Run ``jupyter lab`` headless on 127.0.0.1 serving ``root``; stop it (and its kernels) on exit."""
    root = Path(root)
    port, token = free_port(), secrets.token_hex(16)
    state = root.parent / f"jupyter-state-{port}"
    for sub in ("config", "runtime", "workspaces", "settings"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    news = state / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)  # no "receive Jupyter news?" toast over the panel
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(state / "config"),
               JUPYTER_RUNTIME_DIR=str(state / "runtime"), PYTHONUNBUFFERED="1")
    env.pop("ZOO_LAB_HANDOUT", None)
    log = state / "server.log"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        "--LabApp.extension_manager=readonly",  # no PyPI look-ups
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root
        cmd.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=root,
                                start_new_session=True)
    try:
        _wait_ready(proc, url, token, log, timeout)
        yield LabServer(url=url, token=token, root=root, log=log)
    finally:
        _stop(proc, url, token)


def _api(url: str, token: str, method: str, path: str) -> bytes:
    req = urllib.request.Request(f"{url}{path}", method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


def _stop(proc: subprocess.Popen, url: str, token: str, grace: float = 10.0) -> None:
    """Shut kernels and server down through the API; SIGTERM, then SIGKILL, the process group."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(OSError, ValueError):  # kernels run in their own sessions
        for k in json.loads(_api(url, token, "GET", "/api/kernels")):
            _api(url, token, "DELETE", f"/api/kernels/{k['id']}")
        _api(url, token, "POST", "/api/shutdown")
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


def code_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells (no outputs) using the zoo_lab kernel; return its path."""
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": src} for src in cells],
          "metadata": {"kernelspec": {"name": "zoo_lab", "display_name": "Python (zoo_lab)",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


# JS: the notebook's scroller, and a timer pinning it to the top while cells run (panel off-screen)
SCROLLER_JS = "window.jupyterapp.shell.currentWidget.content.node"
PIN_TOP_JS = f"""() => {{ const s = {SCROLLER_JS}; const el = s.querySelector('.jp-WindowedPanel-outer') || s;
  window.__pin = setInterval(() => {{ el.scrollTop = 0; }}, 30); }}"""
UNPIN_JS = "() => clearInterval(window.__pin)"
# The panels on the page: title of each drawn figure, whether its box is greyed, its status text.
PANELS_JS = """() => [...document.querySelectorAll('.zoo-lab-panel')].map(p => {
  const gd = p.querySelector('.js-plotly-plot');
  const svg = gd && gd.querySelector('.main-svg');
  const r = p.getBoundingClientRect();
  return {title: gd && gd.layout && gd.layout.title ? gd.layout.title.text : null,
          drawn: !!(gd && svg && svg.getBoundingClientRect().width > 50
                    && gd.querySelector('.trace, .hm')),
          stale: !!p.querySelector('.zoo-lab-stale'),
          status: (p.querySelector('.zoo-lab-status') || {}).innerText || '',
          top: r.top, visible: r.bottom > 0 && r.top < window.innerHeight};
})"""
# Every plotly figure in an output area: its width and the output area's width.
WIDTHS_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output .js-plotly-plot')].map(gd => {
  const out = gd.closest('.jp-OutputArea-output');
  const svg = gd.querySelector('.main-svg');
  return {fig: svg ? svg.getBoundingClientRect().width : gd.getBoundingClientRect().width,
          area: out.getBoundingClientRect().width,
          title: gd.layout && gd.layout.title ? gd.layout.title.text : null};
})"""
