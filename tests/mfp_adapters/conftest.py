"""Fixtures for the MFP adapter tests: a simulated MFP on loopback, and snmpsim for interop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# The recordings live beside the checkout (../shared); PRINTGATE_SNMPREC_DIR points elsewhere.
SHARED_SNMPREC = Path(
    os.environ.get("PRINTGATE_SNMPREC_DIR") or REPO.parent / "shared" / "interop" / "snmprec"
)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run one test coroutine on a fresh event loop."""
    return asyncio.run(coro)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _snmpsim_binary() -> str:
    beside_python = Path(sys.executable).with_name("snmpsim-command-responder")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("snmpsim-command-responder")
    if found is None:
        pytest.fail("snmpsim-command-responder is not installed (pip install snmpsim pysmi)")
    return found


V3_USER, V3_AUTH_KEY, V3_PRIV_KEY = "simulator", "auctoritas", "privatus"


@contextlib.contextmanager
def _snmpsim(data_dir: Path, work: Path, community: str) -> Iterator[int]:
    """Run snmpsim on loopback over ``data_dir``; yields its UDP port; stops it by PID.

    SNMPv3 user ``simulator`` with SHA/AES keys ``auctoritas``/``privatus``; the context
    (v3) or community (v1/v2c) is the recording's file stem.
    """
    port = _free_udp_port()
    log = work / "snmpsim.log"
    command = [
        _snmpsim_binary(),
        f"--data-dir={data_dir}",
        f"--cache-dir={work / 'cache'}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        f"--v3-user={V3_USER}",
        f"--v3-auth-key={V3_AUTH_KEY}",
        "--v3-auth-proto=SHA",
        f"--v3-priv-key={V3_PRIV_KEY}",
        "--v3-priv-proto=AES",
    ]
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for_snmpsim(port, process, log, community)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """snmpsim serving ../shared/interop/snmprec (skipped when ../shared is absent)."""
    if not SHARED_SNMPREC.is_dir():
        pytest.skip("../shared/interop/snmprec is absent (interop recordings are opt-in)")
    with _snmpsim(SHARED_SNMPREC, tmp_path_factory.mktemp("snmpsim"), "kyocera") as port:
        yield "127.0.0.1", port, SHARED_SNMPREC


def snmprec_line(oid: tuple[int, ...], tag: int, payload: Any) -> str:
    """One snmpsim ``.snmprec`` line for a value of the simulator's MIB."""
    dotted = ".".join(map(str, oid))
    if tag in (0x04, 0x40):
        return f"{dotted}|{tag if tag == 4 else 64}x|{payload.hex()}"
    if tag == 0x06:
        return f"{dotted}|6|{'.'.join(map(str, payload))}"
    return f"{dotted}|{tag}|{payload}"


@pytest.fixture(scope="session")
def snmpsim_of_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, int]]]:
    """snmpsim serving a recording of our simulated Kyocera (context/community ``simkyocera``).

    An agent that is not ours, for the SNMPv3 authPriv tests; yields the port and the
    counters the recording holds.
    """
    from hw_sim.mfp import SimulatedMfp

    device = SimulatedMfp("kyocera")
    device.copy(7, color=True)
    device.print_pages(11)
    order, values = device.mib()
    data_dir = tmp_path_factory.mktemp("simrec")
    lines = [snmprec_line(oid, *values[oid]) for oid in order]
    (data_dir / "simkyocera.snmprec").write_text("\n".join(lines) + "\n")
    with _snmpsim(data_dir, tmp_path_factory.mktemp("snmpsim-sim"), "simkyocera") as port:
        yield port, device.counts()


def _wait_for_snmpsim(port: int, process: subprocess.Popen[bytes], log: Path, community: str) -> None:
    """Poll sysDescr of one recording until snmpsim answers (it indexes files on start)."""
    from hw_sim.mfp.ber import GET, Message, decode_message, encode_message

    request = encode_message(
        Message(1, community.encode(), GET, 1, 0, 0, [((1, 3, 6, 1, 2, 1, 1, 1, 0), (0x05, None))])
    )
    deadline = time.monotonic() + 60
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"snmpsim exited: {log.read_text()[-2000:]}")
            sock.sendto(request, ("127.0.0.1", port))
            try:
                decode_message(sock.recv(65535))
                return
            except OSError:
                continue
    pytest.fail(f"snmpsim did not answer within 60 s: {log.read_text()[-2000:]}")
