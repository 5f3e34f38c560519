"""Card readers for printgate: serial, keyboard-wedge, PC/SC and NFC drivers, and card-number conversion."""

from reader_drivers.convert import ConversionChain
from reader_drivers.errors import (
    CardCommandError,
    ChainSyntaxError,
    ConversionError,
    FrameError,
    ReaderError,
    ReaderUnavailable,
    WiegandParityError,
)

__all__ = [
    "CardCommandError",
    "ChainSyntaxError",
    "ConversionChain",
    "ConversionError",
    "FrameError",
    "ReaderError",
    "ReaderUnavailable",
    "WiegandParityError",
]
