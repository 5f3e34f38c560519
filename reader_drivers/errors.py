"""The one exception tree of ``reader_drivers``.

::

    ReaderError                         base of everything raised here
    ├── ReaderConfigError(ValueError)   open_reader() arguments that do not describe a reader
    ├── CardCommandError                a card answered an APDU with an error status word
    └── ReaderUnavailable(ConnectionError)  the device is absent, unplugged or its service is down

Card-number conversion has its own tree in ``card_numbers`` (shared with the hub), re-exported
here: ``ConversionError(ValueError)``, ``ChainSyntaxError`` (a chain text that does not parse)
and ``WiegandParityError``. ``open_reader`` raises ``ChainSyntaxError`` for a bad ``convert``.

A driver never lets a device problem escape as a foreign exception: pyserial, pyscard,
nfcpy and evdev errors are translated to ``ReaderUnavailable`` (and retried with backoff
inside the reader) at the boundary. Malformed frames are not exceptions at all: a reader
drops them, counts them in ``health.frames_rejected`` and logs why.
"""

from __future__ import annotations

from card_numbers.errors import ChainSyntaxError, ConversionError, WiegandParityError

__all__ = [
    "CardCommandError",
    "ChainSyntaxError",
    "ConversionError",
    "ReaderConfigError",
    "ReaderError",
    "ReaderUnavailable",
    "WiegandParityError",
]


class ReaderError(Exception):
    """Base class of every error raised by ``reader_drivers``."""


class ReaderConfigError(ReaderError, ValueError):
    """Reader configuration (driver name, device, options) that cannot work."""


class CardCommandError(ReaderError):
    """A card or reader answered an APDU with a status word other than ``90 00``.

    ``sw1``/``sw2`` hold the status word; the message explains it.
    """

    def __init__(self, message: str, sw1: int, sw2: int) -> None:
        super().__init__(message)
        self.sw1 = sw1
        self.sw2 = sw2


class ReaderUnavailable(ReaderError, ConnectionError):
    """The reader cannot be reached: missing device, unplugged port, service down."""
