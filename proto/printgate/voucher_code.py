"""The voucher code format, shared by the hub (which issues and checks codes) and the kiosk
(whose keyboard offers exactly the code alphabet): one home for the fact.

A code is an optional prefix (0..6 symbols), 13 random symbols from :data:`ALPHABET` (32 symbols,
so 65 bits), and one check symbol (Luhn mod 32 over everything before it). The alphabet has no
0/O or 1/I, so a code read aloud or off paper is typed right. Typed input is normalised: case,
spaces and hyphens are ignored. Printed codes come in groups of :data:`GROUP_SYMBOLS`.
"""

from __future__ import annotations

import secrets

__all__ = [
    "ALPHABET",
    "GROUP_SYMBOLS",
    "KEYBOARD_ROWS",
    "MAX_PREFIX_SYMBOLS",
    "RANDOM_SYMBOLS",
    "MalformedCode",
    "check_symbol",
    "format_code",
    "new_code",
    "normalise",
]

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RANDOM_SYMBOLS = 13  # 13 * 5 = 65 bits
MAX_PREFIX_SYMBOLS = 6
GROUP_SYMBOLS = 4
# The alphabet in keyboard order, for on-screen keyboards (every symbol exactly once).
KEYBOARD_ROWS = ("23456789", "QWERTYUP", "ASDFGHJKL", "ZXCVBNM")
_INDEX = {symbol: index for index, symbol in enumerate(ALPHABET)}


class MalformedCode(ValueError):
    """Text that cannot be a voucher code (length, symbols, check symbol): a typing error, not a guess."""


def check_symbol(body: str) -> str:
    """The Luhn mod N check symbol of ``body`` (symbols of :data:`ALPHABET`)."""
    total, factor = 0, 2
    for symbol in reversed(body):
        addend = factor * _INDEX[symbol]
        total += addend // len(ALPHABET) + addend % len(ALPHABET)
        factor = 3 - factor
    return ALPHABET[-total % len(ALPHABET)]


def normalise(text: str) -> str:
    """The canonical form of a typed code, or :class:`MalformedCode` saying what is wrong."""
    code = "".join(text.split()).replace("-", "").upper()
    if not RANDOM_SYMBOLS + 1 <= len(code) <= RANDOM_SYMBOLS + 1 + MAX_PREFIX_SYMBOLS:
        raise MalformedCode("not a voucher code: wrong length")
    if any(symbol not in _INDEX for symbol in code):
        raise MalformedCode("not a voucher code: unexpected character")
    if check_symbol(code[:-1]) != code[-1]:
        raise MalformedCode("not a voucher code: check character does not match (typing error?)")
    return code


def format_code(code: str) -> str:
    """A code for print and display: groups of four symbols joined by hyphens."""
    return "-".join(code[i : i + GROUP_SYMBOLS] for i in range(0, len(code), GROUP_SYMBOLS))


def new_code(prefix: str) -> str:
    """A fresh random code with ``prefix`` and its check symbol."""
    body = prefix + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return body + check_symbol(body)
