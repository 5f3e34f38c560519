"""The ID-003 note validator driver: framing against public byte vectors, then the real driver
against the simulated validator on a pty for every path (escrow, stack, return, rejects, faults,
power-up, a lost ACK, line noise, a note left pending by a previous host)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cash_devices import Id003NoteValidator
from cash_devices.errors import ConfigurationError, EscrowError, FrameError
from cash_devices.events import (
    CounterState,
    DeviceError,
    ErrorKind,
    LinkChanged,
    NoteEscrowed,
    NoteReturned,
    NoteStacked,
    Reset,
)
from cash_devices.id003 import Command, crc16_kermit, decode_frame, encode_frame
from cash_devices.registry import open_acceptor
from hw_sim.cash import SimId003Validator
from tests.cash_devices.conftest import EventWaiter, run, until

# Frames public ID-003 hosts send to real validators (lamassu-machine id003rs232.js, hackwin
# JCMBillAcceptorID003, public C#/Unity kiosk clients); readers.md §4.5 derived the first four.
PUBLIC_VECTORS = {
    (Command.STATUS_REQUEST, b""): "FC 05 11 27 56",
    (Command.ACK, b""): "FC 05 50 AA 05",
    (Command.RESET, b""): "FC 05 40 2B 15",
    (Command.STACK_1, b""): "FC 05 41 A2 04",
    (Command.STACK_2, b""): "FC 05 42 39 36",
    (Command.RETURN, b""): "FC 05 43 B0 27",
    (Command.SET_INHIBIT, b"\x00"): "FC 06 C3 00 04 D6",
    (Command.SET_INHIBIT, b"\x01"): "FC 06 C3 01 8D C7",
    (Command.SET_ENABLE, b"\x00\x00"): "FC 07 C0 00 00 2D B5",
    (Command.SET_SECURITY, b"\x00\x00"): "FC 07 C1 00 00 F1 EF",
    (Command.SET_OPTIONAL_FUNCTION, b"\x03\x00"): "FC 07 C5 03 00 F8 A6",
    (Command.SET_COMMUNICATION_MODE, b"\x00"): "FC 06 C2 00 DC CF",
    (Command.GET_VERSION, b""): "FC 05 88 6F 5F",
    (Command.GET_CURRENCY_ASSIGNMENT, b""): "FC 05 8A 7D 7C",
}
SERIAL = "JCM-TEST-1"


@pytest.mark.parametrize(("command", "expected"), PUBLIC_VECTORS.items(), ids=lambda v: str(v))
def test_frames_match_the_public_vectors(command, expected):
    code, data = command
    raw = bytes.fromhex(expected)
    assert encode_frame(code, data) == raw
    frame = decode_frame(raw)
    assert (frame.code, frame.data) == (code, data)


def test_crc_is_kermit_check_value():
    assert crc16_kermit(b"123456789") == 0x2189


@pytest.mark.parametrize("raw", ["FC 05 11 27 57", "FC 06 11 27 56", "FD 05 11 27 56", "FC 05 11", ""])
def test_bad_frames_are_refused(raw):
    with pytest.raises(FrameError):
        decode_frame(bytes.fromhex(raw))


@given(st.binary(max_size=40))
def test_decode_fuzz_gives_a_frame_or_a_frame_error(raw):
    try:
        frame = decode_frame(raw)
    except FrameError:
        return
    assert encode_frame(frame.code, frame.data) == raw


def test_bad_settings_are_configuration_errors():
    async def scenario():
        with pytest.raises(ConfigurationError):
            await open_acceptor("id003", "/nonexistent/tty")
        with SimId003Validator() as sim, pytest.raises(ConfigurationError):
            await open_acceptor("id003", sim.path, 40)

    run(scenario)


# -- the driver against the simulator --------------------------------------------------------------


def open_validator(sim, **options):
    options.setdefault("device_serial", SERIAL)
    return open_acceptor("id003", sim.path, timeout_s=0.2, **options)


async def held_note(sim, events, value):
    sim.insert_note(value)
    event = await events.next()
    assert isinstance(event, NoteEscrowed) and event.value_minor == value
    return event


def test_open_resets_identifies_reads_the_notes_and_leaves_it_inhibited():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim, device_serial=None)
            try:
                identity = validator.identity
                assert (identity.manufacturer, identity.category) == ("JCM", "Bill Validator")
                assert identity.software_revision == sim.version
                assert identity.serial == f"ID003-{crc16_kermit(sim.version.encode()):04X}"
                assert {d.position: (d.code, d.value_minor) for d in validator.denominations.values()} == {
                    2: ("62", 500), 3: ("63", 1000), 4: ("64", 2000), 5: ("65", 5000), 6: ("66", 10000),
                    7: ("67", 20000),
                }  # fmt: skip
                assert sim.inhibited is True and validator.health.enabled is False
                assert [r.detail["code"] for r in sim.history if r.what == "command"][:2] == [0x40, 0xC3]
                check = await validator.self_check()
                assert (check.ok, check.name) == (True, "disable")
            finally:
                await validator.close()

    run(scenario)


def test_a_note_is_escrowed_then_stacked_and_credited_once():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator)
            try:
                await validator.enable(validator.mask_for([500, 2000]))
                assert sim.disabled_mask == 0xFFFF & ~0b1010  # escrow codes 0x62 and 0x64 enabled
                held = await held_note(sim, events, 2000)
                assert validator.held == held
                await validator.accept_escrow()
                stacked = await events.next()
                assert stacked == NoteStacked(
                    device_serial=SERIAL, value_minor=2000, currency="EUR", event_counter=1, epoch=0,
                    position=4, bill_id="64", escrow_id=held.escrow_id,
                )  # fmt: skip
                assert stacked.idempotency_key == f"{SERIAL}/0/1"
                await until(lambda: sim.count("stacked") == 1)  # our ACK ended VEND VALID
                assert sim.stacked == [0x64] and validator.counter_state == CounterState(0, 1)
                assert validator.health.counter == CounterState(0, 1)
                sim.insert_note(1000)  # not enabled: refused at once
                refused = await events.next()
                assert (refused.kind, refused.code, refused.kept) == (ErrorKind.REJECT, 0x79, False)
            finally:
                await validator.close()
        assert sim.inhibited is True

    run(scenario)


def test_a_returned_note_is_never_credit():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator)
            try:
                await validator.enable()
                held = await held_note(sim, events, 500)
                await validator.return_escrow()
                assert await events.next() == NoteReturned(device_serial=SERIAL, escrow_id=held.escrow_id)
                with pytest.raises(EscrowError, match="escrow is empty"):
                    await validator.accept_escrow()
                held = await held_note(sim, events, 500)
                sim.escrow_timeout()  # the validator gave up waiting and handed it back
                assert await events.next() == NoteReturned(device_serial=SERIAL, escrow_id=held.escrow_id)
                assert sim.stacked == [] and validator.counter_state == CounterState(0, 0)
            finally:
                await validator.close()

    run(scenario)


def test_without_escrow_every_note_is_stacked_by_the_driver():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim, escrow=False)
            events = EventWaiter(validator, skip=(NoteEscrowed,))
            try:
                await validator.enable()
                sim.insert_note(5000)
                first = await events.next()
                await until(lambda: sim.count("stacked") == 1)
                sim.insert_note(500)
                second = await events.next()
                assert [(e.value_minor, e.event_counter) for e in (first, second)] == [(5000, 1), (500, 2)]
            finally:
                await validator.close()

    run(scenario)


def test_rejects_faults_and_fraud_are_named_once_each():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator)
            try:
                await validator.enable()
                sim.reject_note(0x72)
                reject = await events.next()
                assert (reject.code, reject.name, reject.kind) == (
                    0x72,
                    "magnetic pattern error",
                    ErrorKind.REJECT,
                )
                sim.fail(0xA2)
                failure = await events.next()
                assert (failure.name, failure.kind) == ("failure: stack motor failure", ErrorKind.FAULT)
                check = await validator.self_check()
                assert (check.ok, check.code, check.detail) == (False, 0x49, b"\xa2")
                sim.clear_fault()
                sim.stacker_open()
                assert (await events.next()).name == "stacker open"
                sim.clear_fault()
                sim.cheat()
                fraud = await events.next()
                assert (fraud.name, fraud.kind) == ("cheated", ErrorKind.FRAUD)
                health = validator.health
                assert (health.fraud_alarms, health.last_error) == (1, "cheated")
                assert (await validator.self_check()).ok is True
            finally:
                await validator.close()

    run(scenario)


def test_a_power_up_while_running_resets_it_and_keeps_keys_unique():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator)
            try:
                await validator.enable()
                await held_note(sim, events, 500)
                await validator.accept_escrow()
                first = await events.next()
                await until(lambda: sim.count("stacked") == 1)
                held = await held_note(sim, events, 1000)
                sim.power_cycle("stacker")  # power lost with the note on its way in: not credited
                assert await events.next() == Reset(device_serial=SERIAL, epoch=1)
                lost = await events.next()
                assert (lost.kept, lost.code) == (True, 0x42) and held.bill_id in lost.name
                await until(lambda: sim.inhibited is False)  # setup re-applied after the reset
                await held_note(sim, events, 500)
                await validator.accept_escrow()
                second = await events.next()
                assert (second.epoch, second.event_counter) == (1, 2)
                assert first.idempotency_key != second.idempotency_key
                health = validator.health
                assert (health.resets, health.kept_without_credit) == (1, 1)
            finally:
                await validator.close()

    run(scenario)


def test_a_lost_ack_repeats_vend_valid_but_credits_once():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator)
            try:
                await validator.enable()
                await held_note(sim, events, 500)
                sim.miss_frames(1, code=Command.ACK)  # our first ACK is lost on the line
                await validator.accept_escrow()
                assert isinstance(await events.next(), NoteStacked)
                await until(lambda: sim.count("stacked") == 1)
                assert sim.count("missed") == 1
                await held_note(sim, events, 1000)  # the next event is the next note: no double credit
                assert validator.counter_state == CounterState(0, 1)
            finally:
                await validator.close()

    run(scenario)


def test_resume_continues_the_numbering_and_a_pending_vend_valid_is_reconciled_not_guessed():
    async def scenario():
        with SimId003Validator() as sim:
            host = os.open(sim.path, os.O_RDWR | os.O_NOCTTY)
            try:  # a previous host: reset, enable all, the note stacked, then it died before its ACK
                for request in ("FC 05 40 2B 15", "FC 07 C0 00 00 2D B5", "FC 06 C3 00 04 D6"):
                    os.write(host, bytes.fromhex(request))
                await until(lambda: sim.inhibited is False)
                sim.insert_note(500)
                os.write(host, bytes.fromhex("FC 05 41 A2 04"))  # STACK-1
                await until(lambda: sim.count("stack") == 1)
            finally:
                os.close(host)
            validator = await open_validator(sim, resume=CounterState(3, 41))
            events = EventWaiter(validator)
            try:
                pending = await events.next()
                assert (type(pending), pending.kept, pending.code) == (DeviceError, True, 0x15)
                await until(lambda: sim.count("stacked") == 1)  # acknowledged, so the validator moves on
                await validator.enable()
                await held_note(sim, events, 1000)
                await validator.accept_escrow()
                credit = await events.next()
                assert (credit.epoch, credit.event_counter, credit.value_minor) == (3, 42, 1000)
            finally:
                await validator.close()

    run(scenario)


def test_line_noise_is_repeated_counted_and_no_outage():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator, skip=(NoteEscrowed,))
            try:
                await validator.enable()
                sim.line_noise(0.2, seed=5)
                credits = []
                for value in (500, 1000, 2000, 500, 1000, 2000):
                    sim.insert_note(value)
                    await until(lambda: validator.held is not None)  # the poll saw the escrow
                    await validator.accept_escrow()
                    credits.append(await events.next())
                    await until(lambda: sim.held is None and sim.count("stacked") == len(credits))
                assert [c.event_counter for c in credits] == [1, 2, 3, 4, 5, 6]
                assert [c.value_minor for c in credits] == [500, 1000, 2000, 500, 1000, 2000]
                assert not [c for c in credits if not isinstance(c, NoteStacked)]
                sim.line_noise(0.0)
                await until(lambda: validator.health.frames_rejected == sim.replies_corrupted)
                health = validator.health
                assert health.online is True and sim.replies_corrupted > 0 and health.repeats > 0
            finally:
                await validator.close()

    run(scenario)


def test_a_silent_validator_goes_offline_after_repeated_failures_and_comes_back():
    async def scenario():
        with SimId003Validator() as sim:
            validator = await open_validator(sim)
            events = EventWaiter(validator)
            try:
                sim.miss_frames(3)  # one poll fails as a whole: noise, not an outage
                await until(lambda: validator.health.failed_polls == 1)
                assert validator.health.online is True
                sim.silent = True
                offline = await events.next()
                assert (type(offline), offline.online) == (LinkChanged, False)
                sim.silent = False
                assert await events.next() == LinkChanged(device_serial=SERIAL, online=True)
            finally:
                await validator.close()

    run(scenario)


def test_validator_class_is_an_escrow_acceptor():
    from cash_devices import Escrow

    assert issubclass(Id003NoteValidator, Escrow)


def test_link_skips_noise_before_sync_and_repeats_a_corrupt_reply(scripted_line):
    from cash_devices.id003 import open_id003_link

    status = bytes.fromhex("FC 05 11 27 56")
    corrupt, idle = bytes.fromhex("FC 05 11 27 57"), bytes.fromhex("FC 05 11 27 56")
    line = scripted_line({status: [b"\x00\xff\x13" + corrupt, b"\xfe" + idle]}, echo=False)
    link = open_id003_link(line.path, timeout_s=0.5)
    try:
        exchange = link.exchange(Command.STATUS_REQUEST)
    finally:
        link.close()
    assert (exchange.reply.code, exchange.attempts) == (0x11, 2)
    # the corrupt frame and each run of noise before SYNC are counted; one repeat
    assert (link.frames_rejected, link.repeats, link.timeouts) == (3, 1, 0)
