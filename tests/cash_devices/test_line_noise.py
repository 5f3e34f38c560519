"""ccTalk line noise: the real drivers against the simulators with bits flipped on the real pty.

A reply whose checksum (or CRC) fails is repeated at once and counted; it never reports the
device offline by itself (a false alarm at the operator's screen). Only several failed polls in
a row do. Money stays exactly once: every coin is credited once, a note stacked once.
"""

from __future__ import annotations

import pytest

from cash_devices.errors import EscrowError
from cash_devices.events import CoinAccepted, LinkChanged, NoteEscrowed, NoteStacked
from cash_devices.note_validator import CcTalkNoteValidator
from cash_devices.registry import open_acceptor
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor, SimNoteValidator
from tests.cash_devices.conftest import EventWaiter, run, until

READ_BUFFERED_CREDIT, ROUTE_BILL = 229, 154


@pytest.fixture(params=["simple", "crc16"])
def checksum(request):
    return request.param


def open_coin(bus, checksum, **options):
    return open_acceptor("cctalk", bus.path, 2, kind="coin", checksum=checksum, timeout_s=0.2, **options)


def test_one_corrupt_reply_is_repeated_at_once_counted_and_no_outage(checksum):
    device = SimCoinAcceptor(crc16=checksum == "crc16")

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_coin(bus, checksum)
            events = EventWaiter(acceptor)
            try:
                await acceptor.enable()
                polls = device.polls_answered
                bus.corrupt_replies(1, header=READ_BUFFERED_CREDIT)
                await until(lambda: bus.replies_corrupted == 1 and device.polls_answered >= polls + 3)
                device.insert_coin(200)
                credit = await events.next()  # nothing came before it: no LinkChanged
                assert isinstance(credit, CoinAccepted) and credit.value_minor == 200
                health = acceptor.health
                assert (health.online, health.frames_rejected, health.repeats) == (True, 1, 1)
                assert (health.failed_polls, health.timeouts, health.lost_events) == (0, 0, 0)
                [noise] = [record for record in bus.history if record.what == "noise"]
                assert noise.detail["byte"] != 1  # the length byte was spared: a complete, bad frame
            finally:
                await acceptor.close()

    run(scenario)


def test_a_noisy_line_credits_every_coin_exactly_once_and_stays_online(checksum):
    device = SimCoinAcceptor(crc16=checksum == "crc16")

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_coin(bus, checksum)
            events = EventWaiter(acceptor)
            try:
                await acceptor.enable()
                bus.line_noise(0.2, seed=11)  # one reply in five arrives with a flipped bit
                seen = []
                for _burst in range(8):
                    for _ in range(3):  # fewer than the 5 buffered events between two good polls
                        device.insert_coin(10)
                    seen += [await events.next() for _ in range(3)]
                assert not [event for event in seen if isinstance(event, LinkChanged)]
                assert [event.event_counter for event in seen] == list(range(1, 25))
                assert len({event.idempotency_key for event in seen}) == 24
                bus.line_noise(0.0)
                await until(lambda: acceptor.health.frames_rejected == bus.replies_corrupted)
                health = acceptor.health
                assert health.online is True and bus.replies_corrupted > 0
                assert health.repeats == bus.replies_corrupted - health.failed_polls  # 3rd failure: no repeat
                assert (health.timeouts, health.lost_events) == (0, 0)
            finally:
                await acceptor.close()

    run(scenario)


def test_only_repeated_failures_mark_the_device_offline(checksum):
    device = SimCoinAcceptor(crc16=checksum == "crc16")

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_coin(bus, checksum)  # retries=2: three attempts per poll
            events = EventWaiter(acceptor)
            try:
                await acceptor.enable()
                bus.corrupt_replies(3, header=READ_BUFFERED_CREDIT)  # one poll fails as a whole
                await until(lambda: acceptor.health.failed_polls == 1)
                polls = device.polls_answered
                await until(lambda: device.polls_answered >= polls + 3)
                assert acceptor.health.online is True
                bus.corrupt_replies(9, header=READ_BUFFERED_CREDIT)  # three failed polls in a row
                offline = await events.next()
                assert (type(offline), offline.online) == (LinkChanged, False)
                assert "mismatch" in offline.reason  # the checksum or CRC says why
                assert await events.next() == LinkChanged(device_serial=offline.device_serial, online=True)
                assert (acceptor.health.failed_polls, acceptor.health.frames_rejected) == (4, 12)
            finally:
                await acceptor.close()

    run(scenario)


def test_a_stack_command_whose_ack_was_garbled_stacks_the_note_once(checksum):
    device = SimNoteValidator(crc16=checksum == "crc16", bills=("EU0005A", "EU0010A"))

    async def scenario():
        with SimCcTalkBus(device) as bus:
            validator = await open_acceptor(
                "cctalk", bus.path, 40, kind="note", checksum=checksum, timeout_s=0.2
            )
            assert isinstance(validator, CcTalkNoteValidator)
            events = EventWaiter(validator)
            try:
                await validator.enable()
                device.insert_note(1000)
                held = await events.next()
                assert isinstance(held, NoteEscrowed)
                bus.corrupt_replies(1, header=ROUTE_BILL)
                await validator.accept_escrow()  # repeated: "escrow is empty", as the first one stacked it
                stacked = await events.next()
                assert isinstance(stacked, NoteStacked)
                assert (stacked.value_minor, stacked.escrow_id) == (1000, held.escrow_id)
                routes = [r for r in device.history if r.what == "route"]
                assert len(routes) == 1 and validator.health.repeats == 1
                with pytest.raises(EscrowError, match="escrow is empty"):  # nothing held: an error
                    await validator.accept_escrow()
            finally:
                await validator.close()

    run(scenario)
