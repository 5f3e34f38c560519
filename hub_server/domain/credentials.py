"""PINs, passwords and admin tokens as the hub stores them (the hashing itself is
:mod:`.security`): what a valid one looks like, and the statements that keep them.

* A password is 8 to 128 characters; a PIN ``min_pin_digits`` to 12 digits.
* A PIN is stored as its argon2id hash and, while a PIN alone may log in, also as its lookup key
  (unique across users: a PIN taken by someone else is refused by the database).
* An admin token is shown once; only its SHA-256 is kept.
"""

from __future__ import annotations

import secrets

from hub_server.domain.security import sha256_hex
from hub_server.domain.validation import text
from hub_server.errors import InvalidRequest
from hub_server.storage import Tx

__all__ = [
    "PIN_ATTEMPTS",
    "admin_token_count",
    "check_password",
    "check_pin",
    "create_admin_token",
    "random_pin",
    "store_password",
    "store_pin",
]

PIN_ATTEMPTS = 50  # random PINs drawn before giving up on finding a free one
MAX_PIN_DIGITS = 12
RANDOM_PIN_DIGITS = 6


def check_password(password: str) -> str:
    """``password`` if it is an acceptable password."""
    if not 8 <= len(password) <= 128:
        raise InvalidRequest("a password is 8 to 128 characters")
    return password


def check_pin(pin: str, min_digits: int) -> str:
    """``pin`` if it is ``min_digits`` to 12 digits."""
    if not pin.isdigit() or not min_digits <= len(pin) <= MAX_PIN_DIGITS:
        raise InvalidRequest(f"a PIN is {min_digits} to {MAX_PIN_DIGITS} digits")
    return pin


def random_pin(min_digits: int) -> str:
    """A fresh random PIN of at least six digits."""
    return "".join(secrets.choice("0123456789") for _ in range(max(min_digits, RANDOM_PIN_DIGITS)))


def store_pin(tx: Tx, user_id: int, pin_hash: str, lookup: str | None) -> None:
    """Replace a user's PIN (``lookup`` None: PIN-only login is off)."""
    tx.execute(
        "UPDATE users SET pin_hash = :h, pin_lookup = :k WHERE id = :u",
        {"h": pin_hash, "k": lookup, "u": user_id},
    )


def store_password(tx: Tx, user_id: int, password_hash: str) -> None:
    """Replace a user's password."""
    tx.execute("UPDATE users SET password_hash = :h WHERE id = :u", {"h": password_hash, "u": user_id})


def create_admin_token(tx: Tx, label: str, now_us: int) -> str:
    """A new admin credential; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    tx.execute(
        "INSERT INTO admin_tokens (token_sha256, label, created_us) VALUES (:h, :l, :t)",
        {"h": sha256_hex(token), "l": text(label, "label"), "t": now_us},
    )
    return token


def admin_token_name(tx: Tx, digest: str) -> str | None:
    """``admin-token-<id> (<label>)`` of the admin token with this SHA-256 (for audit records), or
    None when there is none."""
    row = tx.one("SELECT id, label FROM admin_tokens WHERE token_sha256 = :h", {"h": digest})
    return None if row is None else f"admin-token-{row['id']} ({row['label']})"


def admin_token_count(tx: Tx) -> int:
    """How many admin tokens exist."""
    return int(tx.scalar("SELECT COUNT(*) AS n FROM admin_tokens") or 0)
