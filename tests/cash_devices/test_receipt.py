"""Receipts printed by the real driver (python-escpos over TCP) into the simulated printer and read back."""

from __future__ import annotations

import datetime as dt

import pytest

from cash_devices.errors import ConfigurationError, PaperOut, PrinterOffline
from cash_devices.receipt import (
    CashBoxReport,
    PaperLevel,
    PrinterStatus,
    RechargeReceipt,
    VoucherSlip,
    format_money,
    open_receipt_printer,
)
from hw_sim.cash.escpos_sim import PrintedLine, SimReceiptPrinter

WHEN = dt.datetime(2026, 11, 27, 9, 30, 5, tzinfo=dt.UTC)


@pytest.fixture
def sim():
    with SimReceiptPrinter() as printer:
        yield printer


@pytest.fixture
def printer(sim):
    receipt_printer = open_receipt_printer(f"tcp://127.0.0.1:{sim.port}", timeout_s=5)
    yield receipt_printer
    receipt_printer.close()


def fields(receipt):
    """``Label: value`` lines back into a dict (the way an auditor would read the slip)."""
    return dict(line.split(": ", 1) for line in receipt.text if ": " in line)


def wait_for_receipts(sim, count):
    import time

    deadline = time.monotonic() + 10  # a hang guard only
    while len(sim.receipts) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return sim.receipts


def test_recharge_receipt_reads_back_field_by_field(sim, printer):
    printer.print_receipt(
        RechargeReceipt(
            amount_minor=500,
            new_balance_minor=1250,
            currency="EUR",
            time=WHEN,
            kiosk_id="kiosk-lib-1",
            transaction_id="tx-0001-ab",
            account="alice",
        )
    )
    [receipt] = wait_for_receipts(sim, 1)
    assert fields(receipt) == {
        "Kiosk": "kiosk-lib-1",
        "Time": "2026-11-27T09:30:05+00:00",
        "Account": "alice",
        "Amount": "5.00 EUR",
        "New balance": "12.50 EUR",
        "Transaction": "tx-0001-ab",
    }
    assert receipt.qr_codes == ["tx-0001-ab"]
    assert PrintedLine("RECHARGE", "center", True, True, True) in receipt.lines
    assert receipt.cut == "full"
    assert sim.errors == []


def test_voucher_slip_with_barcode(sim, printer):
    printer.print_voucher(
        VoucherSlip(
            code="PG-7K3M-9QX2",
            value_minor=1000,
            currency="EUR",
            expires=dt.date(2027, 1, 31),
            kiosk_id="k1",
            batch="B17",
        )
    )
    [receipt] = wait_for_receipts(sim, 1)
    assert fields(receipt) == {
        "Code": "PG-7K3M-9QX2",
        "Value": "10.00 EUR",
        "Expires": "2027-01-31",
        "Kiosk": "k1",
        "Batch": "B17",
    }
    assert receipt.barcodes == [("CODE39", "PG-7K3M-9QX2")]


def test_cash_box_report_totals_and_difference(sim, printer):
    printer.print_cashbox_report(
        CashBoxReport(
            kiosk_id="k1",
            currency="EUR",
            period_start=WHEN,
            period_end=WHEN + dt.timedelta(days=7),
            counts={200: 13, 50: 4, 1000: 2},
            expected_minor=4850,
            operator="op-3",
        )
    )
    [receipt] = wait_for_receipts(sim, 1)
    assert fields(receipt) == {
        "Kiosk": "k1",
        "From": "2026-11-27T09:30:05+00:00",
        "To": "2026-12-04T09:30:05+00:00",
        "0.50 EUR": "4 = 2.00 EUR",
        "2.00 EUR": "13 = 26.00 EUR",
        "10.00 EUR": "2 = 20.00 EUR",
        "Counted": "48.00 EUR",
        "Expected": "48.50 EUR",
        "Difference": "-0.50 EUR",
        "Operator": "op-3",
    }


def test_two_jobs_are_two_receipts(sim, printer):
    for amount in (100, 200):
        printer.print_receipt(RechargeReceipt(amount, amount, "EUR", WHEN, "k", f"tx{amount}"))
    receipts = wait_for_receipts(sim, 2)
    assert [fields(receipt)["Amount"] for receipt in receipts] == ["1.00 EUR", "2.00 EUR"]


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        (None, PrinterStatus(True, PaperLevel.OK, 0x12, 0x12)),
        ("paper_low", PrinterStatus(True, PaperLevel.LOW, 0x12, 0x1E)),
        ("paper_out", PrinterStatus(False, PaperLevel.OUT, 0x1A, 0x72)),
        ("go_offline", PrinterStatus(False, PaperLevel.OK, 0x1A, 0x12)),
    ],
)
def test_status_is_read_back_with_dle_eot(sim, printer, verb, expected):
    if verb:
        getattr(sim, verb)()
    assert printer.status() == expected
    assert sim._parsers[0].status_queries == [1, 4]


def test_require_ready_refuses_before_money_is_taken(sim, printer):
    assert printer.require_ready().ready is True
    sim.paper_out()
    with pytest.raises(PaperOut):
        printer.require_ready()
    sim.refill()
    sim.go_offline()
    with pytest.raises(PrinterOffline):
        printer.require_ready()


def test_unreachable_printer_is_offline_not_fine():
    with SimReceiptPrinter() as sim:
        port = sim.port
    receipt_printer = open_receipt_printer(f"tcp://127.0.0.1:{port}", timeout_s=1)
    assert receipt_printer.status() == PrinterStatus(False, PaperLevel.UNKNOWN)


def test_bad_urls_are_configuration_errors():
    for url in ("lpt://x", "tcp://", "usb://zz:01"):
        with pytest.raises(ConfigurationError):
            open_receipt_printer(url)


def test_format_money():
    assert [format_money(v, c) for v, c in [(0, "EUR"), (5, "EUR"), (-1250, "EUR"), (500, "JPY")]] == [
        "0.00 EUR",
        "0.05 EUR",
        "-12.50 EUR",
        "500 JPY",
    ]


def test_a_restarted_printer_is_found_again():
    first = SimReceiptPrinter().start()
    port = first.port
    receipt_printer = open_receipt_printer(f"tcp://127.0.0.1:{port}", timeout_s=2)
    try:
        assert receipt_printer.status().online is True
        first.close()  # the printer is switched off: its connections drop
        assert receipt_printer.status() == PrinterStatus(False, PaperLevel.UNKNOWN)
        with SimReceiptPrinter(port=port) as second:
            assert receipt_printer.status().online is True
            receipt_printer.print_receipt(RechargeReceipt(100, 100, "EUR", WHEN, "k", "tx-after-restart"))
            assert wait_for_receipts(second, 1)[0].qr_codes == ["tx-after-restart"]
    finally:
        receipt_printer.close()


def test_serial_printer_on_a_pty_prints_and_reports_status():
    with SimReceiptPrinter() as sim:
        path = sim.serve_pty()
        receipt_printer = open_receipt_printer(f"serial://{path}?baudrate=19200", timeout_s=0.5)
        try:
            sim.paper_low()
            assert receipt_printer.status() == PrinterStatus(True, PaperLevel.LOW, 0x12, 0x1E)
            receipt_printer.print_receipt(RechargeReceipt(250, 900, "EUR", WHEN, "k-serial", "tx-serial"))
            [receipt] = wait_for_receipts(sim, 1)
            assert fields(receipt)["Amount"] == "2.50 EUR"
            assert receipt.qr_codes == ["tx-serial"]
        finally:
            receipt_printer.close()
