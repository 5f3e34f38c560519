"""A real hub process for tests that crash it: started by command line, killed by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STARTUP_TIMEOUT_S = 30.0


class HubProcess:
    """``printgate hub`` in a child process on a fixed loopback port."""

    def __init__(self, data_dir: Path, port: int, config: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        ready = self.data_dir / "ready"
        ready.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "printgate_cli",
            "hub",
            "--data-dir",
            str(self.data_dir),
            "--listen",
            self.address,
            "--ready-file",
            str(ready),
            "--log-level",
            "WARNING",
        ]
        if self.config:
            command += ["--config", str(self.config)]
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ready.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("hub did not start")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()
