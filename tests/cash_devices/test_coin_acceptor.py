"""The real ccTalk coin acceptor driver against the simulated one, over a pty, for every event path."""

from __future__ import annotations

import pytest

from cash_devices.base import Denomination, SelfCheck
from cash_devices.errors import EchoError, ReplyTimeout
from cash_devices.events import (
    CoinAccepted,
    CounterState,
    DeviceError,
    ErrorKind,
    LinkChanged,
    LostEvents,
    Reset,
)
from cash_devices.registry import open_acceptor
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor
from tests.cash_devices.conftest import EventWaiter, run, until

SERIAL = "SIM-12345678"


def coin(value, counter, epoch=0):
    position = {5: 1, 10: 2, 20: 3, 50: 4, 100: 5, 200: 6}[value]
    return CoinAccepted(
        device_serial=SERIAL,
        value_minor=value,
        currency="EUR",
        event_counter=counter,
        epoch=epoch,
        position=position,
        coin_id=f"EU{value:03d}A",
        sorter_path=1,
    )


@pytest.fixture(params=["simple", "crc16"])
def checksum(request):
    return request.param


@pytest.fixture
def device(checksum):
    return SimCoinAcceptor(crc16=checksum == "crc16")


@pytest.fixture
def bus(device):
    with SimCcTalkBus(device) as line:
        yield line


def open_coin(bus, checksum, **options):
    return open_acceptor("cctalk", bus.path, 2, kind="coin", checksum=checksum, timeout_s=0.2, **options)


