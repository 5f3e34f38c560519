"""Kiosk speed: coin-to-credit latency through the whole kiosk, and voucher redemption throughput.

Starts a real hub process on a fresh data directory, registers K kiosks (default 20) with one
logged-in user each, creates a voucher batch, then over loopback gRPC:

* ``voucher``: every kiosk redeems its share of the batch back to back (closed loop); prints the
  redemptions per second and each call's latency.
* ``hub_credit``: every kiosk sends 500 / K coin events one after another, as a kiosk does (one
  coin at a time, each durable at the hub before the next); prints the RPC latency.
* ``coin_to_credit``: one real kiosk engine (``terminal_app.kiosk.engine``) with the real ccTalk
  driver polling a simulated coin acceptor on a pty every 100 ms, its SQLite cash journal
  (``synchronous=FULL``) and the hub process. A card is tapped, a recharge opened, then 500 coins
  are inserted one at a time at a random phase of the poll; each is timed from ``insert_coin``
  at the simulated acceptor until the kiosk state shows the hub's new recharge total (the credit
  is committed at the hub by then). Last line:

    coin_to_credit_p50_ms=… coin_to_credit_p99_ms=… voucher_redeem_rps=… cores=…

Run: ``.venv/bin/python benchmarks/kiosk.py [--kiosks 20] [--vouchers 5000] [--coins 500]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printgate.v1 import admin_pb2, admin_pb2_grpc, kiosk_pb2, kiosk_pb2_grpc, terminal_pb2, terminal_pb2_grpc

from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor
from terminal_app.hub import HubClient
from terminal_app.hub.enrollment import Credentials
from terminal_app.kiosk.engine import KioskEngine, KioskSettings
from terminal_app.kiosk.journal import CashJournal
from terminal_app.kiosk.state import KioskState, StartRecharge
from terminal_app.kiosk.wiring import AcceptorConfig, open_acceptors
from terminal_app.terminal.state import CardPresented
from tests.conftest import free_tcp_port
from tests.hub_server.processes import HubProcess

DAY_S = 24 * 3600


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at ``fraction`` of the sorted list."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Kiosk:
    """One benchmark kiosk: its stubs on its own mutual-TLS channel (its certificate says who it
    is) and a logged-in session."""

    def __init__(self, channel: grpc.aio.Channel, kiosk_id: str) -> None:
        self.stub = kiosk_pb2_grpc.KioskServiceStub(channel)
        self.terminal = terminal_pb2_grpc.TerminalServiceStub(channel)
        self.metadata: tuple[tuple[str, str], ...] = ()
        self.kiosk_id = kiosk_id
        self.token = ""

    async def login(self, card: str) -> None:
        request = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=card))
        self.token = (await self.terminal.Authenticate(request, metadata=self.metadata)).session_token


async def setup(
    process: HubProcess, kiosks: int, vouchers: int
) -> tuple[list[Kiosk], list[str], list[grpc.aio.Channel]]:
    """Kiosks enrolled with tokens (each on its own channel), their users, a voucher batch; the
    admin's channel is the first of the channels returned."""
    admin_channel = process.admin_channel()
    channels = [admin_channel]
    admin = admin_pb2_grpc.AdminServiceStub(admin_channel)
    metadata = process.admin_metadata
    clients = []
    for index in range(kiosks):
        kiosk_id = f"kiosk-{index}"
        enrolled = await process.enroll(admin_channel, kiosk_id, kind=admin_pb2.TERMINAL_KIND_KIOSK)
        channels.append(enrolled.channel)
        await admin.CreateUser(admin_pb2.User(username=f"user{index}"), metadata=metadata)
        user = admin_pb2.UserRef(username=f"user{index}")
        await admin.AddCard(admin_pb2.Card(user=user, number=f"CARD{index:04d}"), metadata=metadata)
        client = Kiosk(enrolled.channel, kiosk_id)
        await client.login(f"CARD{index:04d}")
        clients.append(client)
    expires = kiosk_pb2.CreateVoucherBatchRequest().expires_at
    expires.FromMicroseconds(time.time_ns() // 1000 + DAY_S * 1_000_000)
    batch = await kiosk_pb2_grpc.KioskAdminServiceStub(admin_channel).CreateVoucherBatch(
        kiosk_pb2.CreateVoucherBatchRequest(
            value_cents=500, count=vouchers, expires_at=expires, label="bench"
        ),
        metadata=metadata,
    )
    return clients, list(batch.codes), channels


async def redeem_all(clients: list[Kiosk], codes: list[str]) -> tuple[float, list[float]]:
    """Each kiosk redeems its share back to back; returns (redemptions per second, latencies ms)."""
    latencies: list[float] = []

    async def share(index: int) -> None:
        client = clients[index]
        for code in codes[index :: len(clients)]:
            began = time.perf_counter()
            await client.stub.RedeemVoucher(
                kiosk_pb2.RedeemVoucherRequest(session_token=client.token, code=code),
                metadata=client.metadata,
            )
            latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(share(index) for index in range(len(clients))))
    return len(latencies) / (time.perf_counter() - began), latencies


