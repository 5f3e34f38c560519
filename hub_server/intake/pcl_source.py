"""A bounded, forward-only byte source for the PCL counters, and the reason a job is not counted.

The counters read a print job once, front to back, through :class:`ByteSource`: a window of
at most ``window_bytes`` over any binary stream (a spool file, a pipe), so a 2 GB job costs
the same memory as a 2 kB one. Nothing here trusts a length field: every ``read`` and
``skip`` is checked against what the stream really holds.
"""

from __future__ import annotations

import re
from typing import BinaryIO

__all__ = ["ByteSource", "NotCountable"]

_READ_BYTES = 256 * 1024


class NotCountable(Exception):
    """The job cannot be counted exactly; ``reason`` says why, ``offset`` where."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class ByteSource:
    """Forward-only reads over a binary stream through a bounded window."""

    def __init__(self, stream: BinaryIO, window_bytes: int = 4 * 1024 * 1024) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._position = 0  # index of the next unread byte in _buffer
        self._base = 0  # stream offset of _buffer[0]
        self._window_bytes = max(window_bytes, 2 * _READ_BYTES)
        self._exhausted = False

    @property
    def offset(self) -> int:
        """Stream offset of the next unread byte."""
        return self._base + self._position

    def _fill(self, wanted: int) -> bool:
        """Make ``wanted`` unread bytes available if the stream has them."""
        while len(self._buffer) - self._position < wanted and not self._exhausted:
            if self._position > _READ_BYTES:
                del self._buffer[: self._position]
                self._base += self._position
                self._position = 0
            chunk = self._stream.read(max(_READ_BYTES, wanted - (len(self._buffer) - self._position)))
            if not chunk:
                self._exhausted = True
            else:
                self._buffer.extend(chunk)
        return len(self._buffer) - self._position >= wanted

    def at_end(self) -> bool:
        """True when every byte has been consumed."""
        return not self._fill(1)

    def peek(self, count: int) -> bytes:
        """Up to ``count`` unread bytes, not consumed (fewer only at the end of the stream)."""
        if count > self._window_bytes:
            raise NotCountable(f"look-ahead of {count} bytes is over the window", self.offset)
        self._fill(count)
        return bytes(self._buffer[self._position : self._position + count])

    def byte(self) -> int:
        """Consume one byte; ``NotCountable`` at the end of the stream."""
        if not self._fill(1):
            raise NotCountable("the job ends in the middle of a command", self.offset)
        value = self._buffer[self._position]
        self._position += 1
        return value

    def read(self, count: int) -> bytes:
        """Consume exactly ``count`` bytes (at most the window); ``NotCountable`` if cut short."""
        if count > self._window_bytes:
            raise NotCountable(f"a {count}-byte field is over the window", self.offset)
        if not self._fill(count):
            raise NotCountable(f"the job ends inside a {count}-byte field", self.offset)
        data = bytes(self._buffer[self._position : self._position + count])
        self._position += count
        return data

    def skip(self, count: int) -> None:
        """Consume ``count`` bytes without keeping them; ``NotCountable`` if cut short."""
        remaining = count
        while remaining:
            if not self._fill(1):
                raise NotCountable(f"the job ends {remaining} bytes into a {count}-byte field", self.offset)
            step = min(remaining, len(self._buffer) - self._position)
            self._position += step
            remaining -= step

    def take_until(self, pattern: re.Pattern[bytes], limit: int) -> tuple[bytes, bool]:
        """Consume bytes up to (not including) the first match of ``pattern``.

        Returns the bytes and whether a match was found; stops after ``limit`` bytes or at
        the end of the stream without a match. ``pattern`` must match single bytes.
        """
        taken = bytearray()
        while len(taken) < limit:
            if not self._fill(1):
                return bytes(taken), False
            end = min(len(self._buffer), self._position + (limit - len(taken)))
            found = pattern.search(self._buffer, self._position, end)
            stop = found.start() if found else end
            taken += self._buffer[self._position : stop]
            self._position = stop
            if found:
                return bytes(taken), True
        return bytes(taken), False

    def starts_with(self, prefix: bytes) -> bool:
        """True when the unread bytes begin with ``prefix`` (nothing consumed)."""
        return self.peek(len(prefix)) == prefix
