"""The simulated ID-003 validator on its pty, against byte vectors from public ID-003 hosts.

The request frames below are written out as public host code sends them to real validators
(lamassu/lamassu-machine ``lib/id003/id003rs232.js``, hackwin/JCMBillAcceptorID003, and public
Unity/C# kiosk clients found by search); each is also the expected reply where the validator's
answer has the same bytes (ACK, an ENABLE status, an echoed setting). No code of ``cash_devices``
is involved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hw_sim.cash.id003_sim import SimId003Validator, crc_kermit, frame
from tests.hw_sim.conftest import open_tty, read_exactly, silent_for

STATUS_REQUEST = bytes.fromhex("FC 05 11 27 56")  # also the ENABLE (idling) status
RESET = bytes.fromhex("FC 05 40 2B 15")
STACK_1 = bytes.fromhex("FC 05 41 A2 04")
RETURN = bytes.fromhex("FC 05 43 B0 27")
ACK = bytes.fromhex("FC 05 50 AA 05")  # the host's ACK and the validator's
INHIBIT = bytes.fromhex("FC 06 C3 01 8D C7")
ACCEPT = bytes.fromhex("FC 06 C3 00 04 D6")
ENABLE_ALL = bytes.fromhex("FC 07 C0 00 00 2D B5")
SECURITY = bytes.fromhex("FC 07 C1 00 00 F1 EF")
OPTIONAL_FUNCTION = bytes.fromhex("FC 07 C5 03 00 F8 A6")
POLLED_MODE = bytes.fromhex("FC 06 C2 00 DC CF")
VERSION_REQUEST = bytes.fromhex("FC 05 88 6F 5F")
CURRENCY_REQUEST = bytes.fromhex("FC 05 8A 7D 7C")


class Host:
    """Raw frames to the validator's port; replies read back by their length byte."""

    def __init__(self, sim: SimId003Validator) -> None:
        self.fd = open_tty(sim.path)

    def ask(self, request: bytes) -> bytes:
        os.write(self.fd, request)
        head = read_exactly(self.fd, 2)
        assert len(head) == 2 and head[0] == 0xFC, head
        return head + read_exactly(self.fd, head[1] - 2)

    def status(self) -> bytes:
        return self.ask(STATUS_REQUEST)


@pytest.fixture
def line() -> Iterator[tuple[SimId003Validator, Host]]:
    with SimId003Validator() as sim:
        host = Host(sim)
        yield sim, host
        os.close(host.fd)


def test_crc_is_kermit() -> None:
    assert crc_kermit(b"123456789") == 0x2189  # the CRC catalogue's check value for CRC-16/KERMIT
    for vector in (STATUS_REQUEST, STACK_1, INHIBIT, ENABLE_ALL, SECURITY, VERSION_REQUEST):
        assert frame(vector[2], vector[3:-2]) == vector


def test_power_up_reset_and_settings_follow_the_public_sequence(line) -> None:
    _, host = line
    assert host.status() == frame(0x40)  # POWER UP until the host resets it
    assert host.ask(RESET) == ACK
    assert host.status() == frame(0x1B)  # INITIALIZE
    assert host.status() == frame(0x1A)  # DISABLE: inhibited after a reset
    for setting in (ENABLE_ALL, SECURITY, OPTIONAL_FUNCTION, POLLED_MODE, ACCEPT):
        assert host.ask(setting) == setting  # every setting command is echoed
    assert host.status() == STATUS_REQUEST  # ENABLE (idling): the same five bytes
    assert host.ask(INHIBIT) == INHIBIT
    assert host.status() == frame(0x1A)
    assert host.ask(bytes.fromhex("FC 05 83") + _crc(bytes.fromhex("FC 05 83"))) == frame(0x83, b"\x01")


