"""Fixtures for the MFP adapter tests: a simulated MFP on loopback, and snmpsim for interop."""

from __future__ import annotations

import asyncio
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
SHARED_SNMPREC = REPO.parent / "shared" / "interop" / "snmprec"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run one test coroutine on a fresh event loop."""
    return asyncio.run(coro)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _snmpsim_binary() -> str:
    for candidate in (
        Path(sys.executable).with_name("snmpsim-command-responder"),
        REPO / ".venv-snmpsim" / "bin" / "snmpsim-command-responder",
    ):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("snmpsim-command-responder")
    if found is None:
        pytest.fail("snmpsim-command-responder is not installed (pip install snmpsim pysmi)")
    return found


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """snmpsim serving ../shared/interop/snmprec on loopback (skipped when ../shared is absent).

    SNMPv3 user ``simulator`` with SHA/AES keys ``auctoritas``/``privatus``; the context
    (v3) or community (v1/v2c) is the recording's file stem.
    """
    if not SHARED_SNMPREC.is_dir():
        pytest.skip("../shared/interop/snmprec is absent (interop recordings are opt-in)")
    port = _free_udp_port()
    cache = tmp_path_factory.mktemp("snmpsim-cache")
    log = tmp_path_factory.mktemp("snmpsim-log") / "snmpsim.log"
    command = [
        _snmpsim_binary(),
        f"--data-dir={SHARED_SNMPREC}",
        f"--cache-dir={cache}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        "--v3-user=simulator",
        "--v3-auth-key=auctoritas",
        "--v3-auth-proto=SHA",
        "--v3-priv-key=privatus",
        "--v3-priv-proto=AES",
    ]
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for_snmpsim(port, process, log)
        yield "127.0.0.1", port, SHARED_SNMPREC
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_snmpsim(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll sysDescr of one recording until snmpsim answers (it indexes files on start)."""
    from hw_sim.mfp.ber import GET, Message, decode_message, encode_message

    request = encode_message(
        Message(1, b"kyocera", GET, 1, 0, 0, [((1, 3, 6, 1, 2, 1, 1, 1, 0), (0x05, None))])
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
