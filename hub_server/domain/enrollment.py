"""Enrollment as the admin and the device registry see it: tokens, revocation, and the record a
device gets when it enrolls.

The PKI (:mod:`hub_server.pki`) issues and revokes certificates; this module is where it meets
the rest of the hub. :func:`enrolled_device_binder` is the hook the PKI calls inside the
enrollment transaction, so a device's certificate and its terminal record (kind, printer) are
made together or not at all. :class:`Enrollment` is the domain object the admin services call;
it checks what only the hub knows (does the printer exist, is the id another kind of device)
before a token is made, and answers the PKI's refusals as the hub's own errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from hub_server.clock import Clock
from hub_server.domain import devices
from hub_server.domain.devices import TerminalRecord
from hub_server.domain.store import Store
from hub_server.errors import HubError, InvalidRequest, NotFound
from hub_server.pki import (
    DeviceIdentity,
    DeviceKind,
    EnrollmentDenied,
    HubPki,
    InvalidEnrollment,
    OnEnrolled,
    PkiError,
    TokenRecord,
)
from hub_server.storage import Tx

__all__ = ["Enrollment", "NewToken", "TokenRecord", "enrolled_device_binder"]

KINDS = ("terminal", "kiosk")


def enrolled_device_binder(clock: Clock) -> OnEnrolled:
    """The PKI's ``on_enrolled`` hook: create or bind the device's terminal record (a refusal
    rolls the whole enrollment back, certificate and token use included)."""

    def bind(tx: Tx, identity: DeviceIdentity, printer: str) -> None:
        record = TerminalRecord(identity.device_id, identity.kind, printer)
        try:
            devices.bind_enrolled(tx, record, clock.now_us())
        except HubError as error:
            raise EnrollmentDenied(f"the device cannot be registered: {error}") from None

    return bind


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``text`` is shown once (only a keyed hash is kept)."""

    text: str
    record: TokenRecord


class Enrollment:
    """Enrollment tokens and device revocation, for admins."""

    def __init__(self, store: Store, pki: HubPki) -> None:
        self._store = store
        self._pki = pki
        self.addresses: tuple[str, ...] = ()  # the enrollment listener, as tokens name it

    async def create_token(
        self,
        kind: str,
        *,
        printer: str = "",
        terminal_id: str = "",
        expires_s: int = 86_400,
        uses: int = 1,
        note: str = "",
    ) -> NewToken:
        """A token that enrolls ``uses`` devices of ``kind`` within ``expires_s``; with
        ``terminal_id`` it enrolls that one device (registered beforehand, or made now)."""
        if kind not in KINDS:
            raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}")
        if not self.addresses:
            raise InvalidRequest("the hub has no enrollment address to put into tokens")
        if terminal_id or printer:
            probe = TerminalRecord(terminal_id or "-", kind, printer)
            self._store.read(lambda tx: devices.check_enrollable(tx, probe))
        try:
            token, record = await self._pki.enroller.create_token(
                cast(DeviceKind, kind),
                self.addresses,
                device_id=terminal_id or None,
                printer=printer,
                expires_s=expires_s,
                uses=uses,
                note=note,
            )
        except (InvalidEnrollment, ValueError) as error:
            raise InvalidRequest(str(error)) from None
        return NewToken(str(token), record)

    def tokens(self) -> list[TokenRecord]:
        """Every token ever made (never a secret), oldest first."""
        return self._pki.enroller.list_tokens()

    def token_state(self, record: TokenRecord) -> str:
        """``active``, ``used``, ``expired`` or ``revoked``, now."""
        return record.state(self._pki.clock.now_us())

    async def revoke_token(self, token_id: str) -> None:
        """No device enrolls with this token any more; :class:`NotFound` when there is no such
        token or it was revoked already."""
        if not await self._pki.enroller.revoke_token(token_id.lower()):
            raise NotFound(f"no active enrollment token {token_id[:40]!r}")

    async def revoke_terminal(self, terminal_id: str, reason: str = "") -> int:
        """Revoke every certificate of a terminal or kiosk: refused at once on new calls and
        open streams, on every replica; it enrolls again only with a token made after this.
        Returns how many valid certificates were revoked."""
        try:
            count = await self._pki.revoke_device(terminal_id, reason)
        except PkiError as error:
            raise InvalidRequest(str(error)) from None
        if count is None:
            raise NotFound(f"terminal {terminal_id[:80]!r} never enrolled")
        return count
