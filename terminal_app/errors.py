"""Errors of ``terminal_app`` (terminal and kiosk alike), one tree.

::

    TerminalError
    ├── ConfigError (ValueError)          terminal.toml / kiosk.toml: a key missing, unknown or bad
    ├── JournalError                      a journal or the offline cache cannot be opened or written
    ├── EnrollmentError                   getting or renewing this device's certificate
    │   ├── TokenInvalid (ValueError)     the token string is malformed or damaged
    │   ├── HubNotTrusted                 the hub's CA is not the token's, or the server's certificate
    │   │                                 is not issued by it (a man in the middle): nothing was sent
    │   ├── ReenrollRequired              no usable certificate (never enrolled, or expired): enroll
    │   │                                 again with a new token
    │   └── EnrollmentRefused (HubRejected)  the hub said no to an enrollment or renewal
    └── HubCallError                      a hub call failed; ``code`` is the gRPC status name
        ├── HubUnreachable (ConnectionError)  UNAVAILABLE / DEADLINE_EXCEEDED: treat the hub as offline
        │                                     (also: no hub address of a token answered)
        ├── DeviceRefused                     the hub refuses this device itself, not the request: its
        │   │                                 certificate is expired or unknown there (enroll again);
        │   │                                 journaled money waits, it was never judged
        │   └── DeviceDisabled                an admin revoked it: "this terminal was disabled"
        └── HubRejected                       the hub answered and said no (permanent for this request)
            ├── NotRecognised                 UNAUTHENTICATED: card or PIN not recognised, session invalid
            ├── AccessDenied (PermissionError) PERMISSION_DENIED: locked, blocked, another terminal's session
            ├── Refused                       FAILED_PRECONDITION: not possible now (e.g. release not enabled)
            │   └── NotEnoughCredit           ... because the credit does not cover it
            ├── QuotaExhausted                RESOURCE_EXHAUSTED: a blocking quota
            ├── IdempotencyConflict           ALREADY_EXISTS: the key was used with another payload
            └── NotSupported                  UNIMPLEMENTED: the hub does not offer this call (yet)

:func:`terminal_app.hub.channel.error_for_status` is the one place where gRPC status codes become
these classes.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "ConfigError",
    "DeviceDisabled",
    "DeviceRefused",
    "EnrollmentError",
    "EnrollmentRefused",
    "HubCallError",
    "HubNotTrusted",
    "HubRejected",
    "HubUnreachable",
    "IdempotencyConflict",
    "JournalError",
    "NotEnoughCredit",
    "NotRecognised",
    "NotSupported",
    "QuotaExhausted",
    "ReenrollRequired",
    "Refused",
    "TerminalError",
    "TokenInvalid",
]


class TerminalError(Exception):
    """Base of every error raised by ``terminal_app``."""


class ConfigError(TerminalError, ValueError):
    """The terminal configuration is invalid."""


class JournalError(TerminalError):
    """The durable journal or the offline cache failed."""


class EnrollmentError(TerminalError):
    """Getting or renewing this device's certificate failed."""


class TokenInvalid(EnrollmentError, ValueError):
    """The token string cannot be used (a typing or copying error)."""


class HubNotTrusted(EnrollmentError):
    """The hub could not be verified against the token's CA fingerprint; nothing was sent."""


class ReenrollRequired(EnrollmentError):
    """The device holds no valid certificate and must be enrolled again with a new token."""


class HubCallError(TerminalError):
    """A call to the hub failed."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class HubUnreachable(HubCallError, ConnectionError):
    """The hub did not answer in time or cannot be reached: the terminal is offline."""


class HubRejected(HubCallError):
    """The hub answered with a refusal; sending the same request again gives the same answer."""


class EnrollmentRefused(EnrollmentError, HubRejected):
    """The hub refused an enrollment or renewal (a used, expired or revoked token, a revoked device)."""


class DeviceRefused(HubCallError):
    """The hub refuses this device itself (its certificate expired or is unknown there); the
    request was not judged, so what the device journaled is sent again once it is enrolled."""


class DeviceDisabled(DeviceRefused):
    """An admin revoked this device: it stays out of service until it is enrolled again."""


class NotRecognised(HubRejected):
    """Card, PIN, password or session not recognised."""


class AccessDenied(HubRejected, PermissionError):
    """Locked identity, blocked user, or a session of another terminal."""


class Refused(HubRejected):
    """The hub cannot do this now (its configuration, the user's money, a job's state)."""


class NotEnoughCredit(Refused):
    """The user's credit does not cover the request."""


class QuotaExhausted(HubRejected):
    """A blocking quota does not cover the request."""


class IdempotencyConflict(HubRejected):
    """An idempotency key was reused with a different payload."""


class NotSupported(HubRejected):
    """The hub does not implement this call."""
