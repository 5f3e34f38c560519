"""The PKI's SQL: every statement on its tables, as functions of one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub_server.storage.base import Row, Tx

__all__ = ["CertificateRecord", "TokenRecord"]


@dataclass(frozen=True)
class TokenRecord:
    """An enrollment token as listed (never its secret)."""

    token_id: str
    kind: str
    device_id: str | None
    printer: str
    uses_max: int
    uses_count: int
    created_us: int
    expires_us: int
    revoked_us: int | None
    note: str

    def state(self, now_us: int) -> str:
        """``revoked``, ``used``, ``expired`` or ``active``."""
        if self.revoked_us is not None:
            return "revoked"
        if self.uses_count >= self.uses_max:
            return "used"
        return "expired" if now_us >= self.expires_us else "active"


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate issued to a device."""

    serial: str
    device_id: str
    public_key_sha256: str
    certificate_pem: str
    not_before_us: int
    not_after_us: int
    issued_us: int
    token_id: str | None
    renewed_serial: str | None


_TOKEN_COLUMNS = (
    "token_id, kind, device_id, printer, uses_max, uses_count, created_us, expires_us, revoked_us, note"
)
_CERTIFICATE_COLUMNS = (
    "serial, device_id, public_key_sha256, certificate_pem, not_before_us, not_after_us, issued_us, "
    "token_id, renewed_serial"
)


def _token(row: Row) -> TokenRecord:
    return TokenRecord(**{name: row[name] for name in _TOKEN_COLUMNS.split(", ")})


def insert_token(tx: Tx, record: TokenRecord, secret_hmac: str) -> None:
    tx.execute(
        f"INSERT INTO pki_tokens ({_TOKEN_COLUMNS}, secret_hmac) VALUES (:token_id, :kind, :device_id, "
        ":printer, :uses_max, :uses_count, :created_us, :expires_us, :revoked_us, :note, :secret_hmac)",
        {**record.__dict__, "secret_hmac": secret_hmac},
    )


def token_with_hmac(tx: Tx, token_id: str) -> tuple[TokenRecord, str] | None:
    row = tx.one(
        f"SELECT {_TOKEN_COLUMNS}, secret_hmac FROM pki_tokens WHERE token_id = :id", {"id": token_id}
    )
    return None if row is None else (_token(row), row["secret_hmac"])


def list_tokens(tx: Tx) -> list[TokenRecord]:
    return [
        _token(row)
        for row in tx.execute(f"SELECT {_TOKEN_COLUMNS} FROM pki_tokens ORDER BY created_us, token_id")
    ]


def revoke_token(tx: Tx, token_id: str, now_us: int) -> bool:
    rows = tx.execute(
        "UPDATE pki_tokens SET revoked_us = :now WHERE token_id = :id AND revoked_us IS NULL "
        "RETURNING token_id",
        {"id": token_id, "now": now_us},
    )
    return bool(rows)


def consume_token(tx: Tx, token_id: str, now_us: int) -> bool:
    """Use the token once if it is still usable (one conditional UPDATE: two concurrent uses of a
    single-use token cannot both succeed on either engine)."""
    rows = tx.execute(
        "UPDATE pki_tokens SET uses_count = uses_count + 1 WHERE token_id = :id AND uses_count < uses_max "
        "AND revoked_us IS NULL AND expires_us > :now RETURNING token_id",
        {"id": token_id, "now": now_us},
    )
    return bool(rows)


def _certificate(row: Row) -> CertificateRecord:
    return CertificateRecord(**{name: row[name] for name in _CERTIFICATE_COLUMNS.split(", ")})


def recent_issue(tx: Tx, column: str, value: str, key_sha256: str, since_us: int) -> CertificateRecord | None:
    """The certificate issued for the same public key by the same token (or renewing the same
    serial) since ``since_us``: a retry after a lost answer gets it again."""
    assert column in ("token_id", "renewed_serial")
    row = tx.one(
        f"SELECT {_CERTIFICATE_COLUMNS} FROM pki_certificates WHERE {column} = :value "
        "AND public_key_sha256 = :key AND issued_us >= :since ORDER BY issued_us DESC",
        {"value": value, "key": key_sha256, "since": since_us},
    )
    return None if row is None else _certificate(row)


def certificate(tx: Tx, serial: str) -> CertificateRecord | None:
    row = tx.one(
        f"SELECT {_CERTIFICATE_COLUMNS} FROM pki_certificates WHERE serial = :serial", {"serial": serial}
    )
    return None if row is None else _certificate(row)


