"""ccTalk error and status codes as data: code -> (name, kind).

Coin codes are the result-B values of a header-229 event whose result A is 0; bill codes the
same for header 159. Sources: ../shared/reference/readers.md §4.1 (coin codes 0–5, 128–159, 254,
255) and the ccTalk generic specification tables as listed in qt-cctalk ``CcCoinAcceptorEventCode``
/ ``CcBillValidatorErrorCode`` (the remaining names).
"""

from __future__ import annotations

from cash_devices.events import ErrorKind

__all__ = ["BILL_EVENT_CODES", "COIN_EVENT_CODES", "describe_bill_code", "describe_coin_code"]

_R, _F, _X, _S = ErrorKind.REJECT, ErrorKind.FRAUD, ErrorKind.FAULT, ErrorKind.STATUS

COIN_EVENT_CODES: dict[int, tuple[str, ErrorKind]] = {
    0: ("null event", _S),
    1: ("reject coin", _R),
    2: ("inhibited coin", _R),
    3: ("multiple window", _R),
    4: ("wake-up timeout", _X),
    5: ("validation timeout", _X),
    6: ("credit sensor timeout", _X),
    7: ("sorter opto timeout", _X),
    8: ("second close coin error", _F),
    9: ("accept gate not ready", _X),
    10: ("credit sensor not ready", _X),
    11: ("sorter not ready", _X),
    12: ("reject coin not cleared", _X),
    13: ("validation sensor not ready", _X),
    14: ("credit sensor blocked", _X),
    15: ("sorter opto blocked", _X),
    16: ("credit sequence error", _F),
    17: ("coin going backwards", _F),
    18: ("coin too fast over credit sensor", _F),
    19: ("coin too slow over credit sensor", _F),
    20: ("coin on string mechanism activated", _F),
    21: ("DCE opto timeout", _X),
    22: ("DCE opto not seen", _X),
    23: ("credit sensor reached too early", _F),
    24: ("reject coin (repeated sequential trip)", _F),
    25: ("reject slug", _R),
    26: ("reject sensor blocked", _X),
    27: ("games overload", _X),
    28: ("max coin meter pulses exceeded", _X),
    29: ("accept gate open not closed", _X),
    30: ("accept gate closed not open", _X),
    31: ("manifold opto timeout", _X),
    32: ("manifold opto blocked", _X),
    33: ("manifold not ready", _X),
    34: ("security status changed", _F),
    35: ("motor exception", _X),
    36: ("swallowed coin", _X),
    37: ("coin too fast over validation sensor", _F),
    38: ("coin too slow over validation sensor", _F),
    39: ("coin incorrectly sorted", _X),
    40: ("external light attack", _F),
    253: ("data block request", _S),
    254: ("coin return mechanism activated", _S),
    255: ("unspecified alarm code", _X),
}
# 128–159: "inhibited coin type 1–32"
COIN_EVENT_CODES.update({128 + n: (f"inhibited coin type {n + 1}", _R) for n in range(32)})

BILL_EVENT_CODES: dict[int, tuple[str, ErrorKind]] = {
    0: ("master inhibit active", _S),
    1: ("bill returned from escrow", _S),
    2: ("invalid bill (validation fail)", _R),
    3: ("invalid bill (transport problem)", _R),
    4: ("inhibited bill (on serial)", _R),
    5: ("inhibited bill (on DIP switches)", _R),
    6: ("bill jammed in transport (unsafe mode)", _X),
    7: ("bill jammed in stacker", _X),
    8: ("bill pulled backwards", _F),
    9: ("bill tamper", _F),
    10: ("stacker OK", _S),
    11: ("stacker removed", _X),
    12: ("stacker inserted", _S),
    13: ("stacker faulty", _X),
    14: ("stacker full", _X),
    15: ("stacker jammed", _X),
    16: ("bill jammed in transport (safe mode)", _X),
    17: ("opto fraud detected", _F),
    18: ("string fraud detected", _F),
    19: ("anti-string mechanism faulty", _X),
    20: ("barcode detected", _S),
    21: ("unknown bill type stacked", _X),
}


def _describe(table: dict[int, tuple[str, ErrorKind]], code: int) -> tuple[str, ErrorKind]:
    return table.get(code, (f"unknown code {code}", ErrorKind.FAULT))


def describe_coin_code(code: int) -> tuple[str, ErrorKind]:
    """Name and kind of a coin acceptor result-B code (unknown codes count as faults)."""
    return _describe(COIN_EVENT_CODES, code)


def describe_bill_code(code: int) -> tuple[str, ErrorKind]:
    """Name and kind of a bill validator result-B code (unknown codes count as faults)."""
    return _describe(BILL_EVENT_CODES, code)
