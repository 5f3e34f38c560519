"""The simulated ccTalk line and devices on their pty, byte-exact against readers.md §4.1.

The host side here is raw bytes written to and read from the pty: the request frames are the
reference vectors written out literally, and the CRC-16 cross-check uses the standard library's
``binascii.crc_hqx`` (CRC-CCITT), not the driver's or the simulator's own CRC code.
"""

from __future__ import annotations

import binascii
import os
import time
from collections.abc import Iterator

import pytest

from hw_sim.cash.cctalk_sim import SimCcTalkBus, SimCoinAcceptor, SimNoteValidator, crc_xmodem
from tests.hw_sim.conftest import open_tty, read_exactly, silent_for

ACK_FROM_2 = bytes.fromhex("01 00 02 00 FD")
NAK_FROM_2 = bytes.fromhex("01 00 02 05 F8")
READ_BUFFERED_CREDIT = bytes.fromhex("02 00 01 E5 18")
CREDIT_POWER_UP = bytes.fromhex("01 0B 02 00 00 00 00 00 00 00 00 00 00 00 00 F2")
MODIFY_INHIBIT_ALL_ON = bytes.fromhex("02 02 01 E7 FF FF 16")
MASTER_ACCEPT = bytes.fromhex("02 01 01 E4 01 17")


class Host:
    """The host end of the line: writes a request, reads back its echo, then the reply."""

    def __init__(self, bus: SimCcTalkBus) -> None:
        self.fd = open_tty(bus.path)
        self.echo = bus.echo

    def ask(self, request: bytes, reply_length: int) -> bytes:
        os.write(self.fd, request)
        if self.echo:
            assert read_exactly(self.fd, len(request)) == request  # the one-wire bus reflects our bytes
        return read_exactly(self.fd, reply_length)

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def coin() -> Iterator[tuple[SimCoinAcceptor, Host]]:
    device = SimCoinAcceptor()
    with SimCcTalkBus(device) as bus:
        host = Host(bus)
        yield device, host
        host.close()


def test_simple_poll_is_acknowledged(coin) -> None:
    _, host = coin
    assert host.ask(bytes.fromhex("02 00 01 FE FF"), 5) == ACK_FROM_2


def test_serial_number_is_the_specification_example(coin) -> None:
    # ccTalk part 1 §7.12: serial 12,345,678 = 4E 61 BC, least significant byte first
    device, host = coin
    assert device.serial_number == 12_345_678
    assert host.ask(bytes.fromhex("02 00 01 F2 0B"), 8) == bytes.fromhex("01 03 02 00 4E 61 BC 8F")


def test_unknown_header_is_answered_with_nak(coin) -> None:
    _, host = coin
    # header 4 (request comms revision) is not implemented by the simulator; 2+0+1+4+F9 = 0 mod 256
    assert host.ask(bytes.fromhex("02 00 01 04 F9"), 5) == NAK_FROM_2


def test_coin_id_reply_is_the_reference_frame() -> None:
    device = SimCoinAcceptor(coins=("EU200A",))
    with SimCcTalkBus(device) as bus:
        host = Host(bus)
        try:
            reply = host.ask(bytes.fromhex("02 01 01 B8 01 43"), 11)
            assert reply == bytes.fromhex("01 06 02 00 45 55 32 30 30 41 8A")
            # equipment category: ASCII "Coin Acceptor"; 13 data bytes + 5
            category = host.ask(bytes.fromhex("02 00 01 F5 08"), 18)
            assert category[4:-1] == b"Coin Acceptor" and sum(category) % 256 == 0
        finally:
            host.close()


def test_buffered_credit_follows_the_reference_event_frames(coin) -> None:
    device, host = coin
    assert host.ask(READ_BUFFERED_CREDIT, 16) == CREDIT_POWER_UP
    assert host.ask(MODIFY_INHIBIT_ALL_ON, 5) == ACK_FROM_2
    assert host.ask(MASTER_ACCEPT, 5) == ACK_FROM_2
    assert host.ask(bytes.fromhex("02 00 01 E3 1A"), 6) == bytes.fromhex("01 01 02 00 01 FB")  # accepting
    assert device.insert_coin(20) == 1  # coin position 3 of the default table (EU020A)
    assert host.ask(READ_BUFFERED_CREDIT, 16) == bytes.fromhex(
        "01 0B 02 00 01 03 01 00 00 00 00 00 00 00 00 ED"
    )
    assert host.ask(bytes.fromhex("02 01 01 E4 00 18"), 5) == ACK_FROM_2  # master inhibit on
    assert device.insert_coin(20) == 2  # refused: error code 2, "inhibited coin"
    assert host.ask(READ_BUFFERED_CREDIT, 16) == bytes.fromhex(
        "01 0B 02 00 02 00 02 03 01 00 00 00 00 00 00 EA"
    )
    assert host.ask(bytes.fromhex("02 00 01 01 FC"), 5) == ACK_FROM_2  # reset device
    assert host.ask(READ_BUFFERED_CREDIT, 16) == CREDIT_POWER_UP
    assert [record.what for record in device.history if record.what != "request"] == [
        "coin", "coin", "power-cycle"
    ]  # fmt: skip


