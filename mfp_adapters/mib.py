"""Standard MIB facts (Printer-MIB RFC 3805, HOST-RESOURCES-MIB RFC 2790) as data and small decoders.

Capacities and levels of supplies and paper inputs use three special values (RFC 3805): -1
"other" (the sub-unit places no restriction), -2 "unknown", and for levels -3 "at least one unit
remains". Some printers (Sharp among them, see the interop recordings) report a supply's
maximum as -2 and its level as a percentage; monitoring tools show that level as a percent, and
so do we, marked estimated.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from mfp_adapters.snmp import Oid, parse_oid

__all__ = [
    "ALERT_CODES",
    "BLOCKING_ERROR_BITS",
    "COUNTER_UNITS",
    "DEVICE_STATUS",
    "ERROR_STATE_BITS",
    "INPUT_TYPES",
    "LEVEL_OTHER",
    "LEVEL_SOME_REMAINING",
    "LEVEL_UNKNOWN",
    "PAPER_LOW_PERCENT",
    "PRINTER_STATUS",
    "SEVERITY",
    "STD",
    "SUPPLY_TYPES",
    "SupplyLevel",
    "TrayState",
    "blocking_errors",
    "decode_error_state",
    "supply_level",
    "tray_state",
]

LEVEL_OTHER = -1  # "other": no restriction (for a capacity) / not one of the cases below
LEVEL_UNKNOWN = -2
LEVEL_SOME_REMAINING = -3  # a level only: at least one unit (sheet, page of toner) remains
PAPER_LOW_PERCENT = 10.0  # a tray at or below this share of its capacity is low

# hrPrinterDetectedErrorState: bit 0 is the MOST significant bit of the first octet.
ERROR_STATE_BITS: tuple[str, ...] = (
    "lowPaper",
    "noPaper",
    "lowToner",
    "noToner",
    "doorOpen",
    "jammed",
    "offline",
    "serviceRequested",
    "inputTrayMissing",
    "outputTrayMissing",
    "markerSupplyMissing",
    "outputNearFull",
    "outputFull",
    "inputTrayEmpty",
    "overduePreventMaint",
)

# The bits above that stop a printer from printing (a job sent now would not come out); the rest
# (low paper, low toner, output nearly full, tray empty among several, maintenance due) are warnings.
BLOCKING_ERROR_BITS: frozenset[str] = frozenset(
    {
        "noPaper",
        "noToner",
        "doorOpen",
        "jammed",
        "offline",
        "serviceRequested",
        "inputTrayMissing",
        "outputTrayMissing",
        "markerSupplyMissing",
        "outputFull",
    }
)

DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
SEVERITY = {1: "other", 3: "critical", 4: "warning", 5: "warningBinaryChangeEvent"}
COUNTER_UNITS = {
    3: "tenThousandthsOfInches",
    4: "micrometers",
    5: "characters",
    6: "lines",
    7: "impressions",
    8: "sheets",
    9: "dotRow",
    11: "hours",
    16: "feet",
    17: "meters",
}
SUPPLY_TYPES = {
    1: "other",
    2: "unknown",
    3: "toner",
    4: "wasteToner",
    5: "ink",
    6: "inkCartridge",
    7: "inkRibbon",
    8: "wasteInk",
    9: "opc",
    10: "developer",
    11: "fuserOil",
    12: "solidWax",
    13: "ribbonWax",
    14: "wasteWax",
    15: "fuser",
    16: "coronaWire",
    17: "fuserOilWick",
    18: "cleanerUnit",
    19: "fuserCleaningPad",
    20: "transferUnit",
    21: "tonerCartridge",
    22: "fuserOiler",
    23: "water",
    24: "wasteWater",
    25: "glueWaterAdditive",
    26: "wastePaper",
    27: "bindingSupply",
    28: "bandingSupply",
    29: "stitchingWire",
    30: "shrinkWrap",
    31: "paperWrap",
    32: "staples",
    33: "inserts",
    34: "covers",
}
# prtInputType (PrtInputTypeTC)
INPUT_TYPES = {
    1: "other",
    2: "unknown",
    3: "sheetFeedAutoRemovableTray",
    4: "sheetFeedAutoNonRemovableTray",
    5: "sheetFeedManual",
    6: "continuousRoll",
    7: "continuousFanFold",
}
INPUT_TYPE_MANUAL = 5
# The prtAlertCode values an MFP front end cares about (full list: IANA-PRINTER-MIB).
ALERT_CODES = {
    1: "other",
    2: "unknown",
    3: "coverOpen",
    4: "coverClosed",
    5: "interlockOpen",
    6: "interlockClosed",
    8: "jam",
    501: "doorOpen",
    502: "doorClosed",
    503: "powerUp",
    504: "powerDown",
    801: "inputMediaTrayMissing",
    807: "inputMediaSupplyLow",
    808: "inputMediaSupplyEmpty",
    901: "outputMediaTrayMissing",
    902: "outputMediaTrayAlmostFull",
    903: "outputMediaTrayFull",
    1001: "markerFuserUnderTemperature",
    1002: "markerFuserOverTemperature",
    1101: "markerTonerEmpty",
    1102: "markerInkEmpty",
    1104: "markerTonerAlmostEmpty",
    1105: "markerInkAlmostEmpty",
    1109: "markerWasteTonerReceptacleFull",
    1112: "markerOpcLifeAlmostOver",
    1113: "markerOpcLifeOver",
    1301: "mediaPathMediaTrayMissing",
    1302: "mediaPathMediaTrayAlmostFull",
    1303: "mediaPathMediaTrayFull",
}


class STD:
    """Standard OIDs used by the adapters (names as in the MIBs)."""

    sysDescr: Oid = parse_oid("1.3.6.1.2.1.1.1.0")
    sysObjectID: Oid = parse_oid("1.3.6.1.2.1.1.2.0")
    sysUpTime: Oid = parse_oid("1.3.6.1.2.1.1.3.0")
    sysName: Oid = parse_oid("1.3.6.1.2.1.1.5.0")
    hrDeviceDescr1: Oid = parse_oid("1.3.6.1.2.1.25.3.2.1.3.1")
    hrDeviceStatus1: Oid = parse_oid("1.3.6.1.2.1.25.3.2.1.5.1")
    hrPrinterStatus1: Oid = parse_oid("1.3.6.1.2.1.25.3.5.1.1.1")
    hrPrinterDetectedErrorState1: Oid = parse_oid("1.3.6.1.2.1.25.3.5.1.2.1")
    prtGeneralPrinterName1: Oid = parse_oid("1.3.6.1.2.1.43.5.1.1.16.1")
    prtGeneralSerialNumber1: Oid = parse_oid("1.3.6.1.2.1.43.5.1.1.17.1")
    prtMarkerCounterUnit11: Oid = parse_oid("1.3.6.1.2.1.43.10.2.1.3.1.1")
    prtMarkerLifeCount11: Oid = parse_oid("1.3.6.1.2.1.43.10.2.1.4.1.1")
    prtMarkerPowerOnCount11: Oid = parse_oid("1.3.6.1.2.1.43.10.2.1.5.1.1")
    prtInputEntry: Oid = parse_oid("1.3.6.1.2.1.43.8.2.1")
    prtMarkerSuppliesEntry: Oid = parse_oid("1.3.6.1.2.1.43.11.1.1")
    prtAlertEntry: Oid = parse_oid("1.3.6.1.2.1.43.18.1.1")


def decode_error_state(raw: bytes) -> list[str]:
    """Names of the set bits of hrPrinterDetectedErrorState (bit 0 = MSB of octet 0).

    Bits beyond the 15 the MIB defines are reported as ``bitN`` so nothing is hidden.
    """
    names: list[str] = []
    for octet_index, octet in enumerate(raw):
        for bit_in_octet in range(8):
            if octet & (0x80 >> bit_in_octet):
                bit = octet_index * 8 + bit_in_octet
                names.append(ERROR_STATE_BITS[bit] if bit < len(ERROR_STATE_BITS) else f"bit{bit}")
    return names


def blocking_errors(names: Iterable[str]) -> list[str]:
    """The names among ``names`` (error-state bit names) that stop printing, sorted."""
    return sorted(set(names) & BLOCKING_ERROR_BITS)


class SupplyLevel(NamedTuple):
    """A supply's remaining share: ``percent`` (None where the device does not say) and whether
    it is ``estimated`` (a level read as a percentage of an unknown maximum, or a vendor's coarse
    status code) rather than measured against a known capacity."""

    percent: float | None
    estimated: bool = False


def supply_level(
    level: int, max_capacity: int, level_codes: dict[int, int] | None = None, *, unit_percent: bool = False
) -> SupplyLevel:
    """The remaining share of a prtMarkerSupplies row, respecting the special values.

    * capacity known (> 0), level >= 0: ``level / capacity``, measured;
    * ``unit_percent`` (prtMarkerSuppliesSupplyUnit = percent): the level is the percentage;
    * a vendor quirk (``level_codes``, e.g. Brother's 0..3 status codes) maps a level to a
      percentage when the capacity is not known: estimated;
    * capacity unknown (-2) and a level of 0..100: the level is a percentage, estimated (Sharp);
    * levels -1/-2/-3, capacity -1 (no restriction) or 0: ``None``.
    """
    if level >= 0 and unit_percent:
        return SupplyLevel(float(min(level, 100)))
    if max_capacity > 0:
        return SupplyLevel(round(min(100.0, 100.0 * level / max_capacity), 1) if level >= 0 else None)
    if level_codes is not None and level in level_codes:
        return SupplyLevel(float(level_codes[level]), estimated=True)
    if max_capacity == LEVEL_UNKNOWN and 0 <= level <= 100:
        return SupplyLevel(float(level), estimated=True)
    return SupplyLevel(None)


class TrayState(StrEnum):
    """How full a paper input is, as a terminal shows it."""

    OK = "ok"
    LOW = "low"  # at or below the low threshold of its capacity
    EMPTY = "empty"
    SOME = "some"  # level -3: at least one sheet, how many is not known
    UNKNOWN = "unknown"  # level or capacity unknown (-1/-2)


def tray_state(
    level: int | None, max_capacity: int | None, low_percent: float = PAPER_LOW_PERCENT
) -> tuple[float | None, TrayState]:
    """``(percent, state)`` of a prtInputTable row from its current level and maximum capacity."""
    if level is None or level in (LEVEL_OTHER, LEVEL_UNKNOWN) or level < LEVEL_SOME_REMAINING:
        return None, TrayState.UNKNOWN
    if level == LEVEL_SOME_REMAINING:
        return None, TrayState.SOME
    if level == 0:
        return (0.0 if max_capacity and max_capacity > 0 else None), TrayState.EMPTY
    if max_capacity is None or max_capacity <= 0:
        return None, TrayState.UNKNOWN
    percent = round(min(100.0, 100.0 * level / max_capacity), 1)
    return percent, TrayState.LOW if percent <= low_percent else TrayState.OK
