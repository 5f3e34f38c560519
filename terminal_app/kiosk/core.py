"""What every part of the kiosk engine shares: its devices, the identified user, the countdown.

:class:`KioskCore` is the kiosk's :class:`~terminal_app.session.engine.SessionEngine`; the engine's
parts (:mod:`~terminal_app.kiosk.acceptors`, :mod:`~terminal_app.kiosk.recharge`,
:mod:`~terminal_app.kiosk.crediting`, :mod:`~terminal_app.kiosk.operator`) build on it and
:class:`~terminal_app.kiosk.engine.KioskEngine` puts them together. The methods one part needs from
another are declared here.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from cash_devices import Acceptor, ReceiptPrinter
from terminal_app.hub import HubClient
from terminal_app.hub.values import CashBox, DenominationLine, RechargeSummary
from terminal_app.kiosk.journal import CashJournal, DueReceipt
from terminal_app.kiosk.settings import KioskSettings
from terminal_app.kiosk.state import (
    CashBoxLineView,
    CashBoxView,
    KioskIntent,
    KioskMessage,
    KioskScreen,
    KioskState,
)
from terminal_app.session.clock import Clock
from terminal_app.session.engine import Refusals, SessionEngine

__all__ = [
    "EMPTY_SESSION",
    "REFUSALS",
    "AcceptorSlot",
    "KioskCore",
    "KioskSession",
    "cash_box_view",
    "local_time",
]

log = logging.getLogger(__name__)

REFUSALS = Refusals(
    locked=KioskMessage.ACCOUNT_LOCKED,
    denied=KioskMessage.ACCESS_DENIED,
    offline=KioskMessage.OFFLINE_REFUSED,
)
SESSION_SCREENS = frozenset({KioskScreen.HOME, KioskScreen.OPERATOR})


@dataclass
class AcceptorSlot:
    """One configured acceptor: its name in kiosk.toml (``coin``, ``note``) and the open driver."""

    name: str
    acceptor: Acceptor


@dataclass
class KioskSession:
    """The identified user's private facts."""

    token: str
    card_number: str
    operator: bool


class KioskCore(SessionEngine[KioskState, KioskIntent]):
    """The kiosk engine's shared parts (see the module docstring)."""

    def __init__(
        self,
        *,
        hub: HubClient,
        acceptors: list[AcceptorSlot],
        journal: CashJournal,
        printer: ReceiptPrinter | None = None,
        settings: KioskSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or KioskSettings()
        super().__init__(
            KioskState(language=self.settings.language), message_s=self.settings.message_s, clock=clock
        )
        self.hub = hub
        self.acceptors = acceptors
        self.journal = journal
        self.printer = printer
        self._session: KioskSession | None = None
        self._pending_card = ""
        self._deadline_s: float | None = None
        self._send_lock = asyncio.Lock()
        self._wake_sender = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._emptying_key: tuple[tuple[tuple[str, int, int], ...], str] | None = None
        self._closing: asyncio.Future[None] | None = None
        # A receipt journaled by the replay loop waits for the engine's loop: only the loop (its
        # intents and timers) talks to the printer, never two tasks at once.
        self._receipts_waiting = False

    # ================================================================ what one part needs of another

    @abc.abstractmethod
    async def _inhibit_all(self) -> bool:
        """Inhibit every acceptor; False if one could not be."""

    @abc.abstractmethod
    async def _inhibit_or_fail(self) -> bool:
        """Inhibit; when that fails nobody may use the kiosk (OUT_OF_ORDER)."""

    @abc.abstractmethod
    async def _enable_all(self) -> None:
        """Let the acceptors take money (a recharge is open)."""

    @abc.abstractmethod
    async def _flush(self) -> None:
        """Send every journaled cash event now."""

    @abc.abstractmethod
    async def _print_receipt(self, amount_minor: int, balance_minor: int, transaction_id: str) -> None:
        """Print a receipt (a failure is a message, never a lost credit)."""

    @abc.abstractmethod
    async def _deliver_receipt(self, due: DueReceipt) -> None:
        """Deliver a closed recharge's journaled receipt: printed, or on screen; once."""

    @abc.abstractmethod
    async def _deliver_receipts_due(self) -> None:
        """Deliver every receipt the journal still has due."""

    @abc.abstractmethod
    def _receipt_of(self, summary: RechargeSummary, username: str) -> DueReceipt | None:
        """The receipt a closed recharge is due, if any."""

    # ================================================================ the session and its countdown

    @property
    def _session_live(self) -> bool:
        return self._session is not None

    def _alarm(self, text: str) -> None:
        log.warning("kiosk: device alarm: %s", text)
        self._set(device_alarms=(*self._state.device_alarms[-19:], text))

    def _activity(self) -> None:
        if self._deadline_s is not None:
            self._restart_countdown()

    def _restart_countdown(self) -> None:
        recharging = self._state.screen is KioskScreen.RECHARGING
        timeout_s = self.settings.recharge_timeout_s if recharging else self.settings.idle_timeout_s
        self._deadline_s = self.clock.monotonic_s() + timeout_s
        self._set(countdown_s=math.ceil(timeout_s))

    def _to_idle(self) -> None:
        self._deadline_s = None
        self._pending_card = ""
        self._set(screen=KioskScreen.IDLE, countdown_s=None)


_EMPTY_SESSION_FIELDS = (
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
EMPTY_SESSION: dict[str, Any] = {name: getattr(KioskState(), name) for name in _EMPTY_SESSION_FIELDS}


def _line_view(line: DenominationLine) -> CashBoxLineView:
    return CashBoxLineView(line.device_kind.value, line.value_cents, line.expected_count, line.counted_count)


def cash_box_view(box: CashBox, difference_cents: int | None = None) -> CashBoxView:
    """The hub's cash box as the operator screen shows it."""
    lines = tuple(_line_view(line) for line in box.lines)
    return CashBoxView(box.expected_cents, lines, box.last_emptied_us, difference_cents)


def local_time(wall_us: int) -> dt.datetime:
    """Microseconds since the epoch as an aware time (receipts, reports)."""
    return dt.datetime.fromtimestamp(wall_us / 1_000_000, tz=dt.UTC)
