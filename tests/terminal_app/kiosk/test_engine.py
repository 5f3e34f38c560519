"""The recharge kiosk end to end: real ccTalk drivers on the simulated line, the real hub, the
simulated ESC/POS printer. Exact balances, exact ledger entries, receipts read back field by field,
and the master inhibit checked in the device's own history."""

from __future__ import annotations

import datetime as dt

from printgate.v1 import admin_pb2, kiosk_pb2

from hw_sim.cash import SimReceipt
from terminal_app.kiosk.state import (
    CheckPrinter,
    EmptyCashBox,
    FinishRecharge,
    KioskMessage,
    KioskScreen,
    PrintCashBoxReport,
    RedeemVoucher,
    RefreshCashBox,
    RunSelfTest,
    StartRecharge,
)
from terminal_app.terminal.state import CardPresented, Logout, PasswordEntered, PinEntered
from tests.hub_server.conftest import HubClients
from tests.hub_server.kiosk_clients import (
    account_balance,
    assert_books_clean,
    count_transactions,
    entries,
    kiosk_admin,
)
from tests.terminal_app.conftest import restart_hub
from tests.terminal_app.kiosk.rig import (
    ALICE_CARD,
    KIOSK_ID,
    OLGA_CARD,
    SETTINGS,
    KioskRig,
    kiosk_rig,
    master_inhibit_writes,
    receipt_fields,
    wait_for,
)

__all__ = ["kiosk_rig"]  # the fixture, re-exported for pytest


async def _recharging(rig: KioskRig) -> int:
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    assert (rig.state.screen, rig.state.username, rig.state.balance_minor) == (KioskScreen.HOME, "alice", 0)
    assert rig.state.currency == "EUR"  # what the acceptors take, before the hub names it
    assert not rig.coins.master_accepting  # identified is not enough: no recharge yet
    await rig.engine.dispatch(StartRecharge())
    assert rig.state.screen is KioskScreen.RECHARGING and rig.state.accepting
    assert rig.coins.master_accepting and rig.notes.master_accepting
    assert rig.state.recharge_id is not None
    return rig.state.recharge_id


async def printed(rig: KioskRig, count: int) -> list[SimReceipt]:
    """The receipts once ``count`` of them are parsed (the printer parses in its own thread)."""
    await wait_for(lambda: len(rig.printer.receipts) >= count, f"{count} receipt(s)")
    return rig.printer.receipts


async def _insert(rig: KioskRig, value: int, total: int) -> None:
    rig.coins.insert_coin(value)
    await wait_for(
        lambda: rig.state.recharge_total_minor == total and rig.state.pending_minor == 0,
        f"{value} credited (total {total})",
    )


