"""ccTalk error and status codes as data: code -> (name, kind, kept).

Coin codes are the result-B values of a header-229 event whose result A is 0; bill codes the
same for header 159. ``kept`` says what happened to the money: ``True`` the coin or note stayed
in the machine *without credit* (the cash box will hold more than the ledger: the operator must
see it), ``False`` it went back to the customer, ``None`` unknown or not about money.

Sources: ../shared/reference/readers.md §4.1 (coin codes 0–5, 128–159, 254, 255); the other
names and the accepted/rejected split follow the ccTalk specification tables as transcribed in
qt-cctalk ``cctalk_enums.h`` (``CcCoinAcceptorEventCode``, ``ccCoinAcceptorEventCodeGetRejectionType``,
``CcBillValidatorErrorCode``). The fraud/fault classification is ours.
"""

from __future__ import annotations

from typing import NamedTuple

from cash_devices.events import ErrorKind

__all__ = [
    "BILL_EVENT_CODES",
    "COIN_EVENT_CODES",
    "FAULT_CODES",
    "CodeInfo",
    "describe_bill_code",
    "describe_coin_code",
    "describe_fault_code",
]


class CodeInfo(NamedTuple):
    """What one code means."""

    name: str
    kind: ErrorKind
    kept: bool | None


_R, _F, _X, _S = ErrorKind.REJECT, ErrorKind.FRAUD, ErrorKind.FAULT, ErrorKind.STATUS
_KEPT, _RETURNED, _UNKNOWN = True, False, None

COIN_EVENT_CODES: dict[int, CodeInfo] = {
    0: CodeInfo("null event", _S, _UNKNOWN),
    1: CodeInfo("reject coin", _R, _RETURNED),
    2: CodeInfo("inhibited coin", _R, _RETURNED),
    3: CodeInfo("multiple window", _R, _RETURNED),
    4: CodeInfo("wake-up timeout", _X, _UNKNOWN),
    5: CodeInfo("validation timeout", _X, _UNKNOWN),
    6: CodeInfo("credit sensor timeout", _X, _UNKNOWN),
    7: CodeInfo("sorter opto timeout", _X, _KEPT),
    8: CodeInfo("second close coin error", _R, _RETURNED),
    9: CodeInfo("accept gate not ready", _X, _RETURNED),
    10: CodeInfo("credit sensor not ready", _X, _RETURNED),
    11: CodeInfo("sorter not ready", _X, _RETURNED),
    12: CodeInfo("reject coin not cleared", _X, _RETURNED),
    13: CodeInfo("validation sensor not ready", _X, _RETURNED),
    14: CodeInfo("credit sensor blocked", _X, _RETURNED),
    15: CodeInfo("sorter opto blocked", _X, _RETURNED),
    16: CodeInfo("credit sequence error", _F, _KEPT),
    17: CodeInfo("coin going backwards", _F, _KEPT),
    18: CodeInfo("coin too fast over credit sensor", _F, _KEPT),
    19: CodeInfo("coin too slow over credit sensor", _F, _KEPT),
    20: CodeInfo("coin on string mechanism activated", _F, _KEPT),
    21: CodeInfo("DCE opto timeout", _X, _UNKNOWN),
    22: CodeInfo("DCE opto not seen", _X, _RETURNED),
    23: CodeInfo("credit sensor reached too early", _F, _KEPT),
    24: CodeInfo("reject coin (repeated sequential trip)", _F, _RETURNED),
    25: CodeInfo("reject slug", _R, _RETURNED),
    26: CodeInfo("reject sensor blocked", _X, _KEPT),
    27: CodeInfo("games overload", _X, _KEPT),
    28: CodeInfo("max coin meter pulses exceeded", _X, _KEPT),
    29: CodeInfo("accept gate open not closed", _X, _KEPT),
    30: CodeInfo("accept gate closed not open", _X, _RETURNED),
    31: CodeInfo("manifold opto timeout", _X, _KEPT),
    32: CodeInfo("manifold opto blocked", _X, _RETURNED),
    33: CodeInfo("manifold not ready", _X, _RETURNED),
    34: CodeInfo("security status changed", _F, _UNKNOWN),
    35: CodeInfo("motor exception", _X, _UNKNOWN),
    36: CodeInfo("swallowed coin", _X, _KEPT),
    37: CodeInfo("coin too fast over validation sensor", _R, _RETURNED),
    38: CodeInfo("coin too slow over validation sensor", _R, _RETURNED),
    39: CodeInfo("coin incorrectly sorted", _X, _KEPT),
    40: CodeInfo("external light attack", _F, _KEPT),
    253: CodeInfo("data block request", _S, _UNKNOWN),
    254: CodeInfo("coin return mechanism activated", _S, _KEPT),
    255: CodeInfo("unspecified alarm code", _X, _KEPT),
}
COIN_EVENT_CODES.update({128 + n: CodeInfo(f"inhibited coin type {n + 1}", _R, _RETURNED) for n in range(32)})

