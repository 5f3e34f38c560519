"""A simulated keyboard-wedge reader: it "types" as Linux input events into a FIFO.

No ``/dev/uinput`` exists in CI, so the simulator writes the kernel's own record format,
``struct input_event`` (timeval seconds, microseconds, u16 type, u16 code, s32 value), to
a FIFO the driver reads like an event device. Facts from ../shared/reference/readers.md
§1.7-1.8: a key press is ``EV_KEY code 1`` then ``EV_KEY code 0``, each followed by
``EV_SYN``, optionally preceded by ``EV_MSC MSC_SCAN``; Shift wraps shifted characters; in
"ALT ASCII" mode every character is Alt held + its decimal code on the keypad.

The layout is the one the reader is configured to type for (``us`` or ``de``). Event
timestamps advance by the per-key delay, so a "person" typing slowly can be simulated
without waiting.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import time
from collections.abc import Sequence

from hw_sim.readers.history import SimEvent

__all__ = ["LAYOUTS", "WedgeSim", "keystrokes"]

EV_SYN, EV_KEY, EV_MSC, MSC_SCAN = 0, 1, 4, 4
LEFT_SHIFT, LEFT_ALT, ENTER = 42, 56, 28
_KEYPAD = {"0": 82, "1": 79, "2": 80, "3": 81, "4": 75, "5": 76, "6": 77, "7": 71, "8": 72, "9": 73}
_EVENT = struct.Struct("llHHi")


def _layout(rows: Sequence[tuple[int, str, str]]) -> dict[str, tuple[int, bool]]:
    """Character -> (key code, shift) from rows of (first key code, plain keys, shifted keys)."""
    table: dict[str, tuple[int, bool]] = {"\n": (ENTER, False), " ": (57, False)}
    for first_code, plain, shifted in rows:
        for offset, (p, s) in enumerate(zip(plain, shifted, strict=True)):
            table.setdefault(p, (first_code + offset, False))
            table.setdefault(s, (first_code + offset, True))
    return table


LAYOUTS: dict[str, dict[str, tuple[int, bool]]] = {
    "us": _layout([
        (2, "1234567890-=", "!@#$%^&*()_+"), (16, "qwertyuiop[]", "QWERTYUIOP{}"),
        (30, "asdfghjkl;'`", 'ASDFGHJKL:"~'), (43, "\\zxcvbnm,./", "|ZXCVBNM<>?"),
    ]),
    "de": _layout([
        (2, "1234567890ß", '!"§$%&/()=?'), (16, "qwertzuiopü+", "QWERTZUIOPÜ*"),
        (30, "asdfghjklöä^", "ASDFGHJKLÖÄ°"), (43, "#yxcvbnm,.-", "'YXCVBNM;:_"), (86, "<", ">"),
    ]),
}  # fmt: skip


def keystrokes(text: str, layout: str = "us", *, alt_codes: bool = False) -> list[tuple[int, int]]:
    """The ``(key code, value)`` pairs a reader sends to type ``text`` (1 = down, 0 = up)."""
    table = LAYOUTS[layout]
    pairs: list[tuple[int, int]] = []
    for char in text:
        if alt_codes and char != "\n":
            digits = [_KEYPAD[d] for d in f"{ord(char):03d}"]
            pairs += [(LEFT_ALT, 1), *[(c, v) for c in digits for v in (1, 0)], (LEFT_ALT, 0)]
            continue
        if char not in table:
            raise ValueError(f"layout {layout!r} cannot type {char!r}")
        code, shift = table[char]
        press = [(code, 1), (code, 0)]
        pairs += [(LEFT_SHIFT, 1), *press, (LEFT_SHIFT, 0)] if shift else press
    return pairs


class WedgeSim:
    """A keyboard-wedge reader typing into a FIFO at ``path``; keeps a ``history``."""

    def __init__(
        self,
        path: str | None = None,
        *,
        layout: str = "us",
        key_delay_s: float = 0.004,
        alt_codes: bool = False,
        scan_codes: bool = False,
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; choose from {sorted(LAYOUTS)}")
        self.path = path or os.path.join(tempfile.mkdtemp(prefix="pg-wedge-"), "events")
        self.layout, self.key_delay_s = layout, key_delay_s
        self.alt_codes, self.scan_codes = alt_codes, scan_codes
        self.history: list[SimEvent] = []
        self._fd: int | None = None
        self._clock_s = 0.0  # timestamp of the last event written

    def start(self) -> WedgeSim:
        """Create the FIFO; returns self."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.mkfifo(self.path)
        self._fd = os.open(self.path, os.O_RDWR)  # read-write: opening never blocks
        return self

    def close(self) -> None:
        """Remove the FIFO."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> WedgeSim:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- domain verbs -----------------------------------------------------------------

    def tap(self, card: str) -> None:
        """A card is read: its number is typed, then Enter."""
        self._record("tap", card)
        self.type_text(card + "\n")

    def swipe(self, track1: str = "", track2: str = "") -> None:
        """A magnetic card is swiped: its tracks (with sentinels) are typed, then Enter."""
        self._record("swipe", track1 + track2)
        self.type_text(track1 + track2 + "\n")

    def person_types(self, text: str, key_delay_s: float = 0.25) -> None:
        """Someone types on the reader's keyboard emulation, slowly as people do."""
        self._record("person", text)
        self.type_text(text, key_delay_s)

    def type_text(self, text: str, key_delay_s: float | Sequence[float] | None = None) -> None:
        """Type ``text``; ``key_delay_s`` is one delay or one per key press (default: the sim's)."""
        pairs = keystrokes(text, self.layout, alt_codes=self.alt_codes)
        presses = sum(1 for _, value in pairs if value == 1)
        delay = self.key_delay_s if key_delay_s is None else key_delay_s
        delays = [delay] * presses if isinstance(delay, int | float) else list(delay)
        if len(delays) != presses:
            raise ValueError(f"{presses} key presses need {presses} delays, got {len(delays)}")
        self._write(self._events(pairs, delays))

    def write_events(self, events: Sequence[tuple[int, int, int]]) -> None:
        """Write raw ``(type, code, value)`` events (for hostile-input tests)."""
        self._record("raw", f"{len(events)} events")
        self._write(b"".join(self._pack(*event) for event in events))

    # --- internals --------------------------------------------------------------------

    def _events(self, pairs: list[tuple[int, int]], delays: list[float]) -> bytes:
        out = bytearray()
        self._clock_s = max(self._clock_s, time.time())
        pending = iter(delays)
        for code, value in pairs:
            if value == 1:
                self._clock_s += next(pending)
            if self.scan_codes:
                out += self._pack(EV_MSC, MSC_SCAN, 0x70000 + code)
            out += self._pack(EV_KEY, code, value) + self._pack(EV_SYN, 0, 0)
        return bytes(out)

    def _pack(self, event_type: int, code: int, value: int) -> bytes:
        seconds = int(self._clock_s)
        return _EVENT.pack(seconds, int((self._clock_s - seconds) * 1e6), event_type, code, value)

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise ConnectionError("the simulated wedge reader is not started")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def _record(self, action: str, detail: str = "") -> None:
        self.history.append(SimEvent(time.monotonic(), action, detail))