def test_event_counter_wraps_from_255_to_1(coin) -> None:
    device, host = coin
    host.ask(MODIFY_INHIBIT_ALL_ON, 5)
    host.ask(MASTER_ACCEPT, 5)
    device.set_counter(254)
    assert [device.insert_coin(5), device.insert_coin(5)] == [255, 1]
    reply = host.ask(READ_BUFFERED_CREDIT, 16)
    assert reply[4] == 1 and reply[5:9] == bytes([1, 1, 1, 1])  # counter 1, newest two pairs = coin 1


def test_a_frame_with_a_bad_checksum_gets_no_answer(coin) -> None:
    _, host = coin
    os.write(host.fd, bytes.fromhex("02 00 01 FE FE"))
    assert read_exactly(host.fd, 5) == bytes.fromhex("02 00 01 FE FE")  # only the echo
    assert silent_for(host.fd)
    assert host.ask(bytes.fromhex("02 00 01 FE FF"), 5) == ACK_FROM_2  # the line is fine afterwards


def test_a_partial_frame_is_dropped_after_the_inter_byte_timeout() -> None:
    device = SimCoinAcceptor()
    with SimCcTalkBus(device) as bus:
        host = Host(bus)
        try:
            os.write(host.fd, bytes.fromhex("02 00 01"))  # the rest never comes
            read_exactly(host.fd, 3)
            time.sleep(0.2)
            assert host.ask(bytes.fromhex("02 00 01 FE FF"), 5) == ACK_FROM_2
            assert [r.what for r in bus.history] == ["discarded"]
        finally:
            host.close()


def test_crc16_mode_uses_ccitt_with_the_low_byte_in_the_source_slot() -> None:
    assert binascii.crc_hqx(b"123456789", 0) == 0x31C3  # the published CRC-16/XMODEM check value
    for payload in (b"", b"\x28\x00\xfe", bytes(range(256))):
        assert crc_xmodem(payload) == binascii.crc_hqx(payload, 0)
    device = SimNoteValidator(crc16=True)
    with SimCcTalkBus(device) as bus:
        host = Host(bus)
        try:
            crc = binascii.crc_hqx(bytes([1, 0, 0]), 0)  # [dest, length, header] of the ACK
            expected = bytes([1, 0, crc & 0xFF, 0, crc >> 8])
            assert host.ask(bytes.fromhex("28 00 B6 FE 21"), 5) == expected  # esnext-cctalk vector
            os.write(host.fd, bytes.fromhex("28 00 01 FE D9"))  # the simple-checksum form: not valid here
            read_exactly(host.fd, 5)
            assert silent_for(host.fd)
        finally:
            host.close()


def test_simple_poll_to_the_bill_validator_in_simple_mode() -> None:
    with SimCcTalkBus(SimNoteValidator()) as bus:
        host = Host(bus)
        try:
            assert host.ask(bytes.fromhex("28 00 01 FE D9"), 5) == bytes.fromhex("01 00 28 00 D7")
        finally:
            host.close()


def test_line_without_echo_and_a_silent_device() -> None:
    device = SimCoinAcceptor()
    with SimCcTalkBus(device, echo=False) as bus:
        host = Host(bus)
        try:
            assert host.ask(bytes.fromhex("02 00 01 FE FF"), 5) == ACK_FROM_2
            device.silent = True
            os.write(host.fd, bytes.fromhex("02 00 01 FE FF"))
            assert silent_for(host.fd)
        finally:
            host.close()


def test_nobody_answers_at_an_unused_address(coin) -> None:
    _, host = coin
    os.write(host.fd, bytes.fromhex("03 00 01 FE FE"))  # simple poll to address 3 (a hopper)
    assert read_exactly(host.fd, 5) == bytes.fromhex("03 00 01 FE FE")
    assert silent_for(host.fd)
