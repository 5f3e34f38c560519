"""The kiosk engine's operator mode: the cash box, its emptying, the devices' self-test, the printer.

Whether a user is an operator is the hub's decision (the ``operator`` role): the engine asks for the
cash box at login and opens the operator screen when the hub answers. An emptying sent again after a
failed call reuses its idempotency key, so the box is emptied once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from cash_devices import CashBoxReport
from terminal_app.errors import AccessDenied, HubCallError
from terminal_app.hub.values import CashBox
from terminal_app.kiosk.core import KioskCore, cash_box_view, local_time
from terminal_app.kiosk.state import (
    CashBoxView,
    CheckPrinter,
    EmptyCashBox,
    KioskMessage,
    PrintCashBoxReport,
    RefreshCashBox,
    RunSelfTest,
    SelfTestView,
)

__all__ = ["Operator"]

log = logging.getLogger(__name__)


class Operator(KioskCore):
    """The operator's tools (see the module docstring)."""

    def _operator_token(self) -> str | None:
        session = self._session
        return session.token if session is not None and session.operator else None

    async def _probe_operator(self, token: str) -> CashBoxView | None:
        """The cash box if this user holds the operator role (the hub decides), else None."""
        try:
            return cash_box_view(await self.hub.cash_box(token))
        except HubCallError as exc:
            if not isinstance(exc, AccessDenied):
                log.info("kiosk: operator probe failed: %s", exc)
            return None

    async def _on_refresh_cash_box(self, _intent: RefreshCashBox) -> None:
        token = self._operator_token()
        if token is not None:
            self._set(cash_box=cash_box_view(await self.hub.cash_box(token)))

    async def _on_empty_cash_box(self, intent: EmptyCashBox) -> None:
        token = self._operator_token()
        if token is None:
            return
        key = self._emptying_idempotency_key(intent)
        emptied = await self.hub.empty_cash_box(token, intent.counted, idempotency_key=key, note=intent.note)
        self._emptying_key = None
        box = CashBox(0, emptied.lines, emptied.emptied_us)
        self._set(cash_box=cash_box_view(box, emptied.difference_cents))
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
        now = local_time(self.clock.wall_us())
        since = local_time(box.last_emptied_us) if box.last_emptied_us else now
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
