"""The terminal engine's identification: card, PIN, password, a card's second factor, card linking, offline.

A card tap on the idle screen (or on the PIN pad of a second factor) asks the hub who it is; a
card read before the last logout, or the same card still lying on the reader within
``relogin_guard_s``, is ignored. A card the hub does not know stays here (never in the state: the
state only says ``unknown_card``) for one idle timeout, with a countdown; :class:`LinkCard` links
it to the user who proves their password and opens their session. When the hub refuses the link
(disabled, or the card is someone's), the same password logs the user in without it
(``CARD_LINK_REFUSED``).

Offline (the hub does not answer): users in the offline cache log in with their card (and PIN);
users not in it are refused or allowed a capped session, as the offline policy says. Live copy
costs use the unit prices the hub sends with the session; the ``[prices]`` hints only stand in
until the hub has answered once.
"""

from __future__ import annotations

import logging

from terminal_app.errors import (
    DeviceRefused,
    HubCallError,
    HubRejected,
    HubUnreachable,
    NotRecognised,
    NotSupported,
    Refused,
)
from terminal_app.hub.values import Login, SecondFactorRequired
from terminal_app.session.engine import Refusal, refusal
from terminal_app.session.intents import CardPresented, PasswordEntered, PinEntered
from terminal_app.terminal.core import REFUSALS, LiveSession, PendingCard, TerminalCore, session_fields
from terminal_app.terminal.offline_cache import CachedUser
from terminal_app.terminal.state import LinkCard, MessageKey, ProjectView, Screen

__all__ = ["Identification"]

log = logging.getLogger(__name__)


class Identification(TerminalCore):
    """Who is at the terminal (see the module docstring)."""

    async def _on_card(self, intent: CardPresented) -> None:
        screen, number = self._state.screen, intent.card_number
        if screen in (Screen.HOME, Screen.COPYING):
            if self._session and number == self._session.card_number and self.settings.tap_to_logout:
                await self._logout(MessageKey.LOGGED_OUT)
            return
        if screen not in (Screen.IDLE, Screen.SECOND_FACTOR) or self._stale(intent):
            log.info("terminal: card read ignored on screen %s", screen)
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
                log.info("terminal: card not linked (%s): logging in by password", exc)
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
        except (HubRejected, DeviceRefused) as exc:
            self._refused(exc, MessageKey.ACCESS_DENIED)
            return
        if isinstance(answer, SecondFactorRequired):
            self._ask_pin(PendingCard(card_number))
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
        except (HubRejected, DeviceRefused) as exc:
            self._refused(exc, MessageKey.PIN_NOT_RECOGNISED)
            return
        await self._open_online(answer, card_number="", pin=pin)

    def _ask_pin(self, pending: PendingCard) -> None:
        self._pending = pending
        self._idle_deadline_s = self.clock.monotonic_s() + self.settings.idle_timeout_s
        self._set(screen=Screen.SECOND_FACTOR)
        self._show_countdown()

    def _refused(self, error: HubCallError, not_recognised: MessageKey) -> None:
        """Back to idle with the message for ``error`` (``not_recognised``: what was not); a
        refused terminal says why on its out-of-service screen (the next tick)."""
        if isinstance(error, DeviceRefused):
            self._refuse(None)
            return
        reason = refusal(error)
        if reason is Refusal.OFFLINE:
            self._set(offline=True)
        self._refuse(REFUSALS.key(reason, not_recognised))

    def _refuse(self, key: MessageKey | None) -> None:
        self._pending = None
        self._forget_unknown_card()
        self._to_idle()
        self._message(key)

    def _refused_offline(self) -> None:
        self._pending = None
        self._to_idle()
        self._message(MessageKey.OFFLINE_REFUSED)

    async def _open_online(self, answer: Login | SecondFactorRequired, *, card_number: str, pin: str) -> None:
        if isinstance(answer, SecondFactorRequired):  # only a card has a second factor
            self._refuse(MessageKey.ACCESS_DENIED)
            return
        session = answer.session
        self._pending = None
        self._forget_unknown_card()
        self.cache.remember(session, answer.session_token, card_number=card_number, pin=pin)
        self._session = LiveSession(
            token=answer.session_token,
            card_number=card_number,
            user_id=session.user.user_id,
            offline=False,
            credit_cents=None if session.postpaid else session.available_cents,
        )
        self._set(offline=False, **session_fields(session), prices=self._hub_prices(session))
        await self._enter_session(blocked=session.blocked)
        await self._load_jobs()
        await self._load_scan_profiles()

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
            self._ask_pin(PendingCard(card_number, offline_user=user))
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
        self._session = LiveSession(
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
        self._session = LiveSession(
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
