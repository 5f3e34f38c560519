"""The hub's PKI in one object: TLS material, enrollment, revocation and caller identity."""

from __future__ import annotations

import logging
import ssl
from dataclasses import replace

from cryptography.hazmat.primitives.serialization import Encoding

from hub_server.clock import Clock
from hub_server.pki import store
from hub_server.pki.authority import RevokedSerial
from hub_server.pki.enrollment import Enroller, OnEnrolled
from hub_server.pki.material import PkiConfig, PkiMaterial
from hub_server.pki.peer import PeerAuthenticator
from hub_server.pki.ratelimit import AttemptLimiter
from hub_server.pki.revocation import POLL_INTERVAL_S, RevocationCache
from hub_server.pki.tls import ServerTls
from hub_server.storage.base import Database

__all__ = ["HubPki"]

log = logging.getLogger(__name__)


class HubPki:
    """Built once per hub process over a database migrated with the ``pki`` component
    (:data:`hub_server.pki.COMPONENT`); :meth:`start` and :meth:`stop` it with the gRPC server.

    * ``tls``: credentials for the enrollment listener (``tls.credentials(False)``) and the device
      listener (``tls.credentials(True)``), reloaded when the files change; :meth:`ssl_context`
      for listeners that are not gRPC;
    * ``enroller``: tokens, ``enroll`` and ``renew``;
    * ``authenticator``: the calling device of a gRPC call;
    * ``revocations``: the revocation cache that ``authenticator`` consults;
    * ``clock``: the time certificates are issued and checked by (the real time in a hub: TLS
      stacks check validity against it).
    """

    def __init__(
        self,
        config: PkiConfig,
        db: Database,
        clock: Clock,
        token_key: bytes,
        *,
        on_enrolled: OnEnrolled | None = None,
        limiter: AttemptLimiter | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.config = config
        self._db = db
        self.clock = clock
        self.tls = ServerTls(config, clock)
        self.revocations = RevocationCache(db, clock, poll_interval_s)
        self.authenticator = PeerAuthenticator(self._current, self.revocations, clock)
        self.enroller = Enroller(
            db, config, self._current, clock, token_key, on_enrolled=on_enrolled, limiter=limiter
        )

    def _current(self) -> PkiMaterial:
        return self.tls.material

    @property
    def material(self) -> PkiMaterial:
        """The CA and server material in force."""
        return self.tls.material

    def ssl_context(self) -> ssl.SSLContext:
        """A server TLS context with the hub's certificate for a listener that is not gRPC (IPPS,
        the web console); it follows a replaced server certificate by itself."""
        return self.tls.ssl_context()

    def advertise(self, device_endpoints: tuple[str, ...]) -> None:
        """Where enrolled devices call the hub with mutual TLS (told to them with their
        certificate); set once the device listener's address is known."""
        self.config = replace(self.config, device_endpoints=device_endpoints)

    async def start(self) -> None:
        """Start polling revocations (needs the running event loop)."""
        self.revocations.start()

    async def stop(self) -> None:
        """Stop polling."""
        await self.revocations.stop()

    async def revoke_certificate(self, serial: str, reason: str = "") -> bool:
        """Revoke one certificate by serial (hex); False when no such certificate was issued."""
        serial = serial.lower().removeprefix("0x").lstrip("0") or "0"
        device = await self._db.write(lambda tx: store.revoke_serial(tx, serial, self.clock.now_us(), reason))
        self.revocations.refresh()
        if device is not None:
            log.warning("certificate %s of %s revoked", serial, device)
        return device is not None

    async def revoke_device(self, device_id: str, reason: str = "") -> int | None:
        """Revoke every certificate of a device and refuse its renewals; how many valid
        certificates that revoked, or None when the device never enrolled."""
        count = await self._db.write(
            lambda tx: store.revoke_device(tx, device_id, self.clock.now_us(), reason)
        )
        self.revocations.refresh()
        if count is not None:
            log.warning("device %s revoked (%d certificates)", device_id, count)
        return count

    def revocation_list_pem(self) -> bytes:
        """A CRL of the revoked, unexpired certificates, signed by the issuing CA (for the MQTT
        broker's ``crlfile``)."""
        revoked = self._db.read(lambda tx: store.revoked_serials(tx, self.clock.now_us()))
        entries = [RevokedSerial(int(serial, 16), revoked_us) for serial, revoked_us in revoked]
        crl = self.material.authority.revocation_list(entries, self.clock.now_us())
        return crl.public_bytes(Encoding.PEM)
