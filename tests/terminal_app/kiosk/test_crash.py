"""kill -9 of the kiosk process between a coin and its credit, and of the hub mid-credit.

The kiosk runs as ``printgate kiosk`` in a child process, driven by JSON intents on its stdin;
the ccTalk line (simulated coin acceptor on a pty), the ESC/POS printer and the hub run in this
test. A TCP proxy between kiosk and hub can stall both directions, so the kiosk is killed with a
coin journaled and its CreditCashEvent unanswered. After a restart every coin the device kept is
credited exactly once: exact balance, exact ledger entries, one credited journal row per coin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, admin_pb2_grpc

from cash_devices import open_receipt_printer
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor, SimReceiptPrinter
from terminal_app.hub import HubClient
from terminal_app.kiosk.engine import KioskEngine
from terminal_app.kiosk.journal import CashJournal, DueReceipt
from terminal_app.kiosk.state import FinishRecharge, KioskMessage, KioskScreen, StartRecharge
from terminal_app.kiosk.wiring import OpenAcceptors, open_acceptors
from terminal_app.session import FakeClock
from terminal_app.terminal.state import CardPresented
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import HubClients, TerminalClient
from tests.hub_server.kiosk_clients import account_balance, assert_books_clean, count_transactions, entries
from tests.hub_server.processes import HubProcess
from tests.terminal_app.kiosk.rig import (
    ALICE_CARD,
    KIOSK_ID,
    POLL_INTERVAL_S,
    SETTINGS,
    acceptor_configs,
    master_inhibit_writes,
    receipt_fields,
    seed_kiosk_site,
    wait_for,
)

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


class StallProxy:
    """A loopback TCP proxy whose both directions can be held (bytes wait until released)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> StallProxy:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            hub_reader, hub_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers += [writer, hub_writer]
        for source, sink in ((reader, hub_writer), (hub_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()
        sink.close()

    def drop_connections(self) -> None:
        """Cut every proxied connection, discarding what is held (the hub never sees it)."""
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.flowing.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()


class KioskProcess:
    """``printgate kiosk`` in a child process: intents in on stdin, states out on stdout."""

    def __init__(self, directory: Path, config: Path) -> None:
        self.directory = directory
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        out = open(self.directory / f"states-{self.starts}.jsonl", "wb")  # noqa: SIM115
        err = open(self.directory / f"kiosk-{self.starts}.log", "wb")  # noqa: SIM115
        command = [sys.executable, "-m", "printgate_cli", "kiosk", "--config", str(self.config)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "INFO"], stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=REPO
        )

    def send(self, intent: str, **fields: Any) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write((json.dumps({"intent": intent, **fields}) + "\n").encode())
        self.process.stdin.flush()

    def state(self) -> dict[str, Any]:
        """The last complete state line (the kiosk may be writing the next one right now)."""
        text = (self.directory / f"states-{self.starts}.jsonl").read_text()
        complete = text[: text.rfind("\n") + 1].splitlines()
        return json.loads(complete[-1]) if complete else {}

    async def wait_screen(self, screen: str) -> None:
        try:
            await wait_for(lambda: self.state().get("screen") == screen, f"kiosk screen {screen}", 30)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{self.diagnosis()}") from None

    def diagnosis(self) -> str:
        """The kiosk's last state and the end of its log (what a failed wait shows)."""
        log = (self.directory / f"kiosk-{self.starts}.log").read_text(errors="replace")
        lines = [line for line in log.splitlines() if "DEBUG" not in line]
        state = {key: self.state().get(key) for key in ("screen", "message", "offline", "pending_events")}
        alive = self.process is not None and self.process.poll() is None
        return f"kiosk {'running' if alive else 'exited'}, state {state}, log:\n" + "\n".join(lines[-25:])

    def kill(self) -> None:
        """SIGKILL: no inhibit, no journal close, nothing."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def journal_rows(path: Path) -> list[tuple[str, int, str]]:
    """``(key, value, state)`` of every journaled cash event, read by a second connection."""
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        try:
            return db.execute(
                "SELECT idempotency_key, value_minor, state FROM cash_events ORDER BY seq"
            ).fetchall()
        except sqlite3.Error:  # the kiosk has not created its tables yet, or holds a lock now
            return []


def open_recharges(path: Path) -> int | None:
    """How many recharges the kiosk's journal has open (None while it cannot be read)."""
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM recharges WHERE state = 'open'").fetchone()[0])
        except sqlite3.Error:
            return None


def accepted_coins(device: SimCoinAcceptor) -> list[int]:
    """What the device kept (the customer's money in the box), from its own history."""
    return [r.detail["value"] for r in device.history if r.what == "coin" and r.detail["accepted"]]


def write_config(directory: Path, hub_port: int, state_dir: Path, line: str, printer_port: int) -> Path:
    config = directory / "kiosk.toml"
    config.write_text(
        f"""[hub]
address = "127.0.0.1:{hub_port}"
state_dir = "{state_dir}"
deadline_s = 30.0

[kiosk]
journal = "kiosk.db"
settle_s = 0.2
replay_interval_s = 0.5

[printer]
url = "tcp://127.0.0.1:{printer_port}"

[[acceptor]]
name = "coin"
driver = "cctalk"
url = "{line}"
address = 2
kind = "coin"
poll_interval_s = {POLL_INTERVAL_S}
"""
    )
    return config


class Site:
    """Everything around the kiosk process."""

    def __init__(self, hub: HubClients, directory: Path, proxy: StallProxy, state_dir: Path) -> None:
        self.hub = hub
        self.coins = SimCoinAcceptor(2)
        self.bus = SimCcTalkBus(self.coins).start()
        self.printer = SimReceiptPrinter().start()
        self.journal = directory / "kiosk.db"
        self.proxy = proxy
        config = write_config(directory, proxy.port, state_dir, self.bus.path, self.printer.port)
        self.kiosk = KioskProcess(directory, config)

    def close(self) -> None:
        self.kiosk.stop()
        self.bus.close()
        self.printer.close()

    def rows(self, state: str | None = None) -> list[tuple[str, int, str]]:
        return [row for row in journal_rows(self.journal) if state is None or row[2] == state]

    async def recharging(self) -> None:
        self.kiosk.start()
        await self.kiosk.wait_screen("idle")
        self.kiosk.send("CardPresented", card_number=ALICE_CARD)
        await self.kiosk.wait_screen("home")
        self.kiosk.send("StartRecharge")
        await wait_for(lambda: self.kiosk.state().get("accepting"), "the acceptor enabled", 30)
        assert self.coins.master_accepting

    async def settled(self, coins: int) -> None:
        """Restart the kiosk and wait until every coin is credited and no recharge is left open."""
        self.kiosk.start()
        await self.kiosk.wait_screen("idle")
        try:
            await wait_for(
                lambda: len(self.rows("credited")) == coins and not self.rows("pending"), "credits", 30
            )
            await wait_for(lambda: open_recharges(self.journal) == 0, "no recharge left open", 30)
        except AssertionError as failure:
            raise AssertionError(f"{failure}: {coins} coins kept, journal {self.rows()}") from None

    def assert_exactly_once(self, total: int, coins: int) -> None:
        db = self.hub.running.db
        rows = self.rows()
        assert len(rows) == coins and len({key for key, _, _ in rows}) == coins
        assert all(state == "credited" for _, _, state in rows)
        assert count_transactions(db, "cash") == coins
        assert account_balance(db, "user:alice") == total
        assert account_balance(db, f"system:cashbox:{KIOSK_ID}") == -total
        with contextlib.closing(sqlite3.connect(self.journal)) as journal:
            for transaction_id, value in journal.execute(
                "SELECT transaction_id, value_minor FROM cash_events"
            ):
                assert entries(db, transaction_id) == {
                    f"system:cashbox:{KIOSK_ID}": -value,
                    "user:alice": value,
                }
        assert_books_clean(db)


@pytest_asyncio.fixture
async def site(hub: HubClients, tmp_path: Path) -> AsyncIterator[Site]:
    terminal = await seed_kiosk_site(hub)
    proxy = await StallProxy(hub.running.port).start()
    result = Site(hub, tmp_path, proxy, terminal.state_dir)
    yield result
    result.close()
    await proxy.close()


async def test_kill_9_with_a_coin_journaled_and_unanswered_credits_every_coin_once(site: Site) -> None:
    await site.recharging()
    site.coins.insert_coin(200)
    await wait_for(lambda: len(site.rows("credited")) == 1, "the first coin credited")
    site.proxy.flowing.clear()  # the hub stalls: requests and answers are held
    site.coins.insert_coin(100)
    await wait_for(lambda: site.rows("pending") != [], "the second coin journaled")
    assert [value for _, value, _ in site.rows("pending")] == [100]
    site.kiosk.kill()
    site.proxy.drop_connections()  # the held request never reaches the hub
    inhibits_before_restart = len(master_inhibit_writes(site.coins))
    site.coins.insert_coin(50)  # the dead kiosk left the acceptor enabled: the device keeps it
    site.proxy.flowing.set()

    await site.settled(coins=3)
    assert accepted_coins(site.coins) == [200, 100, 50]
    site.assert_exactly_once(total=350, coins=3)
    after_restart = master_inhibit_writes(site.coins)[inhibits_before_restart:]
    assert after_restart[0] == "00" and "01" not in after_restart  # inhibited first, never enabled
    assert not site.coins.master_accepting


async def test_kill_9_at_random_moments_over_many_coins(site: Site) -> None:
    chance = random.Random(7)
    for _ in range(4):
        await site.recharging()
        for _ in range(chance.randint(1, 4)):
            site.coins.insert_coin(chance.choice([10, 20, 50, 100, 200]))
            await asyncio.sleep(chance.uniform(0, 0.15))
        await asyncio.sleep(chance.uniform(0, 0.1))
        site.kiosk.kill()
        if chance.random() < 0.5:
            site.coins.insert_coin(chance.choice([50, 100]))  # while the kiosk is dead
    kept = accepted_coins(site.coins)
    await site.settled(coins=len(kept))
    site.assert_exactly_once(total=sum(kept), coins=len(kept))
    assert not site.coins.master_accepting


# -- kill -9 of the hub while the kiosk credits coins --------------------------------------------


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    config = tmp_path / "hub.toml"
    config.write_text("[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n")
    (tmp_path / "hub").mkdir()
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.start()
    yield process
    process.stop()


async def _seed_process_hub(process: HubProcess) -> TerminalClient:
    """The kiosk enrolled with a token, and alice with her card."""
    metadata = process.admin_metadata
    async with process.admin_channel() as channel:
        kiosk = await process.enroll(channel, KIOSK_ID, kind=admin_pb2.TERMINAL_KIND_KIOSK)
        await kiosk.channel.close()
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        await admin.CreateUser(admin_pb2.User(username="alice"), metadata=metadata)
        card = admin_pb2.Card(user=admin_pb2.UserRef(username="alice"), number=ALICE_CARD)
        await admin.AddCard(card, metadata=metadata)
    return kiosk


def _hub_books(process: HubProcess) -> tuple[int, int]:
    """(alice's balance, number of cash transactions) read from the hub's database file."""
    with contextlib.closing(sqlite3.connect(process.data_dir / "hub.db")) as db:
        balance = db.execute("SELECT balance_cents FROM accounts WHERE name = 'user:alice'").fetchone()[0]
        count = db.execute("SELECT COUNT(*) FROM transactions WHERE kind = 'cash'").fetchone()[0]
    return int(balance), int(count)


async def _credited(journal: CashJournal, count: int) -> None:
    await wait_for(lambda: len(journal.events("credited")) == count, f"{count} coins credited")


async def test_kill_9_of_the_hub_mid_credit(hub_process: HubProcess, tmp_path: Path) -> None:
    kiosk = await _seed_process_hub(hub_process)
    coins = SimCoinAcceptor(2)
    bus = SimCcTalkBus(coins).start()
    journal = CashJournal.open(tmp_path / "kiosk.db")
    client = HubClient(kiosk.credentials, deadline_s=2)
    devices: OpenAcceptors = await open_acceptors(acceptor_configs(bus.path)[:1], journal)
    engine = KioskEngine(
        hub=client, acceptors=devices.slots, journal=journal, settings=SETTINGS, clock=FakeClock()
    )
    try:
        await engine.start()
        await engine.dispatch(CardPresented(ALICE_CARD))
        await engine.dispatch(StartRecharge())
        assert engine.state.screen is KioskScreen.RECHARGING
        for count, value in enumerate((200, 100, 50), start=1):
            coins.insert_coin(value)
            await _credited(journal, count)
        coins.insert_coin(20)
        hub_process.kill()  # the credit of the 20 may be committed, in flight, or not sent yet
        await wait_for(lambda: engine.state.offline and not coins.master_accepting, "offline, inhibited")
        coins.insert_coin(10)  # inhibited: the device hands it back
        kept = accepted_coins(coins)
        assert kept == [200, 100, 50, 20]
        hub_process.start()
        await wait_for(lambda: journal.pending_count() == 0, "the journal replayed", 30)
        await engine.dispatch(FinishRecharge())
        assert engine.state.recharge_id is None and journal.open_recharges() == []
        assert _hub_books(hub_process) == (370, 4)
        assert len(journal.events("credited")) == 4
    finally:
        await engine.close()
        await devices.close()
        await client.close()
        journal.close()
        bus.close()


async def test_sigterm_finishes_the_recharge_prints_and_inhibits(site: Site) -> None:
    await site.recharging()
    site.coins.insert_coin(200)
    await wait_for(lambda: len(site.rows("credited")) == 1, "the coin credited")
    process = site.kiosk.process
    assert process is not None
    process.terminate()
    assert await asyncio.to_thread(process.wait, 30) == 0  # the hub runs in this loop: do not block it
    await wait_for(lambda: len(site.printer.receipts) == 1, "the receipt")
    assert receipt_fields(site.printer.receipts[0])["Amount"] == "2.00 EUR"
    assert not site.coins.master_accepting and open_recharges(site.journal) == 0
    site.assert_exactly_once(total=200, coins=1)


async def test_hostile_control_lines_are_reported_and_the_kiosk_goes_on(site: Site) -> None:
    site.kiosk.start()
    await site.kiosk.wait_screen("idle")
    process = site.kiosk.process
    assert process is not None and process.stdin is not None
    for line in ("[" * 4000, "x" * 10_000, '{"intent": "CardPresented", "card_number": 7}', "\x00"):
        process.stdin.write(line.encode() + b"\n")
    process.stdin.flush()
    site.kiosk.send("CardPresented", card_number=ALICE_CARD)  # the reader thread is still alive
    await site.kiosk.wait_screen("home")
    log = (site.kiosk.directory / "kiosk-1.log").read_text()
    assert log.count("bad control line") == 4 and "Traceback" not in log


# -- the receipt of a recharge a crash closed -------------------------------------------------------


def receipt_states(path: Path) -> list[tuple[int, str]]:
    """``(recharge id, state)`` of every journaled receipt."""
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        return [(int(r), str(s)) for r, s in db.execute("SELECT recharge_id, state FROM receipts ORDER BY 1")]


def shown_receipts(kiosk: KioskProcess) -> list[dict[str, str]]:
    """The receipts the kiosk showed on screen (every state line of its latest run)."""
    text = (kiosk.directory / f"states-{kiosk.starts}.jsonl").read_text()
    lines = [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]
    return [dict(state["message_args"]) for state in lines if state.get("message") == "receipt_on_screen"]


async def _killed_mid_recharge(site: Site) -> None:
    """A recharge with 2.00 credited, the kiosk killed before it closed the recharge."""
    await site.recharging()
    site.coins.insert_coin(200)
    await wait_for(lambda: len(site.rows("credited")) == 1, "the coin credited")
    site.kiosk.kill()
    assert site.printer.receipts == []
    assert open_recharges(site.journal) == 1


async def test_kill_9_before_the_close_prints_the_receipt_at_the_next_start_once(site: Site) -> None:
    await _killed_mid_recharge(site)
    await site.settled(coins=1)
    await wait_for(lambda: len(site.printer.receipts) == 1, "the receipt of the recharge closed late")
    fields = receipt_fields(site.printer.receipts[0])
    assert fields["Amount"] == "2.00 EUR" and fields["Account"] == "alice"
    assert receipt_states(site.journal) == [(1, "printed")]
    site.kiosk.kill()  # and once more: nothing is due any more, nothing prints again
    site.kiosk.start()
    await site.kiosk.wait_screen("idle")
    await asyncio.sleep(1.0)  # a replay round (replay_interval_s 0.5) has passed
    assert len(site.printer.receipts) == 1
    assert shown_receipts(site.kiosk) == []
    site.assert_exactly_once(total=200, coins=1)


async def test_kill_9_then_no_paper_shows_the_receipt_on_screen_once(site: Site) -> None:
    await _killed_mid_recharge(site)
    site.printer.paper_out()
    await site.settled(coins=1)
    await wait_for(lambda: shown_receipts(site.kiosk) != [], "the receipt on screen")
    assert shown_receipts(site.kiosk)[0] == {"amount": "200", "balance": "200", "reference": "R1"}
    assert receipt_states(site.journal) == [(1, "shown")]
    assert site.printer.receipts == []
    site.printer.refill()
    site.kiosk.kill()
    site.kiosk.start()
    await site.kiosk.wait_screen("idle")
    await asyncio.sleep(1.0)
    assert site.printer.receipts == [] and shown_receipts(site.kiosk) == []  # once: not printed later


async def test_a_receipt_cut_off_while_printing_is_shown_not_printed_again(
    hub: HubClients, tmp_path: Path
) -> None:
    """kill -9 between "printing" and "printed" leaves the receipt maybe printed: the next start
    shows it on screen and never prints it a second time."""
    journal = CashJournal.open(tmp_path / "kiosk.db")
    journal.recharge_opened(7, "alice", 1_000)
    journal.recharge_closed(7, DueReceipt(7, "alice", 500, 1_500, 2_000))
    journal.receipt_state(7, "printing")  # where a kill -9 mid-print leaves it
    printer = SimReceiptPrinter().start()
    receipt_printer = open_receipt_printer(f"tcp://127.0.0.1:{printer.port}", timeout_s=2)
    kiosk = await seed_kiosk_site(hub)  # enrolled; its calls go to an address nobody answers
    client = HubClient(kiosk.credentials, address=f"127.0.0.1:{free_tcp_port()}", deadline_s=1)
    engine = KioskEngine(
        hub=client,
        acceptors=[],
        journal=journal,
        settings=SETTINGS,
        clock=FakeClock(),
        printer=receipt_printer,
    )
    try:
        await engine.start()
        assert engine.state.message is KioskMessage.RECEIPT_ON_SCREEN
        assert dict(engine.state.message_args) == {"amount": "500", "balance": "1500", "reference": "R7"}
        assert journal.receipts_due() == []
        assert printer.receipts == []
    finally:
        await engine.close()
        await client.close()
        receipt_printer.close()
        journal.close()
        printer.close()
