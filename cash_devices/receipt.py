"""ESC/POS receipt printers through python-escpos: recharge receipts, voucher slips, cash-box reports.

:func:`open_receipt_printer` takes a URL: ``tcp://host:9100``, ``serial:///dev/ttyUSB0?baudrate=19200``
or ``usb://04b8:0202``. :meth:`ReceiptPrinter.status` asks the printer itself with ``DLE EOT 1``
(printer status) and ``DLE EOT 4`` (paper sensor) and believes only well-formed replies (bits 7
and 0 clear, bits 4 and 1 set); no reply or a malformed one reads as offline, never as "fine".
Call :meth:`ReceiptPrinter.require_ready` before taking money.

With ``serial://`` a status read costs up to ``timeout_s`` per query, because python-escpos
reads 16 bytes and a printer answers DLE EOT with one: keep ``timeout_s`` short for serial printers.

Every field is printed as ``Label: value`` on its own line so a receipt can be read back. The
methods block (python-escpos is synchronous): from asyncio, call them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cash_devices.errors import ConfigurationError, PaperOut, PrinterError, PrinterOffline

if TYPE_CHECKING:  # python-escpos pulls in PIL and qrcode (~0.5 s): import it only when printing
    from escpos.escpos import Escpos

__all__ = [
    "CURRENCY_EXPONENTS",
    "CashBoxReport",
    "PaperLevel",
    "PrinterStatus",
    "ReceiptPrinter",
    "RechargeReceipt",
    "VoucherSlip",
    "format_money",
    "open_receipt_printer",
]

log = logging.getLogger(__name__)

DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_PAPER = b"\x10\x04\x04"
STATUS_FIXED_MASK, STATUS_FIXED_BITS = 0x93, 0x12
OFFLINE_BIT = 0x08
PAPER_NEAR_END_BITS, PAPER_OUT_BITS = 0x0C, 0x60
CODE39_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-. $/+%")

# ISO 4217 minor-unit exponents that are not 2
CURRENCY_EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0, "HUF": 2, "ISK": 0, "KWD": 3, "BHD": 3}


def format_money(value_minor: int, currency: str) -> str:
    """``1250, "EUR"`` -> ``"12.50 EUR"`` (integer arithmetic, no floats)."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if value_minor < 0 else ""
    whole, fraction = divmod(abs(value_minor), 10**exponent)
    amount = f"{whole}.{fraction:0{exponent}d}" if exponent else str(whole)
    return f"{sign}{amount} {currency}"


class PaperLevel(enum.Enum):
    """What the paper sensors say."""

    OK = "ok"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's own answer to DLE EOT, and the raw bytes it gave."""

    online: bool
    paper: PaperLevel
    raw_printer: int | None = None
    raw_paper: int | None = None

    @property
    def ready(self) -> bool:
        """Online with paper (possibly low): safe to take money that needs a receipt."""
        return self.online and self.paper in (PaperLevel.OK, PaperLevel.LOW)


@dataclass(frozen=True)
class RechargeReceipt:
    """What a customer gets after a recharge."""

    amount_minor: int
    new_balance_minor: int
    currency: str
    time: dt.datetime
    kiosk_id: str
    transaction_id: str
    account: str = ""


@dataclass(frozen=True)
class VoucherSlip:
    """A printed voucher code."""

    code: str
    value_minor: int
    currency: str
    expires: dt.date
    kiosk_id: str
    batch: str = ""


@dataclass(frozen=True)
class CashBoxReport:
    """The operator's cash-box report: counts per denomination (value in minor units -> pieces)."""

    kiosk_id: str
    currency: str
    period_start: dt.datetime
    period_end: dt.datetime
    counts: Mapping[int, int]
    expected_minor: int | None = None
    operator: str = ""
    extra_lines: tuple[str, ...] = field(default_factory=tuple)

    @property
    def counted_minor(self) -> int:
        """The sum of every denomination times its count."""
        return sum(value * pieces for value, pieces in self.counts.items())


def _printer_errors() -> tuple[type[Exception], ...]:
    from escpos.exceptions import Error as EscposError

    return (OSError, EscposError)


def _status_byte(reply: bytes) -> int | None:
    if len(reply) != 1 or reply[0] & STATUS_FIXED_MASK != STATUS_FIXED_BITS:
        return None
    return reply[0]


def _paper_level(raw: int | None) -> PaperLevel:
    if raw is None:
        return PaperLevel.UNKNOWN
    if raw & PAPER_OUT_BITS:
        return PaperLevel.OUT
    return PaperLevel.LOW if raw & PAPER_NEAR_END_BITS else PaperLevel.OK


