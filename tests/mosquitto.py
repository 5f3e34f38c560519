"""A private Mosquitto for tests and benchmarks: TLS with the hub CA, client certificates required,
the CN as user name, the fleet ACL and the PKI's CRL — the production set-up of docs/fleet.md on a
free loopback port. Started, reloaded (SIGHUP), killed and stopped by PID.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

from hub_server.clock import Clock
from hub_server.fleet.broker import BrokerFiles, write_broker_files, write_crl
from hub_server.pki import HubPki
from tests.conftest import free_tcp_port

STARTUP_TIMEOUT_S = 20.0


def _raise_open_files() -> None:
    # One descriptor per connection: let the broker use all the hard limit allows.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class MosquittoBroker:
    """One mosquitto process over a generated configuration in ``directory``."""

    def __init__(self, directory: Path, pki: HubPki, clock: Clock, *, persistence: bool = True) -> None:
        self.pki = pki
        self.host = "127.0.0.1"
        self.port = free_tcp_port()
        # As root, mosquitto would drop to its own user and then fail to re-read the 0600 files of
        # a private test directory on reload: keep it root here (production runs it as mosquitto).
        self.files: BrokerFiles = write_broker_files(
            directory,
            pki.material,
            pki.revocation_list_pem(),
            self.host,
            self.port,
            clock.now_us(),
            run_as="root" if os.geteuid() == 0 else None,
            persistence=persistence,
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        self.starts += 1
        log = self.files.log.open("ab")
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.files.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_raise_open_files,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto did not start: {self.log_tail()}") from None
                time.sleep(0.02)

    def log_tail(self) -> str:
        return self.files.log.read_text(errors="replace")[-3000:] if self.files.log.exists() else ""

    def refresh_crl(self) -> None:
        """Write the PKI's current CRL and make the broker read it again (new connections)."""
        write_crl(self.files.crl, self.pki.revocation_list_pem())
        self.reload()

    def reload(self) -> None:
        """SIGHUP: the broker reads its certificates, CRL and ACL again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)
        # mosquitto reloads at the top of its next loop iteration; an idle broker wakes at least
        # every second. Wait until a fresh TLS listener context is in place.
        time.sleep(1.2)

    def kill(self) -> None:
        """SIGKILL: a crash (no retained-message save beyond the last autosave)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM and wait (saves persistence)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def rss_mb(self) -> float:
        """Resident memory of the broker process in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0
