"""KioskService and the cash box through the real gRPC hub: exact balances, exact ledger entries,
replays, refusals, and a kill -9 of the hub process in the middle of a stream of coins."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2, kiosk_pb2

from hub_server.config import load_config
from hub_server.domain.kiosk import CashEvent
from hub_server.errors import InvalidRequest
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import HubClients, TerminalClient
from tests.hub_server.kiosk_clients import (
    ALREADY,
    COIN,
    CREATED,
    NOTE,
    KioskClient,
    account_balance,
    assert_books_clean,
    count_transactions,
    entries,
    kiosk,
    kiosk_admin,
    rpc_error,
)
from tests.hub_server.processes import HubProcess

CARD = "A11CE001"


@pytest_asyncio.fixture
async def site(hub: HubClients) -> AsyncIterator[tuple[KioskClient, str]]:
    """Kiosk k1 and alice (prepaid, 0 credit) logged in at it; the books are checked afterwards."""
    k1 = await kiosk(hub, "k1")
    await hub.create_user("alice", card=CARD)
    yield k1, await k1.login(CARD)
    assert_books_clean(hub.running.db)


def _counts(lines: object) -> list[tuple[int, int, int]]:
    return [(line.device_kind, line.value_cents, line.count) for line in lines]  # type: ignore[attr-defined]


async def test_coins_and_notes_are_credited_with_exact_entries(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    opened = await k1.open(token)
    assert (opened.username, opened.balance_cents, opened.arrears_cents, opened.currency) == (
        "alice",
        0,
        0,
        "EUR",
    )
    coin = await k1.credit(opened.recharge_id, "CS001/0/1", 200, COIN, "EU200A")
    assert (coin.outcome, coin.credited_cents, coin.balance_cents, coin.recharge_total_cents) == (
        CREATED,
        200,
        200,
        200,
    )
    assert entries(hub.running.db, coin.transaction_id) == {"system:cashbox:k1": -200, "user:alice": 200}
    note = await k1.credit(opened.recharge_id, "NV77/escrow/9", 500, NOTE, "EU0005A")
    assert (note.balance_cents, note.arrears_cents, note.recharge_total_cents) == (700, 0, 700)
    assert entries(hub.running.db, note.transaction_id) == {"system:cashbox:k1": -500, "user:alice": 500}
    second = await k1.credit(opened.recharge_id, "CS001/0/2", 200, COIN, "EU200A")

    summary = await k1.close(opened.recharge_id)
    assert (summary.recharge_id, summary.kiosk_id, summary.username) == (opened.recharge_id, "k1", "alice")
    assert _counts(summary.coins) == [(COIN, 200, 2)]
    assert _counts(summary.notes) == [(NOTE, 500, 1)]
    assert (summary.total_cents, summary.balance_cents, summary.currency) == (900, 900, "EUR")
    assert list(summary.transaction_ids) == [coin.transaction_id, note.transaction_id, second.transaction_id]
    assert summary.HasField("closed_at")
    assert await hub.balance("alice") == 900
    assert account_balance(hub.running.db, "system:cashbox:k1") == -900


async def test_a_replay_answers_the_first_result_and_another_payload_is_refused(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    recharge = (await k1.open(token)).recharge_id
    first = await k1.credit(recharge, "CS001/0/1", 100)
    await k1.credit(recharge, "CS001/0/2", 50)
    replay = await k1.credit(recharge, "CS001/0/1", 100)
    assert replay.outcome == ALREADY
    assert (replay.transaction_id, replay.balance_cents, replay.recharge_total_cents) == (
        first.transaction_id,
        100,
        100,
    )
    assert replay.recorded_at == first.recorded_at
    for changed in (
        k1.credit(recharge, "CS001/0/1", 200),
        k1.credit(recharge, "CS001/0/1", 100, NOTE),
        k1.credit(recharge, "CS001/0/1", 100, denomination="EU100A"),
    ):
        code, message = await rpc_error(changed)
        assert code == grpc.StatusCode.ALREADY_EXISTS and "different request" in message
    assert await hub.balance("alice") == 150
    assert count_transactions(hub.running.db, "cash") == 2
    # The key is scoped to the kiosk: another kiosk's device may use the same key.
    k2 = await kiosk(hub, "k2")
    other = await k2.credit((await k2.open(await k2.login(CARD))).recharge_id, "CS001/0/1", 100)
    assert other.outcome == CREATED and other.balance_cents == 250


async def test_arrears_are_settled_before_credit(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, token = site
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, 100)
    printer_terminal = await hub.create_terminal("t1")
    copies = await printer_terminal.report(await _tap(printer_terminal), "copy-1", 3, performed=True)
    assert copies.arrears_cents == 300
    recharge = (await k1.open(token)).recharge_id
    coin = await k1.credit(recharge, "CS001/0/1", 200)
    assert (coin.balance_cents, coin.arrears_cents) == (0, 100)
    # The user's credit is untouched (+200 -200 merge to nothing): the coin pays the debt.
    assert entries(hub.running.db, coin.transaction_id) == {"arrears:alice": 200, "system:cashbox:k1": -200}
    note = await k1.credit(recharge, "NV77/escrow/1", 500, NOTE)
    assert (note.balance_cents, note.arrears_cents) == (400, 0)
    assert entries(hub.running.db, note.transaction_id) == {
        "arrears:alice": 100,
        "system:cashbox:k1": -500,
        "user:alice": 400,
    }
    summary = await k1.close(recharge)
    assert (summary.total_cents, summary.balance_cents, summary.arrears_cents) == (700, 400, 0)


async def _tap(terminal: TerminalClient) -> str:
    return (await terminal.tap(CARD)).session_token


async def test_recharges_open_only_at_kiosks_for_prepaid_users_with_live_sessions(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    printer_terminal = KioskClient(await hub.create_terminal("t1"))
    code, message = await rpc_error(printer_terminal.open(await _tap(printer_terminal.terminal)))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "not a kiosk" in message
    await hub.create_user("dept", card="DE77", billing=admin_pb2.BILLING_DEPARTMENT, department="Physics")
    code, message = await rpc_error(k1.open(await k1.login("DE77")))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "department" in message
    code, _ = await rpc_error(k1.open("forged.token"))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    hub.clock.advance(901)  # session_ttl_s = 900
    code, message = await rpc_error(k1.open(token))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "expired" in message
    # the admin port asks for no client certificate: a kiosk call there names no device
    no_certificate = KioskClient(TerminalClient(hub.channel, "k1", hub.devices_dir / "k1"))
    code, _ = await rpc_error(no_certificate.credit(1, "CS001/0/1", 100))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert count_transactions(hub.running.db, "cash") == 0


async def test_cash_after_session_expiry_or_close_is_still_credited(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    recharge = (await k1.open(token)).recharge_id
    await k1.credit(recharge, "CS001/0/1", 100)
    hub.clock.advance(3600)  # the kiosk crashed and came back an hour later: the session is gone
    late = await k1.credit(recharge, "CS001/0/2", 200)
    assert (late.outcome, late.balance_cents, late.recharge_total_cents) == (CREATED, 300, 300)
    closed = await k1.close(recharge)
    # A coin that landed as the recharge closed is money in the box: credited, summary follows.
    after_close = await k1.credit(recharge, "CS001/0/3", 50)
    assert after_close.balance_cents == 350
    again = await k1.close(recharge)
    assert (closed.total_cents, again.total_cents) == (300, 350)
    assert again.closed_at == closed.closed_at
    assert await hub.balance("alice") == 350


async def test_malformed_or_misdirected_cash_events_change_nothing(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    recharge = (await k1.open(token)).recharge_id
    k2 = await kiosk(hub, "k2")
    cases = [
        (k1.credit(recharge, "CS001/0/1", 100, currency="USD"), grpc.StatusCode.INVALID_ARGUMENT, "currency"),
        (k1.credit(recharge, "CS001/0/1", 0), grpc.StatusCode.INVALID_ARGUMENT, "value"),
        (k1.credit(recharge, "CS001/0/1", -100), grpc.StatusCode.INVALID_ARGUMENT, "value"),
        (
            k1.credit(recharge, "CS001/0/1", 100, kind=kiosk_pb2.CASH_DEVICE_KIND_UNSPECIFIED),
            grpc.StatusCode.INVALID_ARGUMENT,
            "device kind",
        ),
        (k1.credit(recharge, "", 100), grpc.StatusCode.INVALID_ARGUMENT, "idempotency key"),
        (k1.credit(recharge, "x" * 129, 100), grpc.StatusCode.INVALID_ARGUMENT, "idempotency key"),
        (k1.credit(recharge, "CS\n1", 100), grpc.StatusCode.INVALID_ARGUMENT, "idempotency key"),
        (k1.credit(recharge + 1, "CS001/0/1", 100), grpc.StatusCode.NOT_FOUND, "no recharge"),
        (k2.credit(recharge, "CS001/0/1", 100), grpc.StatusCode.NOT_FOUND, "no recharge"),
        (k2.close(recharge), grpc.StatusCode.NOT_FOUND, "no recharge"),
    ]
    for call, status, words in cases:
        code, message = await rpc_error(call)
        assert (code, words in message) == (status, True), message
    assert count_transactions(hub.running.db, "cash") == 0
    assert await hub.balance("alice") == 0


async def test_cashbox_report_and_emptying_reconcile_against_the_ledger(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    recharge = (await k1.open(token)).recharge_id
    await k1.credit(recharge, "C/0/1", 200)
    await k1.credit(recharge, "C/0/2", 200)
    await k1.credit(recharge, "C/0/3", 50)
    await k1.credit(recharge, "N/escrow/1", 500, NOTE)
    report = await kiosk_admin(hub, "GetCashBox", kiosk_pb2.CashBoxRef(kiosk_id="k1"))
    assert report.expected_cents == 950 and not report.HasField("last_emptied_at")
    lines = [(line.device_kind, line.value_cents, line.expected_count) for line in report.lines]
    assert lines == [(COIN, 50, 1), (COIN, 200, 2), (NOTE, 500, 1)]

    # The operator finds a 50-cent coin missing and a 1-euro coin nobody was credited for.
    counted = [
        kiosk_pb2.DenominationCount(device_kind=COIN, value_cents=200, count=2),
        kiosk_pb2.DenominationCount(device_kind=COIN, value_cents=100, count=1),
        kiosk_pb2.DenominationCount(device_kind=NOTE, value_cents=500, count=1),
    ]
    request = kiosk_pb2.EmptyCashBoxRequest(kiosk_id="k1", counted=counted, idempotency_key="empty-1")
    emptied = await kiosk_admin(hub, "EmptyCashBox", request)
    assert (emptied.outcome, emptied.expected_cents, emptied.counted_cents, emptied.difference_cents) == (
        CREATED,
        950,
        1000,
        50,
    )
    assert [(x.device_kind, x.value_cents, x.expected_count, x.counted_count) for x in emptied.lines] == [
        (COIN, 50, 1, 0),
        (COIN, 100, 0, 1),
        (COIN, 200, 2, 2),
        (NOTE, 500, 1, 1),
    ]
    assert entries(hub.running.db, emptied.transaction_id) == {
        "system:cash-collected": -1000,
        "system:cash-differences": 50,
        "system:cashbox:k1": 950,
    }
    replay = await kiosk_admin(hub, "EmptyCashBox", request)
    assert (replay.outcome, replay.transaction_id) == (ALREADY, emptied.transaction_id)
    after = await kiosk_admin(hub, "GetCashBox", kiosk_pb2.CashBoxRef(kiosk_id="k1"))
    assert (after.expected_cents, list(after.lines)) == (0, [])
    assert after.last_emptied_at == emptied.emptied_at

    # The next period starts from zero: one coin in, none counted -> a 200-cent shortage.
    await k1.credit(recharge, "C/0/4", 200)
    short = await kiosk_admin(
        hub, "EmptyCashBox", kiosk_pb2.EmptyCashBoxRequest(kiosk_id="k1", idempotency_key="empty-2")
    )
    assert (short.expected_cents, short.counted_cents, short.difference_cents) == (200, 0, -200)
    assert entries(hub.running.db, short.transaction_id) == {
        "system:cash-differences": -200,
        "system:cashbox:k1": 200,
    }
    assert account_balance(hub.running.db, "system:cash-differences") == -150
    assert account_balance(hub.running.db, "system:cashbox:k1") == 0
    assert await hub.balance("alice") == 1150


async def test_cashbox_refusals(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    await hub.create_terminal("t1")
    doubled = [kiosk_pb2.DenominationCount(device_kind=COIN, value_cents=200, count=1)] * 2
    negative = [kiosk_pb2.DenominationCount(device_kind=COIN, value_cents=200, count=-1)]
    cases = [
        (kiosk_pb2.EmptyCashBoxRequest(kiosk_id="k1", idempotency_key="e", counted=doubled), "counted twice"),
        (kiosk_pb2.EmptyCashBoxRequest(kiosk_id="k1", idempotency_key="e", counted=negative), "bad count"),
        (kiosk_pb2.EmptyCashBoxRequest(kiosk_id="k1"), "idempotency key"),
        (kiosk_pb2.EmptyCashBoxRequest(kiosk_id="t1", idempotency_key="e"), "not a kiosk"),
        (kiosk_pb2.EmptyCashBoxRequest(kiosk_id="nope", idempotency_key="e"), "no kiosk"),
    ]
    for request, words in cases:
        code, message = await rpc_error(kiosk_admin(hub, "EmptyCashBox", request))
        assert words in message, (code, message)
    stub_call = kiosk_admin(hub, "GetCashBox", kiosk_pb2.CashBoxRef(kiosk_id="k1"))
    assert (await stub_call).expected_cents == 0
    hub.admin_token = "wrong"
    code, _ = await rpc_error(kiosk_admin(hub, "GetCashBox", kiosk_pb2.CashBoxRef(kiosk_id="k1")))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert count_transactions(hub.running.db, "cashbox-empty") == 0


async def test_operator_sessions_see_and_empty_their_kiosks_box(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    await k1.credit((await k1.open(token)).recharge_id, "C/0/1", 200)
    code, message = await rpc_error(k1.stub.GetCashBox(kiosk_pb2.OperatorRequest(session_token=token)))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "operator" in message
    await hub.call_admin("UpsertRole", admin_pb2.Role(name="operator"))
    await hub.create_user("olga", card="0F0F", roles=["operator"])
    operator = await k1.login("0F0F")
    report = await k1.stub.GetCashBox(kiosk_pb2.OperatorRequest(session_token=operator))
    assert (report.kiosk_id, report.expected_cents, report.currency) == ("k1", 200, "EUR")
    counted = [kiosk_pb2.DenominationCount(device_kind=COIN, value_cents=200, count=1)]
    emptied = await k1.stub.EmptyCashBox(
        kiosk_pb2.KioskEmptyCashBoxRequest(session_token=operator, counted=counted, idempotency_key="op-1"),
    )
    assert (emptied.kiosk_id, emptied.expected_cents, emptied.difference_cents) == ("k1", 200, 0)
    assert entries(hub.running.db, emptied.transaction_id) == {
        "system:cash-collected": -200,
        "system:cashbox:k1": 200,
    }


# -- kill -9 of the hub process in the middle of a stream of cash events -------------------------

EVENTS = 150
KILL_AFTER_ACKS = 50
IN_FLIGHT = 6
RECHARGES = 3


def _event(index: int) -> tuple[int, str, int, kiosk_pb2.CashDeviceKind]:
    """(recharge slot, key, value, kind) of the index-th cash event: a fixed, varied stream."""
    value, kind = (500, NOTE) if index % 7 == 0 else ((index % 4 + 1) * 50, COIN)
    return index % RECHARGES, f"DEV{index % 2}/0/{index}", value, kind


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    config = tmp_path / "hub.toml"
    config.write_text("[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n")
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.start()
    yield process
    process.stop()


async def _kiosk_site(process: HubProcess, channel: grpc.aio.Channel) -> tuple[KioskClient, list[int]]:
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    metadata = process.admin_metadata
    k1 = KioskClient(await process.enroll(channel, "k1", kind=admin_pb2.TERMINAL_KIND_KIOSK))
    await admin.CreateUser(admin_pb2.User(username="alice"), metadata=metadata)
    await admin.AddCard(
        admin_pb2.Card(user=admin_pb2.UserRef(username="alice"), number=CARD), metadata=metadata
    )
    token = await k1.login(CARD)
    return k1, [(await k1.open(token)).recharge_id for _ in range(RECHARGES)]


async def _send_until_killed(process: HubProcess, k1: KioskClient, recharges: list[int]) -> dict[str, int]:
    acknowledged: dict[str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(EVENTS):
        queue.put_nowait(index)
    killed = asyncio.Event()

    async def sender() -> None:
        while not queue.empty() and not killed.is_set():
            slot, key, value, kind = _event(queue.get_nowait())
            try:
                reply = await k1.credit(recharges[slot], key, value, kind)
            except grpc.aio.AioRpcError:
                continue
            acknowledged[key] = reply.transaction_id
            if len(acknowledged) >= KILL_AFTER_ACKS and not killed.is_set():
                killed.set()
                process.kill()

    await asyncio.gather(*(sender() for _ in range(IN_FLIGHT)))
    return acknowledged


def _credited(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "hub.db") as db:
        rows = db.execute(
            "SELECT t.idempotency_key, COUNT(*), MIN(t.id) FROM transactions t"
            " JOIN cash_events c ON c.transaction_id = t.id WHERE t.kind = 'cash'"
            " GROUP BY t.idempotency_key"
        ).fetchall()
    assert all(count == 1 for _, count, _ in rows)
    return {key: transaction_id for key, _, transaction_id in rows}


@pytest.mark.slow
async def test_kill_9_mid_credit_then_resend_credits_every_coin_once(hub_process: HubProcess) -> None:
    async with hub_process.admin_channel() as channel:
        k1, recharges = await _kiosk_site(hub_process, channel)
        acknowledged = await _send_until_killed(hub_process, k1, recharges)
    await k1.terminal.channel.close()
    credited = _credited(hub_process.data_dir)
    assert len(acknowledged) >= KILL_AFTER_ACKS and len(credited) < EVENTS  # killed mid-stream
    for key, transaction_id in acknowledged.items():
        assert credited[key] == transaction_id  # acknowledged means committed

    # The kiosk's journal re-sends every event after the restart, in any order.
    hub_process.start()
    async with k1.terminal.reconnect(), hub_process.admin_channel() as channel:
        outcomes = {}
        for index in reversed(range(EVENTS)):
            slot, key, value, kind = _event(index)
            outcomes[key] = await k1.credit(recharges[slot], key, value, kind)
        summaries = [await k1.close(recharge) for recharge in recharges]
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        check = await admin.CheckLedger(admin_pb2.Empty(), metadata=hub_process.admin_metadata)
    for key, transaction_id in credited.items():
        assert (outcomes[key].outcome, outcomes[key].transaction_id) == (ALREADY, transaction_id)
    assert sum(reply.outcome == CREATED for reply in outcomes.values()) == EVENTS - len(credited)
    total = sum(_event(index)[2] for index in range(EVENTS))
    assert sum(summary.total_cents for summary in summaries) == total
    assert summaries[-1].balance_cents == total
    assert sum(len(summary.transaction_ids) for summary in summaries) == EVENTS
    assert check.ok, check.problems
    assert len(_credited(hub_process.data_dir)) == EVENTS


async def test_one_event_sent_many_times_at_once_is_credited_once(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    recharge = (await k1.open(token)).recharge_id
    replies = await asyncio.gather(*(k1.credit(recharge, "CS001/0/1", 200) for _ in range(12)))
    assert sorted(reply.outcome for reply in replies) == [CREATED] + [ALREADY] * 11
    assert {(reply.transaction_id, reply.balance_cents) for reply in replies} == {
        (replies[0].transaction_id, 200)
    }
    assert await hub.balance("alice") == 200 and count_transactions(hub.running.db, "cash") == 1


@given(
    key=st.text(max_size=140),
    value=st.integers(-(2**63), 2**63 - 1),
    currency=st.text(max_size=5),
    denomination=st.text(max_size=40),
    kind=st.text(max_size=6),
)
def test_hostile_cash_events_are_refused_before_any_lookup(
    key: str, value: int, currency: str, denomination: str, kind: str
) -> None:
    event = CashEvent("k1", 1, key, value, currency, denomination, kind)
    try:
        event.validate("EUR")
    except InvalidRequest:
        return
    assert 1 <= len(key) <= 128 and key.isprintable() and currency == "EUR"
    assert 0 < value <= 1_000_000 and kind in ("coin", "note") and len(denomination) <= 32


def test_the_hub_currency_comes_from_the_config(tmp_path: Path) -> None:
    assert load_config().currency == "EUR"
    path = tmp_path / "hub.toml"
    path.write_text(
        '[hub]\ncurrency = "CHF"\n[auth]\nvoucher_max_failed_attempts = 3\nvoucher_lockout_s = 60\n'
    )
    config = load_config(path)
    assert (config.currency, config.auth.voucher_max_failed_attempts, config.auth.voucher_lockout_s) == (
        "CHF",
        3,
        60,
    )
