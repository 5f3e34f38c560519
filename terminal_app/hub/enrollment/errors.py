"""Errors of device enrollment, one tree.

::

    EnrollmentError
    ├── TokenInvalid (ValueError)   the token string is malformed or damaged
    ├── HubNotTrusted               the hub's CA does not match the token's fingerprint, or the
    │                               server's certificate is not issued by it (man in the middle):
    │                               nothing was sent
    ├── HubUnreachable (ConnectionError)  no hub address answered
    ├── EnrollmentRefused           the hub answered no; ``code`` is the gRPC status name
    └── ReenrollRequired            no usable certificate (never enrolled, or expired): enroll
                                    again with a new token
"""

from __future__ import annotations

__all__ = [
    "EnrollmentError",
    "EnrollmentRefused",
    "HubNotTrusted",
    "HubUnreachable",
    "ReenrollRequired",
    "TokenInvalid",
]


class EnrollmentError(Exception):
    """Base of every enrollment error."""


class TokenInvalid(EnrollmentError, ValueError):
    """The token string cannot be used (typing or copying error)."""


class HubNotTrusted(EnrollmentError):
    """The hub could not be verified against the token's CA fingerprint; nothing was sent."""


class HubUnreachable(EnrollmentError, ConnectionError):
    """No hub address could be reached."""


class EnrollmentRefused(EnrollmentError):
    """The hub refused the enrollment or renewal."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(f"hub refused ({code}): {details}")
        self.code = code
        self.details = details


class ReenrollRequired(EnrollmentError):
    """The device holds no valid certificate and must be enrolled again with a new token."""
