"""Where each simulated vendor keeps identity and counters in its MIB (from ../shared/reference facts).

A layout turns the simulator's counters into vendor rows. Ricoh rows get scattered
indexes on purpose: real models number them differently, so a client must match the
type column, not a row number.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LAYOUTS", "PERCENT_OF_UNKNOWN_MAXIMUM", "Layout", "Rows"]

Oid = tuple[int, ...]
# (oid, tag, payload) with the BER tags of hw_sim.mfp.ber
Rows = list[tuple[Oid, int, int | bytes | Oid]]
Counts = dict[str, int]

_INT, _STR, _C32 = 0x02, 0x04, 0x41


def _o(text: str) -> Oid:
    return tuple(int(p) for p in text.split("."))


def _generic(counts: Counts, model: str, serial: str) -> Rows:
    return []


def _kyocera(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.1347"
    rows: Rows = [
        (_o(f"{base}.43.5.1.1.1.1"), _STR, model.encode()),
        (_o(f"{base}.43.5.1.1.28.1"), _STR, serial.encode()),
        (_o(f"{base}.43.10.1.1.12.1.1"), _INT, counts["print_total"] + counts["copy_total"] + counts["fax"]),
    ]
    for f, name in ((1, "print"), (2, "copy"), (3, None), (4, "fax")):
        total = counts[f"{name}_total" if name != "fax" else "fax"] if name else 0
        rows.append((_o(f"{base}.42.3.1.1.1.1.{f}"), _INT, total))
        mono = counts.get(f"{name}_mono", 0) if name else 0
        color = counts.get(f"{name}_color", 0) if name else 0
        for c, value in ((1, mono), (2, 0), (3, color)):
            rows.append((_o(f"{base}.42.3.1.2.1.1.{f}.{c}"), _INT, value))
    # scans by function (copy originals are not simulated), then the other scans: the ones sent
    rows.append((_o(f"{base}.42.3.1.3.1.1.2"), _INT, 0))
    rows.append((_o(f"{base}.42.3.1.4.1.1.1"), _INT, counts["scan"]))
    return rows


_RICOH_TYPES = (
    (138, 10, "Counter: Machine Total", "total"),
    (13, 201, "Copy: Black & White", "copy_mono"),
    (14, 202, "Copy: Full Color", "copy_color"),
    (139, 401, "Total Prints: Black & White", "print_mono"),
    (142, 402, "Total Prints: Color", "print_color"),
    (7, 300, "Fax: Total", "fax"),
    (143, 870, "Scan: Total", "scan"),
)


def _ricoh(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.367.3.2.1"
    rows: Rows = [
        (_o(f"{base}.1.1.1.0"), _STR, model.encode()),
        (_o(f"{base}.2.1.4.0"), _STR, serial.encode()),
    ]
    for index, type_code, name, key in _RICOH_TYPES:
        rows.append((_o(f"{base}.2.19.5.1.2.{index}"), _INT, type_code))
        rows.append((_o(f"{base}.2.19.5.1.5.{index}"), _STR, name.encode()))
        rows.append((_o(f"{base}.2.19.5.1.9.{index}"), _INT, counts[key]))
    return rows


_SHARP_ROWS = (
    ("1.4.60", "Prints", "print_total"),
    ("1.4.61", "Black & White Print Count", "print_mono"),
    ("1.4.63", "Full Color Print Count", "print_color"),
    ("1.4.75", "Duplex", "duplex"),
    ("4.4.60", "Copies", "copy_total"),
    ("4.4.61", "Black & White Copy Count", "copy_mono"),
    ("4.4.63", "Full Color Copy Count", "copy_color"),
    ("5.4.61", "Black & White Total Count", "total_mono"),
    ("5.4.63", "Full Color Total Count", "total_color"),
    ("8.4.50", "Scan to E-mail/FTP", "scan"),
)


def _sharp(counts: Counts, model: str, serial: str) -> Rows:
    rows: Rows = []
    for index, name, key in _SHARP_ROWS:
        rows.append((_o(f"1.3.6.1.4.1.2385.1.1.19.2.1.3.{index}"), _C32, counts[key]))
        rows.append((_o(f"1.3.6.1.4.1.2385.1.1.19.2.1.4.{index}"), _STR, name.encode()))
    return rows


def _konica(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.18334.1.1.1"
    return [
        (_o(f"{base}.1.6.2.1.0"), _STR, f"KONICA MINOLTA {model}".encode()),
        (_o(f"{base}.5.7.2.1.1.0"), _INT, counts["total"]),
        (_o(f"{base}.5.7.2.1.3.0"), _INT, counts["duplex"]),
        (_o(f"{base}.5.7.2.1.5.0"), _INT, counts["scan"]),
        (_o(f"{base}.5.7.2.2.1.5.1.1"), _INT, counts["copy_mono"]),
        (_o(f"{base}.5.7.2.2.1.5.1.2"), _INT, counts["print_mono"]),
        (_o(f"{base}.5.7.2.2.1.5.2.1"), _INT, counts["copy_color"]),
        (_o(f"{base}.5.7.2.2.1.5.2.2"), _INT, counts["print_color"]),
    ]


def _hp(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.11.2.3.9"
    return [
        (_o(f"{base}.1.1.7.0"), _STR, f"MFG:HP;CMD:PJL,PCL;MDL:HP {model};CLS:PRINTER;".encode()),
        (_o(f"{base}.4.2.1.4.1.2.5.0"), _INT, counts["total"]),
        (_o(f"{base}.4.2.1.4.1.2.6.0"), _INT, counts["total_mono"]),
        (_o(f"{base}.4.2.1.4.1.2.7.0"), _INT, counts["total_color"]),
        (_o(f"{base}.4.2.1.4.1.2.22.0"), _INT, counts["duplex"]),
        (_o(f"{base}.4.2.1.2.2.1.74.0"), _INT, counts["scan"]),
    ]


def _ieee1284(manufacturer: str, model: str) -> bytes:
    return f"MFG:{manufacturer};CMD:PJL,PCL,PCLXL;MDL:{model};CLS:PRINTER;".encode()


_LEXMARK_PAPER: tuple[tuple[int, int, str], ...] = (
    (5, 2, "total"),
    (9, 16, "print_total"),
    (10, 17, "print_mono"),
    (11, 18, "print_color"),
    (20, 32, "copy_total"),
    (21, 33, "copy_mono"),
    (22, 34, "copy_color"),
    (30, 48, "fax"),
)


def _lexmark(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.641.6.4"
    rows: Rows = []
    for index, type_code, key in _LEXMARK_PAPER:
        rows.append((_o(f"{base}.2.1.1.2.1.{index}"), _INT, type_code))
        rows.append((_o(f"{base}.2.1.1.4.1.{index}"), _C32, counts[key]))
    rows.append((_o(f"{base}.3.1.1.2.1.3"), _INT, 257))  # copy from the flatbed
    rows.append((_o(f"{base}.3.1.1.4.1.3"), _C32, counts["scan"]))
    return rows


_BROTHER_FUNCS: tuple[tuple[int, str], ...] = (
    (1, "print_total"),
    (2, "fax"),
    (3, "copy_total"),
    (4, "copy_color"),
    (5, "print_color"),
    (7, "print_mono"),
    (8, "fax_mono"),
    (9, "copy_mono"),
)


def _brother(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.2435.2.3.9"
    rows: Rows = [
        (_o(f"{base}.1.1.7.0"), _STR, _ieee1284("Brother", f"{model} series")),
        (_o(f"{base}.4.2.1.5.5.1.0"), _STR, serial.encode()),
        # brScanCountTable by type: 2 flatbed, 1 ADF, 3 ADF duplex (a subset of the ADF row)
        (_o(f"{base}.4.2.1.5.5.54.2.2.1.2.1"), _INT, 2),
        (_o(f"{base}.4.2.1.5.5.54.2.2.1.3.1"), _INT, counts["scan"] - counts["scan_adf"]),
        (_o(f"{base}.4.2.1.5.5.54.2.2.1.2.2"), _INT, 1),
        (_o(f"{base}.4.2.1.5.5.54.2.2.1.3.2"), _INT, counts["scan_adf"]),
        (_o(f"{base}.4.2.1.5.5.54.2.2.1.2.3"), _INT, 3),
        (_o(f"{base}.4.2.1.5.5.54.2.2.1.3.3"), _INT, counts["scan_adf_duplex"]),
    ]
    for position, (type_code, key) in enumerate(_BROTHER_FUNCS, start=1):
        rows.append((_o(f"{base}.4.2.1.5.5.52.21.1.2.{position}"), _INT, type_code))
        rows.append((_o(f"{base}.4.2.1.5.5.52.21.1.3.{position}"), _INT, counts[key]))
    return rows


def _canon(counts: Counts, model: str, serial: str) -> Rows:
    value = "1.3.6.1.4.1.1602.1.11.1.3.1.4"
    return [
        (_o("1.3.6.1.4.1.1602.1.1.1.1.0"), _STR, model.encode()),
        (_o("1.3.6.1.4.1.1602.1.2.1.8.1.3.1.1"), _STR, serial.encode()),
        (_o(f"{value}.101"), _INT, counts["total"]),
        (_o(f"{value}.108"), _INT, counts["total_mono"]),
        (_o(f"{value}.123"), _INT, counts["total_color"]),  # full colour, small format
        (_o(f"{value}.301"), _INT, counts["print_total"]),
        (_o(f"{value}.501"), _INT, counts["scan"]),
    ]


def _xerox(counts: Counts, model: str, serial: str) -> Rows:
    detail = "1.3.6.1.4.1.253.8.53.13.2.1.6"
    return [
        (_o("1.3.6.1.4.1.253.8.51.1.2.1.20.1"), _STR, _ieee1284("Xerox", model)),
        (_o(f"{detail}.1.20.1"), _C32, counts["print_total"]),
        (_o(f"{detail}.1.20.33"), _C32, counts["print_color"]),
        (_o(f"{detail}.1.20.34"), _C32, counts["print_mono"]),
        (_o(f"{detail}.10.20.11"), _C32, counts["scan"]),
        (_o(f"{detail}.11.20.3"), _C32, counts["copy_mono"]),
        (_o(f"{detail}.11.20.25"), _C32, counts["copy_color"]),
    ]


def _epson(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.1248.1.2.2"
    return [
        (_o(f"{base}.1.1.1.2.1"), _STR, model.encode()),
        (_o(f"{base}.1.1.1.5.1"), _STR, serial.encode()),
        (_o(f"{base}.27.1.1.3.1.1"), _INT, counts["total_mono"]),
        (_o(f"{base}.27.1.1.4.1.1"), _INT, counts["total_color"]),
        (_o(f"{base}.27.1.1.30.1.1"), _INT, counts["total"]),
        (_o(f"{base}.27.6.1.4.1.1.1"), _INT, counts["print_total"]),
        (_o(f"{base}.27.6.1.4.1.1.2"), _INT, counts["copy_total"]),
    ]


def _toshiba(counts: Counts, model: str, serial: str) -> Rows:
    base = "1.3.6.1.4.1.1129.2.3.50.1.3.21.6.1"
    rows: Rows = [(_o("1.3.6.1.4.1.1129.1.2.1.1.1.1.1.0"), _STR, serial.encode())]
    for function, prefix in ((2, "total"), (3, "print"), (4, "copy")):
        mono = counts[f"{prefix}_mono"]
        color = counts[f"{prefix}_color"]
        for colour_class, value in ((1, color), (2, 0), (3, mono), (4, mono + color)):
            rows.append((_o(f"{base}.{function}.1.{colour_class}"), _INT, value))
    rows.append((_o(f"{base}.7.1.4"), _INT, counts["fax"]))
    rows.append((_o(f"{base}.9.1.4"), _INT, counts["scan"]))
    return rows


Layout = tuple[str, str, str, Callable[[Counts, str, str], Rows]]
# vendor -> (sysObjectID, sysDescr template, default model, rows builder)
LAYOUTS: dict[str, Layout] = {
    "generic": ("1.3.6.1.4.1.99999.1", "Generic Printer-MIB device {model}", "PG-1000", _generic),
    "kyocera": (
        "1.3.6.1.4.1.1347.41",
        "KYOCERA Document Solutions Printing System",
        "TASKalfa 3253ci",
        _kyocera,
    ),
    "ricoh": (
        "1.3.6.1.4.1.367.1.1",
        "RICOH {model} 1.00 / RICOH Network Printer C model",
        "MP C3004",
        _ricoh,
    ),
    "sharp": ("1.3.6.1.4.1.2385.3.1.112.1.2", "SHARP {model}", "MX-3570N", _sharp),
    "konica_minolta": (
        "1.3.6.1.4.1.18334.1.1.1.2.1.181.2.4",
        "KONICA MINOLTA {model}",
        "bizhub C250i",
        _konica,
    ),
    "hp": (
        "1.3.6.1.4.1.11.2.3.9.1",
        "HP ETHERNET MULTI-ENVIRONMENT,PID:HP {model}",
        "LaserJet MFP M480f",
        _hp,
    ),
    "lexmark": ("1.3.6.1.4.1.641.2.1", "Lexmark {model} version 1.0", "CX725", _lexmark),
    "brother": ("1.3.6.1.4.1.2435.2.3.9.1", "Brother NC-8300h, Firmware Ver.1.00", "MFC-L8900CDW", _brother),
    "canon": ("1.3.6.1.4.1.1602.4.2", "Canon {model} /P", "iR-ADV C3530", _canon),
    "xerox": ("1.3.6.1.4.1.253.8.62.1.35.2.3.1.1", "Xerox {model}; SS 1.0", "AltaLink C8045", _xerox),
    "epson": ("1.3.6.1.4.1.1248.1.1.2.1.3.5", "EPSON Built-in", "WF-C5790", _epson),
    "toshiba": ("1.3.6.1.4.1.1129.2.2.1", "TOSHIBA {model}", "e-STUDIO3525AC", _toshiba),
}

# Vendors whose waste-toner row reports its maximum as -2 (unknown) and its level as a percentage,
# as the Sharp recording in ../shared/interop/snmprec does (index 5: max -2, level 100).
PERCENT_OF_UNKNOWN_MAXIMUM = frozenset({"sharp"})
