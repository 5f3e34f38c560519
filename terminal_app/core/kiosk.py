"""The recharge kiosk engine: identify, open a recharge, take coins and notes, credit each exactly once.

Plain Python (no UI toolkit), in the style of the terminal's :class:`SessionEngine`: it publishes
an immutable :class:`~terminal_app.core.kiosk_state.KioskState` after every change and takes
intents (:mod:`terminal_app.core.kiosk_state`) through :meth:`KioskEngine.submit`.

Screens::

    STARTING ──(acceptors inhibited, journal replayed)──> IDLE
    IDLE ──card/PIN/password──> IDENTIFYING ──second factor──> SECOND_FACTOR ──PIN──> IDENTIFYING
    IDENTIFYING ──ok──> HOME (customer) | OPERATOR (the user holds the hub role ``operator``)
    HOME/OPERATOR ──StartRecharge (printer ready, hub opened it)──> RECHARGING (acceptors enabled)
    RECHARGING ──FinishRecharge / no coin for recharge_timeout_s / logout──> CLOSING ──> HOME
    any session screen ──logout / idle timeout──> IDLE
    an acceptor cannot be inhibited ──> OUT_OF_ORDER (retried on every tick)

**Money rules.** The acceptors are inhibited (master inhibit, read back) first thing at start,
and again on every way out of a recharge: finish, timeout, logout, hub unreachable (unless
``keep_accepting_offline``), an exception in any handler, and :meth:`KioskEngine.close`. They are
enabled only while a recharge the hub opened is open for an identified user. Every credit event
is written to the :class:`CashJournal` (with the device's counter) *before* the hub is asked,
and marked credited only when the hub acknowledges it; the journal is replayed at start and
whenever the hub comes back. A coin that lands after the acceptors were inhibited (it was in
the coin path) or while the kiosk was down belongs to the recharge open at that time: the
journal remembers it, and the hub credits cash to a closed recharge too.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import kiosk_pb2, terminal_pb2

from cash_devices import (
    Acceptor,
    CashBoxReport,
    CashEvent,
    CoinAccepted,
    CounterState,
    CreditEvent,
    DeviceError,
    ErrorKind,
    LinkChanged,
    LostEvents,
    NoteEscrowed,
    NoteStacked,
    ReceiptPrinter,
    RechargeReceipt,
    Reset,
    UnmappedCredit,
)
from terminal_app.core.clock import Clock, SystemClock
from terminal_app.core.errors import AccessDenied, HubCallError, HubRejected, HubUnreachable, NotRecognised
from terminal_app.core.kiosk_hub import KioskHubClient
from terminal_app.core.kiosk_journal import CashJournal, JournaledCash
from terminal_app.core.kiosk_state import (
    CashBoxLineView,
    CashBoxView,
    CheckPrinter,
    CoinView,
    EmptyCashBox,
    FinishRecharge,
    KioskIntent,
    KioskMessage,
    KioskScreen,
    KioskState,
    PrintCashBoxReport,
    RedeemVoucher,
    RefreshCashBox,
    RunSelfTest,
    SelfTestView,
    StartRecharge,
)
from terminal_app.core.observable import ObservableState
from terminal_app.core.state import (
    LANGUAGES,
    Cancel,
    CardPresented,
    DismissMessage,
    Logout,
    PasswordEntered,
    PinEntered,
    SetLanguage,
    Touch,
)

__all__ = ["AcceptorSlot", "KioskEngine", "KioskSettings", "KioskSubscriber"]

log = logging.getLogger(__name__)

KioskSubscriber = Callable[[KioskState], None]
DEVICE_KINDS = {"coin": kiosk_pb2.CASH_DEVICE_KIND_COIN, "note": kiosk_pb2.CASH_DEVICE_KIND_NOTE}
_SESSION_SCREENS = frozenset({KioskScreen.HOME, KioskScreen.OPERATOR})
_VOUCHER_REFUSALS = {
    "INVALID_ARGUMENT": KioskMessage.VOUCHER_INVALID,
    "NOT_FOUND": KioskMessage.VOUCHER_UNKNOWN,
    "PERMISSION_DENIED": KioskMessage.VOUCHER_LOCKED,
    "FAILED_PRECONDITION": KioskMessage.VOUCHER_REFUSED,
}


@dataclass(frozen=True)
class KioskSettings:
    """Timers and rules of one kiosk (the ``[kiosk]`` table of kiosk.toml)."""

    idle_timeout_s: float = 60.0  # no touch on HOME/OPERATOR: logged out
    recharge_timeout_s: float = 90.0  # no coin and no touch while RECHARGING: recharge finished
    message_s: float = 6.0
    require_printer: bool = True  # refuse to open a recharge unless the receipt printer is ready
    print_receipts: bool = True
    keep_accepting_offline: bool = False  # hub unreachable mid-recharge: keep the acceptors enabled
    settle_s: float = 0.3  # after inhibiting: time for a coin already in the coin path to be polled
    replay_interval_s: float = 10.0  # longest pause between journal retries while the hub is down
    accept_values_minor: tuple[int, ...] = ()  # empty: every denomination the devices know
    language: str = "en"

    def __post_init__(self) -> None:
        if min(self.idle_timeout_s, self.recharge_timeout_s) < 5:
            raise ValueError("kiosk timeouts must be at least 5 s")
        if not 0 <= self.settle_s <= 5:
            raise ValueError("settle_s must be 0..5 s")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")


@dataclass
class AcceptorSlot:
    """One configured acceptor: its name in kiosk.toml (``coin``, ``note``) and the open driver."""

    name: str
    acceptor: Acceptor


@dataclass
class _Session:
    token: str
    card_number: str
    operator: bool


class KioskEngine(ObservableState[KioskState]):
    """One recharge kiosk (see the module docstring)."""

    def __init__(
        self,
        *,
        hub: KioskHubClient,
        acceptors: list[AcceptorSlot],
        journal: CashJournal,
        printer: ReceiptPrinter | None = None,
        settings: KioskSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.hub = hub
        self.acceptors = acceptors
        self.journal = journal
        self.printer = printer
        self.settings = settings or KioskSettings()
        self.clock = clock or SystemClock()
        ObservableState.__init__(self, KioskState(language=self.settings.language))
        self._intents: asyncio.Queue[KioskIntent] = asyncio.Queue()
        self._session: _Session | None = None
        self._pending_card = ""
        self._deadline_s: float | None = None
        self._message_until_s: float | None = None
        self._send_lock = asyncio.Lock()
        self._wake_sender = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._emptying_key: tuple[tuple[tuple[str, int, int], ...], str] | None = None
        self._stopping = False
        self._closing: asyncio.Future[None] | None = None

    # ================================================================ observation

    def _message(self, key: KioskMessage | None, **args: object) -> None:
        self._set(message=key, message_args=tuple((k, str(v)) for k, v in args.items()))
        self._message_until_s = self.clock.monotonic_s() + self.settings.message_s if key else None

    def _alarm(self, text: str) -> None:
        log.warning("kiosk: device alarm: %s", text)
        self._set(device_alarms=(*self._state.device_alarms[-19:], text))

    # ================================================================ life cycle

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

    def _device_currency(self) -> str:
        """What the acceptors take (the hub's answer to OpenRecharge replaces it)."""
        found = {d.currency for slot in self.acceptors for d in slot.acceptor.denominations.values()}
        return min(found) if found else ""

    def submit(self, intent: KioskIntent) -> None:
        """Queue an intent (from the UI or the reader task); :meth:`run` handles it."""
        self._intents.put_nowait(intent)

    async def run(self) -> None:
        """Start, then handle intents and timers until :meth:`close`."""
        await self.start()
        while not self._stopping:
            try:
                intent: KioskIntent | None = await asyncio.wait_for(self._intents.get(), self._wait_s())
            except TimeoutError:
                intent = None
            if intent is not None and not self._stopping:
                await self.dispatch(intent)
            await self._guarded(self.tick(), "tick")

    def _wait_s(self) -> float:
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
        self._intents.put_nowait(Touch())

    # ================================================================ intents

    async def dispatch(self, intent: KioskIntent) -> None:
        """Handle one intent now; an exception ends the session with the acceptors inhibited."""
        handler = self._handlers().get(type(intent))
        if handler is None:
            raise TypeError(f"not a kiosk intent: {intent!r}")
        if not isinstance(intent, CardPresented):
            self._activity()
        await self._guarded(handler(intent), type(intent).__name__)

    def _handlers(self) -> dict[type, Callable[[Any], Awaitable[None]]]:
        return {
            CardPresented: self._on_card,
            PinEntered: self._on_pin,
            PasswordEntered: self._on_password,
            Cancel: self._on_cancel,
            Logout: self._on_logout,
            Touch: self._on_touch,
            DismissMessage: self._on_dismiss,
            SetLanguage: self._on_set_language,
            StartRecharge: self._on_start_recharge,
            FinishRecharge: self._on_finish_recharge,
            RedeemVoucher: self._on_redeem_voucher,
            RefreshCashBox: self._on_refresh_cash_box,
            EmptyCashBox: self._on_empty_cash_box,
            RunSelfTest: self._on_self_test,
            CheckPrinter: self._on_check_printer,
            PrintCashBoxReport: self._on_print_cash_box,
        }

    async def _guarded(self, work: Awaitable[None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("kiosk: %s failed; inhibiting and ending the session", what)
            await self._emergency_end()

    def _activity(self) -> None:
        if self._deadline_s is not None:
            self._restart_countdown()

    def _restart_countdown(self) -> None:
        recharging = self._state.screen is KioskScreen.RECHARGING
        timeout_s = self.settings.recharge_timeout_s if recharging else self.settings.idle_timeout_s
        self._deadline_s = self.clock.monotonic_s() + timeout_s
        self._set(countdown_s=math.ceil(timeout_s))

    async def _on_touch(self, _intent: Touch) -> None:
        """Only restarts the countdown (done in dispatch)."""

    async def _on_dismiss(self, _intent: DismissMessage) -> None:
        self._message(None)

    async def _on_set_language(self, intent: SetLanguage) -> None:
        if intent.language in LANGUAGES:
            self._set(language=intent.language)

    # ================================================================ identification

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
        self, call: Callable[[], Awaitable[terminal_pb2.AuthenticateResponse]], card_number: str
    ) -> None:
        self._set(screen=KioskScreen.IDENTIFYING, message=None, message_args=())
        self._pending_card = ""
        try:
            answer = await call()
        except HubCallError as exc:
            self._refused(exc)
            return
        self._set(offline=False)
        if answer.second_factor_required:
            self._pending_card = card_number
            self._set(screen=KioskScreen.SECOND_FACTOR)
            self._restart_countdown()
            return
        await self._open_session(answer, card_number)

    def _refused(self, error: HubCallError) -> None:
        key = KioskMessage.ACCESS_DENIED
        if isinstance(error, HubUnreachable):
            key = KioskMessage.OFFLINE_REFUSED
            self._set(offline=True)
        elif isinstance(error, NotRecognised):
            key = KioskMessage.CARD_NOT_RECOGNISED
        elif isinstance(error, AccessDenied) and "locked" in error.detail:
            key = KioskMessage.ACCOUNT_LOCKED
        self._to_idle()
        self._message(key)

    async def _open_session(self, answer: terminal_pb2.AuthenticateResponse, card_number: str) -> None:
        session = answer.session
        box = await self._probe_operator(answer.session_token)
        self._session = _Session(answer.session_token, card_number, operator=box is not None)
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

    async def _probe_operator(self, token: str) -> CashBoxView | None:
        """The cash box if this user holds the operator role (the hub decides), else None."""
        try:
            return _cash_box_view(await self.hub.cash_box(token))
        except HubCallError as exc:
            if not isinstance(exc, AccessDenied):
                log.info("kiosk: operator probe failed: %s", exc)
            return None

    def _to_idle(self) -> None:
        self._deadline_s = None
        self._pending_card = ""
        self._set(screen=KioskScreen.IDLE, countdown_s=None)

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
        self._set(**_EMPTY_SESSION)
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
                await self.hub.close_recharge(recharge_id)
                self.journal.recharge_closed(recharge_id)
        self._set(**_EMPTY_SESSION)
        self._to_idle()

    # ================================================================ recharges

    async def _on_start_recharge(self, _intent: StartRecharge) -> None:
        session = self._session
        if session is None or self._state.screen not in _SESSION_SCREENS:
            return
        if not await self._printer_allows_money():
            return
        try:
            opened = await self.hub.open_recharge(session.token)
        except HubCallError as exc:
            self._recharge_refused(exc)
            return
        # durable before any acceptor is enabled: a coin after a crash belongs to this recharge
        self.journal.recharge_opened(opened.recharge_id, opened.username, self.clock.wall_us())
        self._set(
            screen=KioskScreen.RECHARGING,
            recharge_id=opened.recharge_id,
            currency=opened.currency,
            balance_minor=opened.balance_cents,
            arrears_minor=opened.arrears_cents,
            recharge_total_minor=0,
            pending_minor=0,
            last_coin=None,
            coins_in_recharge=0,
            offline=False,
        )
        self._restart_countdown()
        await self._enable_all()

    async def _printer_allows_money(self) -> bool:
        if self.printer is None or not self.settings.require_printer:
            return True
        status = await asyncio.to_thread(self.printer.status)
        self._set(printer_ready=status.ready, printer_paper=status.paper.value)
        if not status.ready:
            self._message(KioskMessage.PRINTER_NOT_READY, paper=status.paper.value)
        return status.ready

    def _recharge_refused(self, error: HubCallError) -> None:
        if isinstance(error, HubUnreachable):
            self._set(offline=True)
            self._message(KioskMessage.OFFLINE_REFUSED)
        else:
            self._message(KioskMessage.RECHARGE_REFUSED, reason=error.detail)

    async def _enable_all(self) -> None:
        for slot in self.acceptors:
            acceptor = slot.acceptor
            values = [v for v in self.settings.accept_values_minor if v in _values(acceptor)]
            mask = acceptor.mask_for(values) if self.settings.accept_values_minor else None
            if mask != 0:
                await acceptor.enable(mask)
        self._set(accepting=True)

    async def _on_finish_recharge(self, _intent: FinishRecharge) -> None:
        if self._state.screen is KioskScreen.RECHARGING:
            await self._finish_recharge()

    async def _finish_recharge(self) -> None:
        """Inhibit, let the last coins land, credit them, close the recharge, print the receipt."""
        recharge_id = self._state.recharge_id
        if recharge_id is None:
            return
        self._set(screen=KioskScreen.CLOSING, countdown_s=None)
        self._deadline_s = None
        if not await self._inhibit_or_fail():
            return
        await asyncio.sleep(self.settings.settle_s)
        await self._flush()
        try:
            summary = await self.hub.close_recharge(recharge_id)
        except HubCallError as exc:
            # the journal still says "open": the replay loop closes it when the hub is back
            log.warning("kiosk: recharge %d not closed now: %s", recharge_id, exc)
            self._set(offline=isinstance(exc, HubUnreachable))
            self._message(KioskMessage.CREDIT_PENDING, amount=self._state.shown_total_minor)
            self._after_recharge()
            return
        self.journal.recharge_closed(recharge_id)
        self._set(balance_minor=summary.balance_cents, arrears_minor=summary.arrears_cents)
        self._message(KioskMessage.RECHARGE_DONE, amount=summary.total_cents, balance=summary.balance_cents)
        if summary.total_cents > 0:
            await self._print_receipt(summary.total_cents, summary.balance_cents, f"R{recharge_id}")
        self._after_recharge()

    def _after_recharge(self) -> None:
        operator = self._session is not None and self._session.operator
        screen = KioskScreen.OPERATOR if operator else KioskScreen.HOME
        self._set(screen=screen if self._session else KioskScreen.IDLE, recharge_id=None, accepting=False)
        if self._session is not None:
            self._restart_countdown()

    async def _print_receipt(self, amount_minor: int, balance_minor: int, transaction_id: str) -> None:
        if self.printer is None or not self.settings.print_receipts:
            return
        receipt = RechargeReceipt(
            amount_minor=amount_minor,
            new_balance_minor=balance_minor,
            currency=self._state.currency or "EUR",
            time=_local_time(self.clock.wall_us()),
            kiosk_id=self.hub.terminal_id,
            transaction_id=transaction_id,
            account=self._state.username,
        )
        try:
            await asyncio.to_thread(self.printer.print_receipt, receipt)
        except Exception as exc:  # the money is credited; a missing receipt must not undo that
            log.error("kiosk: receipt not printed: %s", exc)
            self._message(KioskMessage.RECEIPT_FAILED)

    # ================================================================ acceptors

    async def _inhibit_all(self) -> bool:
        ok = True
        for slot in self.acceptors:
            try:
                await slot.acceptor.disable()
            except Exception as exc:
                log.error("kiosk: acceptor %s cannot be inhibited: %s", slot.name, exc)
                ok = False
        if ok:
            self._set(accepting=False)
        return ok

    async def _inhibit_or_fail(self) -> bool:
        """Inhibit; when that fails nobody may use the kiosk (OUT_OF_ORDER, retried on tick)."""
        if await self._inhibit_all():
            return True
        self._session = None
        self._deadline_s = None
        self._set(**_EMPTY_SESSION, screen=KioskScreen.OUT_OF_ORDER, countdown_s=None)
        self._message(KioskMessage.PANEL_FAULT)
        return False

    async def _consume(self, slot: AcceptorSlot) -> None:
        async for event in slot.acceptor.events():
            try:
                await self._on_cash_event(slot, event)
            except Exception:
                log.exception("kiosk: cash event %r not handled", event)
                await self._emergency_end()

    async def _on_cash_event(self, slot: AcceptorSlot, event: CashEvent) -> None:
        if isinstance(event, CreditEvent):
            self._on_credit(slot, event)
        elif isinstance(event, NoteEscrowed):
            await self._route_escrow(slot)
        elif isinstance(event, UnmappedCredit):
            self._alarm(f"{slot.name}: money kept in unmapped position {event.position}, not credited")
        elif isinstance(event, LostEvents):
            self._alarm(f"{slot.name}: {event.count} events lost ({event.from_counter}..{event.to_counter})")
        elif isinstance(event, DeviceError) and event.kind in (ErrorKind.FRAUD, ErrorKind.FAULT):
            self._alarm(f"{slot.name}: {event.kind.value} {event.name}")
            self._message(KioskMessage.DEVICE_FAULT, device=slot.name, name=event.name)
        elif isinstance(event, Reset | LinkChanged):
            self._alarm(f"{slot.name}: {type(event).__name__} {event}")

    def _on_credit(self, slot: AcceptorSlot, event: CreditEvent) -> None:
        recharge_id = self._credit_target()
        kind = "note" if isinstance(event, NoteStacked) else "coin"
        denomination = event.coin_id if isinstance(event, CoinAccepted) else getattr(event, "bill_id", "")
        row = JournaledCash(
            seq=0,
            key=event.idempotency_key,
            recharge_id=recharge_id,
            value_minor=event.value_minor,
            currency=event.currency,
            denomination=denomination,
            device_kind=kind,
            occurred_us=self.clock.wall_us(),
            state="pending" if recharge_id is not None else "orphan",
            attempts=0,
            transaction_id=None,
        )
        counter = CounterState(event.epoch, event.event_counter)
        if not self.journal.record(row, slot.name, event.device_serial, counter):
            log.info("kiosk: cash event %s is journaled already", event.idempotency_key)
            return
        if recharge_id is None:
            self._alarm(f"{slot.name}: {event.value_minor} kept with no recharge ever opened (orphan)")
            return
        if recharge_id == self._state.recharge_id:
            self._show_coin(row)
        self._set(pending_events=self.journal.pending_count())
        self._wake_sender.set()

    def _credit_target(self) -> int | None:
        if self._state.recharge_id is not None:
            return self._state.recharge_id
        left_open = self.journal.open_recharges()
        return left_open[-1].recharge_id if left_open else self.journal.last_recharge_id()

    def _show_coin(self, row: JournaledCash) -> None:
        """The coin landed and is journaled: show it now, before the hub has answered."""
        coin = CoinView(row.value_minor, row.currency, row.denomination, row.device_kind, credited=False)
        self._set(
            last_coin=coin,
            pending_minor=self._state.pending_minor + row.value_minor,
            coins_in_recharge=self._state.coins_in_recharge + 1,
        )
        if self._state.screen is KioskScreen.RECHARGING:
            self._restart_countdown()

    async def _route_escrow(self, slot: AcceptorSlot) -> None:
        """A note in escrow is stacked only while a recharge takes money; otherwise handed back."""
        route = "accept_escrow" if self._state.accepting else "return_escrow"
        method = getattr(slot.acceptor, route, None)
        if method is not None:
            await method()

    # ================================================================ crediting

    async def _credit_loop(self) -> None:
        """Send the journal whenever it has events; retry with growing pauses while the hub is down."""
        delay_s = 0.2
        while True:
            await self._flush()
            if not self._state.offline:
                await self._close_left_open()
            delay_s = min(self.settings.replay_interval_s, delay_s * 2) if self._state.offline else 0.2
            self._wake_sender.clear()
            timeout_s = delay_s if self._state.offline or self.journal.pending_count() else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_sender.wait(), timeout_s)

    async def _flush(self) -> None:
        """Send every pending event in journal order; stop at the first unreachable hub."""
        async with self._send_lock:
            for row in self.journal.pending():
                if not await self._send(row):
                    break
            self._set(pending_events=self.journal.pending_count())

    async def _send(self, row: JournaledCash) -> bool:
        assert row.recharge_id is not None
        request = kiosk_pb2.CreditCashEventRequest(
            recharge_id=row.recharge_id,
            idempotency_key=row.key,
            value_minor=row.value_minor,
            currency=row.currency,
            denomination=row.denomination,
            device_kind=DEVICE_KINDS[row.device_kind],
            occurred_at=_timestamp(row.occurred_us),
        )
        try:
            reply = await self.hub.credit_cash_event(request)
        except HubUnreachable as exc:
            self.journal.attempted(row.key, str(exc))
            await self._went_offline()
            return False
        except HubRejected as exc:
            log.error("kiosk: cash event %s refused for good: %s", row.key, exc)
            self.journal.fail(row.key, str(exc))
            self._alarm(f"cash event {row.key} refused by the hub: {exc.detail}")
            return True
        self.journal.credited(row.key, reply.transaction_id)
        self._credited(row, reply)
        return True

    def _credited(self, row: JournaledCash, reply: kiosk_pb2.CreditCashEventResponse) -> None:
        self._set(offline=False)
        if row.recharge_id != self._state.recharge_id:
            return
        self._set(
            recharge_total_minor=reply.recharge_total_cents,
            pending_minor=max(0, self._state.pending_minor - row.value_minor),
            balance_minor=reply.balance_cents,
            arrears_minor=reply.arrears_cents,
        )
        last = self._state.last_coin
        if last is not None and (last.value_minor, last.denomination) == (row.value_minor, row.denomination):
            self._set(last_coin=replace(last, credited=True))

    async def _went_offline(self) -> None:
        if not self._state.offline:
            self._message(KioskMessage.CREDIT_PENDING, amount=self._state.pending_minor)
        self._set(offline=True)
        if self._state.accepting and not self.settings.keep_accepting_offline:
            log.warning("kiosk: hub unreachable mid-recharge: acceptors inhibited")
            await self._inhibit_or_fail()

    async def _close_left_open(self) -> None:
        """Close recharges a crash (or an unreachable hub) left open, once their coins are credited."""
        if self.journal.pending_count():
            return
        for record in self.journal.open_recharges():
            if record.recharge_id == self._state.recharge_id:
                continue
            try:
                summary = await self.hub.close_recharge(record.recharge_id)
            except HubCallError as exc:
                log.info("kiosk: recharge %d left open: %s", record.recharge_id, exc)
                return
            self.journal.recharge_closed(record.recharge_id)
            log.info("kiosk: recharge %d closed late: %d credited", record.recharge_id, summary.total_cents)

    # ================================================================ vouchers

    async def _on_redeem_voucher(self, intent: RedeemVoucher) -> None:
        session = self._session
        if session is None or self._state.screen not in _SESSION_SCREENS:
            return
        try:
            reply = await self.hub.redeem_voucher(session.token, intent.code)
        except HubUnreachable:
            self._set(offline=True)
            self._message(KioskMessage.OFFLINE_REFUSED)
            return
        except HubCallError as exc:
            self._message(_VOUCHER_REFUSALS.get(exc.code, KioskMessage.VOUCHER_REFUSED))
            return
        self._set(balance_minor=reply.balance_cents, arrears_minor=reply.arrears_cents)
        self._message(KioskMessage.VOUCHER_REDEEMED, amount=reply.credited_cents, balance=reply.balance_cents)
        if self.printer is not None and (await asyncio.to_thread(self.printer.status)).ready:
            await self._print_receipt(reply.credited_cents, reply.balance_cents, str(reply.transaction_id))

    # ================================================================ operator

    def _operator_token(self) -> str | None:
        session = self._session
        return session.token if session is not None and session.operator else None

    async def _on_refresh_cash_box(self, _intent: RefreshCashBox) -> None:
        token = self._operator_token()
        if token is not None:
            self._set(cash_box=_cash_box_view(await self.hub.cash_box(token)))

    async def _on_empty_cash_box(self, intent: EmptyCashBox) -> None:
        token = self._operator_token()
        if token is None:
            return
        key = self._emptying_idempotency_key(intent)
        request = kiosk_pb2.KioskEmptyCashBoxRequest(
            session_token=token,
            counted=[
                kiosk_pb2.DenominationCount(device_kind=DEVICE_KINDS[kind], value_cents=value, count=count)
                for kind, value, count in intent.counted
            ],
            idempotency_key=key,
            note=intent.note,
        )
        emptied = await self.hub.empty_cash_box(request)
        self._emptying_key = None
        lines = tuple(_line_view(line) for line in emptied.lines)
        view = CashBoxView(0, lines, emptied.emptied_at.ToMicroseconds(), emptied.difference_cents)
        self._set(cash_box=view)
        self._message(KioskMessage.CASH_BOX_EMPTIED, difference=emptied.difference_cents)

    def _emptying_idempotency_key(self, intent: EmptyCashBox) -> str:
        """The same count sent again after a failed call reuses its key: the box is emptied once."""
        if self._emptying_key is None or self._emptying_key[0] != intent.counted:
            self._emptying_key = (intent.counted, f"empty-{self.hub.terminal_id}-{uuid.uuid4().hex}")
        return self._emptying_key[1]

    async def _on_self_test(self, _intent: RunSelfTest) -> None:
        if self._operator_token() is None:
            return
        results = []
        for slot in self.acceptors:
            try:
                check = await slot.acceptor.self_check()
                results.append(SelfTestView(slot.name, check.ok, check.code, check.name))
            except Exception as exc:
                results.append(SelfTestView(slot.name, False, -1, f"no answer: {exc}"))
        self._set(self_tests=tuple(results))

    async def _on_check_printer(self, _intent: CheckPrinter) -> None:
        if self.printer is None:
            self._set(printer_ready=None, printer_paper="unknown")
            return
        status = await asyncio.to_thread(self.printer.status)
        self._set(printer_ready=status.ready, printer_paper=status.paper.value)

    async def _on_print_cash_box(self, _intent: PrintCashBoxReport) -> None:
        box = self._state.cash_box
        if self._operator_token() is None or box is None or self.printer is None:
            return
        now = _local_time(self.clock.wall_us())
        since = _local_time(box.last_emptied_us) if box.last_emptied_us else now
        report = CashBoxReport(
            kiosk_id=self.hub.terminal_id,
            currency=self._state.currency or "EUR",
            period_start=since,
            period_end=now,
            counts={line.value_minor: line.expected_count for line in box.lines},
            expected_minor=box.expected_minor,
            operator=self._state.username,
        )
        await asyncio.to_thread(self.printer.print_cashbox_report, report)

    # ================================================================ timers

    async def tick(self) -> None:
        """Apply the timers: idle logout, recharge timeout, message expiry, inhibit retry."""
        now = self.clock.monotonic_s()
        if self._message_until_s is not None and now >= self._message_until_s and self._session is None:
            self._message(None)
        if self._state.screen is KioskScreen.OUT_OF_ORDER:
            if await self._inhibit_all():
                self._to_idle()
                self._message(None)
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


# ------------------------------------------------------------------------------ helpers

_EMPTY_SESSION: dict[str, Any] = {
    name: getattr(KioskState(), name)
    for name in (
        "username",
        "full_name",
        "operator",
        "balance_minor",
        "arrears_minor",
        "recharge_id",
        "accepting",
        "recharge_total_minor",
        "pending_minor",
        "last_coin",
        "coins_in_recharge",
        "cash_box",
        "self_tests",
    )
}


def _values(acceptor: Acceptor) -> set[int]:
    return {denomination.value_minor for denomination in acceptor.denominations.values()}


def _line_view(line: kiosk_pb2.DenominationLine) -> CashBoxLineView:
    kind = "note" if line.device_kind == kiosk_pb2.CASH_DEVICE_KIND_NOTE else "coin"
    return CashBoxLineView(kind, line.value_cents, line.expected_count, line.counted_count)


def _cash_box_view(report: kiosk_pb2.CashBoxReport) -> CashBoxView:
    emptied = report.last_emptied_at.ToMicroseconds() if report.HasField("last_emptied_at") else None
    return CashBoxView(report.expected_cents, tuple(_line_view(line) for line in report.lines), emptied)


def _timestamp(wall_us: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMicroseconds(wall_us)
    return stamp


def _local_time(wall_us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(wall_us / 1_000_000, tz=dt.UTC)
