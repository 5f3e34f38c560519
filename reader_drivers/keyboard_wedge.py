"""Keyboard-wedge readers: HID Prox/pcProx-style number readers, barcode scanners, magstripe.

Decoding runs on a stream of input events ``(type, code, value, time_s)``: on hardware
they come from evdev with the device grabbed exclusively (its keystrokes never reach the
UI); any other source of the kernel's ``struct input_event`` records (a FIFO, as the
simulator uses) works the same way.

Bursts. A reader types a whole card number in a few milliseconds; a person does not. A
burst is a run of key presses no more than ``max_gap_s`` apart, ended by Enter. A burst
interrupted by a longer gap, shorter than ``min_length`` or containing an unknown key
is rejected (counted and logged); a lone key pressed by a person is dropped silently.

Characters are decoded from key codes with the reader's configured keymap (``KEYMAPS``),
so the host's keyboard layout does not matter; Alt+keypad decimal codes (MagTek "ALT
ASCII" mode) are decoded too.

Magstripe. A burst starting with ``%`` or ``;`` must be ISO 7813 tracks (``%B…^…^…?``,
``;…=…?``); the card number handed to the conversion chain is the PAN (from track 2,
else track 1). Tracks that disagree or do not parse are rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import stat
import struct
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Unpack

from reader_drivers.base import CardReader, ReaderOptions, Technology, now_s
from reader_drivers.errors import ReaderConfigError, ReaderUnavailable
from reader_drivers.keymaps import ALT_KEYS, ENTER_KEYS, KEYMAPS, KEYPAD_DIGITS, SHIFT_KEYS

__all__ = ["MagstripeCard", "WedgeBurst", "WedgeDecoder", "WedgeReader", "parse_magstripe"]

EV_KEY = 1
KEY_DOWN, KEY_UP = 1, 0
INPUT_EVENT = struct.Struct("llHHi")  # struct input_event: timeval, type, code, value

InputEventTuple = tuple[int, int, int, float]  # type, code, value, time_s


@dataclass(frozen=True)
class WedgeBurst:
    """The text of one reader burst and the event times of its first and last key."""

    text: str
    started_s: float
    ended_s: float


@dataclass(frozen=True)
class MagstripeCard:
    """The tracks of a swiped card and the account number (PAN) they carry."""

    pan: str
    name: str | None
    track1: str | None
    track2: str | None


_TRACK1 = re.compile(r"%B(\d{1,19})\^([^^?]{0,26})\^[^?]*\?")
_TRACK2 = re.compile(r"[;@](\d{1,19})=[^?]*\?")
_TRACKS = re.compile(r"[%;@+!#][^?]*\?")


def parse_magstripe(text: str) -> MagstripeCard:
    """Parse keyboard-wedge magstripe output; raise ``ValueError`` saying what is wrong."""
    tracks = _TRACKS.findall(text)
    if "".join(tracks) != text:
        raise ValueError("magstripe text is not a sequence of sentinel-framed tracks")
    track1 = next((t for t in tracks if _TRACK1.fullmatch(t)), None)
    track2 = next((t for t in tracks if _TRACK2.fullmatch(t)), None)
    match1 = _TRACK1.fullmatch(track1) if track1 else None
    match2 = _TRACK2.fullmatch(track2) if track2 else None
    if match1 and match2 and match1.group(1) != match2.group(1):
        raise ValueError("track 1 and track 2 carry different account numbers")
    if match2:
        return MagstripeCard(match2.group(1), match1.group(2) if match1 else None, track1, track2)
    if match1:
        return MagstripeCard(match1.group(1), match1.group(2), track1, None)
    raise ValueError("no readable track 1 or track 2")


def _ignore(reason: str) -> None:
    pass


class WedgeDecoder:
    """Turns input events into reader bursts (see module docstring); pure, no I/O."""

    def __init__(
        self,
        keymap: str = "us",
        *,
        max_gap_s: float = 0.05,
        min_length: int = 4,
        max_length: int = 512,
        on_reject: Callable[[str], None] = _ignore,
    ) -> None:
        if keymap not in KEYMAPS:
            raise ReaderConfigError(f"unknown keymap {keymap!r}; known: {sorted(KEYMAPS)}")
        self.keymap = KEYMAPS[keymap]
        self.max_gap_s, self.min_length, self.max_length = max_gap_s, min_length, max_length
        self.on_reject = on_reject
        self.rejected = 0
        self._shift: set[int] = set()
        self._alt_digits: str | None = None  # collecting an Alt+keypad code
        self._chars: list[str] = []
        self._problem: str | None = None
        self._first_s = self._last_s = 0.0

    def feed(self, event_type: int, code: int, value: int, at_s: float) -> list[WedgeBurst]:
        """Consume one input event; return the burst it completed, if any."""
        if event_type != EV_KEY or value not in (KEY_DOWN, KEY_UP):
            return []  # EV_SYN, EV_MSC and auto-repeat carry no characters
        if code in SHIFT_KEYS:
            (self._shift.add if value == KEY_DOWN else self._shift.discard)(code)
            return []
        if code in ALT_KEYS:
            self._alt(value, at_s)
            return []
        if value == KEY_UP:
            return []
        if code in ENTER_KEYS:
            return self._end(at_s)
        if self._alt_digits is not None and code in KEYPAD_DIGITS:
            self._alt_digits += KEYPAD_DIGITS[code]
            self._touch(at_s)
            return []
        self._key(code, at_s)
        return []

    def _alt(self, value: int, at_s: float) -> None:
        if value == KEY_DOWN:
            self._alt_digits = ""
            return
        digits, self._alt_digits = self._alt_digits, None
        if digits:
            self._touch(at_s)
            self._append(chr(int(digits)) if int(digits) < 256 else "", f"Alt+{digits} is not a character")

    def _key(self, code: int, at_s: float) -> None:
        self._touch(at_s)
        plain, shifted = self.keymap.get(code, ("", ""))
        self._append(shifted if self._shift else plain, f"key code {code} is not in the keymap")

    def _append(self, char: str, problem: str) -> None:
        if not char:
            self._problem = self._problem or problem
        elif len(self._chars) >= self.max_length:
            self._problem = self._problem or f"burst longer than {self.max_length} characters"
        else:
            self._chars.append(char)

    def _touch(self, at_s: float) -> None:
        """A key arrived at ``at_s``: a gap longer than the window ends the burst so far."""
        if (self._chars or self._problem) and at_s - self._last_s > self.max_gap_s:
            self._drop(f"{(at_s - self._last_s) * 1000:.0f} ms between keys: typed by a person")
        if not self._chars and not self._problem:
            self._first_s = at_s
        self._last_s = at_s

    def _end(self, at_s: float) -> list[WedgeBurst]:
        if not self._chars and not self._problem:
            return []  # a lone Enter
        text = "".join(self._chars)
        if at_s - self._last_s > self.max_gap_s:
            self._drop("Enter came too late: typed by a person")
        elif self._problem or len(text) < self.min_length:
            self._drop(self._problem or f"{len(text)} characters, fewer than {self.min_length}")
        else:
            self._chars = []
            return [WedgeBurst(text, self._first_s, at_s)]
        return []

    def _drop(self, reason: str) -> None:
        if len(self._chars) > 1 or (self._problem and self._chars):
            self.rejected += 1
            self.on_reject(f"burst {''.join(self._chars)[:32]!r} dropped: {reason}")
        self._chars, self._problem = [], None


class WedgeReader(CardReader):
    """A keyboard-wedge reader: an evdev device (grabbed) or a FIFO of ``input_event`` records."""

    def __init__(
        self,
        device_path: str,
        *,
        keymap: str = "us",
        max_gap_s: float = 0.05,
        min_length: int = 4,
        grab: bool = True,
        reader_id: str | None = None,
        **options: Unpack[ReaderOptions],
    ) -> None:
        WedgeDecoder(keymap)  # fail now, not in the background task, on a bad keymap
        self.device_path = device_path
        self.keymap, self.max_gap_s, self.min_length, self.grab = keymap, max_gap_s, min_length, grab
        super().__init__(reader_id or f"wedge:{device_path}", **options)

    async def _session(self) -> None:
        decoder = WedgeDecoder(
            self.keymap, max_gap_s=self.max_gap_s, min_length=self.min_length, on_reject=self._reject
        )
        async with contextlib.aclosing(self._events()) as events:
            self._set_ready()
            async for event_type, code, value, at_s in events:
                for burst in decoder.feed(event_type, code, value, at_s):
                    self._publish_burst(burst)

    def _events(self) -> AsyncGenerator[InputEventTuple, None]:
        try:
            mode = os.stat(self.device_path).st_mode
        except OSError as exc:
            raise ReaderUnavailable(f"cannot open {self.device_path}: {exc}") from exc
        if stat.S_ISCHR(mode):
            return _evdev_events(self.device_path, self.grab)
        if stat.S_ISFIFO(mode):
            return _fifo_events(self.device_path)
        raise ReaderUnavailable(f"{self.device_path} is neither an input device nor a FIFO")

    def _publish_burst(self, burst: WedgeBurst) -> None:
        self._received(len(burst.text))
        text, technology = burst.text, Technology.KEYBOARD
        if text[0] in "%;":
            try:
                text, technology = parse_magstripe(text).pan, Technology.MAGSTRIPE
            except ValueError as exc:
                self._reject(f"magstripe burst: {exc}")
                return
        self._publish(burst.text.encode(), technology, now_s(), text=text)


async def _evdev_events(path: str, grab: bool) -> AsyncGenerator[InputEventTuple, None]:
    import evdev  # only on hardware: the FIFO path needs no evdev

    try:
        device = evdev.InputDevice(path)
        if grab:
            device.grab()  # sole recipient: the keystrokes never reach the UI
    except OSError as exc:
        raise ReaderUnavailable(f"cannot open input device {path}: {exc}") from exc
    try:
        async for event in device.async_read_loop():
            yield event.type, event.code, event.value, event.timestamp()
    finally:
        with contextlib.suppress(OSError):
            device.close()  # closing also releases the grab


async def _fifo_events(path: str) -> AsyncGenerator[InputEventTuple, None]:
    # O_RDWR keeps a writer reference so the FIFO never reports end-of-file between writers
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    pending = b""
    try:
        while True:
            await readable.wait()
            readable.clear()
            with contextlib.suppress(BlockingIOError):
                pending += os.read(fd, 64 * INPUT_EVENT.size)
            usable = len(pending) - len(pending) % INPUT_EVENT.size
            for sec, usec, event_type, code, value in INPUT_EVENT.iter_unpack(pending[:usable]):
                yield event_type, code, value, sec + usec / 1e6
            pending = pending[usable:]
    finally:
        loop.remove_reader(fd)
        os.close(fd)
