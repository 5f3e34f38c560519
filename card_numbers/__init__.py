"""Card-number conversion: the chains that turn what a badge carries into what the hub knows.

One home for the conversion shared by the card readers (``reader_drivers``: the number a reader
sends) and the hub (``hub_server.dirsync``: a badge number stored in the directory), so a
badge kept as decimal in Active Directory matches the hex a reader sends for it::

    from card_numbers import ConversionChain

    ConversionChain.parse("dec2hex|lpad:8:0")("3000000003")   # "B2D05E03"

This package imports nothing else of printgate (and nothing outside the standard library).
"""

from card_numbers.convert import MAX_CHARS, ConversionChain
from card_numbers.errors import ChainSyntaxError, ConversionError, WiegandParityError
from card_numbers.wiegand import WIEGAND_FORMATS, WiegandCard, WiegandFormat, decode_wiegand, encode_wiegand

__all__ = [
    "MAX_CHARS",
    "WIEGAND_FORMATS",
    "ChainSyntaxError",
    "ConversionChain",
    "ConversionError",
    "WiegandCard",
    "WiegandFormat",
    "WiegandParityError",
    "decode_wiegand",
    "encode_wiegand",
]
