"""The app under systemd: sd_notify datagrams on a real unix socket, from the objects and from a
``printgate terminal`` process (what ``printgate.service`` of the terminal image runs)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hw_sim.readers import SerialReaderSim
from terminal_app.kiosk.cli import describe as kiosk_describe
from terminal_app.kiosk.state import KioskScreen, KioskState
from terminal_app.session.service import ServiceReport, service_manager, watchdog
from terminal_app.terminal import TerminalState
from terminal_app.terminal.state import Screen
from terminal_app.terminal.wiring import describe
from tests.conftest import free_tcp_port
from tests.terminal_app.identity import install_self_signed_identity

REPO = Path(__file__).resolve().parents[3]


class Manager:
    """The service manager's end: a datagram socket that keeps every message it is sent."""

    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address

    def receive(self, timeout_s: float) -> str | None:
        """The next message, or None after ``timeout_s`` without one."""
        self.sock.settimeout(timeout_s)
        try:
            return self.sock.recv(4096).decode()
        except TimeoutError:
            return None

    def messages(self, quiet_s: float = 0.2) -> list[str]:
        """Every message until none came for ``quiet_s``."""
        found = []
        while (message := self.receive(quiet_s)) is not None:
            found.append(message)
        return found


@pytest.fixture(params=["path", "abstract"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Manager]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        sock.bind(str(tmp_path / "notify"))
        address = str(tmp_path / "notify")
    else:
        name = f"printgate-test-{os.getpid()}-{time.monotonic_ns()}"
        sock.bind("\0" + name)
        address = "@" + name
    with sock:
        yield Manager(sock, address)


def test_ready_once_at_the_first_idle_screen_then_status_on_changes(
    manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", manager.address)
    report = ServiceReport[TerminalState](service_manager(), describe, lambda s: s.screen is Screen.IDLE)
    for state in (
        TerminalState(screen=Screen.STARTING),
        TerminalState(screen=Screen.IDLE),
        TerminalState(screen=Screen.IDLE),  # no change: nothing sent
        TerminalState(screen=Screen.HOME, username="zoë", balance_cents=1000),
        TerminalState(screen=Screen.IDLE),  # idle again: a status, not a second READY
    ):
        report(state)
    assert manager.messages() == [
        "STATUS=screen=starting\n",
        "STATUS=screen=idle\n",
        "READY=1\n",
        "STATUS=screen=home user=zoë balance=1000\n",  # UTF-8, as systemd reads it
        "STATUS=screen=idle\n",
    ]


def test_outside_systemd_nothing_is_sent_and_a_lost_socket_does_not_stop_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    quiet = ServiceReport[TerminalState](service_manager(), describe, lambda s: True)
    quiet(TerminalState(screen=Screen.IDLE))  # no socket: nothing to do, nothing raised
    assert quiet.ready
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    gone = ServiceReport[TerminalState](service_manager(), describe, lambda s: True)
    with caplog.at_level(logging.WARNING):
        gone(TerminalState(screen=Screen.IDLE))
    assert caplog.text.count("sd_notify failed") == 2  # the status and the READY, both lost


async def test_the_loop_feeds_the_watchdog_and_a_blocked_loop_stops_it(
    manager: Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", manager.address)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    beat = asyncio.create_task(watchdog(service_manager()))
    await asyncio.sleep(0.35)
    fed = manager.messages(quiet_s=0.01)
    assert len(fed) >= 3 and set(fed) == {"WATCHDOG=1\n"}
    time.sleep(0.5)  # the loop is frozen (a hung UI): nobody pings
    assert manager.messages(quiet_s=0.01) == []
    beat.cancel()


async def test_no_watchdog_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    await asyncio.wait_for(watchdog(service_manager()), 5)  # returns at once instead of pinging


def test_printgate_terminal_reports_ready_at_idle_and_feeds_the_watchdog(
    tmp_path: Path, manager: Manager
) -> None:
    install_self_signed_identity(tmp_path / "identity", "t1", f"127.0.0.1:{free_tcp_port()}")  # no hub there
    with SerialReaderSim("rdm6300") as reader:
        config = tmp_path / "terminal.toml"
        config.write_text(
            f'[hub]\nstate_dir = "identity"\ndeadline_s = 0.5\n'
            f'[reader]\nurl = "{reader.path}"\n[mfp.fih]\npin_factory = "mock"\ngrace_s = 0.0\n'
        )
        env = {**os.environ, "NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "400000"}
        process = subprocess.Popen(
            [sys.executable, "-m", "printgate_cli", "terminal", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            seen: list[str] = []
            deadline = time.monotonic() + 120
            while "READY=1\n" not in seen or seen.count("WATCHDOG=1\n") < 3:
                assert time.monotonic() < deadline and process.poll() is None, seen
                message = manager.receive(0.5)
                seen += [message] if message else []
            os.kill(process.pid, signal.SIGTERM)
            assert process.wait(30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            assert process.stderr is not None
            process.stderr.close()
    statuses = [m for m in seen[: seen.index("READY=1\n")] if m.startswith("STATUS=")]
    assert statuses[-1].startswith("STATUS=screen=idle")  # ready at the idle screen, not before


def test_a_kiosk_s_status_line_names_screen_user_money_in_flight_and_alarms() -> None:
    assert kiosk_describe(KioskState()) == "screen=starting"
    busy = KioskState(
        screen=KioskScreen.RECHARGING,
        username="alice",
        recharge_total_minor=300,
        pending_minor=200,
        offline=True,
        device_alarms=("coin jam", "unmapped coin"),
    )
    assert kiosk_describe(busy) == "screen=recharging user=alice recharge=300 pending=200 offline alarms=2"
