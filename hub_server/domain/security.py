"""Secrets, password and PIN hashing, PIN lookup and session tokens.

* Passwords and PINs are stored as argon2id hashes.
* A PIN used alone identifies its user, so it must be found without trying every salted hash:
  it is also stored as ``HMAC-SHA256(hub secret, pin)``, unique across users.
* Session tokens are signed by the hub (HMAC) and carry the user and the terminal they are bound
  to, so checking one needs no database write.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import argon2

from hub_server.errors import SessionInvalid

SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """The hub's secret key, created (mode 0600) on first start."""
    if path.exists():
        secret = path.read_bytes()
        if len(secret) < SECRET_BYTES:
            raise RuntimeError(f"hub secret {path} is shorter than {SECRET_BYTES} bytes")
        return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
    return secret


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of a high-entropy token (terminal keys, admin tokens)."""
    return hashlib.sha256(text.encode()).hexdigest()


class Hasher:
    """argon2id for passwords and PINs; a constant-time dummy check for unknown users."""

    def __init__(self, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 1) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._dummy_hash = self._hasher.hash(secrets.token_hex(16))

    def hash(self, secret: str) -> str:
        """A salted argon2id hash of ``secret``."""
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        """True when ``secret`` matches; spends the same work when there is no stored hash."""
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, secret) and stored_hash is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False


def pin_lookup_key(secret: bytes, pin: str) -> str:
    """The keyed hash a PIN is looked up by."""
    return hmac.new(secret, b"pin\x00" + pin.encode(), hashlib.sha256).hexdigest()


def log_tag(secret: bytes, kind: str, value: str) -> str:
    """A short keyed hash naming a card number or a typed username in a log line without
    showing it: the same value gives the same tag, but the tag cannot be looked up without
    the hub secret."""
    digest = hmac.new(secret, b"log\x00" + kind.encode() + b"\x00" + value.encode(), hashlib.sha256)
    return f"{kind}#{digest.hexdigest()[:10]}"


@dataclass(frozen=True)
class SessionClaims:
    """What a session token says, once its signature is checked."""

    session_id: str
    user_id: int
    terminal_id: str
    auth_method: str
    issued_us: int
    expires_us: int
    guest_job_id: int = 0  # a guest's release session: the one job it may release (0: a user's)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


MAX_TOKEN_CHARS = 512


class SessionSigner:
    """Issues and checks signed session tokens."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"session-token", hashlib.sha256).digest()

    def issue(
        self, user_id: int, terminal_id: str, auth_method: str, now_us: int, ttl_s: int, guest_job_id: int = 0
    ) -> str:
        """A new token for ``user_id`` bound to ``terminal_id`` (``guest_job_id``: a guest's
        session, which may release that job and do nothing else)."""
        claims: dict[str, object] = {
            "s": secrets.token_hex(12),
            "u": user_id,
            "t": terminal_id,
            "m": auth_method,
            "i": now_us,
            "e": now_us + ttl_s * 1_000_000,
        }
        if guest_job_id:
            claims["j"] = guest_job_id
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def check(self, token: str) -> SessionClaims:
        """The claims of a genuine token; raises :class:`SessionInvalid` for anything else."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise SessionInvalid("session token malformed")
        payload_text, signature_text = token.split(".")
        try:
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except ValueError as error:
            raise SessionInvalid("session token malformed") from error
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise SessionInvalid("session token not issued by this hub")
        claims = json.loads(payload)
        return SessionClaims(
            session_id=claims["s"],
            user_id=int(claims["u"]),
            terminal_id=str(claims["t"]),
            auth_method=str(claims["m"]),
            issued_us=int(claims["i"]),
            expires_us=int(claims["e"]),
            guest_job_id=int(claims.get("j", 0)),
        )
