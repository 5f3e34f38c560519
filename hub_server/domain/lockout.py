"""Failed-attempt counting and lockout, per identity (``user:<id>``, ``terminal:<id>``,
``voucher:user:<id>`` ...), shared by logins and voucher redemption."""

from __future__ import annotations

from dataclasses import dataclass

from hub_server.errors import IdentityLocked
from hub_server.storage import Tx


@dataclass(frozen=True)
class Limits:
    """How many failures lock an identity, and for how long."""

    max_failed_attempts: int
    lockout_s: int


def refuse_if_locked(tx: Tx, identity: str, now_us: int) -> None:
    """Raise :class:`IdentityLocked` while ``identity`` is locked."""
    locked_until_us = tx.scalar(
        "SELECT locked_until_us FROM auth_failures WHERE identity = :i", {"i": identity}
    )
    if locked_until_us and int(locked_until_us) > now_us:
        seconds = (int(locked_until_us) - now_us + 999_999) // 1_000_000
        raise IdentityLocked(f"too many failed attempts: locked for {seconds} more seconds")


def record_failure(tx: Tx, identity: str, limits: Limits, now_us: int) -> None:
    """Count one failure against ``identity``; at the limit, lock it and start counting afresh."""
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
    """Forget an identity's failures and lock."""
    tx.execute("DELETE FROM auth_failures WHERE identity = :i", {"i": identity})


def has_failures(tx: Tx, identity: str) -> bool:
    """True when failures are counted against ``identity`` (since its last lock or clearing)."""
    return bool(tx.scalar("SELECT failures FROM auth_failures WHERE identity = :i", {"i": identity}))
