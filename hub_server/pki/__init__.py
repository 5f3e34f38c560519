"""The hub's PKI: its CA (or the site's), TLS server credentials that reload without a restart,
enrollment tokens, device certificates (enroll, renew, revoke) and the identity of a calling
device from its client certificate.

Of the rest of the hub it uses only the storage interface (``Tx``/``Database``) and the clock.
The hub builds one :class:`HubPki` and plugs in:

* its gRPC listeners: ``pki.tls.credentials(require_client_auth=True)`` for the device listener,
  ``(False)`` for the enrollment listener, and :class:`EnrollmentServicer` on both;
* its services: ``pki.authenticator.identify(context)`` for the calling device;
* the admin CLI: ``pki.enroller.create_token / list_tokens / revoke_token``,
  ``pki.revoke_device / revoke_certificate``;
* the MQTT broker: ``pki.material`` (CA, server certificate) and ``pki.revocation_list_pem()``;
* TLS listeners that are not gRPC (IPPS): ``pki.ssl_context()``, following reloads;
* the hub's migrations: :data:`COMPONENT` (the PKI's tables).
"""

from __future__ import annotations

from hub_server.pki.authority import CertificateAuthority
from hub_server.pki.enrollment import Enroller, IssuedCertificate, OnEnrolled
from hub_server.pki.errors import (
    CertificateExpired,
    CertificateRevoked,
    EnrollmentDenied,
    ForeignIdentity,
    InvalidEnrollment,
    MalformedCsr,
    PeerRefused,
    PkiConfigError,
    PkiError,
    TokenRefused,
    TooManyAttempts,
    WeakKey,
    grpc_status_for,
)
from hub_server.pki.hub_pki import HubPki
from hub_server.pki.identity import DeviceIdentity, DeviceKind
from hub_server.pki.material import PkiConfig, PkiMaterial, load_material
from hub_server.pki.peer import PeerAuthenticator, PeerCertificate
from hub_server.pki.ratelimit import AttemptLimiter
from hub_server.pki.revocation import RevocationCache
from hub_server.pki.schema import COMPONENT
from hub_server.pki.service import EnrollmentServicer
from hub_server.pki.store import TokenRecord
from hub_server.pki.tls import ServerTls

__all__ = [
    "COMPONENT",
    "AttemptLimiter",
    "CertificateAuthority",
    "CertificateExpired",
    "CertificateRevoked",
    "DeviceIdentity",
    "DeviceKind",
    "Enroller",
    "EnrollmentDenied",
    "EnrollmentServicer",
    "ForeignIdentity",
    "HubPki",
    "InvalidEnrollment",
    "IssuedCertificate",
    "MalformedCsr",
    "OnEnrolled",
    "PeerAuthenticator",
    "PeerCertificate",
    "PeerRefused",
    "PkiConfig",
    "PkiConfigError",
    "PkiError",
    "PkiMaterial",
    "RevocationCache",
    "ServerTls",
    "TokenRecord",
    "TokenRefused",
    "TooManyAttempts",
    "WeakKey",
    "grpc_status_for",
    "load_material",
]
