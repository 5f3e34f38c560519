"""The simulated MFP's state: counters, supplies, errors, alerts, history, and its MIB view.

Domain verbs: :meth:`SimulatedMfp.copy`, :meth:`print_pages`, :meth:`scan`, :meth:`jam`,
:meth:`open_door`, :meth:`clear`, :meth:`set_toner`, :meth:`set_paper`, :meth:`reboot`,
:meth:`add_alert`, :meth:`pause_engine`, :meth:`resume_engine`.
Fault injection for bad-input tests: :meth:`inject` (any OID, any type), :meth:`withdraw`,
:attr:`snmp_silent` (the agent stops answering), :meth:`add_junk_rows` (huge tables).

Counting rules: one impression per printed side; ``duplex`` counts the impressions
printed in duplex mode; the Printer-MIB life count is in impressions.

The print engine: a job a sink accepted prints at once, unless the engine is paused (warming up,
busy with a stack of jobs): then it waits in :attr:`SimulatedMfp.queued` and the device says it is
printing (hrPrinterStatus printing(4), PJL ``INFO STATUS`` code 10023) until
:meth:`~SimulatedMfp.resume_engine` prints the waiting jobs in order. Pages count only once printed.

Paper: the prtInputTable holds two A4 cassettes (500 sheets) and a manual bypass tray (100).
Printing does not use paper up; :meth:`set_paper` sets a tray's sheets (-3 "at least one",
-2 unknown), and the error bits follow as a printer reports them: ``lowPaper`` while an
automatic tray is at or below 10 %, ``noPaper`` (which stops printing) once every automatic
tray is empty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hw_sim.mfp.layouts import LAYOUTS, PERCENT_OF_UNKNOWN_MAXIMUM

__all__ = ["HistoryEntry", "JobRecord", "SimulatedMfp"]

Oid = tuple[int, ...]
Value = tuple[int, Any]

_INT, _STR, _NULL, _OID, _C32, _TICKS = 0x02, 0x04, 0x05, 0x06, 0x41, 0x43
_ERROR_BITS = (
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
_CRITICAL = {"noPaper", "noToner", "doorOpen", "jammed", "offline"}
_TONER_MAX = 10000  # level units per cartridge; one impression uses one unit per colorant
_LOW_TONER_PERCENT = 10
_LOW_PAPER_PERCENT = 10
_SHEET_FEED_AUTO_REMOVABLE, _SHEET_FEED_MANUAL = 3, 5  # prtInputType
_SHEETS = 8  # prtInputCapacityUnit sheets
# PJL status codes (HP PJL Technical Reference, appendix D: 10xxx informational, 40xxx operator
# intervention, 41xyy paper mount, 42xyy jams). 10001 ready and 40021 cover open are cited in the
# reference; 10002 offline and 10023 processing job are from memory of HP's table.
PJL_READY, PJL_OFFLINE, PJL_PROCESSING = 10001, 10002, 10023
_PJL_ERRORS = (("jammed", 42000, "Paper jam"), ("doorOpen", 40021, "Cover open"),
               ("noPaper", 41000, "Load paper"), ("noToner", 40038, "Replace toner"))  # fmt: skip

JobPrinted = Callable[["JobRecord"], None]


@dataclass
class _Tray:
    index: int
    name: str
    input_type: int
    media: str
    max_sheets: int
    sheets: int


@dataclass(frozen=True)
class HistoryEntry:
    """One verb applied to the simulator."""

    at_monotonic: float
    verb: str
    details: dict[str, Any]


@dataclass(frozen=True)
class JobRecord:
    """One job a sink (9100, LPD, IPP) accepted."""

    protocol: str
    name: str | None
    user: str | None
    pages: int
    copies: int
    impressions: int
    color: bool
    duplex: bool
    bytes_received: int
    result: str = "OK"


@dataclass
class _Alert:
    index: int
    severity: int
    group: int
    code: int
    description: str
    time_ticks: int


@dataclass
class SimulatedMfp:
    """A simulated MFP of one vendor layout (see :data:`hw_sim.mfp.layouts.LAYOUTS`)."""

    vendor: str = "kyocera"
    model: str | None = None
    serial: str = "SIM0000001"
    color_device: bool = True
    history: list[HistoryEntry] = field(default_factory=list)
    jobs: list[JobRecord] = field(default_factory=list)
    snmp_silent: bool = False
    queued: list[JobRecord] = field(default_factory=list)
    on_copy: Callable[[int, bool, bool], None] | None = None
    copy_gate: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        if self.vendor not in LAYOUTS:
            raise ValueError(f"unknown simulated vendor {self.vendor!r}; have {sorted(LAYOUTS)}")
        self.model = self.model or LAYOUTS[self.vendor][2]
        self._lock = threading.RLock()
        self._counts = dict.fromkeys(("print_mono", "print_color", "copy_mono", "copy_color"), 0)
        self._counts |= {"fax_mono": 0, "scan": 0, "duplex": 0, "power_on": 0}
        # scanned sides by source, for layouts that count them apart (Brother): ADF sides, and
        # of those the ones scanned duplex; the rest came from the flatbed
        self._scan_sources = {"scan_adf": 0, "scan_adf_duplex": 0}
        self._toner = {"black": _TONER_MAX, "cyan": _TONER_MAX, "magenta": _TONER_MAX, "yellow": _TONER_MAX}
        self._errors: set[str] = set()
        self._trays = {
            1: _Tray(1, "Tray 1", _SHEET_FEED_AUTO_REMOVABLE, "A4", 500, 500),
            2: _Tray(2, "Tray 2", _SHEET_FEED_AUTO_REMOVABLE, "A4", 500, 500),
            3: _Tray(3, "Bypass Tray", _SHEET_FEED_MANUAL, "", 100, 0),
        }
        self._alerts: list[_Alert] = []
        self._next_alert = 1
        self._booted_at = time.monotonic()
        self._injected: dict[Oid, Value | None] = {}
        self._junk_rows = 0
        self._engine_paused = False
        self._waiting: list[tuple[JobRecord, JobPrinted | None]] = []
        self.version = 0  # bumped on every change; the agent rebuilds its view when it moves
        self._view: tuple[int, list[Oid], dict[Oid, Value]] | None = None

    # ----------------------------------------------------------------- verbs
    def _record(self, verb: str, **details: Any) -> None:
        self.history.append(HistoryEntry(time.monotonic(), verb, details))
        self.version += 1

    def _impressions(self, function: str, pages: int, color: bool, duplex: bool) -> None:
        if pages < 0:
            raise ValueError("pages must be >= 0")
        colour = color and self.color_device
        self._counts[f"{function}_{'color' if colour else 'mono'}"] += pages
        self._counts["power_on"] += pages
        if duplex:
            self._counts["duplex"] += pages
        colorants = ("black", "cyan", "magenta", "yellow") if colour else ("black",)
        for colorant in colorants:
            self._toner[colorant] = max(0, self._toner[colorant] - pages)
        self._update_toner_bits()

    def copy(self, pages: int, *, color: bool = False, duplex: bool = False) -> int:
        """Make ``pages`` copy impressions; returns how many were made (0 while jammed/down)."""
        with self._lock:
            if self.copy_gate is not None and not self.copy_gate():
                self._record("copy_refused", pages=pages, reason="panel locked")
                return 0
            if self._errors & _CRITICAL:
                self._record("copy_refused", pages=pages, errors=sorted(self._errors))
                return 0
            self._impressions("copy", pages, color, duplex)
            self._record("copy", pages=pages, color=color, duplex=duplex)
        if self.on_copy is not None:
            self.on_copy(pages, color and self.color_device, duplex)
        return pages

    def print_pages(self, pages: int, *, color: bool = False, duplex: bool = False) -> int:
        """Print ``pages`` impressions (what the 9100/LPD/IPP sinks call); 0 while down."""
        with self._lock:
            if self._errors & _CRITICAL:
                self._record("print_refused", pages=pages)
                return 0
            self._impressions("print", pages, color, duplex)
            self._record("print", pages=pages, color=color, duplex=duplex)
            return pages

    def fax_print(self, pages: int) -> None:
        """Print a received fax (mono)."""
        with self._lock:
            self._impressions("fax", pages, False, False)
            self._record("fax_print", pages=pages)

    def scan(self, pages: int, *, source: str = "flatbed", duplex: bool = False) -> None:
        """Scan ``pages`` sides of originals (scan to e-mail/PC) from the ``flatbed`` or the
        ``adf`` (only the ADF scans ``duplex``)."""
        if source not in ("flatbed", "adf") or (duplex and source != "adf"):
            raise ValueError("scan from the flatbed, or from the adf (simplex or duplex)")
        with self._lock:
            self._counts["scan"] += pages
            if source == "adf":
                self._scan_sources["scan_adf"] += pages
            if duplex:
                self._scan_sources["scan_adf_duplex"] += pages
            self._record("scan", pages=pages)

    def jam(self) -> None:
        """Paper jam: the jammed bit, a critical alert, device down."""
        with self._lock:
            self._errors.add("jammed")
            self._add_alert(3, 13, 8, "Paper jam")
            self._record("jam")

    def open_door(self) -> None:
        """Front door open: doorOpen bit and a critical coverOpen alert."""
        with self._lock:
            self._errors.add("doorOpen")
            self._add_alert(3, 6, 3, "Front cover open")
            self._record("open_door")

    def set_error(self, name: str, on: bool = True) -> None:
        """Set or clear any hrPrinterDetectedErrorState bit by name."""
        if name not in _ERROR_BITS:
            raise ValueError(f"unknown error bit {name!r}")
        with self._lock:
            (self._errors.add if on else self._errors.discard)(name)
            self._record("set_error", name=name, on=on)

    def add_alert(self, code: int, *, severity: int = 4, group: int = 5, description: str = "") -> None:
        """Add a prtAlertTable row."""
        with self._lock:
            self._add_alert(severity, group, code, description)
            self._record("add_alert", code=code)

    def _add_alert(self, severity: int, group: int, code: int, description: str) -> None:
        self._alerts.append(_Alert(self._next_alert, severity, group, code, description, self.uptime_ticks()))
        self._next_alert += 1

    def clear(self) -> None:
        """Clear jams, open doors and every alert (toner bits follow the toner levels)."""
        with self._lock:
            self._errors.clear()
            self._alerts.clear()
            self._update_toner_bits()
            self._update_paper_bits()
            self._record("clear")

    def set_toner(self, colorant: str, percent: float) -> None:
        """Set a toner level in percent (low-toner bit below 10 %, no-toner at 0)."""
        if colorant not in self._toner or not 0 <= percent <= 100:
            raise ValueError(f"bad toner {colorant!r} {percent!r}")
        with self._lock:
            self._toner[colorant] = round(_TONER_MAX * percent / 100)
            self._update_toner_bits()
            self._record("set_toner", colorant=colorant, percent=percent)

    def set_paper(self, tray: int, sheets: int) -> None:
        """Put ``sheets`` in a tray (1, 2 cassettes; 3 bypass); -3 "some", -2 "unknown"."""
        if tray not in self._trays or not (sheets >= -3 and sheets != -1):
            raise ValueError(f"bad paper {tray!r} {sheets!r}")
        with self._lock:
            entry = self._trays[tray]
            entry.sheets = min(sheets, entry.max_sheets)
            self._update_paper_bits()
            self._record("set_paper", tray=tray, sheets=sheets)

    def _update_paper_bits(self) -> None:
        automatic = [t for t in self._trays.values() if t.input_type != _SHEET_FEED_MANUAL]
        empty = [t for t in automatic if t.sheets == 0]
        low = [t for t in automatic if 0 <= t.sheets * 100 <= _LOW_PAPER_PERCENT * t.max_sheets]
        self._errors -= {"lowPaper", "noPaper"}
        if low:
            self._errors.add("lowPaper")
        if len(empty) == len(automatic):
            self._errors.add("noPaper")

    def _update_toner_bits(self) -> None:
        lowest = min(self._toner.values() if self.color_device else [self._toner["black"]])
        self._errors.discard("lowToner")
        self._errors.discard("noToner")
        if lowest == 0:
            self._errors.add("noToner")
        elif lowest * 100 < _LOW_TONER_PERCENT * _TONER_MAX:
            self._errors.add("lowToner")

    def reboot(self, *, reset_counters: bool = False) -> None:
        """Restart: sysUpTime and power-on count restart; ``reset_counters`` zeroes every counter."""
        with self._lock:
            self._booted_at = time.monotonic()
            self._counts["power_on"] = 0
            if reset_counters:
                for key in self._counts:
                    self._counts[key] = 0
            self._alerts.clear()
            self._errors -= {"jammed", "doorOpen"}
            self._record("reboot", reset_counters=reset_counters)

    def inject(self, oid: Oid, tag: int, payload: Any) -> None:
        """Serve ``(tag, payload)`` at ``oid`` whatever the model says (garbage-type tests)."""
        with self._lock:
            self._injected[oid] = (tag, payload)
            self._record("inject", oid=oid, tag=tag)

    def withdraw(self, oid: Oid) -> None:
        """Make ``oid`` absent (noSuchObject / missing row tests)."""
        with self._lock:
            self._injected[oid] = None
            self._record("withdraw", oid=oid)

    def add_junk_rows(self, count: int) -> None:
        """Append ``count`` extra rows to the supplies table (huge-table tests)."""
        with self._lock:
            self._junk_rows = count
            self._record("add_junk_rows", count=count)

    def record_job(self, job: JobRecord, on_printed: JobPrinted | None = None) -> None:
        """A sink accepted ``job``: print it now (or when the paused engine resumes), keep it in
        :attr:`jobs`, and call ``on_printed`` with the record as printed."""
        with self._lock:
            if self._engine_paused:
                self._waiting.append((job, on_printed))
                self.queued.append(job)
                self._record("job_queued", name=job.name)
                return
            printed = self._print_job(job)
        if on_printed is not None:
            on_printed(printed)

    def _print_job(self, job: JobRecord) -> JobRecord:
        refused = bool(self._errors & _CRITICAL)
        self.print_pages(job.impressions, color=job.color, duplex=job.duplex)
        printed = replace(job, result="RESOURCE_CANCELED") if refused else job
        self.jobs.append(printed)
        return printed

    def pause_engine(self) -> None:
        """The engine stops before the next job: accepted jobs wait, the device says it is printing."""
        with self._lock:
            self._engine_paused = True
            self._record("pause_engine")

    def resume_engine(self) -> None:
        """The engine prints every waiting job, in the order they came."""
        with self._lock:
            self._engine_paused = False
            waiting, self._waiting = self._waiting, []
            self.queued.clear()
            done = [(self._print_job(job), on_printed) for job, on_printed in waiting]
            self._record("resume_engine", printed=len(done))
        for printed, on_printed in done:
            if on_printed is not None:
                on_printed(printed)

    @property
    def busy(self) -> bool:
        """Jobs wait for the engine."""
        return bool(self._waiting)

    def pjl_status(self) -> tuple[int, str, bool]:
        """What ``@PJL INFO STATUS`` answers: (CODE, DISPLAY, ONLINE)."""
        with self._lock:
            for bit, code, display in _PJL_ERRORS:
                if bit in self._errors:
                    return code, display, False
            if "offline" in self._errors:
                return PJL_OFFLINE, "Offline", False
            if self._waiting:
                return PJL_PROCESSING, "Processing job", True
            return PJL_READY, "Ready", True

    # ----------------------------------------------------------------- state
    def uptime_ticks(self) -> int:
        """sysUpTime in hundredths of a second."""
        return int((time.monotonic() - self._booted_at) * 100)

    def counts(self) -> dict[str, int]:
        """Every counter in the canonical keys (what a profile-driven client should read)."""
        with self._lock:
            c = dict(self._counts)
        counts = {
            "print_mono": c["print_mono"],
            "print_color": c["print_color"],
            "copy_mono": c["copy_mono"],
            "copy_color": c["copy_color"],
            "fax": c["fax_mono"],
            "fax_mono": c["fax_mono"],
            "fax_color": 0,
            "scan": c["scan"],
            "scan_sent": c["scan"],  # every simulated scan is sent (to e-mail or a PC)
            "duplex": c["duplex"],
            "power_on_count": c["power_on"],
        }
        counts["print_total"] = c["print_mono"] + c["print_color"]
        counts["copy_total"] = c["copy_mono"] + c["copy_color"]
        counts["total_mono"] = c["print_mono"] + c["copy_mono"] + c["fax_mono"]
        counts["total_color"] = c["print_color"] + c["copy_color"]
        counts["total"] = counts["total_mono"] + counts["total_color"]
        counts["life_count"] = counts["total"]
        return counts

    @property
    def errors(self) -> list[str]:
        """Set error bits, in bit order."""
        return [name for name in _ERROR_BITS if name in self._errors]

    def _printer_status(self) -> int:
        """hrPrinterStatus: other(1) on a critical condition, printing(4) with jobs waiting, idle(3)."""
        if self._errors & _CRITICAL:
            return 1
        return 4 if self._waiting else 3

    def device_status(self) -> int:
        """hrDeviceStatus: down(5) on a critical condition, warning(3) on others, else running(2)."""
        if self._errors & _CRITICAL:
            return 5
        return 3 if self._errors else 2

    def _error_octets(self) -> bytes:
        bits = 0
        for name in self._errors:
            bits |= 0x8000 >> _ERROR_BITS.index(name)
        return bits.to_bytes(2, "big")

    def mib(self) -> tuple[list[Oid], dict[Oid, Value]]:
        """The whole MIB view, sorted; rebuilt only when something changed."""
        with self._lock:
            if self._view is not None and self._view[0] == self.version:
                _, order, values = self._view
                return order, self._with_uptime(values)
            values = self._build()
            order = sorted(values)
            self._view = (self.version, order, values)
            return order, self._with_uptime(values)

    def _with_uptime(self, values: dict[Oid, Value]) -> dict[Oid, Value]:
        sys_up = (1, 3, 6, 1, 2, 1, 1, 3, 0)
        if sys_up in values:
            values[sys_up] = (_TICKS, self.uptime_ticks())
        return values

    def _build(self) -> dict[Oid, Value]:
        sys_oid, descr, _, rows_for = LAYOUTS[self.vendor]
        assert self.model is not None
        with self._lock:
            counts = self.counts() | self._scan_sources
        v: dict[Oid, Value] = {
            (1, 3, 6, 1, 2, 1, 1, 1, 0): (_STR, descr.format(model=self.model).encode()),
            (1, 3, 6, 1, 2, 1, 1, 2, 0): (_OID, tuple(int(p) for p in sys_oid.split("."))),
            (1, 3, 6, 1, 2, 1, 1, 3, 0): (_TICKS, 0),
            (1, 3, 6, 1, 2, 1, 1, 5, 0): (_STR, b"sim-mfp"),
            (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3, 1): (_STR, self.model.encode()),
            (1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 5, 1): (_INT, self.device_status()),
            (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1): (_INT, self._printer_status()),
            (1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2, 1): (_STR, self._error_octets()),
            (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 17, 1): (_STR, self.serial.encode()),
            (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 3, 1, 1): (_INT, 7),
            (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1): (_C32, counts["life_count"]),
            (1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 5, 1, 1): (_C32, counts["power_on_count"]),
        }
        for index, colorant in enumerate(("cyan", "magenta", "yellow", "black"), start=1):
            if colorant != "black" and not self.color_device:
                continue
            self._supply_row(v, index, 3, f"{colorant.title()} Toner", _TONER_MAX, self._toner[colorant])
        if self.vendor in PERCENT_OF_UNKNOWN_MAXIMUM:
            self._supply_row(v, 5, 4, "Waste Toner Box", -2, 100)  # the level is a percent
        else:
            self._supply_row(v, 5, 4, "Waste Toner Box", -2, -3)
        for tray in self._trays.values():
            self._tray_rows(v, tray)
        for extra in range(self._junk_rows):
            self._supply_row(v, 100 + extra, 1, f"junk {extra}", 100, 50)
        entry = (1, 3, 6, 1, 2, 1, 43, 18, 1, 1)
        for alert in self._alerts:
            i = (1, alert.index)
            v[(*entry, 2, *i)] = (_INT, alert.severity)
            v[(*entry, 4, *i)] = (_INT, alert.group)
            v[(*entry, 7, *i)] = (_INT, alert.code)
            v[(*entry, 8, *i)] = (_STR, alert.description.encode())
            v[(*entry, 9, *i)] = (_TICKS, alert.time_ticks)
        for oid, tag, payload in rows_for(counts, self.model, self.serial):
            v[oid] = (tag, payload)
        for oid, value in self._injected.items():
            if value is None:
                v.pop(oid, None)
            else:
                v[oid] = value
        return v

    @staticmethod
    def _tray_rows(v: dict[Oid, Value], tray: _Tray) -> None:
        entry, index = (1, 3, 6, 1, 2, 1, 43, 8, 2, 1), (1, tray.index)
        v[(*entry, 2, *index)] = (_INT, tray.input_type)
        v[(*entry, 8, *index)] = (_INT, _SHEETS)
        v[(*entry, 9, *index)] = (_INT, tray.max_sheets)
        v[(*entry, 10, *index)] = (_INT, tray.sheets)
        v[(*entry, 12, *index)] = (_STR, tray.media.encode())
        v[(*entry, 13, *index)] = (_STR, tray.name.encode())

    @staticmethod
    def _supply_row(
        v: dict[Oid, Value], index: int, type_code: int, name: str, maximum: int, level: int
    ) -> None:
        entry = (1, 3, 6, 1, 2, 1, 43, 11, 1, 1)
        v[(*entry, 4, 1, index)] = (_INT, 4 if type_code == 4 else 3)
        v[(*entry, 5, 1, index)] = (_INT, type_code)
        v[(*entry, 6, 1, index)] = (_STR, name.encode())
        v[(*entry, 7, 1, index)] = (_INT, 7)
        v[(*entry, 8, 1, index)] = (_INT, maximum)
        v[(*entry, 9, 1, index)] = (_INT, level)
