"""The virtual PC/SC card against readers.md §1.9 and §3.2 (vector 12): APDUs and vpcd framing bytes."""

from __future__ import annotations

import socket
import struct
import threading
from functools import reduce
from operator import xor

from hw_sim.readers.vpcd_card import MIFARE_1K_ATR, VirtualCard

UID7 = "04A2246A7F5B80"
# readers.md §1.9: the ATR a PC/SC reader synthesises for a MIFARE Classic 1K
REFERENCE_ATR = bytes.fromhex("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A")


def test_atr_is_the_reference_one_and_its_check_byte_holds() -> None:
    assert MIFARE_1K_ATR == REFERENCE_ATR
    assert reduce(xor, REFERENCE_ATR[1:]) == 0  # TCK: XOR of T0 .. TCK is zero


def test_get_data_answers_like_the_acs_reference() -> None:
    card = VirtualCard(port=0)
    card.uid = bytes.fromhex(UID7)
    assert card.answer(bytes.fromhex("FFCA000000")) == bytes.fromhex("04A2246A7F5B809000")
    assert card.answer(bytes.fromhex("FFCA000007")) == bytes.fromhex("04A2246A7F5B809000")
    assert card.answer(bytes.fromhex("FFCA000004")) == bytes.fromhex("6C07")  # wrong Le: the exact length
    assert card.answer(bytes.fromhex("FFCA000009")) == bytes.fromhex(UID7 + "6282")  # end before Le
    assert card.answer(bytes.fromhex("FFCA010000")) == bytes.fromhex("6A81")  # ATS of a card without one
    assert card.answer(bytes.fromhex("00A4040000")) == bytes.fromhex("6A81")
    card.fail_next("6300")
    assert card.answer(bytes.fromhex("FFCA000000")) == bytes.fromhex("6300")
    assert card.answer(bytes.fromhex("FFCA000000")) == bytes.fromhex("04A2246A7F5B809000")


def test_card_speaks_the_vpcd_framing_byte_exact() -> None:
    """A loopback listener plays vpcd and checks the card's exact bytes (vector 12)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        card = VirtualCard(port=listener.getsockname()[1])
        inserting = threading.Thread(target=card.insert, args=(UID7,))
        inserting.start()
        vpcd, _ = listener.accept()
        inserting.join()
        with vpcd:
            vpcd.settimeout(5)
            vpcd.sendall(bytes.fromhex("000101"))  # power on: no answer
            vpcd.sendall(bytes.fromhex("000104"))
            assert _read_message(vpcd) == bytes.fromhex("0014") + REFERENCE_ATR
            vpcd.sendall(bytes.fromhex("0005FFCA000000"))
            assert _read_message(vpcd) == bytes.fromhex("0009 04A2246A7F5B80 9000")
            card.remove()
            assert vpcd.recv(1) == b""  # removing the card closes the connection
    assert [(e.action, e.detail) for e in card.history] == [
        ("insert", UID7), ("apdu", f"ffca000000 -> {UID7.lower()}9000"), ("remove", "")
    ]  # fmt: skip


def _read_message(sock: socket.socket) -> bytes:
    header = sock.recv(2, socket.MSG_WAITALL)
    return header + sock.recv(struct.unpack(">H", header)[0], socket.MSG_WAITALL)
