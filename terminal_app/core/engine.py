"""The session engine: one terminal's behaviour, from a card tap to the locked panel.

Driven by events — card reads, UI intents (:mod:`terminal_app.core.state`), timers
(:meth:`SessionEngine.tick`), hub replies, and the copier's page counts
(:meth:`SessionEngine.poll_copy`) — it publishes an immutable :class:`TerminalState` to its
subscribers after every change. It imports no UI toolkit.

Screens::

    STARTING ──(panel locked, journal opened)──> IDLE
    IDLE ──card/PIN/password──> IDENTIFYING ──second factor──> SECOND_FACTOR ──PIN──> IDENTIFYING
    IDENTIFYING ──card not recognised──> IDLE + unknown_card ──LinkCard(username, password)──> IDENTIFYING
    IDENTIFYING ──ok──> SELECT_PROJECT (project required) ──project──> HOME
                 ──ok──> HOME (panel unlocked when copying is allowed and credit is left)
                 ──refused / not recognised / offline and not cached──> IDLE + message
    HOME ──pages counted──> COPYING        HOME/COPYING ──release──> RELEASING ──> HOME/COPYING
    any session screen ──logout / idle timeout / same card again / hub revoked it──> LOGGING_OUT ──> IDLE
    panel cannot be locked ──> OUT_OF_ORDER (retried on every tick; nobody may log in)

The panel lock is the safety rule: it is locked first thing at start (whatever a crashed
process left behind), unlocked only while a session is live, and locked on every way out —
logout, timeout, cancel, a hub that revokes the session, an exception in any handler, and
:meth:`SessionEngine.close`.

A card the hub does not know stays in the engine (never in the state: the state only says
``unknown_card``) for one idle timeout, with a countdown; :class:`LinkCard` links it to the user
who proves their password and opens their session. When the hub refuses the link (disabled, or
the card is someone's), the same password logs the user in without it (``CARD_LINK_REFUSED``).
Live copy costs use the unit prices the hub sends with the session (``Session.prices``); the
``[prices]`` hints only stand in until the hub has answered once (offline from the start). The
language goes back to the terminal's default when a session ends.

Offline (the hub does not answer): users in the offline cache log in with their card (and
PIN); users not in it are refused or allowed a capped session, as the offline policy says.
Usage always goes through the journal; it is charged when the hub is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import common_pb2, terminal_pb2

from mfp_adapters import PanelLock
from mfp_adapters.mib import blocking_errors
from terminal_app.core.clock import Clock, SystemClock
from terminal_app.core.copying import CopyCounter, CopyPages, CopyUnavailable
from terminal_app.core.errors import (
    AccessDenied,
    HubCallError,
    HubRejected,
    HubUnreachable,
    NotEnoughCredit,
    NotRecognised,
    NotSupported,
    QuotaExhausted,
    Refused,
    TerminalError,
)
from terminal_app.core.hub_client import HubClient
from terminal_app.core.journal import Journal, OpenCopy, UsageSender
from terminal_app.core.observable import ObservableState
from terminal_app.core.offline_cache import CachedUser, OfflineCache
from terminal_app.core.state import (
    LANGUAGES,
    Cancel,
    CardPresented,
    DeleteJobs,
    DismissMessage,
    Intent,
    JobOverrides,
    JobView,
    LinkCard,
    Logout,
    MessageKey,
    PasswordEntered,
    PinEntered,
    PriceHints,
    ProjectView,
    QuotaView,
    ReleaseAll,
    ReleaseSelected,
    ReleaseView,
    Screen,
    SelectProject,
    SetLanguage,
    StartCopy,
    TerminalState,
    Touch,
)

__all__ = ["EngineSettings", "OfflinePolicy", "SessionEngine", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[TerminalState], None]
IDLE_TIMEOUT_RANGE_S = (10.0, 3600.0)
CONNECTIVITY_CHECK_S = 5.0
_SESSION_SCREENS = frozenset(
    {Screen.SELECT_PROJECT, Screen.HOME, Screen.RELEASING, Screen.COPYING, Screen.LOGGING_OUT}
)
_RELEASE_STATES = {
    terminal_pb2.RELEASE_STATE_QUEUED: "queued",
    terminal_pb2.RELEASE_STATE_SENDING: "sending",
    terminal_pb2.RELEASE_STATE_PRINTED: "printed",
    terminal_pb2.RELEASE_STATE_FAILED: "failed",
    terminal_pb2.RELEASE_STATE_REFUSED: "refused",
}
THUMBNAILS_MAX = 30  # thumbnails fetched per job list (the first ones: what a screen shows)
THUMBNAIL_BYTES_MAX = 256 * 1024  # a bigger PNG is not shown (the hub sends none bigger)


@dataclass(frozen=True)
class OfflinePolicy:
    """What the terminal allows while the hub is unreachable (see docs/terminal.md)."""

    unknown_users: str = "refuse"  # "refuse", or "allow" a capped session charged on reconnect
    unknown_user_page_cap: int = 10  # impressions per session for a card not in the cache
    session_page_cap: int = 100  # impressions per offline session, whoever it is
    credit_cap_cents: int = 500  # at most this much of a cached prepaid balance is spent offline

    def __post_init__(self) -> None:
        if self.unknown_users not in ("refuse", "allow"):
            raise ValueError("offline unknown_users must be 'refuse' or 'allow'")
        if min(self.unknown_user_page_cap, self.session_page_cap, self.credit_cap_cents) < 0:
            raise ValueError("offline caps must be >= 0")


@dataclass(frozen=True)
class EngineSettings:
    """Timers and rules of one terminal."""

    idle_timeout_s: float = 60.0
    idle_warning_s: float = 15.0  # the last seconds of the countdown are a warning
    message_s: float = 6.0  # how long a message stays on the idle screen
    relogin_guard_s: float = 5.0  # after a logout, the same card is ignored this long
    tap_to_logout: bool = True  # the session's own card tapped again logs out
    auto_unlock: bool = True  # unlock the copier at login (else on StartCopy)
    copy_poll_s: float = 1.0  # live page count refresh while the panel is unlocked
    replay_interval_s: float = 30.0  # journal retry when the hub was unreachable (grows to this)
    paper_size: str = "A4"  # what copies are reported as (the panel cannot tell)
    language: str = "en"
    prices: PriceHints = field(default_factory=PriceHints)
    offline: OfflinePolicy = field(default_factory=OfflinePolicy)

    def __post_init__(self) -> None:
        low, high = IDLE_TIMEOUT_RANGE_S
        if not low <= self.idle_timeout_s <= high:
            raise ValueError(f"idle_timeout_s must be {low:g}..{high:g} s, not {self.idle_timeout_s}")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}")


@dataclass
class _Session:
    """The live session's private facts (the public ones are in the state)."""

    token: str  # "" for an offline session of a card not in the cache
    card_number: str  # "" for PIN and password logins
    user_id: int
    offline: bool
    deferred_card: str = ""  # offline, not cached: charge by card on reconnect
    credit_cents: int | None = None  # what this session may spend (None: post-paid, no cap)
    page_cap: int | None = None  # offline cap on impressions
    copy_id: str = ""  # set while the panel is unlocked
    copy: OpenCopy | None = None  # its durable record (the report it becomes, the baseline)


