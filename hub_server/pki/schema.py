"""The PKI's tables, in SQL that SQLite and PostgreSQL both accept: the ``pki`` component of the
hub's per-component migrations (:data:`COMPONENT`; the hub lists it in its components, a test or
tool opens a database with it alone). Times are ``*_us`` (microseconds since the epoch); serials
and fingerprints are lower-case hex.

* ``pki_tokens``: enrollment tokens, by public id; only a keyed hash of the secret is stored.
* ``pki_devices``: one row per enrolled device; every issue and revocation for a device updates
  its row first, so on PostgreSQL they serialise on that row lock and a renewal cannot slip
  past a revocation.
* ``pki_certificates``: every certificate issued to a device.
* ``pki_revocations``: revoked serials, with the certificate's end so expired ones can be dropped
  from caches.
* ``pki_state``: ``revocation_version``, bumped by every revocation; replicas poll it.
"""

from __future__ import annotations

from hub_server.storage import Component

__all__ = ["COMPONENT", "MIGRATIONS"]

# Migration 1 was first written as idempotent statements (CREATE ... IF NOT EXISTS); kept so.
_FIRST: list[str] = [
    """CREATE TABLE IF NOT EXISTS pki_tokens (
        token_id TEXT PRIMARY KEY,
        secret_hmac TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('terminal', 'kiosk')),
        device_id TEXT,
        printer TEXT NOT NULL DEFAULT '',
        uses_max INTEGER NOT NULL CHECK (uses_max >= 1),
        uses_count INTEGER NOT NULL DEFAULT 0,
        created_us BIGINT NOT NULL,
        expires_us BIGINT NOT NULL,
        revoked_us BIGINT,
        note TEXT NOT NULL DEFAULT '',
        CHECK (uses_count >= 0 AND uses_count <= uses_max)
    )""",
    """CREATE TABLE IF NOT EXISTS pki_devices (
        device_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('terminal', 'kiosk')),
        enrolled_us BIGINT NOT NULL,
        revoked_us BIGINT,
        last_issued_us BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS pki_certificates (
        serial TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES pki_devices(device_id),
        public_key_sha256 TEXT NOT NULL,
        certificate_pem TEXT NOT NULL,
        not_before_us BIGINT NOT NULL,
        not_after_us BIGINT NOT NULL,
        issued_us BIGINT NOT NULL,
        token_id TEXT REFERENCES pki_tokens(token_id),
        renewed_serial TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS pki_certificates_device ON pki_certificates (device_id)",
    "CREATE INDEX IF NOT EXISTS pki_certificates_key ON pki_certificates (public_key_sha256)",
    """CREATE TABLE IF NOT EXISTS pki_revocations (
        serial TEXT PRIMARY KEY REFERENCES pki_certificates(serial),
        device_id TEXT NOT NULL,
        revoked_us BIGINT NOT NULL,
        not_after_us BIGINT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS pki_revocations_end ON pki_revocations (not_after_us)",
    """CREATE TABLE IF NOT EXISTS pki_state (
        name TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    )""",
    """INSERT INTO pki_state (name, value) VALUES ('revocation_version', 0)
        ON CONFLICT (name) DO NOTHING""",
]


MIGRATIONS: list[list[str]] = [_FIRST]
COMPONENT = Component("pki", MIGRATIONS)
