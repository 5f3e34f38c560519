"""Fixtures and helpers for the reader driver tests: simulators over real transports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hw_sim.readers import SerialReaderSim
from reader_drivers.base import CardReader, HealthState

T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
    """Run one async test scenario with a generous overall timeout (not a timed assertion)."""
    return asyncio.run(asyncio.wait_for(scenario, timeout_s))


async def until(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Wait until ``predicate()`` holds; fail the test if it never does."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.01)


async def ready(reader: CardReader, reconnects: int = 0) -> None:
    """Wait until the reader has (re)opened its device."""
    await until(lambda: reader.health.state == HealthState.READY and reader.health.reconnects >= reconnects)


async def no_more_reads(reader: CardReader, settle: Awaitable[None] | None = None) -> None:
    """Assert nothing else is queued once the reader had time to process what was sent."""
    if settle is not None:
        await settle
    with pytest.raises(TimeoutError):
        await reader.read(timeout_s=0.3)


@pytest.fixture
def serial_sim(tmp_path: Path) -> Iterator[Callable[..., SerialReaderSim]]:
    """Factory for started serial simulators on ptys; all are closed at teardown."""
    started: list[SerialReaderSim] = []

    def make(protocol: str, **options: Any) -> SerialReaderSim:
        sim = SerialReaderSim(protocol, str(tmp_path / f"tty-{protocol}-{len(started)}"), **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.close()


# --- pcscd with vsmartcard's vpcd, started and stopped by PID ----------------------------

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")


def _port_pair_free() -> int:
    """A port p with p and p + 1 free on loopback (vpcd opens two slots)."""
    import socket

    from tests.conftest import free_tcp_port

    for _ in range(50):
        port = free_tcp_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free TCP ports")


class Pcscd:
    """A private pcscd whose only reader is vpcd on an ephemeral port."""

    def __init__(self, work_dir: Path) -> None:
        self.vpcd_port = _port_pair_free()
        self.config_dir = work_dir / "reader.conf.d"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:{self.vpcd_port:#06x}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    {self.vpcd_port:#06x}\n"
        )
        self.log_path = work_dir / "pcscd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import shutil

        binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(binary).exists() or not VPCD_DRIVER.exists():
            pytest.fail("pcscd and vsmartcard-vpcd must be installed (scripts/setup.sh)")
        _refuse_foreign_pcscd()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "--foreground", "--config", str(self.config_dir)], stdout=log, stderr=log
            )
        self._wait_for_reader()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def _wait_for_reader(self, timeout_s: float = 20.0) -> None:
        from smartcard.Exceptions import CardConnectionException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException
        from smartcard.System import readers

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(
                    f"pcscd exited with {self.process.returncode}: {self.log_path.read_text()[-2000:]}"
                )
            with contextlib.suppress(BaseSCardException, CardConnectionException):
                if any("Virtual PCD" in str(r) for r in readers()):
                    return
            time.sleep(0.1)
        pytest.fail(f"pcscd did not list the vpcd reader: {self.log_path.read_text()[-2000:]}")


def _refuse_foreign_pcscd() -> None:
    """pcscd's socket path is fixed: a second daemon cannot run beside a foreign one."""
    pid_file = Path("/run/pcscd/pcscd.pid")
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        pytest.fail(f"a pcscd (pid {pid}) is already running; the PC/SC tests start their own")


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """pcscd in the foreground with vpcd on an ephemeral port; killed by PID at the end."""
    daemon = Pcscd(tmp_path_factory.mktemp("pcscd"))
    daemon.start()
    yield daemon
    daemon.stop()
