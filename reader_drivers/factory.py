"""``open_reader``: build a reader from configuration-file style arguments.

========  ==========================================  ==================================
driver    ``url`` / ``device``                         options
========  ==========================================  ==================================
rdm6300   serial port path or pyserial URL             ``read_timeout_s``
id12la    (same)                                       (same)
twn4      (same)                                       (same)
wedge     evdev node (grabbed) or input-event FIFO     ``keymap`` (us, de), ``max_gap_s``,
                                                       ``min_length``, ``grab``
pcsc      reader name substring (none: first reader)   ``poll_timeout_s``
nfc       nfcpy path: usb, usb:054c:06c1,              ``poll_interval_s``
          tty:USB0:pn532, udp:host:port
========  ==========================================  ==================================

Every driver also takes ``convert`` (a chain, see ``card_numbers``),
``debounce_s`` (default 3.0), ``reader_id`` and ``backoff``. The driver classes are plain
imports; each imports its hardware library (pyscard, nfcpy, evdev) only when it opens a device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reader_drivers.base import CardReader
from reader_drivers.errors import ReaderConfigError
from reader_drivers.keyboard_wedge import WedgeReader
from reader_drivers.nfc_reader import NfcReader
from reader_drivers.pcsc_reader import PcscReader
from reader_drivers.serial_reader import SerialReader

__all__ = ["DRIVERS", "DriverSpec", "open_reader"]


@dataclass(frozen=True)
class DriverSpec:
    """A driver's class and how its constructor is called."""

    reader_class: type[CardReader]
    location_required: bool
    profile_argument: bool = False  # the serial class takes the driver name as its profile


DRIVERS: dict[str, DriverSpec] = {
    "rdm6300": DriverSpec(SerialReader, True, True),
    "id12la": DriverSpec(SerialReader, True, True),
    "twn4": DriverSpec(SerialReader, True, True),
    "wedge": DriverSpec(WedgeReader, True),
    "pcsc": DriverSpec(PcscReader, False),
    "nfc": DriverSpec(NfcReader, False),
}


def open_reader(
    driver: str,
    *,
    url: str | None = None,
    device: str | None = None,
    convert: str | None = None,
    debounce_s: float = 3.0,
    **options: Any,
) -> CardReader:
    """Build (not start) the reader ``driver`` at ``url`` or ``device``.

    Raises ``ReaderConfigError`` for an unknown driver, a missing or doubled location or
    a bad option, and ``ChainSyntaxError`` for a bad ``convert`` chain.
    """
    if driver not in DRIVERS:
        raise ReaderConfigError(f"unknown reader driver {driver!r}; choose from {', '.join(DRIVERS)}")
    if url is not None and device is not None:
        raise ReaderConfigError("give a url or a device, not both")
    spec = DRIVERS[driver]
    location = url if url is not None else device
    if spec.location_required and not location:
        raise ReaderConfigError(f"the {driver} driver needs a url or a device")
    arguments: list[Any] = [driver] if spec.profile_argument else []
    if location is not None:
        arguments.append(location)
    try:
        reader: CardReader = spec.reader_class(*arguments, convert=convert, debounce_s=debounce_s, **options)
    except TypeError as exc:
        raise ReaderConfigError(f"{driver}: {exc}") from exc
    return reader
