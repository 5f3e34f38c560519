"""Serial card readers (pyserial): RDM6300, ID-12LA/ID-20LA and Elatec TWN4 simple protocol.

Device differences are data (``SERIAL_PROFILES``): line speed, frame parser, and for
the TWN4 the poll command written every ``poll_interval_s``. The port may be a device
path (``/dev/ttyUSB0``) or any pyserial URL (``loop://``, ``socket://host:port``).

A thread per open port does the blocking reads and hands each chunk, stamped with the
monotonic time it arrived, to the event loop; the thread ends within ``read_timeout_s``
of the session ending, and an I/O error ends the session (the base class reconnects).
A failing TWN4 poll write is not fatal by itself: the read side sees the same failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any, Unpack

import serial

from reader_drivers._thread_feed import ThreadFeed
from reader_drivers.base import CardReader, ReaderOptions, now_s
from reader_drivers.errors import ReaderUnavailable
from reader_drivers.serial_frames import TWN4_SEARCH_TAG, ParsedCard, StxEtxParser, Twn4Parser

__all__ = ["SERIAL_PROFILES", "SerialProfile", "SerialReader"]

FrameParser = StxEtxParser | Twn4Parser


@dataclass(frozen=True)
class SerialProfile:
    """How one family of serial reader talks."""

    name: str
    baudrate: int
    parser: Callable[[Callable[[str], None], Callable[[int], None]], FrameParser]
    poll: bytes | None = None
    poll_interval_s: float = 0.1


SERIAL_PROFILES: dict[str, SerialProfile] = {
    "rdm6300": SerialProfile("rdm6300", 9600, StxEtxParser),
    "id12la": SerialProfile("id12la", 9600, StxEtxParser),
    "twn4": SerialProfile("twn4", 115200, Twn4Parser, poll=TWN4_SEARCH_TAG),
}

_Chunk = tuple[bytes, float]


class SerialReader(CardReader):
    """A card reader on a serial line; see ``SERIAL_PROFILES`` for the families."""

    def __init__(
        self,
        profile: SerialProfile | str,
        port_url: str,
        *,
        reader_id: str | None = None,
        read_timeout_s: float = 0.05,
        **options: Unpack[ReaderOptions],
    ) -> None:
        self.profile = SERIAL_PROFILES[profile] if isinstance(profile, str) else profile
        self.port_url = port_url
        self.read_timeout_s = read_timeout_s
        super().__init__(reader_id or f"{self.profile.name}:{port_url}", **options)

    def _open(self) -> serial.Serial:
        try:
            port: serial.Serial = serial.serial_for_url(
                self.port_url,
                baudrate=self.profile.baudrate,
                timeout=self.read_timeout_s,
                write_timeout=1.0,
                exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderUnavailable(f"cannot open {self.port_url}: {exc}") from exc
        return port

    async def _session(self) -> None:
        port = await asyncio.to_thread(self._open)
        parser = self.profile.parser(self._reject, self._discard)
        try:
            async with (
                ThreadFeed[_Chunk](partial(_pump, port), f"pump-{self.reader_id}") as chunks,
                _polling(self._poll(port) if self.profile.poll else None),
            ):
                self._set_ready()
                while True:
                    data, at_s = await chunks.get()
                    self._received(len(data))
                    for result in parser.feed(data):
                        self._handle(result, at_s)
        except (serial.SerialException, OSError) as exc:
            raise ReaderUnavailable(f"{self.port_url}: {exc}") from exc
        finally:
            parser.finish()
            port.close()

    def _handle(self, result: ParsedCard | None, at_s: float) -> None:
        if result is None:
            self._card_removed()
        else:
            self._publish(result.raw, result.technology, at_s)

    async def _poll(self, port: serial.Serial) -> None:
        assert self.profile.poll is not None
        while True:
            try:
                await asyncio.to_thread(port.write, self.profile.poll)
            except (serial.SerialException, OSError) as exc:
                raise ReaderUnavailable(f"{self.port_url}: poll failed: {exc}") from exc
            await asyncio.sleep(self.profile.poll_interval_s)


def _pump(port: serial.Serial, emit: Callable[[_Chunk], None], stop: threading.Event) -> None:
    """Blocking reads (at most ``port.timeout`` each); every chunk is stamped when it arrived."""
    while not stop.is_set():
        data = port.read(1)  # blocks up to the timeout for the first byte
        if data:
            emit((data + port.read(port.in_waiting), now_s()))  # and the rest of the frame at once


@contextlib.asynccontextmanager
async def _polling(poll: Coroutine[Any, Any, None] | None) -> AsyncIterator[None]:
    """Run the poll loop (if any) beside the session; a failing poll ends the session."""
    if poll is None:
        yield
        return
    task = asyncio.get_running_loop().create_task(poll)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ReaderUnavailable):
            await task
