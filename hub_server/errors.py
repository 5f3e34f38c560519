"""The hub's exception tree, and the one table that maps it to gRPC status codes.

::

    HubError
     ├── InvalidRequest (ValueError)            INVALID_ARGUMENT
     ├── NotFound (LookupError)                 NOT_FOUND
     ├── AlreadyExists                          ALREADY_EXISTS
     │    └── IdempotencyConflict               same key, different payload
     ├── AuthenticationFailed                   UNAUTHENTICATED (card or PIN not recognised, ...)
     │    ├── SessionInvalid                    expired, ended or forged session token
     │    └── DeviceRefused                     the calling terminal or kiosk itself: no, a
     │                                          foreign, an expired or a revoked certificate
     ├── PermissionDenied (PermissionError)     PERMISSION_DENIED
     │    ├── IdentityLocked                    too many failed attempts
     │    └── UserBlocked                       arrears must be paid first
     ├── Refused                                FAILED_PRECONDITION
     │    ├── InsufficientFunds
     │    └── PricingError                      no price for a usage line
     ├── QuotaExceeded                          RESOURCE_EXHAUSTED
     ├── InvariantViolation (AssertionError)    INTERNAL: the ledger refused to go on
     └── Unavailable (ConnectionError)          UNAVAILABLE: the database cannot be reached now;
                                                repeat with the same idempotency key

Domain code raises these (the domain's door to storage turns storage's integrity errors into
them: :mod:`hub_server.domain.store`); the status codes are those the gRPC services report them
with, from the one table in :mod:`hub_server.services.common`. This module imports nothing.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub reports to a caller."""


class InvalidRequest(HubError, ValueError):
    """The request is malformed or out of bounds."""


class NotFound(HubError, LookupError):
    """A named thing (user, card, account, printer...) does not exist."""


class AlreadyExists(HubError):
    """A unique thing (username, card number, PIN...) is taken."""


class IdempotencyConflict(AlreadyExists):
    """An idempotency key was used before with a different payload."""


class AuthenticationFailed(HubError):
    """The credential did not identify anybody."""


class SessionInvalid(AuthenticationFailed):
    """The session token is forged, expired or ended."""


class DeviceRefused(AuthenticationFailed):
    """The calling device is not accepted: ``reason`` is ``revoked``, ``expired`` or ``unknown``
    (the services tell the device, which shows it: printgate.device_trust)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionDenied(HubError, PermissionError):
    """The caller is known but may not do this."""


class IdentityLocked(PermissionDenied):
    """Too many failed attempts: the identity is locked for a while."""


class UserBlocked(PermissionDenied):
    """The user owes arrears from an overrun copy session."""


class Refused(HubError):
    """The request is valid but the current state does not allow it."""


class InsufficientFunds(Refused):
    """The account's credit does not cover the charge."""


class PricingError(Refused):
    """No price applies to a usage line."""


class QuotaExceeded(HubError):
    """A blocking quota would be exceeded."""


class InvariantViolation(HubError, AssertionError):
    """A ledger invariant failed: the hub stops that operation rather than go on wrong."""


class Unavailable(HubError, ConnectionError):
    """The database cannot be reached now (a server failing over): try again, with the same
    idempotency key, which applies a write that did commit at most once."""
