"""The one exception tree of ``reader_drivers``.

::

    ReaderError                         base of everything raised here
    ├── ConversionError(ValueError)     a card number a conversion chain cannot convert
    │   ├── ChainSyntaxError            a chain text that does not parse ("hex2dec|lpad:x")
    │   └── WiegandParityError          a Wiegand frame whose parity bits are wrong
    ├── ReaderConfigError(ValueError)   open_reader() arguments that do not describe a reader
    ├── CardCommandError                a card answered an APDU with an error status word
    └── ReaderUnavailable(ConnectionError)  the device is absent, unplugged or its service is down

A driver never lets a device problem escape as a foreign exception: pyserial, pyscard,
nfcpy and evdev errors are translated to ``ReaderUnavailable`` (and retried with backoff
inside the reader) at the boundary. Malformed frames are not exceptions at all: a reader
drops them, counts them in ``health.frames_rejected`` and logs why.
"""

from __future__ import annotations

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


class ConversionError(ReaderError, ValueError):
    """A card number cannot be converted by a step of a conversion chain."""


class ChainSyntaxError(ConversionError):
    """A conversion chain written as text is malformed (unknown step, bad argument)."""


class WiegandParityError(ConversionError):
    """A Wiegand frame's parity bits do not match its data bits."""


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
