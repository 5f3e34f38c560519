"""Card readers for printgate: serial, keyboard-wedge, PC/SC and NFC drivers, and card-number conversion.

Start with ``open_reader(driver, url=..., convert=...)``; every reader is a ``CardReader``
(see ``reader_drivers.base`` for the contract).
"""

from reader_drivers.base import Backoff, CardRead, CardReader, HealthState, ReaderHealth, Technology
from reader_drivers.convert import ConversionChain
from reader_drivers.errors import (
    CardCommandError,
    ChainSyntaxError,
    ConversionError,
    FrameError,
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
    "FrameError",
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
