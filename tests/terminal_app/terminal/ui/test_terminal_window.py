"""``printgate terminal`` with a ``[display]``: the engine runs with its Kivy window, and SIGTERM
closes both cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hw_sim.readers.serial_sim import SerialReaderSim
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import HubClients
from tests.terminal_app.terminal.test_config import MINIMAL, REPO, write


async def test_printgate_terminal_opens_its_window_and_stops_on_sigterm(
    hub: HubClients, tmp_path: Path, xvfb_display: str
) -> None:
    terminal = await hub.create_terminal("t1")
    await asyncio.to_thread(_open_window_and_stop, tmp_path, terminal.state_dir, xvfb_display)


def _open_window_and_stop(tmp_path: Path, state_dir: Path, xvfb_display: str) -> None:
    """An enrolled terminal whose hub does not answer opens its window; SIGTERM closes both."""
    with SerialReaderSim("rdm6300") as reader:
        path = write(
            tmp_path,
            MINIMAL
            + f'address = "127.0.0.1:{free_tcp_port()}"\ndeadline_s = 0.5\nstate_dir = "{state_dir}"\n'
            + f'[reader]\nurl = "{reader.path}"\n'
            + '[mfp.fih]\npin_factory = "mock"\ngrace_s = 0.0\n'
            + "[display]\nwidth_px = 800\nheight_px = 480\nfullscreen = false\n",
        )
        environment = {**os.environ, "DISPLAY": xvfb_display, "KIVY_HOME": str(tmp_path / "kivy")}
        process = subprocess.Popen(
            [sys.executable, "-m", "printgate_cli", "terminal", "--config", str(path)],
            cwd=REPO,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        output = process.stdout
        assert output is not None

        def pump() -> None:
            for line in output:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not (any("screen=idle" in line for line in seen) and any("Window" in line for line in seen)):
            assert time.monotonic() < deadline and process.poll() is None, "".join(seen)
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=0.5))
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(30) == 0, "".join(seen)
