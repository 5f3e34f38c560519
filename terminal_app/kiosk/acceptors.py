"""The kiosk engine's acceptors: inhibited by default, enabled for an open recharge, every coin journaled.

The acceptors are inhibited (master inhibit, read back) first thing at start and on every way out of
a recharge; when that fails nobody may use the kiosk (OUT_OF_ORDER, retried on every tick). Every
credit event is written to the cash journal (with the device's counter) *before* the hub is asked;
a coin that lands after the acceptors were inhibited (it was in the coin path) or while the kiosk
was down belongs to the recharge open at that time. Device faults and fraud are alarms for the
operator and a message (a code, worded by the UI) for the customer.
"""

from __future__ import annotations

import logging

from cash_devices import (
    Acceptor,
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
    Reset,
    UnmappedCredit,
)
from terminal_app.kiosk.core import EMPTY_SESSION, AcceptorSlot, KioskCore
from terminal_app.kiosk.journal import JournaledCash
from terminal_app.kiosk.state import CoinView, KioskMessage, KioskScreen

__all__ = ["Acceptors"]

log = logging.getLogger(__name__)


class Acceptors(KioskCore):
    """The coin and note acceptors (see the module docstring)."""

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
        self._set(**EMPTY_SESSION, screen=KioskScreen.OUT_OF_ORDER, countdown_s=None)
        self._message(KioskMessage.PANEL_FAULT)
        return False

    async def _enable_all(self) -> None:
        for slot in self.acceptors:
            acceptor = slot.acceptor
            values = [v for v in self.settings.accept_values_minor if v in _values(acceptor)]
            mask = acceptor.mask_for(values) if self.settings.accept_values_minor else None
            if mask != 0:
                await acceptor.enable(mask)
        self._set(accepting=True)

    def _device_currency(self) -> str:
        """What the acceptors take (the hub's answer to OpenRecharge replaces it)."""
        found = {d.currency for slot in self.acceptors for d in slot.acceptor.denominations.values()}
        return min(found) if found else ""

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
            # the code and its kind, not the driver's English name: the UI words it in the user's language
            self._message(
                KioskMessage.DEVICE_FAULT, device=slot.name, fault=event.kind.value, code=event.code
            )
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


def _values(acceptor: Acceptor) -> set[int]:
    return {denomination.value_minor for denomination in acceptor.denominations.values()}
