"""The kiosk engine's money in: recharges (open, finish, receipt) and vouchers.

A recharge opens only for an identified user, with the receipt printer ready (unless
``require_printer`` is off), and is journaled as open *before* any acceptor is enabled. Finishing
inhibits, lets the last coins land (``settle_s``), credits them, closes the recharge at the hub and
prints the receipt; a hub that does not answer leaves it open in the journal for the replay to close.

A recharge's receipt is journaled with its close (:class:`~terminal_app.kiosk.journal.DueReceipt`)
and delivered from the journal: printed when the printer is ready, shown on screen when it is
not (out of paper) or fails; one cut off by a crash while printing is shown, not printed again.
The engine delivers the receipts still due at start, and those the replay loop journals from its
timers (only the engine's loop talks to the printer), so a recharge a crash closed (or left to the
replay loop) gets its receipt once.
"""

from __future__ import annotations

import asyncio
import logging

from cash_devices import RechargeReceipt
from terminal_app.errors import HubCallError, HubUnreachable
from terminal_app.hub.values import RechargeSummary
from terminal_app.kiosk.core import SESSION_SCREENS, KioskCore, local_time
from terminal_app.kiosk.journal import DueReceipt
from terminal_app.kiosk.state import FinishRecharge, KioskMessage, KioskScreen, RedeemVoucher, StartRecharge

__all__ = ["VOUCHER_REFUSALS", "Recharges"]

log = logging.getLogger(__name__)

VOUCHER_REFUSALS = {
    "INVALID_ARGUMENT": KioskMessage.VOUCHER_INVALID,
    "NOT_FOUND": KioskMessage.VOUCHER_UNKNOWN,
    "PERMISSION_DENIED": KioskMessage.VOUCHER_LOCKED,
    "FAILED_PRECONDITION": KioskMessage.VOUCHER_REFUSED,
}


class Recharges(KioskCore):
    """Money in (see the module docstring)."""

    async def _on_start_recharge(self, _intent: StartRecharge) -> None:
        session = self._session
        if session is None or self._state.screen not in SESSION_SCREENS:
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
        receipt = self._receipt_of(summary, self._state.username)
        self.journal.recharge_closed(recharge_id, receipt)
        self._set(balance_minor=summary.balance_cents, arrears_minor=summary.arrears_cents)
        self._message(KioskMessage.RECHARGE_DONE, amount=summary.total_cents, balance=summary.balance_cents)
        if receipt is not None:
            await self._deliver_receipt(receipt)
        self._after_recharge()

    def _receipt_of(self, summary: RechargeSummary, username: str) -> DueReceipt | None:
        """The receipt a closed recharge is due (None: nothing paid in, or no receipts here)."""
        if summary.total_cents <= 0 or self.printer is None or not self.settings.print_receipts:
            return None
        return DueReceipt(
            summary.recharge_id, username, summary.total_cents, summary.balance_cents, self.clock.wall_us()
        )

    async def _deliver_receipt(self, due: DueReceipt) -> None:
        if self.printer is None:
            return
        reference = f"R{due.recharge_id}"
        if due.state == "printing":  # cut off while printing: it may have printed, never twice
            self._show_receipt(due, reference)
            return
        status = await asyncio.to_thread(self.printer.status)
        if not status.ready:
            self._show_receipt(due, reference)
            return
        receipt = RechargeReceipt(
            amount_minor=due.amount_minor,
            new_balance_minor=due.balance_minor,
            currency=self._state.currency or "EUR",
            time=local_time(due.closed_us),
            kiosk_id=self.hub.terminal_id,
            transaction_id=reference,
            account=due.username,
        )
        self.journal.receipt_state(due.recharge_id, "printing")  # durable before the first byte
        try:
            await asyncio.to_thread(self.printer.print_receipt, receipt)
        except Exception as exc:  # the money is credited; a missing receipt must not undo that
            log.error("kiosk: receipt %s not printed: %s", reference, exc)
            self._show_receipt(due, reference)
            return
        self.journal.receipt_state(due.recharge_id, "printed")

    def _show_receipt(self, due: DueReceipt, reference: str) -> None:
        self.journal.receipt_state(due.recharge_id, "shown")
        self._message(
            KioskMessage.RECEIPT_ON_SCREEN,
            amount=due.amount_minor,
            balance=due.balance_minor,
            reference=reference,
        )

    async def _deliver_receipts_due(self) -> None:
        """Receipts a crash (or the replay loop) left undelivered."""
        for due in self.journal.receipts_due():
            await self._deliver_receipt(due)

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
            time=local_time(self.clock.wall_us()),
            kiosk_id=self.hub.terminal_id,
            transaction_id=transaction_id,
            account=self._state.username,
        )
        try:
            await asyncio.to_thread(self.printer.print_receipt, receipt)
        except Exception as exc:  # the money is credited; a missing receipt must not undo that
            log.error("kiosk: receipt not printed: %s", exc)
            self._message(KioskMessage.RECEIPT_FAILED)

    async def _on_redeem_voucher(self, intent: RedeemVoucher) -> None:
        session = self._session
        if session is None or self._state.screen not in SESSION_SCREENS:
            return
        try:
            reply = await self.hub.redeem_voucher(session.token, intent.code)
        except HubUnreachable:
            self._set(offline=True)
            self._message(KioskMessage.OFFLINE_REFUSED)
            return
        except HubCallError as exc:
            self._message(VOUCHER_REFUSALS.get(exc.code, KioskMessage.VOUCHER_REFUSED))
            return
        self._set(balance_minor=reply.balance_cents, arrears_minor=reply.arrears_cents)
        self._message(KioskMessage.VOUCHER_REDEEMED, amount=reply.credited_cents, balance=reply.balance_cents)
        if self.printer is not None and (await asyncio.to_thread(self.printer.status)).ready:
            await self._print_receipt(reply.credited_cents, reply.balance_cents, str(reply.transaction_id))
