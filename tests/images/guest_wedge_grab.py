"""Runs *inside* the booted image (copied there by test_boot.py): the keyboard-wedge grab.

A uinput keyboard stands in for a keyboard-wedge card reader. First, with nobody grabbing it,
its keystrokes reach the console (tty1): this proves the check below can see them. Then
printgate's wedge driver (reader_drivers, ``grab=True``) opens it: the card number arrives at
the driver and nothing reaches the console. Prints one JSON line with what each side saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import termios
import time
import tty

from evdev import UInput
from evdev import ecodes as e

from reader_drivers import open_reader

CARD = "0012345678"
CONSOLE = "/dev/tty1"
KEYS = {str(d): getattr(e, f"KEY_{d}") for d in range(10)}


def type_text(keyboard: UInput, text: str) -> None:
    for char in text:
        code = e.KEY_ENTER if char == "\n" else KEYS[char]
        keyboard.write(e.EV_KEY, code, 1)
        keyboard.syn()
        keyboard.write(e.EV_KEY, code, 0)
        keyboard.syn()
        time.sleep(0.005)


def drain(fd: int, quiet_s: float) -> str:
    """Everything the console receives until it has been quiet for ``quiet_s``."""
    seen = b""
    while select.select([fd], [], [], quiet_s)[0]:
        seen += os.read(fd, 4096)
    return seen.decode(errors="replace")


async def through_driver(keyboard: UInput, console: int) -> tuple[str, str]:
    reader = open_reader("wedge", url=str(keyboard.device.path))
    async with reader:
        await asyncio.sleep(1.0)  # the driver has opened and grabbed the device
        type_text(keyboard, CARD + "\n")
        read = await asyncio.wait_for(anext(reader.reads()), 30)
    return read.card_number, drain(console, 2.0)


def main() -> None:
    console = os.open(CONSOLE, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    saved = termios.tcgetattr(console)
    tty.setraw(console)
    try:
        drain(console, 0.5)
        with UInput(name="printgate-test-wedge") as keyboard:
            time.sleep(1.0)  # udev makes the event node
            type_text(keyboard, "4711\n")
            ungrabbed = drain(console, 2.0)
            card, grabbed = asyncio.run(through_driver(keyboard, console))
    finally:
        termios.tcsetattr(console, termios.TCSANOW, saved)
        os.close(console)
    print(json.dumps({"console_without_grab": ungrabbed, "driver_card": card, "console_with_grab": grabbed}))


if __name__ == "__main__":
    main()
