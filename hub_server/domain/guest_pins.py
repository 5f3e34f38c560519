"""One-time release codes for guests: a print mail from a sender who is no user (docs/scanning.md,
"Guests") becomes a held job of the site's guest user, and the reply carries a code that logs in
a session at a terminal which can release exactly that job, once.

A code is :data:`CODE_DIGITS` digits: a *selector* (the first :data:`SELECTOR_DIGITS`, unique
among the codes kept, stored as it is: it only says which job is meant) and a *secret* (the
rest, random, stored only as its argon2 hash). The selector lets a code entered alone be checked
with one argon2 verification instead of one per held guest job; guessing is counted by the
hub's login lockout like a wrong PIN (:meth:`~hub_server.domain.auth.Authentication.authenticate`).

A code is *spent* by the release that reserves its job, in the same transaction; a release that
never printed (a failed attempt) gives it back in the transaction that refunds it. It dies with
its job: only a held job can be logged in to, and rows past their job's expiry are removed
when the next code is issued.
Each row also keeps the guest limits it was issued under (pages, price), checked again at
release at the printer's own prices.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from functools import partial

from hub_server.clock import Clock
from hub_server.domain.security import Hasher
from hub_server.domain.store import Store
from hub_server.errors import AlreadyExists, NotFound, Refused
from hub_server.storage import Component, Row, Tx

__all__ = [
    "CODE_DIGITS",
    "GUEST_PINS",
    "SELECTOR_DIGITS",
    "GuestCode",
    "GuestLimits",
    "GuestReleases",
    "guest_limits",
    "restore",
    "spend",
]

SELECTOR_DIGITS = 4
SECRET_DIGITS = 6
CODE_DIGITS = SELECTOR_DIGITS + SECRET_DIGITS
ISSUE_ATTEMPTS = 20  # selectors drawn before giving up (thousands of codes would have to be live)
SPENT = "this release code was used already"
NOT_HELD = "the job of this release code is no longer held"

GUEST_PINS = Component(
    "guest_release",
    [
        [
            """CREATE TABLE guest_release_codes (
                selector TEXT PRIMARY KEY,
                job_id BIGINT NOT NULL UNIQUE,
                secret_hash TEXT NOT NULL,
                pages_max INTEGER NOT NULL,
                price_max_cents BIGINT NOT NULL,
                expires_us BIGINT NOT NULL,
                spent_us BIGINT,
                attempt_id BIGINT
            )""",
            "CREATE INDEX guest_release_codes_expiry ON guest_release_codes (expires_us)",
        ]
    ],
)


@dataclass(frozen=True)
class GuestCode:
    """A code as the reply mail gives it (the only place it is ever shown)."""

    code: str
    expires_us: int


@dataclass(frozen=True)
class GuestLimits:
    """What a guest job may cost: impressions and cents."""

    pages_max: int
    price_max_cents: int


def is_guest_code(pin: str) -> bool:
    """True when ``pin`` has the shape of a guest release code."""
    return len(pin) == CODE_DIGITS and pin.isdigit()


def code_row(tx: Tx, pin: str) -> Row | None:
    """The kept row of a code's selector with its job's state (None: no such selector)."""
    return tx.one(
        "SELECT c.job_id, c.secret_hash, c.spent_us, c.expires_us, j.state, j.owner_user_id"
        " FROM guest_release_codes c JOIN print_jobs j ON j.id = c.job_id WHERE c.selector = :s",
        {"s": pin[:SELECTOR_DIGITS]},
    )


def usable(row: Row, now_us: int) -> None:
    """Refuse a (proven) code that cannot log in any more, saying why."""
    if row["spent_us"] is not None:
        raise Refused(SPENT)
    if row["state"] != "held" or int(row["expires_us"]) <= now_us:
        raise Refused(NOT_HELD)


def guest_limits(tx: Tx, job_id: int) -> GuestLimits | None:
    """The limits a guest job was issued under (None: not a guest job)."""
    row = tx.one(
        "SELECT pages_max, price_max_cents FROM guest_release_codes WHERE job_id = :j", {"j": job_id}
    )
    return None if row is None else GuestLimits(int(row["pages_max"]), int(row["price_max_cents"]))


def spend(tx: Tx, job_id: int, attempt_id: int, now_us: int) -> None:
    """Spend a job's code for this release attempt (:class:`Refused` when it is spent already)."""
    if not tx.execute(
        "UPDATE guest_release_codes SET spent_us = :now, attempt_id = :a"
        " WHERE job_id = :j AND spent_us IS NULL RETURNING job_id",
        {"now": now_us, "a": attempt_id, "j": job_id},
    ):
        raise Refused(SPENT)


def restore(tx: Tx, attempt_id: int) -> None:
    """Give the code back when the attempt that spent it never printed."""
    tx.execute(
        "UPDATE guest_release_codes SET spent_us = NULL, attempt_id = NULL WHERE attempt_id = :a",
        {"a": attempt_id},
    )


class GuestReleases:
    """Issues the codes (the checks are in the login and the release)."""

    def __init__(self, store: Store, clock: Clock, hasher: Hasher) -> None:
        self._store = store
        self._clock = clock
        self._hasher = hasher

    async def issue(self, job_id: int, limits: GuestLimits) -> GuestCode:
        """A new code for a held job (:class:`NotFound` when it is not held); once per job."""
        secret = "".join(secrets.choice("0123456789") for _ in range(SECRET_DIGITS))
        secret_hash = await asyncio.to_thread(self._hasher.hash, secret)
        for _ in range(ISSUE_ATTEMPTS):
            selector = "".join(secrets.choice("0123456789") for _ in range(SELECTOR_DIGITS))
            try:
                insert = partial(self._insert, selector=selector, job_id=job_id, secret_hash=secret_hash)
                expires_us = await self._store.write(partial(insert, limits=limits))
            except AlreadyExists:
                continue  # the selector is taken (or the job has its code: refused below)
            return GuestCode(selector + secret, expires_us)
        raise Refused("no release code could be issued now; try again later")

    def _insert(self, tx: Tx, selector: str, job_id: int, secret_hash: str, limits: GuestLimits) -> int:
        now_us = self._clock.now_us()
        tx.execute("DELETE FROM guest_release_codes WHERE expires_us <= :now", {"now": now_us})
        if tx.scalar("SELECT 1 FROM guest_release_codes WHERE job_id = :j", {"j": job_id}):
            raise Refused(f"job {job_id} has its release code already")
        if tx.scalar("SELECT 1 FROM guest_release_codes WHERE selector = :s", {"s": selector}):
            raise AlreadyExists("selector taken")
        expires = tx.scalar(
            "SELECT expires_us FROM print_jobs WHERE id = :j AND state = 'held'", {"j": job_id}
        )
        if expires is None:
            raise NotFound(f"job {job_id} is not held")
        tx.execute(
            """INSERT INTO guest_release_codes (selector, job_id, secret_hash, pages_max,
                   price_max_cents, expires_us) VALUES (:s, :j, :h, :p, :c, :e)""",
            {
                "s": selector,
                "j": job_id,
                "h": secret_hash,
                "p": limits.pages_max,
                "c": limits.price_max_cents,
                "e": int(expires),
            },
        )
        return int(expires)