async def credit_coins(clients: list[Kiosk], coins: int) -> list[float]:
    """Each kiosk opens a recharge and sends its coins one at a time; returns latencies in ms."""
    latencies: list[float] = []

    async def feed(client: Kiosk) -> None:
        opened = await client.stub.OpenRecharge(
            kiosk_pb2.OpenRechargeRequest(session_token=client.token), metadata=client.metadata
        )
        for counter in range(coins // len(clients)):
            request = kiosk_pb2.CreditCashEventRequest(
                recharge_id=opened.recharge_id,
                idempotency_key=f"BENCH/0/{counter}",
                value_minor=200,
                currency="EUR",
                denomination="EU200A",
                device_kind=kiosk_pb2.CASH_DEVICE_KIND_COIN,
            )
            began = time.perf_counter()
            await client.stub.CreditCashEvent(request, metadata=client.metadata)
            latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(feed(client) for client in clients))
    return latencies


COIN_VALUES = (10, 20, 50, 100, 200)
POLL_INTERVAL_S = 0.1


async def seed_coin_kiosk(process: HubProcess) -> Credentials:
    """A kiosk ``coin-kiosk`` (enrolled with a token) and a user ``coins`` with card
    ``COINCARD``; returns the kiosk's credentials."""
    metadata = process.admin_metadata
    async with process.admin_channel() as channel:
        kiosk = await process.enroll(channel, "coin-kiosk", kind=admin_pb2.TERMINAL_KIND_KIOSK)
        await kiosk.channel.close()
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        await admin.CreateUser(admin_pb2.User(username="coins"), metadata=metadata)
        card = admin_pb2.Card(user=admin_pb2.UserRef(username="coins"), number="COINCARD")
        await admin.AddCard(card, metadata=metadata)
    return kiosk.credentials


async def coin_to_credit(process: HubProcess, coins: int, directory: Path) -> list[float]:
    """Insert ``coins`` coins at the simulated acceptor; each one's ms until the kiosk shows it credited."""
    credentials = await seed_coin_kiosk(process)
    device = SimCoinAcceptor(2)
    bus = SimCcTalkBus(device).start()
    journal = CashJournal.open(directory / "kiosk.db")
    client = HubClient(credentials)
    config = AcceptorConfig(
        "coin", "cctalk", bus.path, 2, {"kind": "coin", "poll_interval_s": POLL_INTERVAL_S}
    )
    devices = await open_acceptors([config], journal)
    engine = KioskEngine(
        hub=client, acceptors=devices.slots, journal=journal, settings=KioskSettings(recharge_timeout_s=3600)
    )
    shown = asyncio.Event()
    expected = {"total": 0}

    def watch(state: KioskState) -> None:
        if state.recharge_total_minor == expected["total"] and state.pending_minor == 0:
            shown.set()

    engine.subscribe(watch)
    latencies: list[float] = []
    chance = random.Random(1)
    try:
        await engine.start()
        await engine.dispatch(CardPresented("COINCARD"))
        await engine.dispatch(StartRecharge())
        assert engine.state.accepting, engine.state
        for _ in range(coins):
            await asyncio.sleep(chance.uniform(0, POLL_INTERVAL_S))  # a random phase of the poll
            value = chance.choice(COIN_VALUES)
            expected["total"] += value
            shown.clear()
            began = time.perf_counter()
            await asyncio.to_thread(device.insert_coin, value)
            await asyncio.wait_for(shown.wait(), 10)
            latencies.append((time.perf_counter() - began) * 1000)
        assert journal.pending_count() == 0 and len(journal.events("credited")) == coins
    finally:
        await engine.close()
        await devices.close()
        await client.close()
        journal.close()
        bus.close()
    return latencies


async def run(process: HubProcess, kiosks: int, vouchers: int, coins: int) -> None:
    clients, codes, channels = await setup(process, kiosks, vouchers)
    rate, redeem_ms = await redeem_all(clients, codes)
    credit_ms = await credit_coins(clients, coins)
    coin_ms = await coin_to_credit(process, coins, process.data_dir.parent)
    check = await admin_pb2_grpc.AdminServiceStub(channels[0]).CheckLedger(
        admin_pb2.Empty(), metadata=process.admin_metadata
    )
    assert check.ok, check.problems
    for channel in channels:
        await channel.close()
    print(
        f"voucher_redeem_rps={rate:.0f} voucher_redeem_p50_ms={statistics.median(redeem_ms):.2f}"
        f" voucher_redeem_p99_ms={percentile(redeem_ms, 0.99):.2f} ({len(redeem_ms)} codes, {kiosks} kiosks)"
    )
    print(
        f"hub_credit_p50_ms={statistics.median(credit_ms):.2f}"
        f" hub_credit_p99_ms={percentile(credit_ms, 0.99):.2f}"
        f" ({len(credit_ms)} coins, CreditCashEvent RPC only: no acceptor, no poll interval, no kiosk)"
    )
    print(
        f"coin_to_credit: {len(coin_ms)} coins, ccTalk poll every {POLL_INTERVAL_S * 1000:.0f} ms,"
        f" min {min(coin_ms):.1f} ms, max {max(coin_ms):.1f} ms"
    )
    print(
        f"coin_to_credit_p50_ms={statistics.median(coin_ms):.1f}"
        f" coin_to_credit_p99_ms={percentile(coin_ms, 0.99):.1f}"
        f" voucher_redeem_rps={rate:.0f} cores={os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=20)
    parser.add_argument("--vouchers", type=int, default=5000)
    parser.add_argument("--coins", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory_name:
        data_dir = Path(directory_name) / "hub"
        data_dir.mkdir()
        process = HubProcess(data_dir, free_tcp_port())
        process.start()
        try:
            asyncio.run(run(process, args.kiosks, args.vouchers, args.coins))
        finally:
            process.stop()


if __name__ == "__main__":
    main()
