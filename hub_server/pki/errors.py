"""Exceptions of the hub PKI, and the one table that maps them to gRPC status codes.

::

    PkiError
     ├── PkiConfigError                    the CA, key or certificate files are unusable
     ├── InvalidEnrollment (ValueError)    INVALID_ARGUMENT
     │    ├── MalformedCsr                  not a CSR, bad signature, too big
     │    ├── WeakKey                       key type or size not accepted
     │    └── ForeignIdentity               the CSR names an identity it is not given
     ├── TokenRefused                      UNAUTHENTICATED: unknown, wrong, expired, used or revoked
     ├── EnrollmentDenied (PermissionError) PERMISSION_DENIED: wrong kind, device revoked
     ├── TooManyAttempts                   RESOURCE_EXHAUSTED
     └── PeerRefused                       UNAUTHENTICATED: client certificate missing or not ours
          ├── CertificateExpired            outside its validity
          └── CertificateRevoked

Messages never contain a token secret or key material.
"""

from __future__ import annotations

import grpc

__all__ = [
    "CertificateExpired",
    "CertificateRevoked",
    "EnrollmentDenied",
    "ForeignIdentity",
    "InvalidEnrollment",
    "MalformedCsr",
    "PeerRefused",
    "PkiConfigError",
    "PkiError",
    "TokenRefused",
    "TooManyAttempts",
    "WeakKey",
    "grpc_status_for",
]


class PkiError(Exception):
    """Base of every error of the hub PKI."""


class PkiConfigError(PkiError):
    """A CA, key or certificate file is missing, unreadable or does not fit the others."""


class InvalidEnrollment(PkiError, ValueError):
    """The enrollment or renewal request is malformed."""


class MalformedCsr(InvalidEnrollment):
    """Not a PKCS#10 request, too large, or its self-signature does not verify."""


class WeakKey(InvalidEnrollment):
    """The request's key is of a type or size the hub does not accept."""


class ForeignIdentity(InvalidEnrollment):
    """The request names a subject or alternative name other than the identity being issued."""


class TokenRefused(PkiError):
    """The token is unknown, its secret wrong, or it is expired, used up or revoked."""


class EnrollmentDenied(PkiError, PermissionError):
    """The token is valid but may not enroll this device (wrong kind, device revoked)."""


class TooManyAttempts(PkiError):
    """Too many enrollment attempts from one address or for one token; try later."""


class PeerRefused(PkiError):
    """The caller's client certificate is missing, or not one this hub issued to a device."""


class CertificateExpired(PeerRefused):
    """The client certificate is not valid now."""


class CertificateRevoked(PeerRefused):
    """The client certificate (or its device) was revoked."""


_STATUS_BY_ERROR: tuple[tuple[type[PkiError], grpc.StatusCode], ...] = (
    (InvalidEnrollment, grpc.StatusCode.INVALID_ARGUMENT),
    (TokenRefused, grpc.StatusCode.UNAUTHENTICATED),
    (EnrollmentDenied, grpc.StatusCode.PERMISSION_DENIED),
    (TooManyAttempts, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (PeerRefused, grpc.StatusCode.UNAUTHENTICATED),
)


def grpc_status_for(error: PkiError) -> grpc.StatusCode:
    """The gRPC status code a PKI error is reported with."""
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return grpc.StatusCode.INTERNAL