def lock_device(tx: Tx, device_id: str, kind: str, now_us: int) -> Row:
    """Create the device's row or lock the existing one; its ``kind`` and ``revoked_us``."""
    row = tx.one(
        "INSERT INTO pki_devices (device_id, kind, enrolled_us, last_issued_us) "
        "VALUES (:id, :kind, :now, :now) "
        "ON CONFLICT (device_id) DO UPDATE SET last_issued_us = excluded.last_issued_us "
        "RETURNING kind, revoked_us",
        {"id": device_id, "kind": kind, "now": now_us},
    )
    assert row is not None
    return row


def reinstate_device(tx: Tx, device_id: str) -> None:
    tx.execute("UPDATE pki_devices SET revoked_us = NULL WHERE device_id = :id", {"id": device_id})
    _bump_revocation_version(tx)  # revocation caches also hold the revoked devices


def insert_certificate(tx: Tx, record: CertificateRecord) -> None:
    placeholders = ", ".join(f":{name}" for name in _CERTIFICATE_COLUMNS.split(", "))
    tx.execute(
        f"INSERT INTO pki_certificates ({_CERTIFICATE_COLUMNS}) VALUES ({placeholders})", record.__dict__
    )


def is_revoked(tx: Tx, serial: str) -> bool:
    return tx.one("SELECT serial FROM pki_revocations WHERE serial = :s", {"s": serial}) is not None


def _bump_revocation_version(tx: Tx) -> None:
    tx.execute("UPDATE pki_state SET value = value + 1 WHERE name = 'revocation_version'")


def revoke_serial(tx: Tx, serial: str, now_us: int, reason: str) -> str | None:
    """Revoke one certificate; the device it belonged to, or None when the serial is unknown."""
    record = certificate(tx, serial)
    if record is None:
        return None
    tx.execute(
        "UPDATE pki_devices SET last_issued_us = last_issued_us WHERE device_id = :id",
        {"id": record.device_id},
    )
    tx.execute(
        "INSERT INTO pki_revocations (serial, device_id, revoked_us, not_after_us, reason) "
        "VALUES (:serial, :device, :now, :end, :reason) ON CONFLICT (serial) DO NOTHING",
        {
            "serial": serial,
            "device": record.device_id,
            "now": now_us,
            "end": record.not_after_us,
            "reason": reason,
        },
    )
    _bump_revocation_version(tx)
    return record.device_id


def revoke_device(tx: Tx, device_id: str, now_us: int, reason: str) -> int | None:
    """Revoke every certificate of a device and refuse its renewals; how many certificates were
    still valid, or None when the device is unknown."""
    # The row lock first: an enrollment or renewal of this device waits for us, or we for it.
    if not tx.execute(
        "UPDATE pki_devices SET revoked_us = :now WHERE device_id = :id RETURNING device_id",
        {"id": device_id, "now": now_us},
    ):
        return None
    rows = tx.execute(
        "INSERT INTO pki_revocations (serial, device_id, revoked_us, not_after_us, reason) "
        "SELECT serial, device_id, :now, not_after_us, :reason FROM pki_certificates "
        "WHERE device_id = :id AND not_after_us > :now ON CONFLICT (serial) DO NOTHING RETURNING serial",
        {"id": device_id, "now": now_us, "reason": reason},
    )
    _bump_revocation_version(tx)
    return len(rows)


def revocation_version(tx: Tx) -> int:
    return int(tx.scalar("SELECT value FROM pki_state WHERE name = 'revocation_version'"))


def revoked_serials(tx: Tx, now_us: int) -> list[tuple[str, int]]:
    """(serial, revoked_us) of every revoked certificate not yet expired."""
    rows = tx.execute(
        "SELECT serial, revoked_us FROM pki_revocations WHERE not_after_us > :now ORDER BY serial",
        {"now": now_us},
    )
    return [(row["serial"], int(row["revoked_us"])) for row in rows]


def revoked_devices(tx: Tx) -> list[str]:
    """The ids of the devices revoked (and not enrolled again since)."""
    rows = tx.execute("SELECT device_id FROM pki_devices WHERE revoked_us IS NOT NULL ORDER BY device_id")
    return [row["device_id"] for row in rows]


def device_certificates(tx: Tx, device_id: str) -> list[dict[str, Any]]:
    """Every certificate of a device with its revocation, newest first."""
    rows = tx.execute(
        "SELECT c.serial, c.not_after_us, c.issued_us, r.revoked_us FROM pki_certificates c "
        "LEFT JOIN pki_revocations r ON r.serial = c.serial WHERE c.device_id = :id "
        "ORDER BY c.issued_us DESC",
        {"id": device_id},
    )
    return [dict(row) for row in rows]
