"""Vouchers: the code format (check symbol, entropy), storage that does not reveal codes, single
use, expiry, redemption at a kiosk, a terminal and by an admin, and the brute-force lockout."""

from __future__ import annotations

import asyncio
import math
import shlex
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st
from printgate import voucher_code
from printgate.v1 import admin_pb2, common_pb2, kiosk_pb2

from hub_server.domain import vouchers
from tests.admin_cli.test_admin_cli import Result, run_admin
from tests.hub_server.conftest import HubClients
from tests.hub_server.kiosk_clients import (
    ALREADY,
    CREATED,
    KioskClient,
    account_balance,
    assert_books_clean,
    count_transactions,
    entries,
    kiosk,
    kiosk_admin,
    rpc_error,
)

CARD, OTHER_CARD = "A11CE001", "B0B00002"
DAY_S = 24 * 3600


# -- the code format ----------------------------------------------------------------------------


def test_codes_carry_at_least_64_bits_from_the_alphabet() -> None:
    assert len(set(voucher_code.ALPHABET)) == len(voucher_code.ALPHABET) == 32
    assert voucher_code.RANDOM_SYMBOLS * math.log2(len(voucher_code.ALPHABET)) >= 64
    assert not set("01IO") & set(voucher_code.ALPHABET)
    code = voucher_code.new_code("PRT")
    assert code.startswith("PRT") and len(code) == 3 + voucher_code.RANDOM_SYMBOLS + 1
    assert vouchers.normalise(code) == code
    printed = voucher_code.format_code(code)
    assert printed == "-".join(code[i : i + 4] for i in range(0, len(code), 4))
    assert vouchers.normalise(f"  {printed.lower()} ") == code


def test_the_kiosk_keyboard_offers_every_code_symbol_once() -> None:
    keys = "".join(voucher_code.KEYBOARD_ROWS)
    assert sorted(keys) == sorted(voucher_code.ALPHABET)


def test_check_symbol_known_vector() -> None:
    # Luhn mod 32 by hand over "23" (values 0, 1): from the right 1*2 = 2, then 0*1 = 0; sum 2;
    # check value (32 - 2) % 32 = 30 -> ALPHABET[30] = "Y".
    assert voucher_code.check_symbol("23") == "Y"
    assert voucher_code.check_symbol("") == "2"


@given(st.text(alphabet=voucher_code.ALPHABET, min_size=13, max_size=19), st.data())
def test_every_single_symbol_error_is_caught(body: str, data: st.DataObject) -> None:
    code = body + voucher_code.check_symbol(body)
    position = data.draw(st.integers(0, len(code) - 1))
    wrong = data.draw(st.sampled_from([s for s in voucher_code.ALPHABET if s != code[position]]))
    with pytest.raises(vouchers.MalformedVoucher):
        vouchers.normalise(code[:position] + wrong + code[position + 1 :])


@given(st.text(max_size=64))
def test_hostile_input_is_malformed_or_a_valid_code(text: str) -> None:
    try:
        code = vouchers.normalise(text)
    except vouchers.MalformedVoucher:
        return
    assert voucher_code.check_symbol(code[:-1]) == code[-1]


# -- through the hub ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def site(hub: HubClients) -> AsyncIterator[tuple[KioskClient, str]]:
    """Kiosk k1 and alice (prepaid, 100 cents) logged in at it; the books are checked afterwards."""
    k1 = await kiosk(hub, "k1")
    await hub.create_user("alice", card=CARD, credit_cents=100)
    yield k1, await k1.login(CARD)
    assert_books_clean(hub.running.db)


async def _batch(hub: HubClients, value_cents: int = 500, count: int = 3, prefix: str = "") -> list[str]:
    expires = Timestamp()
    expires.FromMicroseconds(hub.clock.now_us() + 30 * DAY_S * 1_000_000)
    request = kiosk_pb2.CreateVoucherBatchRequest(
        value_cents=value_cents, count=count, expires_at=expires, prefix=prefix, label="spring"
    )
    created = await kiosk_admin(hub, "CreateVoucherBatch", request)
    assert (created.batch.value_cents, created.batch.count, created.batch.redeemed) == (value_cents, count, 0)
    assert len(created.codes) == len(set(created.codes)) == count
    return list(created.codes)