def test_version_and_currency_assignment(line) -> None:
    sim, host = line
    version = host.ask(VERSION_REQUEST)
    assert version[2] == 0x88 and version[3:-2] == sim.version.encode()
    table = host.ask(CURRENCY_REQUEST)[3:-2]
    rows = [tuple(table[i : i + 4]) for i in range(0, len(table), 4)]
    # escrow code, country, value, exponent: 5, 10, 20, 50, 100, 200 euro
    assert rows == [(0x62, 0, 5, 0), (0x63, 0, 1, 1), (0x64, 0, 2, 1), (0x65, 0, 5, 1), (0x66, 0, 1, 2),
                    (0x67, 0, 2, 2)]  # fmt: skip


def _ready(host: Host) -> None:
    host.ask(RESET)
    host.status()
    host.ask(ENABLE_ALL)
    host.ask(ACCEPT)


def test_a_note_goes_escrow_stack_vend_valid_until_ack_stacked(line) -> None:
    sim, host = line
    _ready(host)
    assert sim.insert_note(2000) is True
    assert host.status() == frame(0x12)  # ACCEPTING
    assert host.status() == frame(0x13, b"\x64") == host.status()  # ESCROW 20 euro, until routed
    assert host.ask(STACK_1) == ACK
    assert host.status() == frame(0x14)  # STACKING
    assert host.status() == frame(0x15) == host.status()  # VEND VALID until the host's ACK
    os.write(host.fd, ACK)
    assert silent_for(host.fd)  # the host's ACK is not answered
    assert host.status() == frame(0x16)  # STACKED
    assert host.status() == STATUS_REQUEST
    assert sim.stacked == [0x64]
    assert [r.what for r in sim.history if r.what != "command"] == ["note", "stack", "stacked"]


def test_return_reject_and_inhibit(line) -> None:
    sim, host = line
    _ready(host)
    sim.insert_note(500)
    host.status()
    assert host.ask(RETURN) == ACK
    assert host.status() == frame(0x18)  # RETURNING
    sim.reject_note(0x72)
    assert [host.status(), host.status()] == [frame(0x12), frame(0x17, b"\x72")]  # magnetic pattern
    host.ask(INHIBIT)
    assert sim.insert_note(500) is False
    assert [host.status(), host.status()] == [frame(0x12), frame(0x17, b"\x79")]  # inhibited
    assert host.ask(STACK_1) == frame(0x4B)  # nothing in escrow: INVALID COMMAND
    assert sim.stacked == []


def test_faults_are_statuses_until_cleared(line) -> None:
    sim, host = line
    _ready(host)
    sim.fail(0xA2)
    assert host.status() == frame(0x49, b"\xa2") == host.status()  # FAILURE: stack motor
    sim.clear_fault()
    sim.stacker_open()
    assert host.status() == frame(0x44)
    sim.clear_fault()
    sim.cheat()
    assert [host.status(), host.status()] == [frame(0x48), STATUS_REQUEST]


def test_garbage_gets_no_answer_and_the_line_resynchronises(line) -> None:
    sim, host = line
    os.write(host.fd, bytes.fromhex("00 FF FC 05 11 27 57"))  # noise, then a frame with a bad CRC
    assert silent_for(host.fd)
    assert host.status() == frame(0x40)
    assert [r.what for r in sim.history] == ["bad-frame"]


def test_noise_and_missed_frames(line) -> None:
    sim, host = line
    sim.corrupt_replies(1)
    corrupted = host.status()
    assert corrupted[:2] == bytes.fromhex("FC 05") and corrupted != frame(0x40)  # SYNC and LNG spared
    assert crc_kermit(corrupted[:-2]) != corrupted[-2] | corrupted[-1] << 8
    sim.miss_frames(1)
    os.write(host.fd, STATUS_REQUEST)
    assert silent_for(host.fd)
    assert host.status() == frame(0x40)
    assert sim.replies_corrupted == 1


def _crc(body: bytes) -> bytes:
    crc = crc_kermit(body)
    return bytes([crc & 0xFF, crc >> 8])
