"""Helpers for testing simulators on their own: raw bytes on their real transports, no drivers."""

from __future__ import annotations

import os
import select
import time


def read_exactly(fd: int, count: int, timeout_s: float = 5.0) -> bytes:
    """``count`` bytes from ``fd``, or fewer if ``timeout_s`` passes first (a hang guard)."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while len(data) < count:
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            break
        readable, _, _ = select.select([fd], [], [], remaining_s)
        if readable:
            data += os.read(fd, count - len(data))
    return data


def read_until(fd: int, terminator: bytes, timeout_s: float = 5.0) -> bytes:
    """Bytes from ``fd`` up to and including ``terminator`` (a hang guard ends it early)."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while not data.endswith(terminator) and time.monotonic() < deadline:
        data += read_exactly(fd, 1, max(0.0, deadline - time.monotonic()))
    return data


def silent_for(fd: int, quiet_s: float = 0.3) -> bool:
    """True if nothing arrives on ``fd`` for ``quiet_s`` (the device said nothing)."""
    readable, _, _ = select.select([fd], [], [], quiet_s)
    return not readable


def open_tty(path: str) -> int:
    """Open a simulator's serial port the way a host would (no controlling terminal)."""
    return os.open(path, os.O_RDWR | os.O_NOCTTY)