def test_identity_and_coin_table(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        try:
            identity = acceptor.identity
            assert (identity.manufacturer, identity.category, identity.product) == (
                "SIM",
                "Coin Acceptor",
                "SIMCOIN",
            )
            assert identity.serial == SERIAL
            assert identity.software_revision == "1.0"
            assert acceptor.denominations == {
                p: Denomination(p, f"EU{v:03d}A", v, "EUR")
                for p, v in zip(range(1, 7), (5, 10, 20, 50, 100, 200), strict=True)
            }
            assert device.master_accepting is False  # open() leaves it inhibited
        finally:
            await acceptor.close()

    run(scenario)


def test_coin_accepted_only_while_enabled_and_only_enabled_values(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            device.insert_coin(200)  # still inhibited: the coin is handed back
            assert await events.next() == DeviceError(
                device_serial=SERIAL, code=2, name="inhibited coin", kind=ErrorKind.REJECT, kept=False
            )
            await acceptor.enable(acceptor.mask_for([100, 200]))
            assert (device.inhibit_mask, device.master_accepting) == (0b110000, True)
            device.insert_coin(200)
            assert await events.next() == coin(200, counter=2)
            device.insert_coin(50)
            assert (await events.next()).code == 2
            device.insert_coin(100)
            accepted = await events.next()
            assert accepted == coin(100, counter=4)
            assert accepted.idempotency_key == f"{SERIAL}/0/4"
            await acceptor.disable()
            assert device.master_accepting is False
            assert acceptor.health.enabled is False
        finally:
            await acceptor.close()

    run(scenario)


def test_enable_without_mask_accepts_every_known_coin(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        try:
            await acceptor.enable()
            assert device.inhibit_mask == 0b111111
        finally:
            await acceptor.close()
        assert device.master_accepting is False  # close() inhibits first

    run(scenario)


def test_jam_and_fraud_are_named_and_counted(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            device.jam()
            assert await events.next() == DeviceError(
                device_serial=SERIAL, code=14, name="credit sensor blocked", kind=ErrorKind.FAULT, kept=False
            )
            device.fraud_attempt()
            assert await events.next() == DeviceError(
                device_serial=SERIAL,
                code=20,
                name="coin on string mechanism activated",
                kind=ErrorKind.FRAUD,
                kept=True,  # the coin fell into the box, without credit: the operator must know
            )
            health = acceptor.health
            assert (health.fraud_alarms, health.kept_without_credit) == (1, 1)
            assert health.last_error == "coin on string mechanism activated"
        finally:
            await acceptor.close()

    run(scenario)


def test_reset_is_reported_setup_reapplied_and_keys_stay_unique(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            device.insert_coin(50)
            first = await events.next()
            assert first == coin(50, counter=1)
            device.power_cycle()
            assert await events.next() == Reset(device_serial=SERIAL, epoch=1)
            await until(lambda: device.master_accepting)  # the driver re-enabled what it had enabled
            assert device.inhibit_mask == 0b111111
            device.insert_coin(50)
            second = await events.next()
            assert second == coin(50, counter=1, epoch=1)
            assert first.idempotency_key != second.idempotency_key
            assert acceptor.health.resets == 1
        finally:
            await acceptor.close()

    run(scenario)


def test_counter_jump_beyond_the_buffer_raises_lost_events_and_credits_only_what_is_seen(
    bus, device, checksum
):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            device.lossy(1.0)  # every poll is dropped from now on
            for value in (5, 10, 20, 50, 100, 200, 200):
                device.insert_coin(value)
            dropped = device.count("dropped-poll")
            await until(lambda: device.count("dropped-poll") > dropped)  # a poll saw them, unanswered
            assert await events.next() == LinkChanged(
                device_serial=SERIAL, online=False, reason="ccTalk reply timed out after 0 bytes"
            )
            device.lossy(0.0)
            assert await events.next() == LinkChanged(device_serial=SERIAL, online=True)
            assert await events.next() == LostEvents(
                device_serial=SERIAL, count=2, from_counter=0, to_counter=2
            )
            credited = [await events.next() for _ in range(5)]
            assert credited == [
                coin(20, 3),
                coin(50, 4),
                coin(100, 5),
                coin(200, 6),
                coin(200, 7),
            ]
            assert acceptor.health.lost_events == 2
            assert acceptor.health.timeouts >= 3
        finally:
            await acceptor.close()

    run(scenario)


def test_counter_wraps_from_255_to_1_with_a_new_epoch(bus, device, checksum):
    async def scenario():
        device.set_counter(254)
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            device.insert_coin(10)
            device.insert_coin(20)
            assert [await events.next(), await events.next()] == [coin(10, 255), coin(20, 1, epoch=1)]
            assert acceptor.counter_state == CounterState(epoch=1, event_counter=1)
        finally:
            await acceptor.close()

    run(scenario)


def test_events_buffered_before_start_are_not_credited_again(bus, device, checksum):
    async def scenario():
        device.master_accepting, device.inhibit_mask = True, 0xFFFF
        device.insert_coin(200)
        device.insert_coin(200)
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            device.insert_coin(5)
            assert await events.next() == coin(5, 3)  # the two earlier coins were not replayed
        finally:
            await acceptor.close()

    run(scenario)


def test_resume_from_a_persisted_counter_delivers_what_happened_while_down(bus, device, checksum):
    async def scenario():
        device.master_accepting, device.inhibit_mask = True, 0xFFFF
        for value in (10, 20, 50):
            device.insert_coin(value)
        acceptor = await open_coin(bus, checksum, resume=CounterState(epoch=0, event_counter=1))
        events = EventWaiter(acceptor)
        try:
            assert [await events.next(), await events.next()] == [coin(20, 2), coin(50, 3)]
        finally:
            await acceptor.close()

    run(scenario)


def test_configurable_address_and_nobody_at_the_wrong_one(checksum):
    device = SimCoinAcceptor(address=7, crc16=checksum == "crc16")

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_acceptor("cctalk", bus.path, 7, checksum=checksum, timeout_s=0.2)
            assert acceptor.identity is not None
            assert acceptor.identity.address == 7
            await acceptor.close()
            with pytest.raises(ReplyTimeout):
                await open_acceptor("cctalk", bus.path, 2, checksum=checksum, timeout_s=0.1, retries=0)

    run(scenario)


def test_wrong_checksum_mode_is_ignored_by_the_device(checksum):
    device = SimCoinAcceptor(crc16=checksum == "crc16")
    other = "simple" if checksum == "crc16" else "crc16"

    async def scenario():
        with SimCcTalkBus(device) as bus:
            with pytest.raises(ReplyTimeout):
                await open_acceptor("cctalk", bus.path, 2, checksum=other, timeout_s=0.1, retries=0)
            assert any(record.what == "bad-frame" for record in bus.history)

    run(scenario)


def test_missing_echo_is_reported_as_a_wiring_fault():
    async def scenario():
        with SimCcTalkBus(SimCoinAcceptor(), echo=False) as bus, pytest.raises(EchoError, match="wiring"):
            await open_acceptor("cctalk", bus.path, 2, timeout_s=0.1)

    run(scenario)


def test_lossy_line_still_credits_every_coin_exactly_once(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor, skip=(LinkChanged,))
        try:
            await acceptor.enable()
            device.lossy(0.4, seed=7)  # 40 % of polls unanswered; the link retries, the counter catches up
            credited = []
            for _burst in range(8):
                for _ in range(3):  # fewer than the 5 buffered events between two good polls
                    device.insert_coin(10)
                credited += [await events.next() for _ in range(3)]
            assert [event.event_counter for event in credited] == list(range(1, 25))
            assert all(isinstance(event, CoinAccepted) for event in credited)
            assert device.count("dropped-poll") > 0
            assert acceptor.health.lost_events == 0
        finally:
            await acceptor.close()

    run(scenario)


def test_host_address_is_configurable():
    """Simple-checksum mode only: in CRC-16 mode the source byte carries the CRC (host is 1)."""
    device = SimCoinAcceptor()

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_acceptor("cctalk", bus.path, 2, host_address=9, timeout_s=0.2)
            await acceptor.close()  # open() succeeding means every reply addressed to 9 was accepted

    run(scenario)


def test_self_check_reports_the_fault_until_cleared(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        try:
            assert await acceptor.self_check() == SelfCheck(ok=True, code=0, name="OK")
            device.jam()
            assert await acceptor.self_check() == SelfCheck(ok=False, code=3, name="fault on credit sensor")
            device.clear_fault()
            assert (await acceptor.self_check()).ok is True
        finally:
            await acceptor.close()

    run(scenario)


def test_setup_after_a_reset_is_retried_until_the_device_takes_it(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            device.insert_coin(50)
            assert await events.next() == coin(50, counter=1)
            device.refuse(228)  # the device NAKs "modify master inhibit" for a while
            device.power_cycle()
            assert await events.next() == Reset(device_serial=SERIAL, epoch=1)
            await until(lambda: "re-applying setup after reset failed" in acceptor.health.last_error)
            assert (device.master_accepting, acceptor.health.online) == (False, True)
            device.refuse()
            await until(lambda: device.master_accepting)  # a later poll re-applied the enable
            device.insert_coin(100)
            assert await events.next() == coin(100, counter=1, epoch=1)
        finally:
            await acceptor.close()

    run(scenario)


def test_open_polls_then_inhibits_before_anything_else(bus, device, checksum):
    device.master_accepting, device.inhibit_mask = True, 0xFFFF  # left accepting by a crashed host

    async def scenario():
        acceptor = await open_coin(bus, checksum)
        await acceptor.close()
        poll, inhibit = [record.detail for record in device.history if record.what == "request"][:2]
        assert (poll["header"], inhibit["header"], inhibit["data"]) == (254, 228, "00")

    run(scenario)


def test_device_silent_for_a_while_then_back_delivers_what_it_buffered(bus, device, checksum):
    async def scenario():
        acceptor = await open_coin(bus, checksum)
        events = EventWaiter(acceptor)
        try:
            await acceptor.enable()
            device.silent = True  # the cable is pulled
            offline = await events.next()
            assert (type(offline), offline.online) == (LinkChanged, False)
            assert acceptor.health.online is False
            device.insert_coin(100)  # coins still drop in (the acceptor validates on its own)
            device.insert_coin(20)
            device.silent = False
            assert await events.next() == LinkChanged(device_serial=SERIAL, online=True)
            assert [await events.next(), await events.next()] == [coin(100, 1), coin(20, 2)]
        finally:
            await acceptor.close()

    run(scenario)
