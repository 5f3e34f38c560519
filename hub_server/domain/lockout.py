"""Failed-attempt counting: the login back-off (``login_guards``) and the voucher lockout
(``auth_failures``).

Logins (see docs/security.md, "Login lockout"). Every failed login counts against the
*identities* it concerns: the terminal it was tried at (``terminal:<id>``, every failure there,
whatever it named) and, when it named a known user (a wrong PIN or password), that user
(``user:<id>``). Each identity may fail ``free_failures`` times; from then on it waits before
each further attempt, the wait doubling with each failure from ``first_wait_s`` up to
``longest_wait_s``. A user's failures are forgotten when they log in, a terminal's after
``longest_wait_s`` without a failure there; an admin can clear either.

The counting lives in the database, so it holds across hub processes and replicas: an attempt
whose secret costs an argon2 check is *claimed* first (:func:`claim`, one write transaction
that takes a free attempt of every identity involved, or refuses), then checked, then settled
(:func:`settle`). Attempts claimed and not yet settled count as failures until they are: a
burst of guesses sent at once gets exactly ``free_failures`` checks, however many processes
answer it. An attempt whose settling never comes (its process died) counts as a failure after
``PENDING_STALE_S``. A check that costs nothing (a card or PIN lookup) is claimed and settled in
the transaction that looks it up (:func:`check_attempt`, then :func:`record_failure`).

Each identity also keeps counters that are never reset (``failures_total``,
``lockouts_total``): :func:`login_counters` reads them for operators and alerts.

Vouchers keep the simpler policy of their own: after ``max_failed_attempts`` unknown codes an
identity is locked for ``lockout_s`` (:func:`refuse_if_locked`, :func:`record_voucher_failure`);
the check and the count are one write transaction there, since no argon2 work lies between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from hub_server.errors import IdentityLocked
from hub_server.storage import Row, Tx

__all__ = [
    "PENDING_STALE_S",
    "Backoff",
    "GuardCounters",
    "Limits",
    "Lockout",
    "check_attempt",
    "claim",
    "clear",
    "clear_login",
    "forgive",
    "has_failures",
    "login_counters",
    "record_failure",
    "record_voucher_failure",
    "refuse_if_blocked",
    "refuse_if_locked",
    "settle",
    "terminal_identity",
    "user_identity",
]

PENDING_STALE_S = 60  # an attempt not settled this long after its claim counts as failed
_US = 1_000_000
USER_PREFIX = "user:"
TERMINAL_PREFIX = "terminal:"


def user_identity(user_id: int) -> str:
    """The login identity of a user (their wrong PINs and passwords, at any terminal)."""
    return f"{USER_PREFIX}{user_id}"


def terminal_identity(terminal_id: str) -> str:
    """The login identity of a terminal (every failed login tried there)."""
    return f"{TERMINAL_PREFIX}{terminal_id}"


# -- logins ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """The login policy: free failures, then a wait that doubles with each further one."""

    free_failures: int
    first_wait_s: int
    longest_wait_s: int

    def wait_us(self, failures: int) -> int:
        """The wait after the ``failures``-th consecutive failure (0 while some are free)."""
        beyond = failures - self.free_failures
        if beyond < 0:
            return 0
        return min(self.longest_wait_s, self.first_wait_s << min(beyond, 40)) * _US

    def forgets(self, identity: str) -> bool:
        """A terminal's failures fade after a quiet ``longest_wait_s``; a user's stay until they
        log in (or an admin clears them)."""
        return identity.startswith(TERMINAL_PREFIX)


@dataclass(frozen=True)
class _Guard:
    identity: str
    failures: int
    pending: int
    pending_since_us: int
    last_failure_us: int
    blocked_until_us: int
    failures_total: int
    lockouts_total: int


@dataclass(frozen=True)
class Lockout:
    """An identity that must now wait: after ``failures`` consecutive failures, ``wait_s``."""

    identity: str
    failures: int
    wait_s: int


@dataclass(frozen=True)
class GuardCounters:
    """What one identity's failed logins came to: since ever (totals), and now."""

    identity: str
    failures_total: int
    lockouts_total: int
    failures: int
    blocked_until_us: int


def _guard(row: Row) -> _Guard:
    return _Guard(
        identity=str(row["identity"]),
        failures=int(row["failures"]),
        pending=int(row["pending"]),
        pending_since_us=int(row["pending_since_us"]),
        last_failure_us=int(row["last_failure_us"]),
        blocked_until_us=int(row["blocked_until_us"]),
        failures_total=int(row["failures_total"]),
        lockouts_total=int(row["lockouts_total"]),
    )


