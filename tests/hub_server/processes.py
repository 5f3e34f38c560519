"""A real hub process for tests that crash it: started by command line, killed by PID; its admin
reached over TLS on its admin port, its terminals enrolled with real tokens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from printgate.v1 import admin_pb2, admin_pb2_grpc

from tests.conftest import free_tcp_port
from tests.hub_server.conftest import TerminalClient
from tests.hub_server.devices import admin_channel, device_channel, enroll_device

STARTUP_TIMEOUT_S = 30.0


class HubProcess:
    """``printgate hub`` in a child process on fixed loopback ports (device and admin)."""

    def __init__(
        self, data_dir: Path, port: int, config: Path | None = None, log_level: str = "WARNING"
    ) -> None:
        self.data_dir = data_dir
        self.log_level = log_level
        self.port = port
        self.admin_port = free_tcp_port()
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """The device port (mutual TLS)."""
        return f"127.0.0.1:{self.port}"

    @property
    def admin_address(self) -> str:
        """The admin and enrollment port (TLS)."""
        return f"127.0.0.1:{self.admin_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

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
            "--admin-listen",
            self.admin_address,
            "--ready-file",
            str(ready),
            "--log-level",
            self.log_level,
        ]
        if self.config:
            command += ["--config", str(self.config)]
        log = open(self.log_path, "ab")  # noqa: SIM115
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

    @property
    def admin_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.admin_token}"),)

    def admin_channel(self) -> grpc.aio.Channel:
        """A TLS channel to the admin port, pinned to the hub's CA file."""
        return admin_channel(self.admin_address, self.data_dir / "hub-ca.pem")

    async def enroll(
        self,
        admin: grpc.aio.Channel,
        terminal_id: str,
        printer: str = "",
        kind: admin_pb2.TerminalKind = admin_pb2.TERMINAL_KIND_TERMINAL,
    ) -> TerminalClient:
        """Enroll a terminal (kind 1) or kiosk (kind 2) with a token; its client on the device port."""
        stub = admin_pb2_grpc.AdminServiceStub(admin)

        async def call_admin(method: str, request: Any) -> Any:
            return await getattr(stub, method)(request, metadata=self.admin_metadata)

        state_dir = self.data_dir.parent / "devices" / terminal_id
        credentials = await enroll_device(call_admin, state_dir, terminal_id, printer, kind)
        return TerminalClient(device_channel(credentials, self.address), terminal_id, state_dir)
