"""Sessions at a terminal: what a session shows its user (account, money, quotas, what they may
do now, the prices there), whether a session is still live, logging out, and the usage it
reports.

A session token is signed by the hub and bound to the terminal it was opened at
(:class:`~hub_server.domain.security.SessionSigner`); an ended session is remembered in
``ended_sessions``. :class:`Sessions` is the domain object the services call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.domain import account_names
from hub_server.domain.accounts import charge_account
from hub_server.domain.projects import projects_for
from hub_server.domain.quotas import QuotaState, quota_states
from hub_server.domain.security import SessionClaims, SessionSigner
from hub_server.domain.store import Store
from hub_server.domain.usage import UsageReport, UsageResult, apply_usage
from hub_server.domain.users import Permissions, permissions
from hub_server.errors import NotFound, PermissionDenied, SessionInvalid
from hub_server.storage import Tx

__all__ = ["GUEST_ONLY_RELEASES", "ScanCounterHook", "SessionView", "Sessions", "guest_view", "session_view"]

# Called in the transaction that applies a report carrying the MFP's scan counter (once per report).
ScanCounterHook = Callable[[Tx, SessionClaims, UsageReport], None]

GUEST_ONLY_RELEASES = "a guest's release code releases its one job and nothing else"


@dataclass(frozen=True)
class SessionView:
    """Everything GetSession answers."""

    user_id: int
    username: str
    full_name: str
    email: str
    department: str
    account: str
    postpaid: bool
    balance_cents: int
    credit_limit_cents: int
    arrears_cents: int
    permissions: Permissions
    quotas: list[QuotaState] = field(default_factory=list)
    projects: list[tuple[str, str]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """A user with arrears may log in (to see and pay them) but not use the device."""
        return self.arrears_cents > 0

    @property
    def available_cents(self) -> int:
        """What can still be spent (post-paid accounts have no ceiling: 0 here, see ``postpaid``)."""
        if self.postpaid:
            return 0
        return max(0, self.balance_cents + self.credit_limit_cents)


def session_view(tx: Tx, user_id: int, now_us: int, timezone: str) -> SessionView:
    """Build the session answer for a user."""
    user = tx.one(
        "SELECT u.id, u.username, u.full_name, u.email, g.name AS department FROM users u"
        " LEFT JOIN user_groups g ON g.id = u.department_id WHERE u.id = :u",
        {"u": user_id},
    )
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    account_id, account_name, _ = charge_account(tx, user_id, "")
    account = tx.one(
        "SELECT balance_cents, credit_limit_cents, kind FROM accounts WHERE id = :a", {"a": account_id}
    )
    assert account is not None
    arrears = tx.scalar(
        "SELECT balance_cents FROM accounts WHERE name = :n",
        {"n": account_names.arrears(str(user["username"]))},
    )
    return SessionView(
        user_id=user_id,
        username=str(user["username"]),
        full_name=str(user["full_name"]),
        email=str(user["email"]),
        department=str(user["department"] or ""),
        account=account_name,
        postpaid=account["kind"] == "postpaid",
        balance_cents=int(account["balance_cents"]),
        credit_limit_cents=int(account["credit_limit_cents"]) if account["kind"] == "prepaid" else 0,
        arrears_cents=-int(arrears or 0),
        permissions=permissions(tx, user_id),
        quotas=quota_states(tx, user_id, now_us, timezone),
        projects=projects_for(tx, user_id),
    )


def guest_view(tx: Tx, user_id: int, now_us: int, timezone: str) -> SessionView:
    """What a guest's release session shows: printing only, none of the guest account's money
    (it is the site's, not the guest's)."""
    allowed = permissions(tx, user_id)
    return SessionView(
        user_id=user_id,
        username=str(tx.scalar("SELECT username FROM users WHERE id = :u", {"u": user_id})),
        full_name="Guest",
        email="",
        department="",
        account="",
        postpaid=True,
        balance_cents=0,
        credit_limit_cents=0,
        arrears_cents=0,
        permissions=Permissions(("print",), allowed.color_allowed, False, False),
    )


class Sessions:
    """Live sessions: their view, their end, the usage made in them."""

    def __init__(
        self,
        store: Store,
        config: HubConfig,
        clock: Clock,
        signer: SessionSigner,
        scan_counter: ScanCounterHook | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._signer = signer
        self._scan_counter = scan_counter

    def _claims_for(self, token: str, terminal_id: str, guest_ok: bool = False) -> SessionClaims:
        claims = self._signer.check(token)
        if claims.terminal_id != terminal_id:
            raise PermissionDenied("this session belongs to another terminal")
        if claims.guest_job_id and not guest_ok:
            raise PermissionDenied(GUEST_ONLY_RELEASES)
        return claims

    def get(self, terminal_id: str, token: str, guest_ok: bool = False) -> tuple[SessionClaims, SessionView]:
        """A live session's claims and view (:class:`SessionInvalid` when it is not live). A
        guest's release session is refused unless ``guest_ok`` (the caller keeps it to its job)."""
        claims = self._claims_for(token, terminal_id, guest_ok)
        now_us = self._clock.now_us()
        if claims.expires_us <= now_us:
            raise SessionInvalid("session expired")

        def view(tx: Tx) -> SessionView:
            if tx.scalar("SELECT 1 FROM ended_sessions WHERE session_id = :s", {"s": claims.session_id}):
                raise SessionInvalid("session ended")
            if not tx.scalar("SELECT active FROM users WHERE id = :u", {"u": claims.user_id}):
                raise SessionInvalid("user is no longer active")
            view_of = guest_view if claims.guest_job_id else session_view
            return view_of(tx, claims.user_id, now_us, self._config.timezone)

        return claims, self._store.read(view)

    def releaser(self, terminal_id: str, token: str) -> tuple[int, int]:
        """(user id, the one job it may release or 0 for any of the user's) of a live session
        that may list and release jobs: a user's, or a guest's release session."""
        claims, _ = self.get(terminal_id, token, guest_ok=True)
        return claims.user_id, claims.guest_job_id

    def user_of(self, terminal_id: str, token: str) -> int:
        """The user of a live session opened at this terminal."""
        claims, _ = self.get(terminal_id, token)
        return claims.user_id

    async def logout(self, terminal_id: str, token: str) -> None:
        """End a session."""
        claims = self._claims_for(token, terminal_id, guest_ok=True)
        now_us = self._clock.now_us()
        await self._store.write(
            lambda tx: tx.execute(
                "INSERT INTO ended_sessions (session_id, ended_us) VALUES (:s, :t) ON CONFLICT DO NOTHING",
                {"s": claims.session_id, "t": now_us},
            )
        )

    async def report_usage(self, terminal_id: str, token: str, report: UsageReport) -> UsageResult:
        """Charge a session's usage exactly once (the report's user is the session's).

        The session may have ended or expired (a terminal replays its journal after being
        offline): usage is accepted up to ``usage_report_grace_s`` after the session's expiry.
        """
        claims = self._claims_for(token, terminal_id)
        now_us = self._clock.now_us()
        if now_us > claims.expires_us + self._config.auth.usage_report_grace_s * 1_000_000:
            raise SessionInvalid("session too old to report usage for")
        bound = UsageReport(
            user_id=claims.user_id,
            terminal_id=terminal_id,
            idempotency_key=report.idempotency_key,
            lines=report.lines,
            project_code=report.project_code,
            occurred_us=report.occurred_us,
            performed=report.performed,
            description=report.description,
            scan_counter_pages=report.scan_counter_pages,
            scan_counter_sent_only=report.scan_counter_sent_only,
        )

        def apply(tx: Tx) -> UsageResult:
            result = apply_usage(tx, bound, now_us, self._config.timezone)
            counted = bound.scan_counter_pages is not None and not result.already_applied
            if counted and self._scan_counter is not None:
                self._scan_counter(tx, claims, bound)
            return result

        return await self._store.write(apply)
