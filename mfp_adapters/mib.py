"""Standard MIB facts (Printer-MIB RFC 3805, HOST-RESOURCES-MIB RFC 2790) as data and small decoders."""

from __future__ import annotations

from collections.abc import Iterable

from mfp_adapters.snmp import Oid, parse_oid

__all__ = [
    "ALERT_CODES",
    "BLOCKING_ERROR_BITS",
    "COUNTER_UNITS",
    "DEVICE_STATUS",
    "ERROR_STATE_BITS",
    "PRINTER_STATUS",
    "SEVERITY",
    "STD",
    "SUPPLY_TYPES",
    "blocking_errors",
    "decode_error_state",
    "supply_percent",
]

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


def supply_percent(level: int, max_capacity: int, level_codes: dict[int, int] | None = None) -> float | None:
    """Percentage 0..100 of a supply, or ``None`` where the device does not say.

    ``level`` -1 (no restriction), -2 (unknown) and -3 ("some remaining") give ``None``;
    so does a non-positive capacity, except that ``level_codes`` (a vendor quirk such as
    Brother's 0..3 status codes) maps a level to a percentage when the capacity is unknown.
    """
    if max_capacity <= 0:
        if level_codes is not None and level in level_codes:
            return float(level_codes[level])
        return None
    if level < 0:
        return None
    return round(min(100.0, 100.0 * level / max_capacity), 1)
