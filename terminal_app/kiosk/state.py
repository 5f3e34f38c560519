"""The recharge kiosk's state as a UI renders it, and the intents a kiosk UI may send.

Same contract as :mod:`terminal_app.terminal.state` for the terminal: the UI renders the latest
:class:`KioskState` from :meth:`terminal_app.kiosk.engine.KioskEngine.subscribe` and sends
intents to :meth:`~terminal_app.kiosk.engine.KioskEngine.submit`. Identification uses the intents
both roles share (:mod:`terminal_app.session.intents`).

Texts are not here: ``message`` is a :class:`KioskMessage` (its values match the terminal's
:class:`~terminal_app.terminal.state.MessageKey` where the meaning is the same) with
``message_args``. Money is integer minor units of ``currency``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from terminal_app.session.intents import (
    Cancel,
    CardPresented,
    DismissMessage,
    Logout,
    PasswordEntered,
    PinEntered,
    SetLanguage,
    Touch,
)

__all__ = [
    "CashBoxLineView",
    "CashBoxView",
    "CheckPrinter",
    "CoinView",
    "EmptyCashBox",
    "FinishRecharge",
    "KioskIntent",
    "KioskMessage",
    "KioskScreen",
    "KioskState",
    "PrintCashBoxReport",
    "RedeemVoucher",
    "RefreshCashBox",
    "RunSelfTest",
    "SelfTestView",
    "StartRecharge",
]


class KioskScreen(StrEnum):
    """What the kiosk shows now."""

    STARTING = "starting"  # inhibiting the acceptors, replaying the cash journal
    IDLE = "idle"  # "tap your card, enter your PIN or log in"
    IDENTIFYING = "identifying"
    SECOND_FACTOR = "second_factor"  # the card needs its PIN
    HOME = "home"  # identified: name, balance; buttons "insert money", "voucher", "log out"
    RECHARGING = "recharging"  # a recharge is open and the acceptors take money
    CLOSING = "closing"  # acceptors inhibited; last coins credited, recharge closed, receipt printing
    OPERATOR = "operator"  # an operator card: cash box, self-test, printer status
    OUT_OF_ORDER = "out_of_order"  # an acceptor cannot be inhibited (or opened): no money is taken
    DISABLED = "disabled"  # an admin revoked this kiosk at the hub: no login, no money taken
    REENROLL = "reenroll"  # its certificate expired (or the hub does not know it): enroll it again


class KioskMessage(StrEnum):
    """A message for the user or operator; the UI owns the texts."""

    CARD_NOT_RECOGNISED = "card_not_recognised"
    ACCOUNT_LOCKED = "account_locked"
    ACCESS_DENIED = "access_denied"
    OFFLINE_REFUSED = "offline_refused"  # the hub is unreachable: no new recharge, no login
    LOGGED_OUT = "logged_out"
    TIMED_OUT = "timed_out"
    RECHARGE_REFUSED = "recharge_refused"  # the hub refused to open a recharge (args: reason)
    PRINTER_NOT_READY = "printer_not_ready"  # no paper / offline: no money taken (args: paper)
    RECHARGE_DONE = "recharge_done"  # args: amount, balance
    RECEIPT_FAILED = "receipt_failed"  # credited, but the receipt could not be printed
    RECEIPT_ON_SCREEN = (
        "receipt_on_screen"  # the receipt, shown instead of printed (args: amount, balance, reference)
    )
    CREDIT_PENDING = "credit_pending"  # the hub is unreachable: coins journaled, credited later
    VOUCHER_REDEEMED = "voucher_redeemed"  # args: amount, balance
    VOUCHER_INVALID = "voucher_invalid"  # mistyped (length, check character)
    VOUCHER_UNKNOWN = "voucher_unknown"
    VOUCHER_LOCKED = "voucher_locked"  # too many unknown codes
    VOUCHER_REFUSED = "voucher_refused"  # expired or redeemed by someone else
    DEVICE_FAULT = "device_fault"  # an acceptor reported a fault or fraud (args: device, fault, code)
    CASH_BOX_EMPTIED = "cash_box_emptied"  # args: difference
    PANEL_FAULT = "panel_fault"  # reused meaning: the acceptors could not be inhibited
    DEVICE_DISABLED = "device_disabled"  # the hub refuses this kiosk: an admin revoked it
    REENROLL_REQUIRED = "reenroll_required"  # its certificate expired: a technician must enroll it again


@dataclass(frozen=True)
class CoinView:
    """The last coin or note that landed."""

    value_minor: int
    currency: str
    denomination: str
    device_kind: str  # "coin" or "note"
    credited: bool  # False while it is journaled but not yet acknowledged by the hub


@dataclass(frozen=True)
class CashBoxLineView:
    """One denomination in the cash box."""

    device_kind: str
    value_minor: int
    expected_count: int
    counted_count: int = 0


@dataclass(frozen=True)
class CashBoxView:
    """The hub's view of this kiosk's cash box (operator mode)."""

    expected_minor: int
    lines: tuple[CashBoxLineView, ...]
    last_emptied_us: int | None = None
    difference_minor: int | None = None  # after an emptying: counted - expected


@dataclass(frozen=True)
class SelfTestView:
    """One acceptor's self-test result."""

    device: str  # the configured name: "coin", "note"
    ok: bool | None
    code: int
    name: str


