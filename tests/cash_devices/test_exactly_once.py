"""Random field days for the real coin driver against the simulator: every kept coin credited once.

A seeded script mixes coin bursts (enabled and not), jams, fraud, lossy stretches and power
cycles. After each step the test waits until the driver has caught up with the device counter,
then at the end compares: the credited coins are exactly the coins the simulator kept, in order,
each with its own idempotency key.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from cash_devices import CoinAccepted, CreditEvent, DeviceError, LinkChanged, LostEvents, Reset, open_acceptor
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor
from tests.cash_devices.conftest import run, until

VALUES = (5, 10, 20, 50, 100, 200)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_day_credits_every_kept_coin_exactly_once(seed):
    rng = random.Random(seed)
    device = SimCoinAcceptor()
    events: list = []

    async def collect(acceptor):
        async for event in acceptor.events():
            events.append(event)

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_acceptor("cctalk", bus.path, 2, timeout_s=0.1, poll_interval_s=0.02)
            collector = asyncio.create_task(collect(acceptor))
            await acceptor.enable()
            for _ in range(40):
                await step(rng, device, acceptor)
                await until(lambda: acceptor.counter_state.event_counter == device.counter, timeout_s=20)
            await acceptor.close()
            await collector

    run(scenario, timeout_s=120)
    kept = [
        record.detail["value"]
        for record in device.history
        if record.what == "coin" and record.detail["accepted"]
    ]
    credited = [event for event in events if isinstance(event, CreditEvent)]
    assert [event.value_minor for event in credited] == kept
    assert len({event.idempotency_key for event in credited}) == len(credited)
    assert all(isinstance(event, CoinAccepted) for event in credited)
    assert not any(isinstance(event, LostEvents) for event in events)
    resets = sum(isinstance(event, Reset) for event in events)
    assert resets == device.count("power-cycle")
    assert sum(isinstance(event, DeviceError) for event in events) > 0
    assert all(isinstance(event, (CreditEvent, DeviceError, Reset, LinkChanged)) for event in events)


async def step(rng, device, acceptor):
    choice = rng.random()
    if choice < 0.55:
        for _ in range(rng.randint(1, 4)):  # never more than the five buffered events per burst
            device.insert_coin(rng.choice(VALUES))
    elif choice < 0.65:
        device.jam()
    elif choice < 0.72:
        device.fraud_attempt()
    elif choice < 0.82:
        device.lossy(rng.choice([0.0, 0.3, 0.6]), seed=rng.randint(0, 99))
    elif choice < 0.9:
        await acceptor.disable()  # coins now bounce with "inhibited coin"
        device.insert_coin(rng.choice(VALUES))
        await acceptor.enable()
    elif device.counter:  # a reset with nothing new since the last poll loses nothing
        device.power_cycle()
        await until(lambda: device.master_accepting, timeout_s=20)
