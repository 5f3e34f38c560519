"""The recharge kiosk engine: identify, open a recharge, take coins and notes, credit each exactly once.

Plain Python (no UI toolkit), a :class:`~terminal_app.session.engine.SessionEngine` like the
terminal's: it publishes an immutable :class:`~terminal_app.kiosk.state.KioskState` after every
change and takes intents (:mod:`terminal_app.kiosk.state`) through :meth:`KioskEngine.submit`.

Screens::

    STARTING ──(acceptors inhibited, journal replayed)──> IDLE
    IDLE ──card/PIN/password──> IDENTIFYING ──second factor──> SECOND_FACTOR ──PIN──> IDENTIFYING
    IDENTIFYING ──ok──> HOME (customer) | OPERATOR (the user holds the hub role ``operator``)
    HOME/OPERATOR ──StartRecharge (printer ready, hub opened it)──> RECHARGING (acceptors enabled)
    RECHARGING ──FinishRecharge / no coin for recharge_timeout_s / logout──> CLOSING ──> HOME
    any session screen ──logout / idle timeout──> IDLE
    an acceptor cannot be inhibited ──> OUT_OF_ORDER (retried on every tick)
    the hub refuses this kiosk ──> DISABLED (revoked) | REENROLL (certificate expired): the
        recharge is finished and the acceptors inhibited (journaled coins are credited once it
        is enrolled again); back to IDLE when the hub trusts it again

**Money rules.** The acceptors are inhibited (master inhibit, read back) first thing at start,
and again on every way out of a recharge: finish, timeout, logout, hub unreachable (unless
``keep_accepting_offline``), an exception in any handler, and :meth:`KioskEngine.close`. They are
enabled only while a recharge the hub opened is open for an identified user. Every credit event
is written to the :class:`CashJournal` (with the device's counter) *before* the hub is asked,
and marked credited only when the hub acknowledges it; the journal is replayed at start and
whenever the hub comes back. A coin that lands after the acceptors were inhibited (it was in
the coin path) or while the kiosk was down belongs to the recharge open at that time: the
journal remembers it, and the hub credits cash to a closed recharge too.

The engine is put together from its parts: :class:`~terminal_app.kiosk.acceptors.Acceptors`,
:class:`~terminal_app.kiosk.recharge.Recharges` (recharges and vouchers),
:class:`~terminal_app.kiosk.crediting.Crediting` (the journal's sender) and
:class:`~terminal_app.kiosk.operator.Operator`, over :class:`~terminal_app.kiosk.core.KioskCore`.
This module keeps the life cycle, identification, leaving a session and the timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from terminal_app.errors import DeviceDisabled, DeviceRefused, HubCallError
from terminal_app.hub.values import Login, SecondFactorRequired
from terminal_app.kiosk.acceptors import Acceptors
from terminal_app.kiosk.core import EMPTY_SESSION, REFUSALS, AcceptorSlot, KioskSession
from terminal_app.kiosk.crediting import Crediting
from terminal_app.kiosk.operator import Operator
from terminal_app.kiosk.recharge import Recharges
from terminal_app.kiosk.settings import KioskSettings
from terminal_app.kiosk.state import (
    CheckPrinter,
    EmptyCashBox,
    FinishRecharge,
    KioskMessage,
    KioskScreen,
    KioskState,
    PrintCashBoxReport,
    RedeemVoucher,
    RefreshCashBox,
    RunSelfTest,
    StartRecharge,
)
from terminal_app.session.engine import Refusal, refusal
from terminal_app.session.intents import Cancel, CardPresented, Logout, PasswordEntered, PinEntered, Touch

__all__ = ["AcceptorSlot", "KioskEngine", "KioskSettings", "KioskSubscriber"]

log = logging.getLogger(__name__)

KioskSubscriber = Callable[[KioskState], None]
OUT_OF_SERVICE = (KioskScreen.DISABLED, KioskScreen.REENROLL)


class KioskEngine(Acceptors, Recharges, Crediting, Operator):
    """One recharge kiosk (see the module docstring)."""

    async def start(self) -> None:
        """Inhibit every acceptor first, then listen to them, replay the journal, show IDLE."""
        if not await self._inhibit_all():
            self._set(screen=KioskScreen.OUT_OF_ORDER)
            self._message(KioskMessage.PANEL_FAULT)
        for slot in self.acceptors:
            self._tasks.append(asyncio.create_task(self._consume(slot), name=f"kiosk-cash-{slot.name}"))
        self._tasks.append(asyncio.create_task(self._credit_loop(), name="kiosk-credit"))
        self._set(pending_events=self.journal.pending_count(), currency=self._device_currency())
        self._wake_sender.set()
        if self._state.screen is KioskScreen.STARTING:
            self._set(screen=KioskScreen.IDLE)
        await self._deliver_receipts_due()

    def _wait_s(self) -> float | None:
        now = self.clock.monotonic_s()
        due = [at for at in (self._deadline_s, self._message_until_s) if at is not None]
        return max(0.05, min([*due, now + 1.0]) - now)

    async def close(self) -> None:
        """Finish a recharge and log out (acceptors inhibited), stop the tasks, stop :meth:`run`.

        Safe to call more than once and from several places (a signal and a shutdown path): the
        second call waits for the first.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await self._closing

    async def _close(self) -> None:
        self._stopping = True
        with contextlib.suppress(Exception):
            await self._end_session(KioskMessage.LOGGED_OUT)
        await self._inhibit_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._wake(Touch())

    def _handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        return {
            **self._common_handlers(),
            CardPresented: self._on_card,
            PinEntered: self._on_pin,
            PasswordEntered: self._on_password,
            Cancel: self._on_cancel,
            Logout: self._on_logout,
            StartRecharge: self._on_start_recharge,
            FinishRecharge: self._on_finish_recharge,
            RedeemVoucher: self._on_redeem_voucher,
            RefreshCashBox: self._on_refresh_cash_box,
            EmptyCashBox: self._on_empty_cash_box,
            RunSelfTest: self._on_self_test,
            CheckPrinter: self._on_check_printer,
            PrintCashBoxReport: self._on_print_cash_box,
        }

    async def _on_card(self, intent: CardPresented) -> None:
        if self._state.screen in (KioskScreen.IDLE, KioskScreen.SECOND_FACTOR):
            await self._identify(lambda: self.hub.authenticate_card(intent.card_number), intent.card_number)

    async def _on_pin(self, intent: PinEntered) -> None:
        if self._state.screen is KioskScreen.SECOND_FACTOR and self._pending_card:
            card = self._pending_card
            await self._identify(lambda: self.hub.authenticate_card(card, intent.pin), card)
        elif self._state.screen is KioskScreen.IDLE:
            await self._identify(lambda: self.hub.authenticate_pin(intent.pin), "")

    async def _on_password(self, intent: PasswordEntered) -> None:
        if self._state.screen is KioskScreen.IDLE:
            await self._identify(lambda: self.hub.authenticate_password(intent.username, intent.password), "")

    async def _identify(
        self, call: Callable[[], Awaitable[Login | SecondFactorRequired]], card_number: str
    ) -> None:
        self._set(screen=KioskScreen.IDENTIFYING, message=None, message_args=())
        self._pending_card = ""
        try:
            answer = await call()
        except HubCallError as exc:
            self._refused(exc)
            return
        self._set(offline=False)
        if isinstance(answer, SecondFactorRequired):
            self._pending_card = card_number
            self._set(screen=KioskScreen.SECOND_FACTOR)
            self._restart_countdown()
            return
        await self._open_session(answer, card_number)

    def _refused(self, error: HubCallError) -> None:
        if isinstance(error, DeviceRefused):  # the next tick says why, on its own screen
            self._to_idle()
            return
        reason = refusal(error)
        if reason is Refusal.OFFLINE:
            self._set(offline=True)
        self._to_idle()
        self._message(REFUSALS.key(reason, KioskMessage.CARD_NOT_RECOGNISED))

    async def _open_session(self, answer: Login, card_number: str) -> None:
        session = answer.session
        box = await self._probe_operator(answer.session_token)
        self._session = KioskSession(answer.session_token, card_number, operator=box is not None)
        self._set(
            screen=KioskScreen.OPERATOR if box is not None else KioskScreen.HOME,
            username=session.user.username,
            full_name=session.user.full_name,
            operator=box is not None,
            balance_minor=session.balance_cents,
            arrears_minor=session.arrears_cents,
            cash_box=box,
        )
        self._restart_countdown()

    async def _on_cancel(self, _intent: Cancel) -> None:
        if self._state.screen is KioskScreen.SECOND_FACTOR:
            self._to_idle()
        else:
            await self._end_session(KioskMessage.LOGGED_OUT)

    async def _on_logout(self, _intent: Logout) -> None:
        await self._end_session(KioskMessage.LOGGED_OUT)

    async def _end_session(self, reason: KioskMessage) -> None:
        session = self._session
        if self._state.recharge_id is not None:
            await self._finish_recharge()
        if session is None:
            return
        inhibited = await self._inhibit_or_fail()
        self._session = None
        if not self._state.offline:
            with contextlib.suppress(HubCallError):
                await self.hub.logout(session.token)
        if not inhibited:
            return  # OUT_OF_ORDER stays on screen until a tick manages the inhibit
        self._set(**EMPTY_SESSION)
        self._to_idle()
        self._message(reason)

    async def _emergency_end(self) -> None:
        """After an unexpected error: inhibit whatever happens, end the session."""
        self._session = None
        recharge_id = self._state.recharge_id
        if not await self._inhibit_or_fail():
            return
        if recharge_id is not None:
            # the coins are journaled; the recharge is closed now or by the replay loop later
            with contextlib.suppress(HubCallError):
                summary = await self.hub.close_recharge(recharge_id)
                self.journal.recharge_closed(recharge_id, self._receipt_of(summary, self._state.username))
            await self._deliver_receipts_due()
        self._set(**EMPTY_SESSION)
        self._to_idle()

    async def _out_of_service(self) -> bool:
        """While the hub refuses this kiosk nobody may use it (DISABLED: revoked; REENROLL: its
        certificate expired): a recharge is finished and the acceptors inhibited first. Back to
        IDLE when the hub trusts it again. True while out of service."""
        refused = self.hub.device_refusal
        if refused is None:
            if self._state.screen in OUT_OF_SERVICE:
                log.warning("kiosk: the hub accepts this kiosk again: back in service")
                self._to_idle()
                self._message(None)
            return False
        disabled = isinstance(refused, DeviceDisabled)
        screen = KioskScreen.DISABLED if disabled else KioskScreen.REENROLL
        if self._state.screen is not screen:
            log.error("kiosk: out of service, the hub refuses this kiosk: %s", refused)
            await self._end_session(KioskMessage.LOGGED_OUT)
            if not await self._inhibit_or_fail():
                return True  # OUT_OF_ORDER: the inhibit is retried first
            key = KioskMessage.DEVICE_DISABLED if disabled else KioskMessage.REENROLL_REQUIRED
            self._deadline_s = None
            self._pending_card = ""
            self._set(screen=screen, countdown_s=None, message=key, message_args=())
            self._message_until_s = None  # the reason stays on screen as long as the state
        return True

    async def tick(self) -> None:
        """Apply the timers: idle logout, recharge timeout, message expiry, inhibit retry."""
        now = self.clock.monotonic_s()
        self._expire_message()
        if self._receipts_waiting and self._state.recharge_id is None:
            self._receipts_waiting = False
            await self._deliver_receipts_due()
        if self._state.screen is KioskScreen.OUT_OF_ORDER:
            if await self._inhibit_all():
                self._to_idle()
                self._message(None)
            return
        if await self._out_of_service():
            return
        if self._deadline_s is None:
            return
        if now < self._deadline_s:
            self._set(countdown_s=math.ceil(self._deadline_s - now))
            return
        if self._state.screen is KioskScreen.SECOND_FACTOR:
            self._to_idle()
        elif self._state.screen is KioskScreen.RECHARGING:
            await self._finish_recharge()
            await self._end_session(KioskMessage.TIMED_OUT)
        else:
            await self._end_session(KioskMessage.TIMED_OUT)