async def test_a_batch_is_shown_once_and_stored_without_its_codes(hub: HubClients) -> None:
    codes = await _batch(hub, count=20, prefix="PRT")
    assert all(code.startswith("PRT") for code in codes)
    # Neither the printed nor the canonical form of any code is anywhere in the database.
    dump = "\n".join(_dump(hub))
    for code in codes:
        assert code not in dump and vouchers.normalise(code) not in dump
    listed = await kiosk_admin(hub, "ListVoucherBatches", kiosk_pb2.ListVoucherBatchesRequest())
    assert [(b.id, b.label, b.prefix, b.count) for b in listed.batches] == [(1, "spring", "PRT", 20)]


def _dump(hub: HubClients) -> list[str]:
    rows = hub.running.db.read(lambda tx: tx.execute("SELECT * FROM vouchers"))
    text = [repr(dict(row)) for row in rows]
    assert len(text) == 20
    return text


async def test_redeem_at_a_kiosk_credits_once(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, token = site
    codes = await _batch(hub, value_cents=500)
    first = await k1.redeem(token, codes[0].lower().replace("-", " "))
    assert (first.outcome, first.credited_cents, first.balance_cents, first.arrears_cents) == (
        CREATED,
        500,
        600,
        0,
    )
    assert entries(hub.running.db, first.transaction_id) == {"system:vouchers": -500, "user:alice": 500}
    # The same user again (a retry after a lost answer): the first answer, nothing moves.
    again = await k1.redeem(token, codes[0])
    assert (again.outcome, again.transaction_id, again.balance_cents) == (ALREADY, first.transaction_id, 600)
    # Anybody else: refused.
    await hub.create_user("bob", card=OTHER_CARD)
    code, message = await rpc_error(k1.redeem(await k1.login(OTHER_CARD), codes[0]))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "already been redeemed" in message
    assert await hub.balance("alice") == 600 and await hub.balance("bob") == 0
    assert account_balance(hub.running.db, "system:vouchers") == -500
    assert count_transactions(hub.running.db, "voucher") == 1
    listed = await kiosk_admin(hub, "ListVoucherBatches", kiosk_pb2.ListVoucherBatchesRequest())
    assert listed.batches[0].redeemed == 1


async def test_redeem_at_a_terminal_and_by_an_admin(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    codes = await _batch(hub, value_cents=250)
    terminal = await kiosk(hub, "t1", kind=1)
    at_terminal = await terminal.redeem(await terminal.login(CARD), codes[0])
    assert (at_terminal.credited_cents, at_terminal.balance_cents) == (250, 350)
    by_admin = await kiosk_admin(
        hub,
        "RedeemVoucherForUser",
        kiosk_pb2.RedeemVoucherForUserRequest(user=admin_pb2.UserRef(username="alice"), code=codes[1]),
    )
    assert (by_admin.outcome, by_admin.balance_cents) == (CREATED, 600)
    assert entries(hub.running.db, by_admin.transaction_id) == {"system:vouchers": -250, "user:alice": 250}
    tx_terminal = hub.running.db.read(
        lambda tx: tx.scalar(
            "SELECT terminal_id FROM transactions WHERE id = :t", {"t": at_terminal.transaction_id}
        )
    )
    assert tx_terminal == "t1"


async def test_arrears_are_paid_first(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, token = site
    await hub.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, 100)
    terminal = await hub.create_terminal("t1")
    copies = await terminal.report((await terminal.tap(CARD)).session_token, "c1", 4, performed=True)
    assert (copies.balance_cents, copies.arrears_cents) == (0, 300)
    redeemed = await k1.redeem(token, (await _batch(hub, value_cents=500))[0])
    assert (redeemed.balance_cents, redeemed.arrears_cents) == (200, 0)
    assert entries(hub.running.db, redeemed.transaction_id) == {
        "arrears:alice": 300,
        "system:vouchers": -500,
        "user:alice": 200,
    }


async def test_expired_vouchers_are_refused(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, token = site
    codes = await _batch(hub)
    hub.clock.advance(30 * DAY_S)
    token = await k1.login(CARD)
    code, message = await rpc_error(k1.redeem(token, codes[0]))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "expired" in message
    assert count_transactions(hub.running.db, "voucher") == 0 and await hub.balance("alice") == 100
    export = await kiosk_admin(hub, "ExportVoucherBatch", kiosk_pb2.ExportVoucherBatchRequest(batch_id=1))
    assert [line.split(",")[3] for line in export.csv.splitlines()[1:]] == ["expired"] * 3


async def test_export_later_unseals_the_same_codes(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, token = site
    codes = await _batch(hub, value_cents=500, count=3)
    await k1.redeem(token, codes[1])
    export = await kiosk_admin(hub, "ExportVoucherBatch", kiosk_pb2.ExportVoucherBatchRequest(batch_id=1))
    lines = export.csv.splitlines()
    assert lines[0] == "code,value_cents,expires_at,state"
    assert lines[1:] == [
        f"{codes[0]},500,2026-01-31T00:00:00Z,open",
        f"{codes[2]},500,2026-01-31T00:00:00Z,open",
    ]
    everything = await kiosk_admin(
        hub, "ExportVoucherBatch", kiosk_pb2.ExportVoucherBatchRequest(batch_id=1, include_redeemed=True)
    )
    assert [line.split(",")[::3] for line in everything.csv.splitlines()[1:]] == [
        [codes[0], "open"],
        [codes[1], "redeemed"],
        [codes[2], "open"],
    ]
    code, _ = await rpc_error(
        kiosk_admin(hub, "ExportVoucherBatch", kiosk_pb2.ExportVoucherBatchRequest(batch_id=9))
    )
    assert code == grpc.StatusCode.NOT_FOUND


async def test_malformed_codes_are_refused_without_counting_as_guesses(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    real = vouchers.normalise((await _batch(hub))[0])
    typo = real[:5] + next(s for s in voucher_code.ALPHABET if s != real[5]) + real[6:]
    # One symbol too many. Not a fixed "2": for one real code in 32 that is the check symbol
    # of the whole code, and the longer text is then a well-formed guess (the flaky failure).
    longer = real + next(s for s in voucher_code.ALPHABET if s != voucher_code.check_symbol(real))
    for text in [typo] * 10 + ["", "hello", longer, "0" * 14, real[:-1]]:
        code, message = await rpc_error(k1.redeem(token, text))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "not a voucher code" in message
    assert hub.running.db.read(lambda tx: tx.execute("SELECT * FROM auth_failures")) == []
    assert (await k1.redeem(token, real)).balance_cents == 600


async def test_brute_force_locks_the_user_and_the_kiosk(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    k1, token = site
    real = (await _batch(hub))[0]
    for _ in range(5):  # voucher_max_failed_attempts = 5: well-formed guesses
        code, message = await rpc_error(k1.redeem(token, voucher_code.new_code("")))
        assert code == grpc.StatusCode.NOT_FOUND and message == "voucher code not recognised"
    failures = hub.running.db.read(lambda tx: tx.execute("SELECT * FROM auth_failures ORDER BY identity"))
    assert [(r["identity"], r["failures"], r["locked_until_us"]) for r in failures] == [
        ("voucher:terminal:k1", 0, hub.clock.now_us() + 900 * 1_000_000),
        ("voucher:user:1", 0, hub.clock.now_us() + 900 * 1_000_000),
    ]
    # Locked: even the real code is refused, for this user anywhere and at this kiosk for anyone.
    code, message = await rpc_error(k1.redeem(token, real))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "locked" in message
    k2 = await kiosk(hub, "k2")
    code, _ = await rpc_error(k2.redeem(await k2.login(CARD), real))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    await hub.create_user("bob", card=OTHER_CARD)
    code, _ = await rpc_error(k1.redeem(await k1.login(OTHER_CARD), real))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert (await k2.redeem(await k2.login(OTHER_CARD), real)).balance_cents == 500  # bob at k2
    assert count_transactions(hub.running.db, "voucher") == 1
    # Logins are a separate matter: the user can still log in and pay with cash.
    assert (await k1.terminal.tap(CARD)).session_token
    # An admin lifts alice's lockout: she can redeem at k2, while k1 itself stays locked.
    second, third = (await _batch(hub, count=2))[:2]
    unlock = kiosk_pb2.UnlockVoucherRedemptionRequest(user=admin_pb2.UserRef(username="alice"))
    await kiosk_admin(hub, "UnlockVoucherRedemption", unlock)
    code, _ = await rpc_error(k1.redeem(await k1.login(CARD), second))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert (await k2.redeem(await k2.login(CARD), second)).balance_cents == 600
    hub.clock.advance(901)  # voucher_lockout_s = 900
    assert (await k1.redeem(await k1.login(CARD), third)).balance_cents == 1100


async def test_refusals_change_nothing(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, _ = site
    await hub.create_user("dept", card="DE77", billing=admin_pb2.BILLING_DEPARTMENT, department="Physics")
    real = (await _batch(hub))[0]
    code, message = await rpc_error(k1.redeem(await k1.login("DE77"), real))
    assert code == grpc.StatusCode.FAILED_PRECONDITION and "department" in message
    code, _ = await rpc_error(k1.redeem("forged.token", real))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    expires = Timestamp()
    expires.FromMicroseconds(hub.clock.now_us())
    bad_batches = [
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=0, count=1, expires_at=expires),
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=100, count=1),
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=100, count=0, expires_at=expires),
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=100, count=1, expires_at=expires),
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=100, count=10_001, expires_at=expires),
    ]
    for request in bad_batches:
        code, _ = await rpc_error(kiosk_admin(hub, "CreateVoucherBatch", request))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    expires.FromMicroseconds(hub.clock.now_us() + 1_000_000)
    for prefix in ("TOOLONG", "PRT0", "A-B"):
        request = kiosk_pb2.CreateVoucherBatchRequest(
            value_cents=100, count=1, expires_at=expires, prefix=prefix
        )
        code, message = await rpc_error(kiosk_admin(hub, "CreateVoucherBatch", request))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "prefix" in message
    assert count_transactions(hub.running.db, "voucher") == 0


# -- printgate admin voucher ... / cashbox ... ----------------------------------------------------


async def _admin(hub: HubClients, command: str) -> Result:
    """``printgate admin COMMAND`` in-process (in a thread: the hub serves on this event loop)."""
    login = [
        "--hub",
        f"127.0.0.1:{hub.running.admin_port}",
        "--data-dir",
        str(hub.running.hub.config.data_dir),
    ]
    return await asyncio.to_thread(run_admin, [*login, *shlex.split(command)])


async def test_admin_cli_voucher_and_cashbox_verbs(hub: HubClients, site: tuple[KioskClient, str]) -> None:
    k1, token = site
    created = await _admin(
        hub, "voucher create --value-cents 300 --count 2 --expires 2026-03-01 --prefix PRT --label 'open day'"
    )
    assert (created.code, created.err) == (0, "")
    head, codes_text = created.out.split("codes:\n")
    assert head.splitlines() == [
        "id           1",
        "label        open day",
        "prefix       PRT",
        "value_cents  300",
        "count        2",
        "redeemed     0",
        "created_at   2026-01-01T00:00:00Z",
        "expires_at   2026-03-01T00:00:00Z",
    ]
    codes = codes_text.splitlines()[:2]
    assert codes_text.splitlines()[2] == "(export again with: printgate admin voucher export 1)"
    assert all(vouchers.normalise(code).startswith("PRT") for code in codes)

    redeemed = await _admin(hub, f"voucher redeem alice {codes[0]}")
    assert redeemed.out.splitlines()[:4] == [
        "outcome         created",
        "transaction_id  2",
        "credited_cents  300",
        "balance_cents   400",
    ]
    listed = await _admin(hub, "voucher list")
    assert listed.out.splitlines() == [
        "ID  LABEL     PREFIX  VALUE_CENTS  COUNT  REDEEMED  CREATED_AT            EXPIRES_AT",
        "1   open day  PRT     300          2      1         2026-01-01T00:00:00Z  2026-03-01T00:00:00Z",
    ]
    exported = await _admin(hub, "voucher export 1")
    assert exported.out == f"code,value_cents,expires_at,state\n{codes[1]},300,2026-03-01T00:00:00Z,open\n"
    guess = await _admin(hub, "voucher redeem alice 2345")
    assert (guess.code, guess.err) == (
        1,
        "printgate admin: INVALID_ARGUMENT: not a voucher code: wrong length\n",
    )

    await k1.credit((await k1.open(token)).recharge_id, "C/0/1", 200)
    report = await _admin(hub, "cashbox report k1")
    assert report.out.splitlines() == [
        "kiosk_id        k1",
        "expected_cents  200",
        "currency        EUR",
        "last emptied    never",
        "DEVICE_KIND  VALUE_CENTS  EXPECTED_COUNT",
        "coin         200          1",
    ]
    empty = "cashbox empty k1 --count coin:200=1 --count note:500=1 --idempotency-key e-1 --note olga"
    emptied = await _admin(hub, empty)
    assert emptied.out.splitlines() == [
        "transaction_id    4",
        "kiosk_id          k1",
        "expected_cents    200",
        "counted_cents     700",
        "difference_cents  500",
        "DEVICE_KIND  VALUE_CENTS  EXPECTED_COUNT  COUNTED_COUNT",
        "coin         200          1               1",
        "note         500          0               1",
        "emptying recorded; idempotency key: e-1",
    ]
    again = await _admin(hub, empty)
    assert (
        again.out.splitlines()[-1]
        == "emptying already recorded earlier (nothing changed); idempotency key: e-1"
    )
    unlocked = await _admin(hub, "voucher unlock --terminal k1")
    assert (unlocked.code, unlocked.out) == (0, "voucher redemption unlocked\n")
    unknown = await _admin(hub, "voucher unlock --terminal nope")
    assert (unknown.code, unknown.err) == (1, "printgate admin: NOT_FOUND: no terminal 'nope'\n")
    bad = await _admin(hub, "cashbox empty k1 --count coin:2.00=1")
    assert bad.code == 2 and "expected KIND:VALUE_CENTS=COUNT" in bad.err
    assert account_balance(hub.running.db, "system:cash-differences") == 500


async def test_one_code_raced_by_many_users_is_redeemed_once(
    hub: HubClients, site: tuple[KioskClient, str]
) -> None:
    code = (await _batch(hub, value_cents=500))[0]
    clients = []
    for index in range(8):
        await hub.create_user(f"u{index}", card=f"CA{index:04d}")
        client = await kiosk(hub, f"r{index}")
        clients.append((client, await client.login(f"CA{index:04d}")))
    replies = await asyncio.gather(*(c.redeem(token, code) for c, token in clients), return_exceptions=True)
    winners = [r for r in replies if isinstance(r, kiosk_pb2.RedeemVoucherResponse)]
    losers = [r for r in replies if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1 and winners[0].balance_cents == 500
    assert [(e.code(), e.details()) for e in losers] == [
        (grpc.StatusCode.FAILED_PRECONDITION, "this voucher has already been redeemed")
    ] * 7
    assert sorted([await hub.balance(f"u{index}") for index in range(8)]) == [0] * 7 + [500]
    assert account_balance(hub.running.db, "system:vouchers") == -500