BILL_EVENT_CODES: dict[int, CodeInfo] = {
    0: CodeInfo("master inhibit active", _S, _RETURNED),
    1: CodeInfo("bill returned from escrow", _S, _RETURNED),
    2: CodeInfo("invalid bill (validation fail)", _R, _RETURNED),
    3: CodeInfo("invalid bill (transport problem)", _R, _RETURNED),
    4: CodeInfo("inhibited bill (on serial)", _R, _RETURNED),
    5: CodeInfo("inhibited bill (on DIP switches)", _R, _RETURNED),
    6: CodeInfo("bill jammed in transport (unsafe mode)", _X, _UNKNOWN),
    7: CodeInfo("bill jammed in stacker", _X, _UNKNOWN),
    8: CodeInfo("bill pulled backwards", _F, _RETURNED),
    9: CodeInfo("bill tamper", _F, _UNKNOWN),
    10: CodeInfo("stacker OK", _S, _UNKNOWN),
    11: CodeInfo("stacker removed", _X, _UNKNOWN),
    12: CodeInfo("stacker inserted", _S, _UNKNOWN),
    13: CodeInfo("stacker faulty", _X, _UNKNOWN),
    14: CodeInfo("stacker full", _X, _UNKNOWN),
    15: CodeInfo("stacker jammed", _X, _UNKNOWN),
    16: CodeInfo("bill jammed in transport (safe mode)", _X, _UNKNOWN),
    17: CodeInfo("opto fraud detected", _F, _UNKNOWN),
    18: CodeInfo("string fraud detected", _F, _UNKNOWN),
    19: CodeInfo("anti-string mechanism faulty", _X, _UNKNOWN),
    20: CodeInfo("barcode detected", _S, _UNKNOWN),
    21: CodeInfo("unknown bill type stacked", _X, _KEPT),
}


# header 232 "perform self-check" fault codes (spec part 3 table 3, as listed in qt-cctalk CcFaultCode)
FAULT_CODES: dict[int, str] = dict(
    enumerate(
        [
            "OK", "EEPROM checksum corrupted", "fault on inductive coils", "fault on credit sensor",
            "fault on piezo sensor", "fault on reflective sensor", "fault on diameter sensor",
            "fault on wake-up sensor", "fault on sorter exit sensors", "NVRAM checksum corrupted",
            "coin dispensing error", "low level sensor error", "high level sensor error",
            "coin counting error", "keypad error", "button error", "display error", "coin auditing error",
            "fault on reject sensor", "fault on coin return mechanism", "fault on C.O.S. mechanism",
            "fault on rim sensor", "fault on thermistor", "payout motor fault", "payout timeout",
            "payout jammed", "payout sensor fault", "level sensor error", "personality module not fitted",
            "personality checksum corrupted", "ROM checksum mismatch", "missing slave device",
            "internal comms bad", "supply voltage outside operating limits",
            "temperature outside operating limits", "D.C.E. fault", "fault on bill validation sensor",
            "fault on bill transport motor", "fault on stacker", "bill jammed", "RAM test fail",
            "fault on string sensor", "accept gate failed open", "accept gate failed closed",
            "stacker missing", "stacker full", "flash memory erase fail", "flash memory write fail",
            "slave device not responding", "fault on opto sensor", "battery fault", "door open",
            "microswitch fault", "RTC fault", "firmware error", "initialisation error",
            "supply current outside operating limits", "forced bootloader mode",
        ]
    )
)  # fmt: skip
FAULT_CODES[255] = "unspecified fault code"


def describe_fault_code(code: int) -> str:
    """Name of a self-check fault code."""
    return FAULT_CODES.get(code, f"unknown fault code {code}")


def _describe(table: dict[int, CodeInfo], code: int) -> CodeInfo:
    return table.get(code, CodeInfo(f"unknown code {code}", ErrorKind.FAULT, None))


def describe_coin_code(code: int) -> CodeInfo:
    """Meaning of a coin acceptor result-B code (unknown codes count as faults)."""
    return _describe(COIN_EVENT_CODES, code)


def describe_bill_code(code: int) -> CodeInfo:
    """Meaning of a bill validator result-B code (unknown codes count as faults)."""
    return _describe(BILL_EVENT_CODES, code)
