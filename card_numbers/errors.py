"""The one exception tree of ``card_numbers``.

::

    ConversionError(ValueError)     a card number a conversion chain cannot convert
    ├── ChainSyntaxError            a chain text that does not parse ("hex2dec|lpad:x")
    └── WiegandParityError          a Wiegand frame whose parity bits are wrong

``reader_drivers`` re-exports these names: a reader's conversion failure and the hub's (a
directory badge the chain refuses) are the same error.
"""

from __future__ import annotations

__all__ = ["ChainSyntaxError", "ConversionError", "WiegandParityError"]


class ConversionError(ValueError):
    """A card number cannot be converted by a step of a conversion chain."""


class ChainSyntaxError(ConversionError):
    """A conversion chain written as text is malformed (unknown step, bad argument)."""


class WiegandParityError(ConversionError):
    """A Wiegand frame's parity bits do not match its data bits."""
