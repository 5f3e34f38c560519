"""The simulated ESC/POS printer against readers.md §5: python-escpos byte strings and DLE EOT replies.

The parser is fed the reference byte strings and python-escpos's own output (a third-party
encoder); the status bytes are read over a raw TCP socket, not through ``cash_devices``.
"""

from __future__ import annotations

import socket
import time

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from hw_sim.cash.escpos_sim import EscPosParser, PrintedLine, SimReceiptPrinter


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


# readers.md §5.2: python-escpos's RT masks (constants.py) and _check_valid_response's fixed bits
ONLINE_PAPER_OK, OFFLINE, PAPER_LOW, PAPER_OUT = 0x12, 0x1A, 0x1E, 0x72


def _status(port: int, request: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(bytes([0x10, 0x04, request]))  # DLE EOT n
        reply = connection.recv(1)
    assert len(reply) == 1
    assert reply[0] & 0x81 == 0 and reply[0] & 0x12 == 0x12  # what python-escpos accepts as valid
    return reply[0]


@pytest.mark.parametrize(("verb", "which", "expected"), [
    (None, 1, ONLINE_PAPER_OK), (None, 4, ONLINE_PAPER_OK),
    ("go_offline", 1, OFFLINE), ("paper_low", 4, PAPER_LOW), ("paper_out", 4, PAPER_OUT),
])  # fmt: skip
def test_dle_eot_replies_are_the_python_escpos_masks(verb: str | None, which: int, expected: int) -> None:
    with SimReceiptPrinter() as printer:
        if verb is not None:
            getattr(printer, verb)()
        assert _status(printer.port, which) == expected


def test_refill_and_online_restore_the_ready_status() -> None:
    with SimReceiptPrinter() as printer:
        printer.paper_out()
        printer.go_offline()
        printer.refill()
        printer.go_online()
        assert (_status(printer.port, 1), _status(printer.port, 4)) == (ONLINE_PAPER_OK, ONLINE_PAPER_OK)


def test_a_job_sent_over_tcp_becomes_one_receipt() -> None:
    dummy = Dummy()
    dummy.textln("Credit 2.00 EUR")
    dummy.cut()
    with SimReceiptPrinter() as printer:
        with socket.create_connection(("127.0.0.1", printer.port), timeout=5) as connection:
            connection.sendall(dummy.output)
        deadline = time.monotonic() + 10  # a hang guard
        while not printer.receipts and time.monotonic() < deadline:
            time.sleep(0.01)
        [receipt] = printer.receipts
    assert (receipt.text, receipt.cut) == (["Credit 2.00 EUR"], "full")
