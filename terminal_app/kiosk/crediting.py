"""The kiosk engine's crediting: send the cash journal to the hub, each event exactly once.

Events go in journal order with their idempotency key; each is marked credited only when the hub
acknowledges it. While the hub is unreachable the sender retries with growing pauses (up to
``replay_interval_s``) and, mid-recharge, the acceptors are inhibited (unless
``keep_accepting_offline``). Recharges a crash or an unreachable hub left open are closed once
their coins are credited.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from printgate.waiting import wait_at_most

from terminal_app.errors import DeviceRefused, HubCallError, HubRejected, HubUnreachable
from terminal_app.hub.values import CashCredit, CashCredited, CashDeviceKind
from terminal_app.kiosk.core import KioskCore
from terminal_app.kiosk.journal import JournaledCash
from terminal_app.kiosk.state import KioskMessage

__all__ = ["Crediting"]

log = logging.getLogger(__name__)


class Crediting(KioskCore):
    """The cash journal's sender (see the module docstring)."""

    async def _credit_loop(self) -> None:
        """Send the journal whenever it has events; retry with growing pauses while the hub is down."""
        delay_s = 0.2
        while True:
            await self._flush()
            if not self._state.offline:
                await self._close_left_open()
            # Offline, or refused by the hub until enrolled again: growing pauses.
            waiting = self._state.offline or self.hub.device_refusal is not None
            delay_s = min(self.settings.replay_interval_s, delay_s * 2) if waiting else 0.2
            self._wake_sender.clear()
            timeout_s = delay_s if waiting or self.journal.pending_count() else None
            await wait_at_most(self._wake_sender.wait(), timeout_s)

    async def _flush(self) -> None:
        """Send every pending event in journal order; stop at the first unreachable hub."""
        async with self._send_lock:
            for row in self.journal.pending():
                if not await self._send(row):
                    break
            self._set(pending_events=self.journal.pending_count())

    async def _send(self, row: JournaledCash) -> bool:
        assert row.recharge_id is not None
        credit = CashCredit(
            recharge_id=row.recharge_id,
            idempotency_key=row.key,
            value_minor=row.value_minor,
            currency=row.currency,
            denomination=row.denomination,
            device_kind=CashDeviceKind(row.device_kind),
            occurred_us=row.occurred_us,
        )
        try:
            reply = await self.hub.credit_cash(credit)
        except HubUnreachable as exc:
            self.journal.attempted(row.key, str(exc))
            await self._went_offline()
            return False
        except DeviceRefused as exc:
            # The hub refused the kiosk, not the coin: it is credited once the kiosk is
            # enrolled again (the engine goes out of service meanwhile).
            self.journal.attempted(row.key, str(exc))
            return False
        except HubRejected as exc:
            log.error("kiosk: cash event %s refused for good: %s", row.key, exc)
            self.journal.fail(row.key, str(exc))
            self._alarm(f"cash event {row.key} refused by the hub: {exc.detail}")
            return True
        self.journal.credited(row.key, reply.transaction_id)
        self._credited(row, reply)
        return True

    def _credited(self, row: JournaledCash, reply: CashCredited) -> None:
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
            receipt = self._receipt_of(summary, record.username)
            self.journal.recharge_closed(record.recharge_id, receipt)
            log.info("kiosk: recharge %d closed late: %d credited", record.recharge_id, summary.total_cents)
            if receipt is not None:
                self._receipts_waiting = True  # printed by the engine's loop (see KioskCore)
