"""The terminal's state as a UI renders it: one immutable snapshot, and the intents a UI may send.

This module is the contract between the terminal engine and any front end (the Kivy screens,
the headless runner's log, tests). A front end never changes state itself: it renders the
latest :class:`TerminalState` and sends intents (the dataclasses below, and the ones both roles
share from :mod:`terminal_app.session.intents`) to
:meth:`terminal_app.terminal.engine.TerminalEngine.submit`.

Texts are not here: ``message`` is a :class:`MessageKey` with ``message_args`` for the
placeholders, and the UI translates it into ``language``. Money is integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from terminal_app.hub.values import JobOverrides
from terminal_app.session.intents import (
    LANGUAGES,
    Cancel,
    CardPresented,
    DismissMessage,
    Logout,
    PasswordEntered,
    PinEntered,
    SetLanguage,
    ShowNotice,
    Touch,
)

__all__ = [
    "LANGUAGES",
    "SEARCH_QUERY_CHARS_MIN",
    "Cancel",
    "CardPresented",
    "ChooseScanProfile",
    "ColleagueView",
    "DeleteJobs",
    "DismissMessage",
    "Intent",
    "JobOverrides",
    "JobView",
    "LinkCard",
    "Logout",
    "MessageKey",
    "PassJobOn",
    "PasswordEntered",
    "PinEntered",
    "PriceHints",
    "ProjectView",
    "QuotaView",
    "ReleaseAll",
    "ReleaseSelected",
    "ReleaseView",
    "ScanProfileView",
    "Screen",
    "SearchColleagues",
    "SelectProject",
    "SetLanguage",
    "StarJob",
    "StartCopy",
    "TerminalState",
    "Touch",
    "TrayView",
]


class Screen(StrEnum):
    """What the terminal shows now."""

    STARTING = "starting"  # locking the panel, opening the journal (crash recovery)
    IDLE = "idle"  # "tap your card or enter your PIN"
    IDENTIFYING = "identifying"  # asking the hub (or the offline cache) who it is
    SECOND_FACTOR = "second_factor"  # the card is known, its PIN is needed
    SELECT_PROJECT = "select_project"  # the user's rules ask for a project before anything else
    HOME = "home"  # authenticated: name, balance, jobs; the panel is unlocked if copying is allowed
    RELEASING = "releasing"  # held jobs are being sent to the printer
    COPYING = "copying"  # pages are being copied: live pages and cost
    LOGGING_OUT = "logging_out"  # locking the panel, reporting usage
    OUT_OF_ORDER = "out_of_order"  # the panel cannot be locked: nobody may log in
    DISABLED = "disabled"  # an admin revoked this terminal at the hub: nobody may log in
    REENROLL = "reenroll"  # its certificate expired (or the hub does not know it): enroll it again


class MessageKey(StrEnum):
    """A clear message for the user; the UI owns the texts (German and English)."""

    CARD_NOT_RECOGNISED = "card_not_recognised"  # a tapped card the hub does not know
    PIN_NOT_RECOGNISED = "pin_not_recognised"  # a typed PIN (alone or as a card's second factor)
    PASSWORD_NOT_RECOGNISED = "password_not_recognised"  # username + password (login or card link)
    CARD_LINKED = "card_linked"  # the unknown card is now the user's: next time a tap logs in
    CARD_LINK_REFUSED = "card_link_refused"  # the hub did not link it (disabled, or someone's card)
    ACCOUNT_LOCKED = "account_locked"
    ACCESS_DENIED = "access_denied"
    USER_BLOCKED = "user_blocked"  # arrears must be paid first
    NOT_ENOUGH_CREDIT = "not_enough_credit"
    QUOTA_EXHAUSTED = "quota_exhausted"
    CREDIT_USED_UP = "credit_used_up"  # the copier stopped: the credit of this session is spent
    OFFLINE_MODE = "offline_mode"  # the hub is unreachable: offline rules apply
    OFFLINE_REFUSED = "offline_refused"  # offline, and this card is not known here
    PRINTER_JAMMED = "printer_jammed"
    PRINTER_ERROR = "printer_error"  # other critical printer errors (args: errors)
    COPY_UNAVAILABLE = "copy_unavailable"  # the copier's counters cannot be read: no copying
    PROJECT_REQUIRED = "project_required"
    RELEASE_UNAVAILABLE = "release_unavailable"  # the hub offers no held jobs (yet)
    RELEASE_DONE = "release_done"  # args: printed, failed
    RELEASE_PICK_UNVERIFIED = "release_pick_unverified"  # "print all" leaves out jobs sent without a password
    JOBS_DELETED = "jobs_deleted"  # args: deleted
    SCAN_UNAVAILABLE = "scan_unavailable"  # the hub takes no scans from this printer
    LOGGED_OUT = "logged_out"
    TIMED_OUT = "timed_out"  # logged out after inactivity
    PANEL_FAULT = "panel_fault"  # the panel could not be locked: out of order
    DEVICE_DISABLED = "device_disabled"  # the hub refuses this terminal: an admin revoked it
    REENROLL_REQUIRED = "reenroll_required"  # its certificate expired: a technician must enroll it again
    FAVOURITE_ADDED = "favourite_added"  # args: count, maximum
    FAVOURITE_REMOVED = "favourite_removed"
    FAVOURITES_FULL = "favourites_full"  # the hub's bound on favourites per user is reached
    FAVOURITES_UNAVAILABLE = "favourites_unavailable"  # private queues, or the document is gone
    JOB_PASSED_ON = "job_passed_on"  # args: colleague (their full name, else username)
    JOB_TAKEN_BACK = "job_taken_back"  # args: colleague
    JOB_NOT_PASSED_ON = "job_not_passed_on"  # its document is gone, or it has all the colleagues it may
    COLLEAGUE_NOT_FOUND = "colleague_not_found"  # no active user of that name (any more)
    OPERATOR_NOTICE = "operator_notice"  # an administrator's message (args: text)


@dataclass(frozen=True)
class QuotaView:
    """What is left of one quota."""

    name: str
    unit: str  # "pages" or "cents"
    remaining: int
    limit: int
    blocking: bool


@dataclass(frozen=True)
class ProjectView:
    """A project (cost centre) the user may charge."""

    code: str
    name: str


@dataclass(frozen=True)
class ColleagueView:
    """Someone a held job can be passed on to (from a search, or already given the job)."""

    username: str
    full_name: str
    department: str = ""

    @property
    def label(self) -> str:
        """How the screens name them: the full name, else the username."""
        return self.full_name or self.username


@dataclass(frozen=True)
class TrayView:
    """A paper tray of this terminal's printer that is low or empty."""

    name: str
    state: str  # "low" or "empty"
    media: str = ""