def _current(guard: _Guard, policy: Backoff, now_us: int) -> _Guard:
    """The guard as it stands at ``now_us``: stale claims count as failures, a quiet terminal's
    failures are forgotten."""
    if guard.pending and guard.pending_since_us + PENDING_STALE_S * _US <= now_us:
        failures = guard.failures + guard.pending
        guard = replace(
            guard,
            failures=failures,
            pending=0,
            failures_total=guard.failures_total + guard.pending,
            last_failure_us=guard.pending_since_us,
            blocked_until_us=max(guard.blocked_until_us, guard.pending_since_us + policy.wait_us(failures)),
        )
    quiet_since_us = max(guard.last_failure_us, guard.blocked_until_us)
    if (
        policy.forgets(guard.identity)
        and guard.failures
        and not guard.pending
        and quiet_since_us + policy.longest_wait_s * _US <= now_us
    ):
        guard = replace(guard, failures=0, blocked_until_us=0)
    return guard


def _lock(tx: Tx, identity: str, policy: Backoff, now_us: int) -> _Guard:
    """Lock an identity's row for the rest of the transaction (creating it) and read it.

    The no-op UPDATE takes the row lock on PostgreSQL: a second transaction claiming the same
    identity waits here and then reads what the first one wrote.
    """
    tx.execute(
        "INSERT INTO login_guards (identity) VALUES (:i) ON CONFLICT (identity) DO NOTHING", {"i": identity}
    )
    row = tx.one(
        "UPDATE login_guards SET identity = identity WHERE identity = :i RETURNING *", {"i": identity}
    )
    assert row is not None
    return _current(_guard(row), policy, now_us)


def _store(tx: Tx, guard: _Guard) -> None:
    tx.execute(
        """UPDATE login_guards SET failures = :failures, pending = :pending,
               pending_since_us = :pending_since_us, last_failure_us = :last_failure_us,
               blocked_until_us = :blocked_until_us, failures_total = :failures_total,
               lockouts_total = :lockouts_total
           WHERE identity = :identity""",
        guard.__dict__,
    )


def _refuse_unless_free(guard: _Guard, policy: Backoff, now_us: int) -> None:
    if guard.blocked_until_us > now_us:
        seconds = (guard.blocked_until_us - now_us + _US - 1) // _US
        raise IdentityLocked(f"too many failed attempts: locked for {seconds} more seconds")
    if guard.failures + guard.pending >= policy.free_failures and guard.pending:
        raise IdentityLocked("too many attempts at once: try again in a moment")


def _ordered(identities: Iterable[str]) -> list[str]:
    # One order everywhere: two transactions locking the same rows never deadlock.
    return sorted(set(identities))


def check_attempt(tx: Tx, identities: Iterable[str], policy: Backoff, now_us: int) -> None:
    """Inside a write transaction: refuse (:class:`IdentityLocked`) unless every identity may
    make an attempt now, and keep their rows locked until the transaction ends (so the check
    and the failure :func:`record_failure` counts are one step)."""
    for identity in _ordered(identities):
        _refuse_unless_free(_lock(tx, identity, policy, now_us), policy, now_us)


def claim(tx: Tx, identities: Iterable[str], policy: Backoff, now_us: int) -> None:
    """Take one attempt of every identity before its secret is checked, or refuse them all
    (:class:`IdentityLocked`; the caller's transaction then changes nothing)."""
    guards = [_lock(tx, identity, policy, now_us) for identity in _ordered(identities)]
    for guard in guards:
        _refuse_unless_free(guard, policy, now_us)
    for guard in guards:
        _store(tx, replace(guard, pending=guard.pending + 1, pending_since_us=now_us))


