"""Receipts printed by the real driver (python-escpos over TCP) into the simulated printer and read back."""

from __future__ import annotations

import datetime as dt

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

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
from hw_sim.cash.escpos_sim import EscPosParser, PrintedLine, SimReceiptPrinter

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


# -- the simulator's parser against the python-escpos byte strings of readers.md §5.1 ------------


def test_parser_reads_reference_byte_strings():
    parser = EscPosParser()
    stream = bytes.fromhex(
        "1B 40"  # INIT
        "1B 74 00 48 69 0A"  # text('Hi\n')
        "1B 61 01 1B 45 01 1B 74 00 82 0A"  # centred bold 'é' in CP437
        "1D 28 6B 04 00 31 41 32 00 1D 28 6B 03 00 31 43 03 1D 28 6B 03 00 31 45 30"
        "1D 28 6B 06 00 31 50 30 41 42 43 1D 28 6B 03 00 31 51 30"  # qr('ABC', native=True)
        "1B 61 01 1D 68 40 1D 77 03 1D 66 00 1D 48 02 1D 6B 02 34 30 30 36 33 38 31 33 33 33 39 33 31 00"
        "1D 76 30 00 02 00 02 00 FF FF FF FF"  # 16x2 image
        "1B 70 00 32 32"  # cash drawer
        "1B 64 06 1D 56 00"  # cut
    )
    assert parser.feed(stream) == b""
    [receipt] = parser.receipts
    assert receipt.lines == [PrintedLine("Hi"), PrintedLine("é", "center", True)]
    assert receipt.qr_codes == ["ABC"]
    assert receipt.barcodes == [("EAN13", "4006381333931")]
    assert (receipt.images, receipt.drawer_kicks, receipt.cut) == ([(16, 2)], 1, "full")
    assert parser.errors == []


def test_parser_handles_byte_by_byte_delivery_and_python_escpos_output():
    dummy = Dummy()
    dummy.textln("Total 5.00 €")
    dummy.qr("tx-9", native=True)
    dummy.cut(mode="PART")
    parser = EscPosParser()
    for byte in dummy.output:
        parser.feed(bytes([byte]))
    [receipt] = parser.receipts
    assert receipt.text == ["Total 5.00 €"]
    assert (receipt.qr_codes, receipt.cut) == (["tx-9"], "partial")


def test_parser_answers_dle_eot_in_the_stream():
    parser = EscPosParser(lambda n: 0x12 | (0x60 if n == 4 else 0))
    assert parser.feed(b"\x10\x04\x01abc\x10\x04\x04") == b"\x12\x72"


def test_parser_flags_bad_sequences():
    parser = EscPosParser()
    parser.feed(b"\x1b\xff\x1d\x56\x07\x1d\x76\x30\x00\xff\xff\xff\xff")
    assert parser.errors[:2] == ["unknown command 0x1b 0xff", "invalid cut mode 7"]
    assert "raster image too large" in parser.errors[2]


@given(st.lists(st.binary(max_size=200), max_size=20))
@settings(max_examples=300, deadline=None)
def test_fuzz_parser_never_crashes(chunks):
    parser = EscPosParser()
    replies = b"".join(parser.feed(chunk) for chunk in chunks)
    assert len(replies) == len(parser.status_queries)


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