@dataclass(frozen=True)
class JobView:
    """A held job in the list.

    ``price_cents`` is the price as submitted; the ``price_*_per_copy_cents`` are the hub's
    prices of one copy as is and with each override (after the admin's job rules), so
    :meth:`price_for` is exact. ``thumbnail_png`` is the first page (empty: none yet or none).
    ``owner_verified`` False: sent without a password (the hub leaves it out of "print all");
    ``analysing``: its pages are still being counted.
    """

    job_id: int
    name: str
    owner: str
    pages: int
    color_pages: int
    copies: int
    duplex: bool
    price_cents: int
    delegated: bool
    printed: bool
    allowed_mono: bool
    allowed_duplex: bool
    allowed_fewer_copies: bool
    price_per_copy_cents: int = 0
    price_mono_per_copy_cents: int = 0
    price_duplex_per_copy_cents: int = 0
    price_mono_duplex_per_copy_cents: int = 0
    thumbnail_png: bytes = field(default=b"", repr=False)
    owner_verified: bool = True
    analysing: bool = False
    may_have_printed: bool = False  # a release was cut off: the user decides whether to print again
    favourite: bool = False  # starred by its owner: kept for a reprint until unstarred
    delegates: tuple[ColleagueView, ...] = ()  # whom the owner passed it on to (own jobs only)
    estimate_note: str = ""  # the hub's words for why pages and price are estimates ("" counted)
    rule_note: str = ""  # the admin's words for what the job rules changed ("" nothing)

    def price_for(self, overrides: JobOverrides) -> int:
        """The exact price of printing this job with ``overrides`` (an override the job does not
        need, like mono on a mono job, costs what the job costs)."""
        per_copy = {
            (False, False): self.price_per_copy_cents,
            (True, False): self.price_mono_per_copy_cents,
            (False, True): self.price_duplex_per_copy_cents,
            (True, True): self.price_mono_duplex_per_copy_cents,
        }[overrides.mono, overrides.duplex]
        return per_copy * (overrides.copies or self.copies)


@dataclass(frozen=True)
class ReleaseView:
    """Progress of one job being released."""

    job_id: int
    state: str  # queued, sending, printed, failed, refused
    pages_printed: int = 0
    charged_cents: int = 0
    message: str = ""


@dataclass(frozen=True)
class PriceHints:
    """Per-page copy prices used for the live cost (the hub's charge is authoritative)."""

    copy_mono_cents: int = 0
    copy_color_cents: int = 0


@dataclass(frozen=True)
class ScanProfileView:
    """A scan profile on the Scan tile."""

    profile_id: str
    name_en: str
    name_de: str
    price_per_page_cents: int
    searchable: bool

    def name(self, language: str) -> str:
        """The name in the terminal's language."""
        return self.name_de if language == "de" else self.name_en


