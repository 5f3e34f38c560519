"""Errors of ``terminal_app`` (terminal and kiosk alike), one tree.

::

    TerminalError
    ├── ConfigError (ValueError)          terminal.toml / kiosk.toml: a key missing, unknown or bad
    ├── JournalError                      a journal or the offline cache cannot be opened or written
    └── HubCallError                      a hub call failed; ``code`` is the gRPC status name
        ├── HubUnreachable (ConnectionError)  UNAVAILABLE / DEADLINE_EXCEEDED: treat the hub as offline
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
    "HubCallError",
    "HubRejected",
    "HubUnreachable",
    "IdempotencyConflict",
    "JournalError",
    "NotEnoughCredit",
    "NotRecognised",
    "NotSupported",
    "QuotaExhausted",
    "Refused",
    "TerminalError",
]


class TerminalError(Exception):
    """Base of every error raised by ``terminal_app``."""


class ConfigError(TerminalError, ValueError):
    """The terminal configuration is invalid."""


class JournalError(TerminalError):
    """The durable journal or the offline cache failed."""


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