@dataclass
class _Pending:
    """A card waiting for its PIN."""

    card_number: str
    offline_user: CachedUser | None = None


class SessionEngine(ObservableState[TerminalState]):
    """One terminal's session engine (see the module docstring)."""

    def __init__(
        self,
        *,
        hub: HubClient,
        panel: PanelLock,
        counter: CopyCounter,
        journal: Journal,
        cache: OfflineCache,
        settings: EngineSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.hub = hub
        self.panel = panel
        self.counter = counter
        self.journal = journal
        self.cache = cache
        self.sender = UsageSender(journal, hub)
        self.settings = settings or EngineSettings()
        self.clock = clock or SystemClock()
        ObservableState.__init__(
            self, TerminalState(language=self.settings.language, prices=self.settings.prices)
        )
        self._intents: asyncio.Queue[Intent] = asyncio.Queue()
        self._session: _Session | None = None
        self._pending: _Pending | None = None
        self._unknown_card = ""  # a card the hub did not know, offered for LinkCard
        self._thumbnails: dict[int, bytes] = {}  # this session's, by job id
        self._idle_deadline_s: float | None = None
        self._message_until_s: float | None = None
        self._next_copy_poll_s = 0.0
        self._last_logout_s = -math.inf
        self._last_logout_card = ""
        self._replay_wakeup = asyncio.Event()
        self._stopping = False

    # ================================================================ observation

    def _message(self, key: MessageKey | None, **args: object) -> None:
        self._set(message=key, message_args=tuple((k, str(v)) for k, v in args.items()))
        self._message_until_s = self.clock.monotonic_s() + self.settings.message_s if key else None

    # ================================================================ life cycle

    async def start(self) -> None:
        """Crash recovery: lock the panel first, then show the idle screen and count the journal."""
        await self._lock_panel_at_start()
        await self._recover_open_copies()
        self._set(pending_reports=self.journal.pending_count())
        if self._state.screen is not Screen.OUT_OF_ORDER:
            self._set(screen=Screen.IDLE)

    async def _lock_panel_at_start(self) -> None:
        try:
            counts = await self.panel.lock()
        except Exception as exc:  # any panel failure: nobody may use the copier
            log.error("engine: cannot lock the panel at start: %s", exc)
            self._set(screen=Screen.OUT_OF_ORDER, panel_unlocked=False)
            self._message(MessageKey.PANEL_FAULT)
            return
        if counts.total:
            log.warning("engine: %d impressions counted after a crash were not charged", counts.total)

    def submit(self, intent: Intent) -> None:
        """Queue an intent (from the UI or the reader task); :meth:`run` handles it."""
        self._intents.put_nowait(intent)

    async def run(self) -> None:
        """Start, then handle intents, timers and copy polls until :meth:`close`."""
        await self.start()
        replay = asyncio.create_task(self._replay_loop(), name="journal-replay")
        try:
            while not self._stopping:
                try:
                    intent = await asyncio.wait_for(self._intents.get(), self._wait_s())
                except TimeoutError:
                    intent = None
                if intent is not None:
                    await self.dispatch(intent)
                await self._guarded(self.tick(), "tick")
                await self._guarded(self._poll_copy_if_due(), "copy poll")
        finally:
            replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replay

    def _wait_s(self) -> float | None:
        now = self.clock.monotonic_s()
        wakeups = [self._message_until_s]
        if self._idle_deadline_s is not None:
            remaining = self._idle_deadline_s - now
            wakeups.append(now + (remaining - math.floor(remaining) or 1.0))  # next whole second
        if self._session is not None and self._session.copy_id:
            wakeups.append(self._next_copy_poll_s)
        due = [at for at in wakeups if at is not None]
        if self._state.screen is Screen.OUT_OF_ORDER:
            due.append(now + 1.0)
        return max(0.0, min(due) - now) if due else None

    async def close(self) -> None:
        """Log out a live session (panel locked, usage journaled) and stop :meth:`run`."""
        self._stopping = True
        if self._session is not None:
            await self._logout(MessageKey.LOGGED_OUT)
        self._intents.put_nowait(Touch())  # wake run()

    # ================================================================ intents

    async def dispatch(self, intent: Intent) -> None:
        """Handle one intent now. An exception in a handler ends the session (panel locked)."""
        handler = self._handlers().get(type(intent))
        if handler is None:
            raise TypeError(f"not an intent: {intent!r}")
        if not isinstance(intent, CardPresented):
            self._activity()
        await self._guarded(handler(intent), type(intent).__name__)

    async def _guarded(self, work: Awaitable[None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("engine: %s failed; ending the session", what)
            await self._emergency_end()

    def _handlers(self) -> dict[type, Callable[[Any], Any]]:
        return {
            CardPresented: self._on_card,
            PinEntered: self._on_pin,
            PasswordEntered: self._on_password,
            LinkCard: self._on_link_card,
            Cancel: self._on_cancel,
            Logout: self._on_logout,
            SelectProject: self._on_select_project,
            SetLanguage: self._on_set_language,
            ReleaseSelected: self._on_release_selected,
            ReleaseAll: self._on_release_all,
            DeleteJobs: self._on_delete_jobs,
            StartCopy: self._on_start_copy,
            Touch: self._on_touch,
            DismissMessage: self._on_dismiss,
        }

    def _activity(self) -> None:
        if self._idle_deadline_s is not None:
            self._idle_deadline_s = self.clock.monotonic_s() + self.settings.idle_timeout_s
            self._show_countdown()

    async def _on_touch(self, _intent: Touch) -> None:
        """Only restarts the countdown (done in dispatch)."""

    async def _on_dismiss(self, _intent: DismissMessage) -> None:
        self._message(None)

    async def _on_set_language(self, intent: SetLanguage) -> None:
        if intent.language in LANGUAGES:
            self._set(language=intent.language)

    async def _on_card(self, intent: CardPresented) -> None:
        screen, number = self._state.screen, intent.card_number
        if screen in (Screen.HOME, Screen.COPYING):
            if self._session and number == self._session.card_number and self.settings.tap_to_logout:
                await self._logout(MessageKey.LOGGED_OUT)
            return
        if screen not in (Screen.IDLE, Screen.SECOND_FACTOR) or self._stale(intent):
            log.info("engine: card read ignored on screen %s", screen)
            return
        self._pending = None
        self._forget_unknown_card()
        await self._identify(number, "")

    def _stale(self, intent: CardPresented) -> bool:
        """A read from before the last logout, or the same card still lying on the reader."""
        read_at_s = self.clock.monotonic_s() if intent.read_at_s is None else intent.read_at_s
        if read_at_s < self._last_logout_s:
            return True
        return (
            intent.card_number == self._last_logout_card
            and read_at_s - self._last_logout_s < self.settings.relogin_guard_s
        )

    async def _on_pin(self, intent: PinEntered) -> None:
        if self._state.screen is Screen.SECOND_FACTOR and self._pending is not None:
            await self._identify(self._pending.card_number, intent.pin)
        elif self._state.screen is Screen.IDLE:
            await self._identify_by_pin(intent.pin)

    async def _on_password(self, intent: PasswordEntered) -> None:
        if self._state.screen is not Screen.IDLE:
            return
        self._begin_identifying()
        try:
            answer = await self.hub.authenticate_password(intent.username, intent.password)
        except HubCallError as exc:
            self._refused(exc, MessageKey.PASSWORD_NOT_RECOGNISED)
            return
        await self._open_online(answer, card_number="", pin="")

    async def _on_link_card(self, intent: LinkCard) -> None:
        number = self._unknown_card
        if self._state.screen is not Screen.IDLE or not number:
            return
        self._begin_identifying()
        linked = True
        try:
            try:
                answer = await self.hub.link_card(number, intent.username, intent.password)
            except (Refused, NotSupported) as exc:
                log.info("engine: card not linked (%s): logging in by password", exc)
                linked = False
                answer = await self.hub.authenticate_password(intent.username, intent.password)
        except NotRecognised:
            # A typo: the form stays (the hub counted the failure towards its lockout).
            self._card_unknown(number, MessageKey.PASSWORD_NOT_RECOGNISED)
            return
        except HubCallError as exc:
            self._refused(exc, MessageKey.PASSWORD_NOT_RECOGNISED)
            return
        await self._open_online(answer, card_number=number if linked else "", pin="")
        if not linked:
            self._message(MessageKey.CARD_LINK_REFUSED)  # what they asked for: said even over other news
        elif self._state.message is None:
            self._message(MessageKey.CARD_LINKED)

    def _card_unknown(self, number: str, message: MessageKey) -> None:
        """Offer the unknown card for LinkCard until the idle timeout (a countdown shows it)."""
        self._unknown_card = number
        self._idle_deadline_s = self.clock.monotonic_s() + self.settings.idle_timeout_s
        self._set(screen=Screen.IDLE, unknown_card=True)
        self._show_countdown()
        self._message(message)

    def _forget_unknown_card(self) -> None:
        self._unknown_card = ""
        self._set(unknown_card=False)

    async def _on_cancel(self, _intent: Cancel) -> None:
        if self._state.screen is Screen.SECOND_FACTOR or self._unknown_card:
            self._pending = None
            self._forget_unknown_card()
            self._to_idle()
        elif self._session is not None:
            await self._logout(MessageKey.LOGGED_OUT)

    async def _on_logout(self, _intent: Logout) -> None:
        if self._session is not None:
            await self._logout(MessageKey.LOGGED_OUT)

    async def _on_select_project(self, intent: SelectProject) -> None:
        if self._session is None:
            return
        codes = {project.code for project in self._state.projects}
        if intent.code not in codes and (intent.code or self._state.project_required):
            self._message(MessageKey.PROJECT_REQUIRED)
            return
        if self._session.copy_id:  # pages so far belong to the previous choice
            await self._end_copy()
        self._set(project=intent.code, screen=Screen.HOME, message=None)
        if self.settings.auto_unlock:
            await self._unlock()

    async def _on_start_copy(self, _intent: StartCopy) -> None:
        if self._session is None or self._session.copy_id:
            return
        if self._state.project_required and not self._state.project:
            self._message(MessageKey.PROJECT_REQUIRED)
            return
        await self._unlock()

    # ================================================================ identification

    def _begin_identifying(self) -> None:
        self._set(screen=Screen.IDENTIFYING, message=None, message_args=())

    async def _identify(self, card_number: str, pin: str) -> None:
        pending = self._pending
        self._begin_identifying()
        if pending is not None and pending.offline_user is not None:
            await self._open_offline_checked(pending.offline_user, card_number, pin)
            return
        try:
            answer = await self.hub.authenticate_card(card_number, pin)
        except HubUnreachable:
            await self._identify_offline(card_number, pin)
            return
        except NotRecognised as exc:
            if pin:
                self._refused(exc, MessageKey.PIN_NOT_RECOGNISED)
            else:
                self._pending = None
                self._card_unknown(card_number, MessageKey.CARD_NOT_RECOGNISED)
            return
        except HubRejected as exc:
            self._refused(exc, MessageKey.ACCESS_DENIED)
            return
        if answer.second_factor_required:
            self._ask_pin(_Pending(card_number))
            return
        await self._open_online(answer, card_number=card_number, pin=pin)

    async def _identify_by_pin(self, pin: str) -> None:
        self._begin_identifying()
        try:
            answer = await self.hub.authenticate_pin(pin)
        except HubUnreachable:
            user = self.cache.by_pin(pin)
            self._set(offline=True)
            if user is None or user.requires_pin:
                self._refused_offline()
            else:
                await self._open_offline(user, card_number="")
            return
        except HubRejected as exc:
            self._refused(exc, MessageKey.PIN_NOT_RECOGNISED)
            return
        await self._open_online(answer, card_number="", pin=pin)

    def _ask_pin(self, pending: _Pending) -> None:
        self._pending = pending
        self._idle_deadline_s = self.clock.monotonic_s() + self.settings.idle_timeout_s
        self._set(screen=Screen.SECOND_FACTOR)
        self._show_countdown()

    def _refused(self, error: HubCallError, not_recognised: MessageKey) -> None:
        """Back to idle with the message for ``error`` (``not_recognised``: what was not)."""
        key = MessageKey.ACCESS_DENIED
        if isinstance(error, NotRecognised):
            key = not_recognised
        elif isinstance(error, AccessDenied) and "locked" in error.detail:
            key = MessageKey.ACCOUNT_LOCKED
        if isinstance(error, HubUnreachable):
            self._set(offline=True)
            key = MessageKey.OFFLINE_REFUSED
        self._pending = None
        self._forget_unknown_card()
        self._to_idle()
        self._message(key)

    def _refused_offline(self) -> None:
        self._pending = None
        self._to_idle()
        self._message(MessageKey.OFFLINE_REFUSED)

    def _to_idle(self) -> None:
        self._idle_deadline_s = None
        self._set(screen=Screen.IDLE, countdown_s=None, idle_warning=False)

    async def _open_online(
        self, answer: terminal_pb2.AuthenticateResponse, *, card_number: str, pin: str
    ) -> None:
        session = answer.session
        self._pending = None
        self._forget_unknown_card()
        self.cache.remember(session, answer.session_token, card_number=card_number, pin=pin)
        self._session = _Session(
            token=answer.session_token,
            card_number=card_number,
            user_id=session.user.id,
            offline=False,
            credit_cents=None if session.postpaid else session.available_cents,
        )
        self._set(offline=False, **_session_fields(session), prices=self._hub_prices(session))
        await self._enter_session(blocked=session.blocked)
        await self._load_jobs()

    def _hub_prices(self, session: terminal_pb2.Session) -> PriceHints:
        """The copy prices of the session (simplex, this terminal's paper size, else ``*``);
        the ones known so far when the hub sent none (an older hub)."""
        found: dict[tuple[int, str], int] = {}
        for priced in session.prices:
            line = priced.line
            if line.function == common_pb2.FUNCTION_COPY and not line.duplex:
                found[line.color, line.paper_size] = int(priced.unit_price_cents)

        def unit(color: int, known: int) -> int:
            return found.get((color, self.settings.paper_size), found.get((color, "*"), known))

        prices = self._state.prices
        return PriceHints(
            copy_mono_cents=unit(common_pb2.COLOR_MODE_MONO, prices.copy_mono_cents),
            copy_color_cents=unit(common_pb2.COLOR_MODE_COLOR, prices.copy_color_cents),
        )

    async def _identify_offline(self, card_number: str, pin: str) -> None:
        self._set(offline=True)
        user = self.cache.by_card(card_number)
        if user is None:
            if self.settings.offline.unknown_users == "allow":
                await self._open_unknown_offline(card_number)
            else:
                self._refused_offline()
            return
        if user.requires_pin and not pin:
            self._ask_pin(_Pending(card_number, offline_user=user))
            return
        await self._open_offline_checked(user, card_number, pin)

    async def _open_offline_checked(self, user: CachedUser, card_number: str, pin: str) -> None:
        if user.requires_pin and not self.cache.check_pin(user, pin):
            # Offline, a wrong PIN cannot be counted towards the hub's lockout: one try per tap.
            self._pending = None
            self._to_idle()
            self._message(MessageKey.PIN_NOT_RECOGNISED)
            return
        self._pending = None
        await self._open_offline(user, card_number)

    async def _open_offline(self, user: CachedUser, card_number: str) -> None:
        policy = self.settings.offline
        credit = None if user.postpaid else min(user.available_cents, policy.credit_cap_cents)
        self._session = _Session(
            token=user.session_token,
            card_number=card_number,
            user_id=user.user_id,
            offline=True,
            credit_cents=credit,
            page_cap=policy.session_page_cap,
        )
        self._set(
            username=user.username,
            full_name=user.full_name,
            offline_session=True,
            balance_cents=None,
            available_cents=credit,
            postpaid=user.postpaid,
            copy_allowed=user.copy_allowed,
            color_allowed=user.color_allowed,
            projects=tuple(ProjectView(code, name) for code, name in user.projects),
            project_required=user.project_required,
            jobs_supported=False,
        )
        self._message(MessageKey.OFFLINE_MODE)
        await self._enter_session(blocked=False)

    async def _open_unknown_offline(self, card_number: str) -> None:
        cap = min(self.settings.offline.unknown_user_page_cap, self.settings.offline.session_page_cap)
        self._session = _Session(
            token="",
            card_number=card_number,
            user_id=0,
            offline=True,
            deferred_card=card_number,
            page_cap=cap,
        )
        self._set(
            username=f"card …{card_number[-4:]}",
            full_name="",
            offline_session=True,
            copy_allowed=cap > 0,
            color_allowed=False,
            jobs_supported=False,
        )
        self._message(MessageKey.OFFLINE_MODE)
        await self._enter_session(blocked=False)

    async def _enter_session(self, *, blocked: bool) -> None:
        self._idle_deadline_s = self.clock.monotonic_s() + self.settings.idle_timeout_s
        self._show_countdown()
        if blocked:
            self._set(screen=Screen.HOME)
            self._message(MessageKey.USER_BLOCKED)
        elif self._state.project_required and not self._state.project:
            self._set(screen=Screen.SELECT_PROJECT)
        else:
            self._set(screen=Screen.HOME)
            if self.settings.auto_unlock:
                await self._unlock()

    # ================================================================ the copy session

    def _credit_pages(self) -> int | None:
        session = self._session
        assert session is not None
        caps: list[int] = []
        if session.page_cap is not None:
            caps.append(session.page_cap)
        if session.credit_cents is not None:
            prices = self._state.prices
            dearest = max(prices.copy_mono_cents, prices.copy_color_cents if self._state.color_allowed else 0)
            if dearest > 0:
                caps.append(max(0, session.credit_cents) // dearest)
            elif session.credit_cents <= 0:
                caps.append(0)
        if self._state.quota_pages_left is not None:
            caps.append(self._state.quota_pages_left)
        return min(caps) if caps else None

    async def _unlock(self) -> None:
        session = self._session
        if session is None or session.copy_id or not self._state.copy_allowed:
            return
        credit_pages = self._credit_pages()
        if credit_pages == 0:
            self._message(MessageKey.NOT_ENOUGH_CREDIT)
            return
        copy_id = uuid.uuid4().hex
        try:
            baseline = await self.counter.begin(copy_id)
        except CopyUnavailable as exc:
            log.warning("engine: copying not possible: %s", exc)
            self._message(MessageKey.COPY_UNAVAILABLE)
            return
        session.copy = OpenCopy(
            copy_id, self._report_template(session, copy_id), baseline, session.deferred_card
        )
        self.journal.open_copy(session.copy, self.clock.wall_us())  # durable before the panel opens
        session.copy_id = copy_id
        self.panel.unlock(allow_color=self._state.color_allowed, credit_pages=credit_pages)
        self._next_copy_poll_s = self.clock.monotonic_s() + self.settings.copy_poll_s
        self._set(panel_unlocked=True, credit_pages=credit_pages, copy_pages_mono=0, copy_pages_color=0)
        log.info("engine: panel unlocked for %s (credit pages %s)", self._state.username, credit_pages)

    async def _poll_copy_if_due(self) -> None:
        if (
            self._session is not None
            and self._session.copy_id
            and self.clock.monotonic_s() >= self._next_copy_poll_s
        ):
            await self.poll_copy()

    async def poll_copy(self) -> None:
        """Refresh the live page count and cost (the runner calls this every ``copy_poll_s``)."""
        session = self._session
        if session is None or not session.copy_id:
            return
        self._next_copy_poll_s = self.clock.monotonic_s() + self.settings.copy_poll_s
        pages = await self.counter.live()
        if pages.total != self._state.copy_pages:
            self._activity()
        self._show_pages(pages)
        if self._state.credit_pages is not None and pages.total >= self._state.credit_pages:
            self._message(MessageKey.CREDIT_USED_UP)

    def _show_pages(self, pages: CopyPages) -> None:
        prices = self._state.prices
        cost = pages.mono * prices.copy_mono_cents + pages.color * prices.copy_color_cents
        screen = self._state.screen
        if pages.total and screen is Screen.HOME:
            screen = Screen.COPYING
        self._set(
            copy_pages_mono=pages.mono, copy_pages_color=pages.color, copy_cost_cents=cost, screen=screen
        )

    async def _end_copy(self) -> None:
        """Lock the panel, count the session's pages and journal them (then try to send)."""
        session = self._session
        assert session is not None and session.copy_id
        copy_id, session.copy_id = session.copy_id, ""
        pulses = await self.panel.lock()
        self._set(panel_unlocked=False)
        try:
            pages = await self.counter.end(pulses)
        except Exception:
            log.exception("engine: copy session %s could not be counted", copy_id)
            pages = CopyPages(mono=pulses.mono, color=pulses.color)
        self._show_pages(pages)
        assert session.copy is not None
        self._close_copy(session.copy, pages)
        session.copy = None
        if pages.total and session.offline and session.user_id:
            self.cache.spend(session.user_id, self._state.copy_cost_cents)

    def _report_template(self, session: _Session, copy_id: str) -> terminal_pb2.ReportUsageRequest:
        return terminal_pb2.ReportUsageRequest(
            session_token=session.token,
            idempotency_key=f"copy-{copy_id}",
            project_code=self._state.project,
            performed=True,
            description=f"copy session at {self.hub.terminal_id}",
        )

    def _close_copy(self, copy: OpenCopy, pages: CopyPages) -> None:
        """Journal the session's report (when it made pages) and forget the open session, atomically."""
        report = None
        if pages.total:
            report = terminal_pb2.ReportUsageRequest()
            report.CopyFrom(copy.template)
            report.lines.extend(
                common_pb2.UsageLine(
                    function=common_pb2.FUNCTION_COPY,
                    color=color,
                    paper_size=self.settings.paper_size,
                    pages=count,
                )
                for color, count in (
                    (common_pb2.COLOR_MODE_MONO, pages.mono),
                    (common_pb2.COLOR_MODE_COLOR, pages.color),
                )
                if count
            )
            report.occurred_at.CopyFrom(_timestamp(self.clock.wall_us()))
        self.journal.close_copy(copy, report, self.clock.wall_us())
        self._set(pending_reports=self.journal.pending_count())
        self._replay_wakeup.set()

    async def _recover_open_copies(self) -> None:
        """Charge copy sessions a dead process left open, from what the counters prove."""
        for copy in self.journal.open_copies():
            pages = await self.counter.recover(copy.baseline)
            log.warning(
                "engine: copy session %s was cut by a restart: %d pages charged", copy.copy_id, pages.total
            )
            self._close_copy(copy, pages)

    # ================================================================ leaving a session

    async def _logout(self, reason: MessageKey) -> None:
        session = self._session
        if session is None:
            return
        self._set(screen=Screen.LOGGING_OUT, countdown_s=None, idle_warning=False)
        self._idle_deadline_s = None
        try:
            if session.copy_id:
                await self._end_copy()
        finally:
            self._session = None
            self._last_logout_s = self.clock.monotonic_s()
            self._last_logout_card = session.card_number
        if not session.offline:
            await self.flush_journal()
            if not self._state.offline:
                with contextlib.suppress(HubCallError):
                    await self.hub.logout(session.token)
        self._clear_session_state()
        self._to_idle()
        self._message(reason)

    def _clear_session_state(self) -> None:
        """The idle look: no session fields, no thumbnails, the terminal's default language."""
        self._thumbnails.clear()
        self._set(**_EMPTY_SESSION, language=self.settings.language)

    async def _emergency_end(self) -> None:
        """After an unexpected error: lock the panel whatever happens, end the session."""
        session, self._session = self._session, None
        self._pending = None
        self._idle_deadline_s = None
        try:
            if session is not None and session.copy_id:
                self._session = session
                await self._end_copy()
                self._session = None
            else:
                await self.panel.lock()
        except Exception:
            log.exception("engine: the panel could not be locked")
            self._session = None
            self._thumbnails.clear()
            self._set(
                **_EMPTY_SESSION,
                language=self.settings.language,
                screen=Screen.OUT_OF_ORDER,
                countdown_s=None,
                idle_warning=False,
            )
            self._message(MessageKey.PANEL_FAULT)
            return
        if session is not None:
            self._last_logout_s = self.clock.monotonic_s()
            self._last_logout_card = session.card_number
        self._clear_session_state()
        self._to_idle()

    # ================================================================ timers

    async def tick(self) -> None:
        """Apply the timers: idle countdown and logout, message expiry, panel retry when out of order."""
        now = self.clock.monotonic_s()
        if self._message_until_s is not None and now >= self._message_until_s and self._session is None:
            self._message(None)
        if self._state.screen is Screen.OUT_OF_ORDER:
            await self._retry_lock()
            return
        if self._idle_deadline_s is None:
            return
        if now >= self._idle_deadline_s:
            if self._session is not None:
                await self._logout(MessageKey.TIMED_OUT)
            else:
                self._pending = None
                self._forget_unknown_card()
                self._to_idle()
            return
        self._show_countdown()

    def _show_countdown(self) -> None:
        if self._idle_deadline_s is None:
            return
        remaining = max(0.0, self._idle_deadline_s - self.clock.monotonic_s())
        self._set(countdown_s=math.ceil(remaining), idle_warning=remaining <= self.settings.idle_warning_s)

    async def _retry_lock(self) -> None:
        try:
            await self.panel.lock()
        except Exception as exc:
            log.warning("engine: panel still cannot be locked: %s", exc)
            return
        log.info("engine: panel locked again: back in service")
        self._to_idle()
        self._message(None)

    # ================================================================ hub replies

    def printer_status(self, errors: list[str]) -> None:
        """The printer's error bits changed (the runner polls the MFP)."""
        current = tuple(errors)
        if current == self._state.printer_errors:
            return
        self._set(printer_errors=current)
        if "jammed" in current:
            self._message(MessageKey.PRINTER_JAMMED)
        elif blocking_errors(current):
            self._message(MessageKey.PRINTER_ERROR, errors=", ".join(current))

    async def flush_journal(self) -> None:
        """Send the journal now (the run loop does this by itself when reports wait)."""
        result = await self.sender.flush()
        for reply in result.acknowledged:
            self._learn(reply)
        self._set(pending_reports=result.remaining, offline=result.unreachable)

    def _learn(self, reply: terminal_pb2.ReportUsageResponse) -> None:
        prices = self._state.prices
        for line in reply.priced_lines:
            if line.line.function == common_pb2.FUNCTION_COPY and not line.line.duplex:
                if line.line.color == common_pb2.COLOR_MODE_COLOR:
                    prices = replace(prices, copy_color_cents=int(line.unit_price_cents))
                else:
                    prices = replace(prices, copy_mono_cents=int(line.unit_price_cents))
        self._set(prices=prices)

    async def _replay_loop(self) -> None:
        """Send the journal whenever it has reports; retry with growing pauses while offline.

        While online and idle it only glances at the channel every ``CONNECTIVITY_CHECK_S``, so
        the idle screen says "offline" before anyone taps (keepalive finds a dead path in 30 s).
        """
        delay_s = 1.0
        while True:
            if self.journal.pending_count() or self._state.offline:
                if self.journal.pending_count():
                    await self.flush_journal()
                elif await self.hub.reachable(timeout_s=2.0):
                    self._set(offline=False)
                delay_s = min(self.settings.replay_interval_s, delay_s * 2) if self._state.offline else 1.0
            elif self.hub.connection_failed():
                self._set(offline=True)
            self._replay_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                busy = self._state.offline or self.journal.pending_count()
                await asyncio.wait_for(self._replay_wakeup.wait(), delay_s if busy else CONNECTIVITY_CHECK_S)

    # ================================================================ held jobs

    async def _load_jobs(self) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            jobs = await self.hub.list_jobs(session.token)
        except (NotSupported, Refused) as exc:
            log.info("engine: the hub offers no held jobs: %s", exc)
            self._set(jobs=(), jobs_supported=False)
            return
        except HubCallError as exc:
            log.info("engine: jobs not listed: %s", exc)
            self._set(jobs=())
            return
        self._set(
            jobs=tuple(_job_view(job, self._thumbnails.get(job.id, b"")) for job in jobs), jobs_supported=True
        )
        await self._load_thumbnails()

    async def _load_thumbnails(self) -> None:
        """Fetch the thumbnails of the first listed jobs not fetched yet in this session (an empty
        or oversized answer is remembered as none), then show them."""
        missing = [
            job.job_id for job in self._state.jobs[:THUMBNAILS_MAX] if job.job_id not in self._thumbnails
        ]
        for job_id in missing:
            png = await self.thumbnail(job_id)
            if self._session is None:
                return
            self._thumbnails[job_id] = png if png and len(png) <= THUMBNAIL_BYTES_MAX else b""
        if missing:
            self._set(
                jobs=tuple(
                    replace(job, thumbnail_png=self._thumbnails.get(job.job_id, b""))
                    for job in self._state.jobs
                )
            )

    async def thumbnail(self, job_id: int) -> bytes | None:
        """A PNG of a held job's first page for the job list, or None (fetched on demand, not state)."""
        session = self._session
        if session is None or session.offline:
            return None
        try:
            return await self.hub.thumbnail(session.token, job_id)
        except HubCallError as exc:
            log.info("engine: no thumbnail for job %d: %s", job_id, exc)
            return None

    async def _on_release_selected(self, intent: ReleaseSelected) -> None:
        overrides = dict(intent.overrides)
        releases = [
            terminal_pb2.JobRelease(job_id=job_id, overrides=_overrides_message(overrides.get(job_id)))
            for job_id in intent.job_ids
        ]
        await self._release(terminal_pb2.ReleaseJobsRequest(jobs=releases))

    async def _on_release_all(self, _intent: ReleaseAll) -> None:
        await self._release(terminal_pb2.ReleaseJobsRequest(all=True))

    async def _release(self, request: terminal_pb2.ReleaseJobsRequest) -> None:
        session = self._session
        if session is None or session.offline or self._state.screen not in (Screen.HOME, Screen.COPYING):
            return
        if self._state.project_required and not self._state.project:
            self._message(MessageKey.PROJECT_REQUIRED)
            return
        back_to = self._state.screen
        request.session_token = session.token
        request.project_code = self._state.project
        request.idempotency_key = f"release-{uuid.uuid4().hex}"
        self._set(screen=Screen.RELEASING, release=())
        progress: dict[int, ReleaseView] = {}
        try:
            async for update in self.hub.release_jobs(request):
                progress[update.job_id] = _release_view(update)
                self._set(release=tuple(progress.values()))
                self._activity()
        except (NotSupported, Refused) as exc:
            log.info("engine: release refused: %s", exc)
            self._message(MessageKey.RELEASE_UNAVAILABLE)
        except HubUnreachable:
            self._set(offline=True)
            self._message(MessageKey.OFFLINE_MODE)
        except HubRejected as exc:
            self._refused_in_session(exc)
        else:
            printed = sum(1 for view in progress.values() if view.state == "printed")
            self._message(MessageKey.RELEASE_DONE, printed=printed, failed=len(progress) - printed)
        if self._session is not None:
            self._set(screen=back_to)
            await self._refresh_session()
            await self._load_jobs()

    async def _on_delete_jobs(self, intent: DeleteJobs) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            deleted = await self.hub.delete_jobs(session.token, list(intent.job_ids))
        except (NotSupported, Refused):
            self._message(MessageKey.RELEASE_UNAVAILABLE)
            return
        except HubCallError as exc:
            self._refused_in_session(exc)
            return
        self._message(MessageKey.JOBS_DELETED, deleted=deleted)
        await self._load_jobs()

    def _refused_in_session(self, error: HubCallError) -> None:
        if isinstance(error, HubUnreachable):
            self._set(offline=True)
            self._message(MessageKey.OFFLINE_MODE)
        elif isinstance(error, NotRecognised):
            self._message(MessageKey.ACCESS_DENIED)
        else:
            self._message(_refusal_key(error))

    async def _refresh_session(self) -> None:
        session = self._session
        if session is None or session.offline:
            return
        try:
            fresh = await self.hub.get_session(session.token)
        except NotRecognised:
            # The hub ended the session (expired, user deactivated): leave with the panel locked.
            await self._logout(MessageKey.ACCESS_DENIED)
            return
        except HubCallError as exc:
            log.info("engine: session not refreshed: %s", exc)
            return
        session.credit_cents = None if fresh.postpaid else fresh.available_cents
        self._set(**_session_fields(fresh, keep_project=self._state.project), prices=self._hub_prices(fresh))


# ------------------------------------------------------------------------------ helpers

# What a session shows, reset to the idle defaults when it ends.
_EMPTY_SESSION: dict[str, Any] = {
    name: getattr(TerminalState(), name)
    for name in (
        "username",
        "full_name",
        "offline_session",
        "balance_cents",
        "available_cents",
        "postpaid",
        "arrears_cents",
        "quotas",
        "quota_pages_left",
        "copy_allowed",
        "color_allowed",
        "projects",
        "project_required",
        "project",
        "jobs",
        "jobs_supported",
        "release",
        "panel_unlocked",
        "copy_pages_mono",
        "copy_pages_color",
        "copy_cost_cents",
        "credit_pages",
    )
}

_UNITS = {common_pb2.QUOTA_UNIT_PAGES: "pages", common_pb2.QUOTA_UNIT_CENTS: "cents"}


def _session_fields(session: terminal_pb2.Session, keep_project: str = "") -> dict[str, Any]:
    quotas = tuple(
        QuotaView(
            name=quota.name,
            unit=_UNITS.get(quota.unit, "pages"),
            remaining=quota.remaining,
            limit=quota.limit,
            blocking=quota.action == common_pb2.QUOTA_ACTION_BLOCK,
        )
        for quota in session.quotas
    )
    blocking_pages = [q.remaining for q in quotas if q.unit == "pages" and q.blocking]
    return {
        "username": session.user.username,
        "full_name": session.user.full_name,
        "offline_session": False,
        "balance_cents": session.balance_cents,
        "available_cents": session.available_cents,
        "postpaid": session.postpaid,
        "arrears_cents": session.arrears_cents,
        "quotas": quotas,
        "quota_pages_left": min(blocking_pages) if blocking_pages else None,
        "copy_allowed": common_pb2.FUNCTION_COPY in session.allowed_functions and not session.blocked,
        "color_allowed": session.color_allowed,
        "projects": tuple(ProjectView(p.code, p.name) for p in session.projects),
        "project_required": session.project_required,
        "project": keep_project,
    }


def _job_view(job: terminal_pb2.HeldJob, thumbnail_png: bytes) -> JobView:
    return JobView(
        job_id=job.id,
        name=job.name,
        owner=job.owner,
        pages=job.pages,
        color_pages=job.color_pages,
        copies=job.copies,
        duplex=job.duplex,
        price_cents=job.estimated_price_cents,
        delegated=job.delegated,
        printed=job.printed,
        allowed_mono=job.allowed.to_mono,
        allowed_duplex=job.allowed.to_duplex,
        allowed_fewer_copies=job.allowed.fewer_copies,
        price_per_copy_cents=job.price_per_copy_cents,
        price_mono_per_copy_cents=job.price_mono_per_copy_cents,
        price_duplex_per_copy_cents=job.price_duplex_per_copy_cents,
        price_mono_duplex_per_copy_cents=job.price_mono_duplex_per_copy_cents,
        thumbnail_png=thumbnail_png,
    )


def _overrides_message(overrides: JobOverrides | None) -> terminal_pb2.JobOverrides:
    if overrides is None:
        return terminal_pb2.JobOverrides()
    return terminal_pb2.JobOverrides(mono=overrides.mono, duplex=overrides.duplex, copies=overrides.copies)


def _release_view(update: terminal_pb2.ReleaseProgress) -> ReleaseView:
    return ReleaseView(
        job_id=update.job_id,
        state=_RELEASE_STATES.get(update.state, "queued"),
        pages_printed=update.pages_printed,
        charged_cents=update.charged_cents,
        message=update.message,
    )


def _refusal_key(error: TerminalError) -> MessageKey:
    if isinstance(error, NotEnoughCredit):
        return MessageKey.NOT_ENOUGH_CREDIT
    if isinstance(error, QuotaExhausted):
        return MessageKey.QUOTA_EXHAUSTED
    return MessageKey.ACCESS_DENIED


def _timestamp(wall_us: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMicroseconds(wall_us)
    return stamp