@dataclass(frozen=True)
class TerminalState:
    """Everything a UI renders. Replaced (never mutated) on every change."""

    screen: Screen = Screen.STARTING
    language: str = "en"
    offline: bool = False  # the hub is unreachable now
    message: MessageKey | None = None
    message_args: tuple[tuple[str, str], ...] = ()
    unknown_card: bool = False  # a tapped card the hub does not know may be linked now (LinkCard)
    # the session (None/empty on the idle screens)
    username: str = ""
    full_name: str = ""
    offline_session: bool = False  # this session was opened from the offline cache
    balance_cents: int | None = None
    available_cents: int | None = None  # what may still be spent (balance + credit limit)
    postpaid: bool = False
    arrears_cents: int = 0
    quotas: tuple[QuotaView, ...] = ()
    quota_pages_left: int | None = None  # the smallest pages quota left, None without one
    copy_allowed: bool = False
    color_allowed: bool = False
    projects: tuple[ProjectView, ...] = ()
    project_required: bool = False
    project: str = ""  # the chosen project code ("" = the user's own account)
    jobs: tuple[JobView, ...] = ()
    jobs_supported: bool = True  # False while the hub answers UNIMPLEMENTED to ListJobs
    release: tuple[ReleaseView, ...] = ()
    colleagues: tuple[ColleagueView, ...] = ()  # the last colleague search's answer
    # where this terminal stands (the hub says with every session; kept between sessions)
    printer_name: str = ""
    printer_location: str = ""
    paper_low: tuple[TrayView, ...] = ()  # the printer's automatic trays that are low or empty
    scan_profiles: tuple[ScanProfileView, ...] = ()  # empty: no scanning at this printer
    scan_profile: str = ""  # the profile the session's scans get
    # the copy session
    panel_unlocked: bool = False
    copy_pages_mono: int = 0
    copy_pages_color: int = 0
    copy_cost_cents: int = 0
    credit_pages: int | None = None  # the copier stops after this many impressions (None: no cap)
    prices: PriceHints = field(default_factory=PriceHints)
    # timers
    countdown_s: int | None = None  # seconds until the idle logout, None when no session is live
    idle_warning: bool = False  # the countdown is in its warning phase
    # devices and books
    printer_errors: tuple[str, ...] = ()
    pending_reports: int = 0  # usage reports in the journal not yet acknowledged by the hub

    @property
    def copy_pages(self) -> int:
        """Mono plus colour pages copied in this session."""
        return self.copy_pages_mono + self.copy_pages_color

    @property
    def favourites(self) -> tuple[JobView, ...]:
        """The session's starred jobs (held or printed: each may be printed again)."""
        return tuple(job for job in self.jobs if job.favourite)

    @property
    def session_live(self) -> bool:
        """Is a user logged in (the panel may be unlocked)?"""
        return bool(self.username)


# ------------------------------------------------------------------------------ intents


@dataclass(frozen=True)
class LinkCard:
    """Link the card just tapped, which the hub did not know, to this user (only while the
    state's ``unknown_card`` is true); logs the user in."""

    username: str
    password: str


@dataclass(frozen=True)
class SelectProject:
    """Charge this session to a project (``""``: the user's own account, if allowed)."""

    code: str


@dataclass(frozen=True)
class ReleaseSelected:
    """Print these held jobs, with per-job overrides (job id -> overrides)."""

    job_ids: tuple[int, ...]
    overrides: tuple[tuple[int, JobOverrides], ...] = ()


@dataclass(frozen=True)
class ReleaseAll:
    """Print every held job."""


@dataclass(frozen=True)
class DeleteJobs:
    """Delete these held jobs."""

    job_ids: tuple[int, ...]


@dataclass(frozen=True)
class ChooseScanProfile:
    """Apply a scan profile to the scans the MFP sends during this session."""

    profile_id: str


@dataclass(frozen=True)
class StarJob:
    """Keep one of the user's own jobs for a reprint (``favourite=False``: take the star off)."""

    job_id: int
    favourite: bool = True


SEARCH_QUERY_CHARS_MIN = 2  # the hub refuses shorter colleague searches; the terminal does not ask


@dataclass(frozen=True)
class SearchColleagues:
    """Find colleagues to pass a job on to (at least :data:`SEARCH_QUERY_CHARS_MIN` characters;
    fewer clear the list)."""

    query: str


@dataclass(frozen=True)
class PassJobOn:
    """Let a colleague release one of the user's held jobs (``withdraw``: take it back)."""

    job_id: int
    username: str
    withdraw: bool = False


@dataclass(frozen=True)
class StartCopy:
    """Unlock the copier (after a project was chosen, or after the panel was locked)."""


Intent = (
    CardPresented
    | PinEntered
    | PasswordEntered
    | LinkCard
    | Cancel
    | Logout
    | SelectProject
    | SetLanguage
    | ReleaseSelected
    | ReleaseAll
    | DeleteJobs
    | StarJob
    | SearchColleagues
    | PassJobOn
    | StartCopy
    | ChooseScanProfile
    | Touch
    | DismissMessage
    | ShowNotice
)
