"""What the hub says and is told, as plain values of our own: the engines never see a protobuf message.

:class:`~terminal_app.hub.client.HubClient` turns every answer into these frozen dataclasses and
every request out of them (:mod:`terminal_app.hub.wire` is the one place that knows the messages).
Money is integer cents; times are microseconds since the Unix epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "CashBox",
    "CashBoxEmptied",
    "CashCredit",
    "CashCredited",
    "CashDeviceKind",
    "Colleague",
    "ColorMode",
    "DenominationLine",
    "FavouriteSet",
    "FetchedConfig",
    "Function",
    "HeldJob",
    "JobOverrides",
    "JobRelease",
    "Login",
    "Outcome",
    "PricedLine",
    "Project",
    "Quota",
    "QuotaUnit",
    "RechargeOpened",
    "RechargeSummary",
    "ReleaseProgress",
    "ReleaseState",
    "ReportReceipt",
    "ScanChoice",
    "ScanMenu",
    "SecondFactorRequired",
    "Session",
    "UsageLine",
    "UsageReport",
    "User",
    "VoucherRedeemed",
]


class Function(StrEnum):
    """What a device does for a user."""

    PRINT = "print"
    COPY = "copy"
    SCAN = "scan"
    FAX = "fax"


class ColorMode(StrEnum):
    """Mono or colour impressions."""

    MONO = "mono"
    COLOR = "color"


class QuotaUnit(StrEnum):
    """What a quota counts."""

    PAGES = "pages"
    CENTS = "cents"


class Outcome(StrEnum):
    """How the hub applied a request with an idempotency key."""

    CREATED = "created"
    ALREADY_APPLIED = "already_applied"  # same key, same payload: the first result again


class ReleaseState(StrEnum):
    """Where one released job is."""

    QUEUED = "queued"
    SENDING = "sending"
    PRINTED = "printed"  # the printer took it; pages charged
    FAILED = "failed"  # not printed; nothing charged
    REFUSED = "refused"  # not sent: credit, quota, rules or the printer's state


class CashDeviceKind(StrEnum):
    """Which acceptor took the money."""

    COIN = "coin"
    NOTE = "note"


# ------------------------------------------------------------------------------ users and sessions


@dataclass(frozen=True)
class User:
    """Who a session belongs to."""

    user_id: int
    username: str
    full_name: str


@dataclass(frozen=True)
class Project:
    """A project (cost centre) the user may charge."""

    code: str
    name: str


@dataclass(frozen=True)
class Quota:
    """What is left of one quota."""

    name: str
    unit: QuotaUnit
    remaining: int
    limit: int
    blocking: bool  # usage beyond it is refused (else only warned about)


@dataclass(frozen=True)
class UsageLine:
    """Pages of one kind."""

    function: Function | None  # None: a function this client does not know
    color: ColorMode | None  # None: the hub did not say
    paper_size: str
    duplex: bool
    pages: int


@dataclass(frozen=True)
class PricedLine:
    """A usage line with its unit price and amount."""

    line: UsageLine
    unit_price_cents: int
    amount_cents: int


@dataclass(frozen=True)
class Session:
    """A user's session now: money, rules and prices."""

    user: User
    balance_cents: int
    available_cents: int  # balance + credit limit, never below 0
    arrears_cents: int
    postpaid: bool  # charged to a post-paid account: no credit ceiling
    blocked: bool  # no further use until the arrears are paid
    quotas: tuple[Quota, ...]
    allowed_functions: frozenset[Function]
    color_allowed: bool
    projects: tuple[Project, ...]
    project_required: bool
    auth_method: str  # card, card+pin, pin, password
    prices: tuple[PricedLine, ...]  # unit prices of this session's usage at this terminal
    printer_name: str = ""  # where this terminal stands ("": no printer, or a kiosk)
    printer_location: str = ""

    @property
    def copy_allowed(self) -> bool:
        """May this user copy now?"""
        return Function.COPY in self.allowed_functions and not self.blocked


@dataclass(frozen=True)
class Login:
    """A successful identification: the session and its token."""

    session_token: str
    session: Session


@dataclass(frozen=True)
class SecondFactorRequired:
    """The card is known; send it again with its PIN."""


# ------------------------------------------------------------------------------ usage


@dataclass(frozen=True)
class UsageReport:
    """Usage to charge, exactly once per ``idempotency_key``."""

    session_token: str
    idempotency_key: str
    lines: tuple[UsageLine, ...] = ()
    project_code: str = ""  # "": the user's own account
    occurred_us: int | None = None  # the terminal's clock; kept as data only
    performed: bool = True
    description: str = ""
    # the MFP's scan counter over a copy session, for the hub to compare (never charged), and
    # whether it counts only the scans sent (not the originals read for copies)
    scan_counter_pages: int | None = None
    scan_counter_sent_only: bool = False


