"""Acceptors opened from kiosk.toml, resumed from the cash journal (real ccTalk driver, simulated device
on a pty), opened afresh when the device was swapped, inhibited first."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cash_devices import CoinAccepted, CounterState
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor
from terminal_app.kiosk.journal import CashJournal
from terminal_app.kiosk.wiring import open_acceptors
from tests.terminal_app.kiosk.rig import acceptor_configs, master_inhibit_writes


async def test_acceptors_resume_from_the_journal_unless_the_device_was_swapped(tmp_path: Path) -> None:
    coins = SimCoinAcceptor(2)
    with SimCcTalkBus(coins) as bus:
        journal = CashJournal.open(tmp_path / "kiosk.db")
        [config] = acceptor_configs(bus.path)[:1]
        journal.save_counter("coin", "SIM-99", CounterState(3, 200))  # another device's position
        devices = await open_acceptors([config], journal)
        assert journal.counter("coin") == ("SIM-12345678", CounterState(0, 0))  # opened afresh
        assert master_inhibit_writes(coins)[0] == "00" and not coins.master_accepting
        await devices.close()
        coins.master_accepting, coins.inhibit_mask = True, 0xFFFF  # a crashed kiosk left it enabled
        coins.insert_coin(100)  # while the kiosk is down
        devices = await open_acceptors([config], journal)  # resumed: the coin is delivered
        event = await asyncio.wait_for(anext(aiter(devices.slots[0].acceptor.events())), 5)
        assert isinstance(event, CoinAccepted) and (event.value_minor, event.event_counter) == (100, 1)
        assert not coins.master_accepting  # inhibited before anything else
        await devices.close()
        journal.close()