class ReceiptPrinter:
    """Receipts, slips and reports on any python-escpos printer object."""

    def __init__(self, printer: Escpos, *, header_lines: tuple[str, ...] = ("printgate",)) -> None:
        self.printer = printer
        self.header_lines = header_lines

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT 1 and 4); unreachable or malformed means offline/unknown."""
        try:
            raw_printer = _status_byte(self.printer.query_status(DLE_EOT_PRINTER))
            raw_paper = _status_byte(self.printer.query_status(DLE_EOT_PAPER))
        except _printer_errors() as error:
            log.warning("receipt printer status failed: %s", error)
            self._drop_connection()
            return PrinterStatus(online=False, paper=PaperLevel.UNKNOWN)
        online = raw_printer is not None and not raw_printer & OFFLINE_BIT
        return PrinterStatus(online, _paper_level(raw_paper), raw_printer, raw_paper)

    def require_ready(self) -> PrinterStatus:
        """Raise :class:`PaperOut` or :class:`PrinterOffline` unless a receipt can be printed."""
        status = self.status()
        if status.paper is PaperLevel.OUT:
            raise PaperOut("the receipt printer has no paper")
        if not status.ready:
            raise PrinterOffline(f"the receipt printer is not ready ({status})")
        return status

    def print_receipt(self, receipt: RechargeReceipt) -> None:
        """Recharge receipt: amount, new balance, time, kiosk, transaction id as text and QR."""
        lines = [
            ("Kiosk", receipt.kiosk_id),
            ("Time", receipt.time.isoformat(timespec="seconds")),
            ("Account", receipt.account),
            ("Amount", format_money(receipt.amount_minor, receipt.currency)),
            ("New balance", format_money(receipt.new_balance_minor, receipt.currency)),
            ("Transaction", receipt.transaction_id),
        ]
        self._job("RECHARGE", [(label, value) for label, value in lines if value], qr=receipt.transaction_id)

    def print_voucher(self, slip: VoucherSlip) -> None:
        """Voucher slip: code (text, and a CODE39 barcode when the code allows it), value, expiry."""
        lines = [
            ("Code", slip.code),
            ("Value", format_money(slip.value_minor, slip.currency)),
            ("Expires", slip.expires.isoformat()),
            ("Kiosk", slip.kiosk_id),
            ("Batch", slip.batch),
        ]
        barcode = slip.code if set(slip.code) <= CODE39_CHARACTERS else None
        self._job("VOUCHER", [(label, value) for label, value in lines if value], barcode=barcode)

    def print_cashbox_report(self, report: CashBoxReport) -> None:
        """Cash-box report: pieces per denomination, counted total, expected and difference."""
        lines = [
            ("Kiosk", report.kiosk_id),
            ("From", report.period_start.isoformat(timespec="seconds")),
            ("To", report.period_end.isoformat(timespec="seconds")),
        ]
        for value, pieces in sorted(report.counts.items()):
            amount = format_money(value * pieces, report.currency)
            lines.append((format_money(value, report.currency), f"{pieces} = {amount}"))
        lines.append(("Counted", format_money(report.counted_minor, report.currency)))
        if report.expected_minor is not None:
            lines.append(("Expected", format_money(report.expected_minor, report.currency)))
            difference = report.counted_minor - report.expected_minor
            lines.append(("Difference", format_money(difference, report.currency)))
        if report.operator:
            lines.append(("Operator", report.operator))
        self._job("CASH BOX", lines, extra=report.extra_lines)

    def close(self) -> None:
        """Close the connection to the printer."""
        self.printer.close()

    def _job(
        self,
        title: str,
        fields: list[tuple[str, str]],
        *,
        qr: str | None = None,
        barcode: str | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        try:
            self._write(title, fields, qr, barcode, extra)
        except _printer_errors() as error:
            self._drop_connection()
            raise PrinterError(f"receipt printing failed: {error}") from error

    def _drop_connection(self) -> None:
        # python-escpos reopens lazily on the next command, so a restarted printer is found again
        with contextlib.suppress(*_printer_errors()):
            self.printer.close()

    def _write(
        self,
        title: str,
        fields: list[tuple[str, str]],
        qr: str | None,
        barcode: str | None,
        extra: tuple[str, ...],
    ) -> None:
        printer = self.printer
        printer.hw("INIT")
        printer.set(align="center")
        for line in self.header_lines:
            printer.textln(line)
        printer.set(align="center", bold=True, double_height=True, double_width=True)
        printer.textln(title)
        printer.set_with_default()
        for label, value in fields:
            printer.textln(f"{label}: {value}")
        for line in extra:
            printer.textln(line)
        if qr:
            printer.set(align="center")  # native QR cannot be centred by qr() itself
            printer.qr(qr, native=True, size=4)
        if barcode:
            printer.barcode(barcode, "CODE39", pos="BELOW")
        printer.cut()


def open_receipt_printer(url: str, *, timeout_s: float = 5.0) -> ReceiptPrinter:
    """A :class:`ReceiptPrinter` for ``tcp://host:port``, ``serial:///dev/X?baudrate=N`` or ``usb://VID:PID``."""
    parsed = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parsed.query))
    try:
        printer = _PRINTER_FACTORIES[parsed.scheme](parsed, query, timeout_s)
    except KeyError as error:
        raise ConfigurationError(f"receipt printer URL {url!r}: use tcp://, serial:// or usb://") from error
    except ValueError as error:
        raise ConfigurationError(f"receipt printer URL {url!r}: {error}") from error
    return ReceiptPrinter(printer)


def _network(parsed: urllib.parse.SplitResult, query: dict[str, str], timeout_s: float) -> Escpos:
    from escpos.printer import Network

    if not parsed.hostname:
        raise ValueError("no host")
    return Network(parsed.hostname, port=parsed.port or 9100, timeout=timeout_s)


def _serial(parsed: urllib.parse.SplitResult, query: dict[str, str], timeout_s: float) -> Escpos:
    from escpos.printer import Serial

    return Serial(parsed.path, baudrate=int(query.get("baudrate", "9600")), timeout=timeout_s)


def _usb(parsed: urllib.parse.SplitResult, query: dict[str, str], timeout_s: float) -> Escpos:
    from escpos.printer import Usb

    vendor, _, product = parsed.netloc.partition(":")
    return Usb(int(vendor, 16), int(product, 16), timeout=int(timeout_s * 1000))


_PRINTER_FACTORIES = {"tcp": _network, "serial": _serial, "usb": _usb}