async def test_tap_open_coins_close_receipt_and_exact_books(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    recharge_id = await _recharging(rig)
    for value, total in ((200, 200), (100, 300), (50, 350)):
        await _insert(rig, value, total)
        assert rig.state.last_coin is not None
        assert (rig.state.last_coin.value_minor, rig.state.last_coin.denomination) == (
            value,
            f"EU{value:03d}A",
        )
        assert rig.state.balance_minor == total
    # each coin was shown as it landed (journaled, not yet credited), then as credited
    shown = [(s.last_coin.value_minor, s.last_coin.credited) for s in rig.states if s.last_coin]
    for value in (200, 100, 50):
        assert shown.index((value, False)) < shown.index((value, True))

    await rig.engine.dispatch(FinishRecharge())
    assert rig.state.screen is KioskScreen.HOME and rig.state.recharge_id is None
    assert (rig.state.message, dict(rig.state.message_args)) == (
        KioskMessage.RECHARGE_DONE,
        {"amount": "350", "balance": "350"},
    )
    assert not rig.coins.master_accepting and not rig.notes.master_accepting
    assert master_inhibit_writes(rig.coins)[-2:] == ["01", "00"]  # enabled once, inhibited at close

    [receipt] = await printed(rig, 1)
    fields = receipt_fields(receipt)
    assert fields["Amount"] == "3.50 EUR"
    assert fields["New balance"] == "3.50 EUR"
    assert fields["Transaction"] == f"R{recharge_id}"
    assert (fields["Kiosk"], fields["Account"]) == (KIOSK_ID, "alice")
    assert dt.datetime.fromisoformat(fields["Time"]).tzinfo is not None
    assert receipt.qr_codes == [f"R{recharge_id}"]

    assert await rig.balance() == 350
    db = rig.hub.running.db
    credited = rig.journal.events("credited")
    assert [(row.value_minor, row.recharge_id) for row in credited] == [
        (200, recharge_id),
        (100, recharge_id),
        (50, recharge_id),
    ]
    assert rig.journal.pending_count() == 0
    for row in credited:
        assert row.transaction_id is not None
        assert entries(db, row.transaction_id) == {
            f"system:cashbox:{KIOSK_ID}": -row.value_minor,
            "user:alice": row.value_minor,
        }
    assert count_transactions(db, "cash") == 3
    assert account_balance(db, f"system:cashbox:{KIOSK_ID}") == -350
    assert_books_clean(db)


async def test_a_note_is_stacked_only_while_a_recharge_is_open(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    await _recharging(rig)
    rig.notes.insert_note(500)
    await wait_for(lambda: rig.state.recharge_total_minor == 500, "the note credited")
    assert rig.state.last_coin is not None and rig.state.last_coin.device_kind == "note"
    assert [r.detail["how"] for r in rig.notes.history if r.what == "route"] == [1]  # stacked
    await rig.engine.dispatch(FinishRecharge())
    assert await rig.balance() == 500
    [row] = rig.journal.events("credited")
    assert (row.device_kind, row.value_minor, row.denomination) == ("note", 500, "EU0005A")


async def test_no_paper_no_money(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    rig.printer.paper_out()
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    await rig.engine.dispatch(StartRecharge())
    assert rig.state.screen is KioskScreen.HOME and rig.state.recharge_id is None
    assert (rig.state.message, dict(rig.state.message_args)) == (
        KioskMessage.PRINTER_NOT_READY,
        {"paper": "out"},
    )
    assert "01" not in master_inhibit_writes(rig.coins)  # never enabled
    rig.coins.insert_coin(200)  # refused by the inhibited device: handed back
    assert rig.coins.history[-1].detail["accepted"] is False
    rig.printer.refill()
    await rig.engine.dispatch(CheckPrinter())
    assert (rig.state.printer_ready, rig.state.printer_paper) == (True, "ok")


async def test_timeout_inhibits_credits_prints_and_logs_out(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    await _recharging(rig)
    await _insert(rig, 100, 100)
    rig.clock.advance(SETTINGS.recharge_timeout_s - 1)
    await rig.engine.tick()
    assert rig.state.screen is KioskScreen.RECHARGING and rig.coins.master_accepting
    rig.clock.advance(2)
    await rig.engine.tick()
    assert rig.state.screen is KioskScreen.IDLE and rig.state.message is KioskMessage.TIMED_OUT
    assert not rig.coins.master_accepting and not rig.notes.master_accepting
    assert rig.state.username == "" and rig.state.balance_minor is None
    assert receipt_fields((await printed(rig, 1))[-1])["Amount"] == "1.00 EUR"
    assert await rig.balance() == 100


async def test_logout_and_errors_inhibit_the_acceptors(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    await _recharging(rig)
    await rig.engine.dispatch(Logout())
    assert rig.state.screen is KioskScreen.IDLE and not rig.coins.master_accepting
    # The device refuses its inhibit mask: enabling fails half way, and the kiosk inhibits at once.
    rig.coins.refuse(231)
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    await rig.engine.dispatch(StartRecharge())
    assert rig.state.screen is KioskScreen.IDLE and rig.state.recharge_id is None
    assert not rig.coins.master_accepting and not rig.notes.master_accepting
    assert master_inhibit_writes(rig.coins)[-1] == "00"
    assert rig.journal.open_recharges() == []  # the recharge was closed at the hub too


async def test_a_refused_inhibit_at_logout_stays_out_of_order(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    assert rig.state.screen is KioskScreen.HOME
    rig.coins.refuse(228)  # the acceptor will not take its master inhibit
    await rig.engine.dispatch(Logout())
    assert rig.state.screen is KioskScreen.OUT_OF_ORDER and rig.state.username == ""
    await rig.engine.tick()
    assert rig.state.screen is KioskScreen.OUT_OF_ORDER  # still refused: still out of order
    rig.coins.refuse()
    await rig.engine.tick()
    assert rig.state.screen is KioskScreen.IDLE and not rig.coins.master_accepting


async def test_hub_down_mid_recharge_journals_inhibits_and_credits_once_when_back(
    kiosk_rig: KioskRig,
) -> None:
    rig = kiosk_rig
    await _recharging(rig)
    await _insert(rig, 200, 200)
    await rig.hub.running.stop(0)
    rig.coins.insert_coin(100)
    await wait_for(lambda: rig.state.offline and not rig.coins.master_accepting, "offline and inhibited")
    [pending] = rig.journal.pending()
    assert (pending.value_minor, pending.recharge_id) == (100, rig.state.recharge_id)
    assert rig.state.shown_total_minor == 300 and rig.state.message is KioskMessage.CREDIT_PENDING
    await restart_hub(rig.hub)
    await wait_for(lambda: rig.journal.pending_count() == 0, "the journal replayed")
    await rig.engine.dispatch(FinishRecharge())
    assert rig.state.message is KioskMessage.RECHARGE_DONE
    assert await rig.balance() == 300
    assert count_transactions(rig.hub.running.db, "cash") == 2


async def test_vouchers_are_redeemed_and_mistakes_named(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    expires = kiosk_pb2.CreateVoucherBatchRequest().expires_at
    expires.FromMicroseconds(rig.hub.clock.now_us() + 86_400_000_000)
    batch = await kiosk_admin(
        rig.hub,
        "CreateVoucherBatch",
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=750, count=1, expires_at=expires),
    )
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    await rig.engine.dispatch(RedeemVoucher("not-a-code"))
    assert rig.state.message is KioskMessage.VOUCHER_INVALID
    await rig.engine.dispatch(RedeemVoucher(batch.codes[0].lower()))
    assert (rig.state.message, rig.state.balance_minor) == (KioskMessage.VOUCHER_REDEEMED, 750)
    fields = receipt_fields((await printed(rig, 1))[-1])
    assert (fields["Amount"], fields["New balance"]) == ("7.50 EUR", "7.50 EUR")
    assert int(fields["Transaction"]) > 0
    assert await rig.balance() == 750
    assert not rig.coins.master_accepting  # a voucher never enables the acceptors


async def test_operator_card_cash_box_self_test_printer_and_emptying(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    await _recharging(rig)
    await _insert(rig, 200, 200)
    await _insert(rig, 200, 400)
    await _insert(rig, 50, 450)
    await rig.engine.dispatch(Logout())
    await rig.engine.dispatch(CardPresented(OLGA_CARD))
    assert rig.state.screen is KioskScreen.OPERATOR and rig.state.operator
    box = rig.state.cash_box
    assert box is not None and box.expected_minor == 450
    assert {(line.value_minor, line.expected_count) for line in box.lines} == {(200, 2), (50, 1)}

    await rig.engine.dispatch(RunSelfTest())
    assert [(t.device, t.ok, t.code) for t in rig.state.self_tests] == [("coin", True, 0), ("note", True, 0)]
    rig.coins.jam()
    await rig.engine.dispatch(RunSelfTest())
    assert (rig.state.self_tests[0].ok, rig.state.self_tests[0].code) == (False, 3)
    await wait_for(lambda: rig.state.message is KioskMessage.DEVICE_FAULT, "the jam reported")
    # a code and its kind, not the driver's English name (ccTalk coin code 14: credit sensor blocked)
    assert dict(rig.state.message_args) == {"device": "coin", "fault": "fault", "code": "14"}
    assert rig.state.device_alarms[-1] == "coin: fault credit sensor blocked"  # the operator's log

    rig.printer.paper_low()
    await rig.engine.dispatch(CheckPrinter())
    assert (rig.state.printer_ready, rig.state.printer_paper) == (True, "low")
    await rig.engine.dispatch(PrintCashBoxReport())
    report = receipt_fields((await printed(rig, 2))[-1])
    assert (report["Expected"], report["2.00 EUR"], report["0.50 EUR"]) == (
        "4.50 EUR",
        "2 = 4.00 EUR",
        "1 = 0.50 EUR",
    )

    await rig.engine.dispatch(EmptyCashBox((("coin", 200, 2), ("coin", 50, 0))))
    assert rig.state.message is KioskMessage.CASH_BOX_EMPTIED
    assert rig.state.cash_box is not None and rig.state.cash_box.difference_minor == -50
    await rig.engine.dispatch(RefreshCashBox())
    assert rig.state.cash_box is not None and rig.state.cash_box.expected_minor == 0
    assert not rig.coins.master_accepting


async def test_a_customer_gets_no_operator_view(kiosk_rig: KioskRig, hub: HubClients) -> None:
    rig = kiosk_rig
    await rig.engine.dispatch(CardPresented(ALICE_CARD))
    assert rig.state.screen is KioskScreen.HOME and not rig.state.operator and rig.state.cash_box is None
    await rig.engine.dispatch(RunSelfTest())
    await rig.engine.dispatch(RefreshCashBox())
    assert rig.state.self_tests == () and rig.state.cash_box is None


async def test_pin_card_with_pin_and_password_identify_at_the_kiosk(kiosk_rig: KioskRig) -> None:
    rig = kiosk_rig
    hub = rig.hub
    await hub.call_admin("UpsertRole", admin_pb2.Role(name="staff", requires_card_pin=True))
    await hub.create_user("bob", card="B0B0B0B0", pin="2468", roles=["staff"])
    await hub.create_user("carol", pin="1357")
    await hub.call_admin(
        "SetPassword",
        admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username="alice"), password="pw 123 x"),
    )
    await rig.engine.dispatch(PinEntered("1357"))
    assert (rig.state.screen, rig.state.username) == (KioskScreen.HOME, "carol")
    await rig.engine.dispatch(Logout())
    await rig.engine.dispatch(CardPresented("B0B0B0B0"))
    assert rig.state.screen is KioskScreen.SECOND_FACTOR and rig.state.username == ""
    await rig.engine.dispatch(PinEntered("2468"))
    assert (rig.state.screen, rig.state.username) == (KioskScreen.HOME, "bob")
    await rig.engine.dispatch(Logout())
    await rig.engine.dispatch(PasswordEntered("alice", "wrong"))
    assert (rig.state.screen, rig.state.message) == (KioskScreen.IDLE, KioskMessage.CARD_NOT_RECOGNISED)
    await rig.engine.dispatch(PasswordEntered("alice", "pw 123 x"))
    assert (rig.state.screen, rig.state.username, rig.state.full_name) == (
        KioskScreen.HOME,
        "alice",
        "Alice A",
    )
    assert not rig.coins.master_accepting
