"""The kiosk's Kivy screens on a real kiosk engine, driven by simulated touches and simulated money.

Run by ``test_kiosk_under_xvfb.py`` in a pytest subprocess on a private Xvfb. The engine is the
kiosk tests' rig: the real hub in-process over gRPC, the real ccTalk drivers polling the simulated
coin acceptor and note validator on a pty, the simulated ESC/POS printer on loopback TCP. A coin
dropped into the simulator must appear on screen; every screen is checked for layout (inside the
window, touch targets, no overflowing text) and shot in English and German.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial
from typing import Any

import pytest_asyncio
from printgate.v1 import admin_pb2, kiosk_pb2
from printgate.voucher_code import new_code

from terminal_app.kiosk.engine import KioskEngine
from terminal_app.kiosk.state import (
    CheckPrinter,
    EmptyCashBox,
    FinishRecharge,
    KioskMessage,
    KioskScreen,
    KioskState,
    RedeemVoucher,
    RunSelfTest,
    StartRecharge,
)
from terminal_app.terminal.state import CardPresented, Logout, PasswordEntered, PinEntered, SetLanguage
from tests.hub_server.kiosk_clients import kiosk_admin
from tests.terminal_app.conftest import restart_hub
from tests.terminal_app.kiosk.rig import ALICE_CARD, OLGA_CARD, KioskRig, kiosk_rig, wait_for
from tests.terminal_app.kiosk.ui.rig import KioskUi, mounted_kiosk

__all__ = ["kiosk_rig"]  # the fixture, re-exported for pytest


@pytest_asyncio.fixture
async def ui(kiosk_rig: KioskRig, kivy_window: Any) -> AsyncIterator[KioskUi]:
    """The kiosk view at 800x480 on the real kiosk engine."""
    async with mounted_kiosk(kiosk_rig, kivy_window) as mounted:
        yield mounted


def credited(engine: KioskEngine, total_minor: int) -> bool:
    """The recharge shows ``total_minor``, all of it acknowledged by the hub."""
    return engine.state.recharge_total_minor == total_minor and engine.state.pending_minor == 0


def shown(ui: KioskUi, screen: KioskScreen, **fields: object) -> KioskState:
    """Render a state the engine published earlier (transient screens: identifying, closing, …)."""
    state = next(
        s
        for s in ui.rig.states
        if s.screen is screen and all(getattr(s, name) == value for name, value in fields.items())
    )
    ui.view.show(state)
    ui.frame()
    return state


async def test_idle_language_switch_and_pin_login(ui: KioskUi) -> None:
    engine = ui.rig.engine
    await ui.rig.hub.create_user("carol", pin="1357", full_name="Carol C")
    assert ui.view.screen_name == "idle"
    assert ui.text("title") == "Tap your card, enter your PIN or log in"
    ui.shot("idle_en")
    assert await ui.tap("language") == [SetLanguage("de")]
    assert engine.state.language == "de"
    assert ui.text("title") == "Karte auflegen, PIN eingeben oder anmelden"
    assert (ui.text("open_pin"), ui.text("language")) == ("PIN eingeben", "English")
    ui.shot("idle_de")
    assert await ui.tap("language") == [SetLanguage("en")]

    assert await ui.tap("open_pin") == []  # opening the pad is local
    assert ui.view.screen_name == "pin" and ui.text("title") == "Enter your PIN"
    await ui.type_keys("pin_", "1359")
    assert ui.text("pin_mask") == "● ● ● ● "
    assert await ui.tap("pin_clear") == [] and ui.text("pin_mask") == ""
    await ui.type_keys("pin_", "1357")
    ui.both_languages("pin")
    assert await ui.tap("pin_ok") == [PinEntered("1357")]
    assert (engine.state.screen, engine.state.username) == (KioskScreen.HOME, "carol")
    assert ui.view.screen_name == "home"
    assert ui.text("title") == "Hello, Carol C"
    assert ui.text("balance") == "Balance: €0.00"
    assert ui.text("countdown") == "60 s"
    identifying = shown(ui, KioskScreen.IDENTIFYING)
    assert ui.view.screen_name == "identifying"
    ui.both_languages("identifying", identifying)

    assert await ui.tap("logout") == [Logout()]
    assert engine.state.screen is KioskScreen.IDLE and ui.view.screen_name == "idle"
    assert ui.text("message") == "You are logged out."


async def test_password_login_and_second_factor(ui: KioskUi) -> None:
    engine, hub = ui.rig.engine, ui.rig.hub
    await hub.call_admin(
        "SetPassword",
        admin_pb2.SetPasswordRequest(user=admin_pb2.UserRef(username="alice"), password="pw-alice-1"),
    )
    await ui.tap("open_password")
    assert ui.view.screen_name == "password"
    ui.view.find("username").text = "alice"
    ui.view.find("password").text = "wrong"
    assert await ui.tap("login") == [PasswordEntered("alice", "wrong")]
    assert engine.state.message is KioskMessage.CARD_NOT_RECOGNISED
    assert ui.text("message") == "Card, PIN or login not recognised."
    ui.both_languages("msg_not_recognised")
    await ui.tap("open_password")
    ui.view.find("username").text = "alice"
    ui.view.find("password").text = "pw-alice-1"
    ui.both_languages("password")
    assert await ui.tap("login") == [PasswordEntered("alice", "pw-alice-1")]
    assert (engine.state.screen, engine.state.full_name) == (KioskScreen.HOME, "Alice A")
    await ui.tap("logout")

    await hub.call_admin("UpsertRole", admin_pb2.Role(name="staff", requires_card_pin=True))
    await hub.create_user("bob", card="B0B0B0B0", pin="2468", roles=["staff"])
    await engine.dispatch(CardPresented("B0B0B0B0"))  # the reader task, not a touch
    ui.frame()
    assert ui.view.screen_name == "pin" and ui.text("title") == "Card recognised: enter your PIN"
    ui.both_languages("second_factor")
    await ui.type_keys("pin_", "2468")
    assert await ui.tap("pin_ok") == [PinEntered("2468")]
    assert (engine.state.screen, engine.state.username) == (KioskScreen.HOME, "bob")


async def test_coins_and_a_note_appear_as_they_land_then_the_summary(ui: KioskUi) -> None:
    rig, engine = ui.rig, ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    assert ui.view.screen_name == "home" and ui.text("title") == "Hello, Alice A"
    ui.both_languages("home")
    assert "arrears" not in ui.view.idents()  # nothing owed: no line
    # Rendering only (arrears need a copy session that overran its credit, a terminal's story):
    ui.view.show(replace(engine.state, arrears_minor=250))
    assert ui.text("arrears") == "Outstanding: €2.50"
    ui.shot("home_arrears_en")
    ui.view.show(engine.state)
    assert await ui.tap("insert_money") == [StartRecharge()]
    assert engine.state.accepting and rig.coins.master_accepting
    assert ui.view.screen_name == "recharging"
    assert (ui.text("title"), ui.text("total")) == ("Insert coins or notes", "Inserted: €0.00")
    assert ui.text("last_coin") == "Nothing inserted yet"
    ui.both_languages("recharging")

    # What the screen said after every engine state, read from the real widgets.
    seen: list[str] = []
    unsubscribe = engine.subscribe(
        lambda _s: seen.append(ui.text("last_coin")) if ui.view.screen_name == "recharging" else None
    )
    rig.coins.insert_coin(200)  # a customer drops a 2 euro coin into the simulated acceptor
    await wait_for(
        lambda: engine.state.recharge_total_minor == 200 and engine.state.pending_minor == 0, "2.00"
    )
    assert seen.index("Last: €2.00 coin, being credited") < seen.index("Last: €2.00 coin, credited")
    assert (ui.text("total"), ui.text("credited_pending")) == (
        "Inserted: €2.00",
        "Credited €2.00 · waiting €0.00",
    )
    assert ui.text("pieces") == "1 piece(s)"
    ui.both_languages("recharging_credited")
    pending = shown(ui, KioskScreen.RECHARGING, pending_minor=200)  # before the hub answered
    assert ui.text("credited_pending") == "Credited €0.00 · waiting €2.00"
    assert ui.text("last_coin") == "Last: €2.00 coin, being credited"
    ui.both_languages("recharging_pending", pending)
    ui.view.show(engine.state)

    rig.notes.insert_note(500)  # held in escrow, stacked because a recharge takes money
    await wait_for(
        lambda: engine.state.recharge_total_minor == 700 and engine.state.pending_minor == 0, "7.00"
    )
    ui.frame()
    assert ui.text("last_coin") == "Last: €5.00 note, credited"
    assert ui.text("total") == "Inserted: €7.00" and ui.text("pieces") == "2 piece(s)"
    unsubscribe()

    assert await ui.tap("finish") == [FinishRecharge()]
    assert not rig.coins.master_accepting and not rig.notes.master_accepting
    assert ui.view.screen_name == "summary"
    assert ui.text("summary_amount") == "Amount: €7.00"
    assert ui.text("summary_balance") == "New balance: €7.00"
    assert "message" not in ui.view.idents()  # the summary says it already
    await wait_for(lambda: len(rig.printer.receipts) == 1, "the receipt")
    ui.both_languages("summary")
    closing = shown(ui, KioskScreen.CLOSING)
    assert ui.view.screen_name == "closing" and ui.text("total") == "Inserted: €7.00"
    ui.both_languages("closing", closing)
    ui.view.show(engine.state)
    assert await ui.tap("done") != []
    assert ui.view.screen_name == "home" and ui.text("balance") == "Balance: €7.00"

    for width, height in ((1024, 600),):  # the larger panel: same screens, checked and shot
        ui.resize(width, height)
        ui.shot("home_en")
        await ui.tap("insert_money")
        ui.shot("recharging_en")
        await ui.tap("finish")
        ui.resize(800, 480)


async def test_voucher_keyboard_redeem_unknown_and_locked(ui: KioskUi) -> None:
    rig, engine = ui.rig, ui.rig.engine
    expires = kiosk_pb2.CreateVoucherBatchRequest().expires_at
    expires.FromMicroseconds(rig.hub.clock.now_us() + 86_400_000_000)
    batch = await kiosk_admin(
        rig.hub,
        "CreateVoucherBatch",
        kiosk_pb2.CreateVoucherBatchRequest(value_cents=750, count=1, expires_at=expires),
    )
    code = batch.codes[0].replace("-", "").replace(" ", "")
    await engine.dispatch(CardPresented(ALICE_CARD))
    ui.frame()
    assert await ui.tap("redeem_voucher") == []
    assert ui.view.screen_name == "voucher"
    await ui.type_keys("key_", code[:5])
    assert ui.text("voucher_code") == f"{code[:4]}-{code[4]}"
    assert await ui.tap("key_back") == [] and ui.text("voucher_code") == code[:4]
    await ui.type_keys("key_", code[4:])
    ui.both_languages("voucher")
    ui.resize(1024, 600)  # the larger panel: the same keyboard, checked and shot
    ui.shot("voucher_en")
    ui.resize(800, 480)
    assert ui.text("voucher_code").replace("-", "") == code  # a resize keeps what was typed
    assert await ui.tap("voucher_ok") == [RedeemVoucher(code)]
    assert (engine.state.message, engine.state.balance_minor) == (KioskMessage.VOUCHER_REDEEMED, 750)
    assert ui.view.screen_name == "summary" and ui.text("title") == "Voucher redeemed"
    assert ui.text("summary_amount") == "Amount: €7.50"
    ui.both_languages("summary_voucher")
    await ui.tap("done")

    await ui.tap("redeem_voucher")
    await ui.type_keys("key_", "2345")
    assert await ui.tap("voucher_ok") == [RedeemVoucher("2345")]
    assert ui.text("message") == "This is not a valid voucher code: please check it."
    unknown = new_code("")  # well formed (check symbol right), never issued
    await ui.tap("redeem_voucher")
    await ui.type_keys("key_", unknown)
    assert await ui.tap("voucher_ok") == [RedeemVoucher(unknown)]
    assert engine.state.message is KioskMessage.VOUCHER_UNKNOWN
    assert ui.view.screen_name == "home" and ui.text("message") == "Voucher not recognised."
    ui.both_languages("msg_voucher_unknown")
    for _ in range(6):
        if engine.state.message is KioskMessage.VOUCHER_LOCKED:
            break
        await engine.dispatch(RedeemVoucher(new_code("")))
    assert engine.state.message is KioskMessage.VOUCHER_LOCKED
    ui.frame()
    assert ui.text("message") == "Too many wrong codes: vouchers are locked for a while."
    ui.both_languages("msg_voucher_locked")


async def test_clear_messages_for_paper_jam_and_offline(ui: KioskUi) -> None:
    rig, engine = ui.rig, ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    rig.printer.paper_out()
    assert await ui.tap("insert_money") == [StartRecharge()]
    assert engine.state.screen is KioskScreen.HOME and not rig.coins.master_accepting
    assert ui.text("message") == "The receipt printer is not ready (out): no money is taken."
    ui.both_languages("msg_printer_not_ready")
    rig.printer.refill()
    await ui.tap("dismiss")

    await ui.tap("insert_money")
    rig.coins.jam()
    await wait_for(lambda: engine.state.message is KioskMessage.DEVICE_FAULT, "the jam reported")
    ui.frame()
    # the engine passes the fault's kind and code; the words are the UI's, in the user's language
    assert ui.text("message") == "The coin acceptor reports a fault (code 14). Please ask for help."
    ui.view.show(replace(engine.state, language="de"))
    assert ui.text("message") == "Das Gerät „Münze“ meldet eine Störung (Code 14). Bitte Hilfe holen."
    ui.both_languages("msg_device_jammed")
    assert await ui.tap("finish") == [FinishRecharge()]
    assert ui.view.screen_name == "summary" and "summary_receipt" not in ui.view.idents()  # nothing paid
    await ui.tap("done")

    assert await ui.tap("insert_money") == [StartRecharge()]
    assert engine.state.accepting
    rig.coins.refuse(228)  # the master inhibit is refused: nobody may use the kiosk
    assert await ui.tap("finish") == [FinishRecharge()]
    assert engine.state.screen is KioskScreen.OUT_OF_ORDER and ui.view.screen_name == "out_of_order"
    assert ui.text("message") == "Out of order: the money acceptors cannot be locked."
    ui.both_languages("out_of_order")
    rig.coins.refuse()
    await engine.tick()  # the engine retries the inhibit on every tick
    assert engine.state.screen is KioskScreen.IDLE and ui.view.screen_name == "idle"
    assert not rig.coins.master_accepting

    await engine.dispatch(CardPresented(ALICE_CARD))
    await rig.hub.running.stop(0)
    assert await ui.tap("insert_money") == [StartRecharge()]
    assert engine.state.offline and ui.view.screen_name == "home"
    assert ui.text("offline") == "Server offline"
    assert ui.text("message").startswith("The server cannot be reached")
    ui.both_languages("msg_hub_offline")
    await restart_hub(rig.hub)


async def test_operator_cash_box_emptying_self_test_and_printer(ui: KioskUi) -> None:
    rig, engine = ui.rig, ui.rig.engine
    await engine.dispatch(CardPresented(ALICE_CARD))
    await engine.dispatch(StartRecharge())
    for value, total in ((200, 200), (200, 400), (50, 450)):
        rig.coins.insert_coin(value)
        await wait_for(partial(credited, engine, total), f"{total} credited")
    await engine.dispatch(Logout())
    await engine.dispatch(CardPresented(OLGA_CARD))
    ui.frame()
    assert ui.view.screen_name == "operator"
    assert ui.text("cash_box") == "Cash box: €4.50 expected"
    assert ui.text("box_coin_200") == "coin €2.00: 2" and ui.text("box_coin_50") == "coin €0.50: 1"
    assert ui.text("printer") == "Receipt printer: ready (paper OK)"  # read before the recharge
    assert await ui.tap("self_test") == [RunSelfTest()]
    assert ui.text("self_test_coin") == "coin: OK" and ui.text("self_test_note") == "note: OK"
    rig.printer.paper_low()
    assert await ui.tap("check_printer") == [CheckPrinter()]
    assert ui.text("printer") == "Receipt printer: ready (paper low)"
    ui.both_languages("operator")

    assert await ui.tap("empty_box") == []
    assert ui.view.screen_name == "count"
    await ui.type_keys("more_coin_", ["200", "200", "50"])
    assert await ui.tap("less_coin_50") == []
    assert ui.text("count_coin_200") == "2" and ui.text("count_total") == "Counted: €4.00"
    ui.both_languages("count")
    assert await ui.tap("confirm_empty") == [EmptyCashBox((("coin", 50, 0), ("coin", 200, 2)))]
    assert engine.state.message is KioskMessage.CASH_BOX_EMPTIED
    assert ui.view.screen_name == "operator"
    assert ui.text("message") == "Cash box emptied. Difference: -€0.50."
    assert ui.text("difference") == "Last emptying: difference -€0.50"
    assert ui.text("box_coin_50") == "coin €0.50: 1 expected, 0 counted"
    assert ui.text("box_coin_200") == "coin €2.00: 2 expected, 2 counted"
    ui.both_languages("operator_emptied")
    ui.resize(1024, 600)
    ui.shot("operator_emptied_en")
    await ui.tap("empty_box")
    ui.shot("count_en")
    assert engine.state.operator and not rig.coins.master_accepting


async def test_kiosk_app_renders_engine_states_on_kivy_clock_until_stopped(
    kiosk_rig: KioskRig, kivy_window: Any
) -> None:
    """The app serve_kiosk_ui runs: engine states reach the view through Kivy's clock (coalesced),
    and stop unsubscribes (the window itself is the test's, so async_run is not called here)."""
    from terminal_app.kiosk.ui.app import build_kiosk_app

    sent: list[object] = []
    app = build_kiosk_app(kiosk_rig.engine.subscribe, sent.append)
    view = app.build()
    kivy_window.add_widget(view)
    ui = KioskUi(kiosk_rig, kivy_window, view)
    try:
        ui.frame()
        assert view.screen_name == "idle"
        await kiosk_rig.engine.dispatch(CardPresented(ALICE_CARD))
        await kiosk_rig.engine.dispatch(StartRecharge())
        assert view.screen_name == "idle"  # not yet: redraws happen on the next frame only
        ui.frame()
        assert view.screen_name == "recharging" and view.state == kiosk_rig.engine.state
        assert await ui.tap("finish") == []  # the app's submit, not the rig's: recorded here
        assert FinishRecharge() in sent
        app.on_stop()
        app.on_stop()  # Kivy may call it twice
        await kiosk_rig.engine.dispatch(FinishRecharge())
        ui.frame()
        assert view.screen_name == "recharging"  # unsubscribed: the view no longer follows
    finally:
        kivy_window.remove_widget(view)
