"""The host side of a boot test: a real hub process, its admin CLI, and hw_sim devices.

Everything is spoken to over its real interface: ``printgate hub`` in a child process on two
loopback ports with TLS (device port, mutual TLS; admin and enrollment port), whose certificate
names 10.0.2.2 (how the guest reaches the host) and whose enrollment tokens point the guest
there; ``printgate admin`` for seeding, enrollment tokens and reading the books,
``printgate sim mfp`` for the copier (SNMP over UDP, also through 10.0.2.2), and
hw_sim's RDM6300 simulator on a pty that QEMU turns into the guest's USB serial reader.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import free_tcp_port

STARTUP_TIMEOUT_S = 60.0
GUEST_HOST = "10.0.2.2"  # the host's loopback, seen from a QEMU user-network guest
ALICE_CARD = "0012345678"
COPY_MONO_CENTS = 5


def free_udp_port() -> int:
    """A loopback UDP port that was free a moment ago."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Hub:
    """``printgate hub`` in a child process; stopped by PID."""

    data_dir: Path
    port: int = field(default_factory=free_tcp_port)
    admin_port: int = field(default_factory=free_tcp_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Hub:
        ready = self.data_dir / "ready"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir.parent / "hub.toml"
        config.write_text(
            "[pki]\n"
            f'server_names = ["127.0.0.1", "localhost", "{GUEST_HOST}"]\n'
            f'enroll_addresses = ["{GUEST_HOST}:{self.admin_port}"]\n'
            f'device_addresses = ["{GUEST_HOST}:{self.port}"]\n'
        )
        log = (self.data_dir.parent / "hub.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "printgate_cli",
                "hub",
                "--data-dir",
                str(self.data_dir),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--admin-listen",
                f"127.0.0.1:{self.admin_port}",
                "--config",
                str(config),
                "--ready-file",
                str(ready),
                "--log-level",
                "INFO",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"hub did not start: {(self.data_dir.parent / 'hub.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def admin(self, *words: str, as_json: bool = False) -> Any:
        """Run ``printgate admin`` against this hub; its JSON (``as_json``) or its text."""
        command = [
            sys.executable,
            "-m",
            "printgate_cli",
            "admin",
            "--hub",
            f"127.0.0.1:{self.admin_port}",
            "--data-dir",
            str(self.data_dir),
            *(["--json"] if as_json else []),
            *words,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
        return json.loads(done.stdout) if as_json else done.stdout

    def seed(self) -> str:
        """A copy price, the lab's printer and alice (card, 10.00); returns a one-time enrollment
        token for terminal ``t1`` at that printer."""
        self.admin(
            "price",
            "set",
            "--function",
            "copy",
            "--color",
            "mono",
            "--price-cents-per-page",
            str(COPY_MONO_CENTS),
        )
        self.admin("user", "create", "alice", "--full-name", "Alice Example")
        self.admin("card", "add", "alice", ALICE_CARD)
        self.admin("account", "adjust", "--user", "alice", "--amount-cents", "1000", "--reason", "seed")
        self.admin("printer", "set", "lab-mfp", "--address", "127.0.0.1:9100")
        return str(self.enrollment_token())

    def enrollment_token(self) -> str:
        """A one-time token for terminal ``t1`` at the lab's printer."""
        words = ("enrollment", "create", "--kind", "terminal", "--printer", "lab-mfp", "--terminal-id", "t1")
        return str(self.admin(*words)).strip()

    def balance_cents(self, user: str) -> int:
        accounts = self.admin("account", "list", "--user", user, as_json=True)["accounts"]
        return sum(int(a.get("balanceCents", a.get("balance_cents", 0))) for a in accounts)


@dataclass
class SimulatedMfp:
    """``printgate sim mfp`` (SNMP on a loopback UDP port) driven through its stdin."""

    snmp_port: int = field(default_factory=free_udp_port)
    process: subprocess.Popen[str] | None = None

    def start(self) -> SimulatedMfp:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "printgate_cli",
                "sim",
                "mfp",
                "--snmp-port",
                str(self.snmp_port),
                "--raw-port",
                "0",
                "--lpd-port",
                "0",
                "--ipp-port",
                "0",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        assert f"snmp udp/{self.snmp_port}" in banner, banner
        return self

    def say(self, line: str) -> str:
        assert self.process is not None and self.process.stdin and self.process.stdout
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)