@dataclass(frozen=True)
class ReportReceipt:
    """The hub's answer to a usage report."""

    outcome: Outcome | None  # None: an outcome this client does not know
    charged_cents: int
    priced_lines: tuple[PricedLine, ...]


# ------------------------------------------------------------------------------ scanning


@dataclass(frozen=True)
class ScanChoice:
    """A scan profile the user may pick on the Scan tile (names in both languages)."""

    profile_id: str
    name_en: str
    name_de: str
    price_per_page_cents: int
    searchable: bool  # a searchable PDF (OCR)

    def name(self, language: str) -> str:
        """The name in the terminal's language (``de`` or ``en``)."""
        return self.name_de if language == "de" else self.name_en


@dataclass(frozen=True)
class ScanMenu:
    """The profiles a session may pick, and the one its scans get now."""

    choices: tuple[ScanChoice, ...]
    chosen_id: str


# ------------------------------------------------------------------------------ held jobs


@dataclass(frozen=True)
class Colleague:
    """Someone a held job can be passed on to."""

    username: str
    full_name: str
    department: str = ""


@dataclass(frozen=True)
class HeldJob:
    """A held job the session's user may release here; prices are per copy after the job rules.

    ``owner_verified`` False: whoever sent it only claimed the owner's name (anyone on the network
    can), so "release all" leaves it out; ``analysing``: the hub is still counting its pages.
    """

    job_id: int
    name: str
    owner: str
    pages: int
    color_pages: int
    copies: int
    duplex: bool
    estimated_price_cents: int
    delegated: bool
    printed: bool
    allowed_mono: bool
    allowed_duplex: bool
    allowed_fewer_copies: bool
    price_per_copy_cents: int
    price_mono_per_copy_cents: int
    price_duplex_per_copy_cents: int
    price_mono_duplex_per_copy_cents: int
    owner_verified: bool
    analysing: bool
    may_have_printed: bool = False  # a release was cut off and the printer could not say
    favourite: bool = False  # starred by its owner: kept for a reprint until unstarred
    delegates: tuple[Colleague, ...] = ()  # whom the owner passed it on to (the owner's list only)
    estimate_note: str = ""  # why pages and prices are estimates ("cannot be counted: …"); "" counted
    rule_note: str = ""  # what the admin's job rules changed (already in the prices); "" nothing


@dataclass(frozen=True)
class FavouriteSet:
    """A star set or taken off, and how many favourites the user has now (of ``maximum``)."""

    favourite: bool
    count: int
    maximum: int


@dataclass(frozen=True)
class JobOverrides:
    """Changes to a held job at release time, as the job's ``allowed_*`` flags permit."""

    mono: bool = False
    duplex: bool = False
    copies: int = 0  # 0: as submitted


@dataclass(frozen=True)
class JobRelease:
    """One job to release, with its overrides."""

    job_id: int
    overrides: JobOverrides = JobOverrides()


@dataclass(frozen=True)
class ReleaseProgress:
    """Progress of one job being released."""

    job_id: int
    state: ReleaseState
    pages_printed: int
    charged_cents: int
    message: str


# ------------------------------------------------------------------------------ kiosks


@dataclass(frozen=True)
class RechargeOpened:
    """A recharge the hub opened for the session's user."""

    recharge_id: int
    username: str
    balance_cents: int
    arrears_cents: int
    currency: str


@dataclass(frozen=True)
class CashCredit:
    """One coin or note to credit, exactly once per ``idempotency_key``."""

    recharge_id: int
    idempotency_key: str
    value_minor: int
    currency: str
    denomination: str
    device_kind: CashDeviceKind
    occurred_us: int


@dataclass(frozen=True)
class CashCredited:
    """The hub credited a cash event."""

    transaction_id: int
    balance_cents: int
    arrears_cents: int
    recharge_total_cents: int  # everything credited in this recharge so far


@dataclass(frozen=True)
class RechargeSummary:
    """A closed recharge."""

    recharge_id: int
    total_cents: int
    balance_cents: int
    arrears_cents: int


@dataclass(frozen=True)
class VoucherRedeemed:
    """A redeemed voucher."""

    transaction_id: int
    credited_cents: int
    balance_cents: int
    arrears_cents: int


@dataclass(frozen=True)
class DenominationLine:
    """One denomination in a kiosk's cash box."""

    device_kind: CashDeviceKind
    value_cents: int
    expected_count: int
    counted_count: int = 0  # only after an emptying


@dataclass(frozen=True)
class CashBox:
    """What the ledger says a kiosk's cash box holds."""

    expected_cents: int
    lines: tuple[DenominationLine, ...]
    last_emptied_us: int | None  # None: never emptied


@dataclass(frozen=True)
class CashBoxEmptied:
    """An operator's emptying, as the hub booked it."""

    difference_cents: int  # counted - expected
    lines: tuple[DenominationLine, ...]
    emptied_us: int


@dataclass(frozen=True)
class FetchedConfig:
    """The effective central configuration the hub answered for this device."""

    version: str
    document: dict[str, Any]