@dataclass(frozen=True)
class KioskState:
    """Everything a kiosk UI renders. Replaced (never mutated) on every change."""

    screen: KioskScreen = KioskScreen.STARTING
    language: str = "en"
    offline: bool = False  # the hub did not answer the last call
    message: KioskMessage | None = None
    message_args: tuple[tuple[str, str], ...] = ()
    currency: str = ""
    # the identified user
    username: str = ""
    full_name: str = ""
    operator: bool = False
    balance_minor: int | None = None
    arrears_minor: int = 0
    # the recharge
    recharge_id: int | None = None
    accepting: bool = False  # the acceptors are enabled (only while RECHARGING)
    recharge_total_minor: int = 0  # credited by the hub in this recharge
    pending_minor: int = 0  # journaled in this recharge, not yet acknowledged
    last_coin: CoinView | None = None
    coins_in_recharge: int = 0
    # timers
    countdown_s: int | None = None
    # devices and books (also for the operator view)
    pending_events: int = 0  # cash events in the journal waiting for the hub
    device_alarms: tuple[str, ...] = ()  # lost events, unmapped coins, fraud, faults
    printer_ready: bool | None = None
    printer_paper: str = "unknown"
    cash_box: CashBoxView | None = None
    self_tests: tuple[SelfTestView, ...] = ()

    @property
    def shown_total_minor(self) -> int:
        """What the screen shows as inserted so far: credited plus journaled."""
        return self.recharge_total_minor + self.pending_minor


# ------------------------------------------------------------------------------ intents


@dataclass(frozen=True)
class StartRecharge:
    """ "Insert money": open a recharge and enable the acceptors."""


@dataclass(frozen=True)
class FinishRecharge:
    """ "Done": inhibit, credit the last coins, close the recharge, print the receipt."""


@dataclass(frozen=True)
class RedeemVoucher:
    """A voucher code as typed (case, spaces and hyphens do not matter)."""

    code: str


@dataclass(frozen=True)
class RefreshCashBox:
    """Operator: read the cash box from the hub."""


@dataclass(frozen=True)
class EmptyCashBox:
    """Operator: the box was emptied; ``counted`` is ``((device_kind, value_minor, count), …)``."""

    counted: tuple[tuple[str, int, int], ...]
    note: str = ""


@dataclass(frozen=True)
class RunSelfTest:
    """Operator: every acceptor tests itself."""


@dataclass(frozen=True)
class CheckPrinter:
    """Operator (or anyone): read the receipt printer's status."""


@dataclass(frozen=True)
class PrintCashBoxReport:
    """Operator: print the cash-box report shown."""


KioskIntent = (
    CardPresented
    | PinEntered
    | PasswordEntered
    | Cancel
    | Logout
    | Touch
    | DismissMessage
    | SetLanguage
    | StartRecharge
    | FinishRecharge
    | RedeemVoucher
    | RefreshCashBox
    | EmptyCashBox
    | RunSelfTest
    | CheckPrinter
    | PrintCashBoxReport
)
