"""The kiosk test rig: the real kiosk engine, the real ccTalk drivers on a simulated line (pty),
the real hub in-process over gRPC, and the simulated ESC/POS printer on loopback TCP.

Nothing of ours is mocked. Helpers read the receipts back field by field and the ledger exactly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest_asyncio
from printgate.v1 import admin_pb2

from cash_devices import open_receipt_printer
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor, SimNoteValidator, SimReceipt, SimReceiptPrinter
from terminal_app.hub import HubClient
from terminal_app.kiosk.engine import AcceptorSlot, KioskEngine, KioskSettings
from terminal_app.kiosk.journal import CashJournal
from terminal_app.kiosk.state import KioskState
from terminal_app.kiosk.wiring import AcceptorConfig, open_acceptors
from terminal_app.session import FakeClock
from tests.hub_server.conftest import HubClients, TerminalClient

ALICE_CARD = "A11CE001"
OLGA_CARD = "0F0F0F0F"
KIOSK_ID = "k1"
POLL_INTERVAL_S = 0.05
WAIT_S = 15.0  # a deadline to fail by, not a timing assertion
H_MASTER_INHIBIT = 228

SETTINGS = KioskSettings(idle_timeout_s=60, recharge_timeout_s=90, settle_s=0.2, replay_interval_s=0.5)


async def wait_for(condition: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll until ``condition()`` is true; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def receipt_fields(receipt: SimReceipt) -> dict[str, str]:
    """``Label: value`` lines of a printed receipt as a dict."""
    return dict(line.split(": ", 1) for line in receipt.text if ": " in line)


def master_inhibit_writes(device: SimCoinAcceptor | SimNoteValidator) -> list[str]:
    """Every master inhibit command the device received, in order: "00" inhibit, "01" accept."""
    return [r.detail["data"] for r in device.history if r.what == "request" and r.detail["header"] == 228]


async def seed_kiosk_site(hub: HubClients) -> TerminalClient:
    """Kiosk k1 (kind 2), alice (card, 0.00), olga (operator card)."""
    terminal = await hub.create_terminal(KIOSK_ID, kind=admin_pb2.TERMINAL_KIND_KIOSK)
    await hub.create_user("alice", card=ALICE_CARD, full_name="Alice A")
    await hub.call_admin("UpsertRole", admin_pb2.Role(name="operator"))
    await hub.create_user("olga", card=OLGA_CARD, roles=["operator"])
    return terminal


@dataclass
class KioskRig:
    """One kiosk with a coin acceptor and a note validator on one ccTalk line, and a printer."""

    hub: HubClients
    terminal: TerminalClient
    client: HubClient
    bus: SimCcTalkBus
    coins: SimCoinAcceptor
    notes: SimNoteValidator
    printer: SimReceiptPrinter
    journal: CashJournal
    slots: list[AcceptorSlot]
    engine: KioskEngine
    clock: FakeClock
    states: list[KioskState] = field(default_factory=list)

    @property
    def state(self) -> KioskState:
        return self.engine.state

    async def balance(self) -> int:
        return await self.hub.balance("alice")


def acceptor_configs(path: str) -> list[AcceptorConfig]:
    """The coin acceptor (address 2) and note validator (address 40) on one line."""
    return [
        AcceptorConfig("coin", "cctalk", path, 2, {"kind": "coin", "poll_interval_s": POLL_INTERVAL_S}),
        AcceptorConfig("note", "cctalk", path, 40, {"kind": "note", "poll_interval_s": POLL_INTERVAL_S}),
    ]


@pytest_asyncio.fixture
async def kiosk_rig(hub: HubClients, tmp_path: Path) -> AsyncIterator[KioskRig]:
    started = hub.running
    terminal = await seed_kiosk_site(hub)
    client = HubClient(terminal.credentials, deadline_s=3)
    coins, notes = SimCoinAcceptor(2), SimNoteValidator(40)
    bus = SimCcTalkBus(coins, notes).start()
    printer = SimReceiptPrinter().start()
    journal = CashJournal.open(tmp_path / "kiosk" / "kiosk.db")
    devices = await open_acceptors(acceptor_configs(bus.path), journal)
    slots = devices.slots
    receipt_printer = open_receipt_printer(f"tcp://127.0.0.1:{printer.port}", timeout_s=2)
    clock = FakeClock()
    engine = KioskEngine(
        hub=client, acceptors=slots, journal=journal, printer=receipt_printer, settings=SETTINGS, clock=clock
    )
    rig = KioskRig(hub, terminal, client, bus, coins, notes, printer, journal, slots, engine, clock)
    engine.subscribe(rig.states.append)
    await engine.start()
    yield rig
    await engine.close()
    await devices.close()
    await client.close()
    receipt_printer.close()
    journal.close()
    bus.close()
    printer.close()
    if hub.running is not started:  # restart_hub made it: the hub fixture stops only its own
        await hub.running.stop(0)