def _failed(guard: _Guard, policy: Backoff, now_us: int) -> tuple[_Guard, Lockout | None]:
    failures = guard.failures + 1
    wait_us = policy.wait_us(failures)
    guard = replace(
        guard,
        failures=failures,
        failures_total=guard.failures_total + 1,
        last_failure_us=now_us,
        blocked_until_us=max(guard.blocked_until_us, now_us + wait_us) if wait_us else guard.blocked_until_us,
        lockouts_total=guard.lockouts_total + (1 if wait_us else 0),
    )
    return guard, (Lockout(guard.identity, failures, wait_us // _US) if wait_us else None)


def record_failure(tx: Tx, identities: Iterable[str], policy: Backoff, now_us: int) -> list[Lockout]:
    """Count a failed attempt that was not claimed (checked in this transaction, after
    :func:`check_attempt`); returns the identities that must now wait."""
    lockouts = []
    for identity in _ordered(identities):
        guard, lockout = _failed(_lock(tx, identity, policy, now_us), policy, now_us)
        _store(tx, guard)
        lockouts += [lockout] if lockout else []
    return lockouts


def settle(
    tx: Tx, identities: Iterable[str], policy: Backoff, now_us: int, *, failed: bool, forgiven: str = ""
) -> list[Lockout]:
    """Settle attempts :func:`claim` took: as failures, or as a success that forgives
    ``forgiven``'s failures counted so far (attempts still being checked stay counted).
    Returns the identities that must now wait."""
    lockouts = []
    for identity in _ordered(identities):
        guard = _lock(tx, identity, policy, now_us)
        guard = replace(guard, pending=max(guard.pending - 1, 0))
        if failed:
            guard, lockout = _failed(guard, policy, now_us)
            lockouts += [lockout] if lockout else []
        elif identity == forgiven:
            guard = replace(guard, failures=0, blocked_until_us=0)
        _store(tx, guard)
    return lockouts


def refuse_if_blocked(tx: Tx, identities: Iterable[str], policy: Backoff, now_us: int) -> None:
    """Read-only: refuse while an identity waits out its back-off (a login that checks no
    secret, like a known card, needs no free attempt, only no back-off)."""
    for identity in identities:
        row = tx.one("SELECT * FROM login_guards WHERE identity = :i", {"i": identity})
        if row is not None:
            guard = _current(_guard(row), policy, now_us)
            if guard.blocked_until_us > now_us:
                _refuse_unless_free(guard, policy, now_us)


def has_failures(tx: Tx, identity: str) -> bool:
    """True when settled failures are counted against ``identity``."""
    return bool(tx.scalar("SELECT failures FROM login_guards WHERE identity = :i", {"i": identity}))


def forgive(tx: Tx, identity: str) -> None:
    """A successful login: forget the identity's settled failures (claims in flight stay)."""
    tx.execute(
        "UPDATE login_guards SET failures = 0, blocked_until_us = 0 WHERE identity = :i", {"i": identity}
    )


def clear_login(tx: Tx, identity: str) -> None:
    """An admin lifts an identity's back-off: failures and claims forgotten, totals kept."""
    tx.execute(
        "UPDATE login_guards SET failures = 0, pending = 0, blocked_until_us = 0 WHERE identity = :i",
        {"i": identity},
    )


def login_counters(tx: Tx) -> list[GuardCounters]:
    """Every identity that ever failed a login, with its totals and current state."""
    rows = tx.execute(
        "SELECT identity, failures_total, lockouts_total, failures, blocked_until_us FROM login_guards"
        " WHERE failures_total > 0 ORDER BY identity"
    )
    return [
        GuardCounters(
            identity=str(row["identity"]),
            failures_total=int(row["failures_total"]),
            lockouts_total=int(row["lockouts_total"]),
            failures=int(row["failures"]),
            blocked_until_us=int(row["blocked_until_us"]),
        )
        for row in rows
    ]


# -- vouchers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How many unknown voucher codes lock an identity, and for how long."""

    max_failed_attempts: int
    lockout_s: int


def refuse_if_locked(tx: Tx, identity: str, now_us: int) -> None:
    """Raise :class:`IdentityLocked` while a voucher identity is locked."""
    locked_until_us = tx.scalar(
        "SELECT locked_until_us FROM auth_failures WHERE identity = :i", {"i": identity}
    )
    if locked_until_us and int(locked_until_us) > now_us:
        seconds = (int(locked_until_us) - now_us + 999_999) // 1_000_000
        raise IdentityLocked(f"too many failed attempts: locked for {seconds} more seconds")


def record_voucher_failure(tx: Tx, identity: str, limits: Limits, now_us: int) -> None:
    """Count one unknown voucher code against ``identity``; at the limit, lock it and start
    counting afresh."""
    tx.execute(
        "INSERT INTO auth_failures (identity, failures, locked_until_us) VALUES (:i, 0, 0)"
        " ON CONFLICT (identity) DO NOTHING",
        {"i": identity},
    )
    tx.execute(
        """UPDATE auth_failures SET
               locked_until_us = CASE WHEN failures + 1 >= :n THEN :until ELSE locked_until_us END,
               failures = CASE WHEN failures + 1 >= :n THEN 0 ELSE failures + 1 END
           WHERE identity = :i""",
        {"i": identity, "n": limits.max_failed_attempts, "until": now_us + limits.lockout_s * 1_000_000},
    )


def clear(tx: Tx, identity: str) -> None:
    """Forget a voucher identity's failures and lock."""
    tx.execute("DELETE FROM auth_failures WHERE identity = :i", {"i": identity})
