"""Card readers for printgate: serial, keyboard-wedge, PC/SC and NFC drivers, and card-number conversion.

Usage (what the terminal needs)::

    from reader_drivers import open_reader

    reader = open_reader("rdm6300", device="/dev/ttyUSB0", convert="right:8|hex2dec|lpad:10:0")
    await reader.start()                  # returns at once; the device is opened in the background
    async for read in reader.reads():     # or: read = await reader.read(timeout_s=5.0)
        read.card_number                  # "0004340757": what the hub knows
        read.raw, read.raw_hex            # b"K\x00B<\x15", "4B00423C15": as the reader delivered it
        read.technology, read.reader_id   # "em4100", "rdm6300:/dev/ttyUSB0"
        read.monotonic_s                  # time.monotonic() when the frame arrived
    reader.health                         # ReaderHealth: state (ready/reconnecting/...) and counters
    await reader.stop()                   # or: async with open_reader(...) as reader: ...

Drivers (``DRIVERS``): ``rdm6300``, ``id12la``, ``twn4`` (serial port or pyserial URL),
``wedge`` (evdev node, grabbed, or a FIFO of input events), ``pcsc`` (reader name),
``nfc`` (nfcpy path). A missing or vanished device is a health state, never an
exception from ``reads()``: the reader reconnects with backoff. The same card is reported
once while it stays present (``debounce_s``, default 3 s). Conversion chains are text
(``ConversionChain``); bad configuration raises ``ReaderConfigError`` or
``ChainSyntaxError`` from ``open_reader``. See ``reader_drivers.base`` for the contract.
"""

from card_numbers import ConversionChain
from reader_drivers.base import Backoff, CardRead, CardReader, HealthState, ReaderHealth, Technology
from reader_drivers.errors import (
    CardCommandError,
    ChainSyntaxError,
    ConversionError,
    ReaderConfigError,
    ReaderError,
    ReaderUnavailable,
    WiegandParityError,
)
from reader_drivers.factory import DRIVERS, open_reader
from reader_drivers.keyboard_wedge import MagstripeCard, WedgeDecoder, WedgeReader, parse_magstripe
from reader_drivers.nfc_reader import NfcReader
from reader_drivers.pcsc_reader import PcscReader
from reader_drivers.serial_reader import SERIAL_PROFILES, SerialProfile, SerialReader

__all__ = [
    "DRIVERS",
    "SERIAL_PROFILES",
    "Backoff",
    "CardCommandError",
    "CardRead",
    "CardReader",
    "ChainSyntaxError",
    "ConversionChain",
    "ConversionError",
    "HealthState",
    "MagstripeCard",
    "NfcReader",
    "PcscReader",
    "ReaderConfigError",
    "ReaderError",
    "ReaderHealth",
    "ReaderUnavailable",
    "SerialProfile",
    "SerialReader",
    "Technology",
    "WedgeDecoder",
    "WedgeReader",
    "WiegandParityError",
    "open_reader",
    "parse_magstripe",
]
