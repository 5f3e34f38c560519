"""Exceptions raised by print intake (IPP, LPD), the encrypted spool and job analysis.

Tree::

    IntakeError
    ├── IppError                      carries the IPP status code to answer with
    │   ├── IppParseError (ValueError)  malformed or oversized IPP message
    │   │   └── IppIncomplete           the message is cut short (more bytes may follow)
    │   └── IppRequestError             well-formed request the printer refuses
    ├── OwnerRefused (PermissionError)  the job's user is unknown and the policy refuses
    ├── SpoolError
    │   ├── SpoolLimitExceeded          a per-user or total byte/job limit is hit
    │   ├── SpoolIntegrityError (ValueError)  tampered, truncated or reordered spool data
    │   └── SpoolJobNotFound (KeyError) no such spool entry (or it was shredded)
    ├── JobNotFound (KeyError)          no such job in the registry
    ├── JobNotCancelable               the job is already finished or not the caller's
    ├── LpdProtocolError (ValueError)   malformed or hostile LPD command / control file
    └── AnalysisError                   Ghostscript failed, timed out or hit a resource limit
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "IntakeError",
    "IppError",
    "IppIncomplete",
    "IppParseError",
    "IppRequestError",
    "JobNotCancelable",
    "JobNotFound",
    "LpdProtocolError",
    "OwnerRefused",
    "SpoolError",
    "SpoolIntegrityError",
    "SpoolJobNotFound",
    "SpoolLimitExceeded",
]

# RFC 8011 section 4.1.6 status codes used by the error classes below.
STATUS_BAD_REQUEST = 0x0400
STATUS_REQUEST_ENTITY_TOO_LARGE = 0x0408


class IntakeError(Exception):
    """Base class of every intake, spool and analysis error."""


class IppError(IntakeError):
    """An IPP-level failure; ``status`` is the IPP status code to send back."""

    def __init__(self, message: str, status: int = STATUS_BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


class IppParseError(IppError, ValueError):
    """The bytes are not a valid IPP message within our limits."""


class IppIncomplete(IppParseError):
    """The IPP message ends before its end-of-attributes tag."""


class IppRequestError(IppError):
    """A well-formed request that the printer object refuses (status carries why)."""


class OwnerRefused(IntakeError, PermissionError):
    """The submitting user is not a hub user and the policy is to refuse such jobs."""


class SpoolError(IntakeError):
    """Base class of spool failures."""


class SpoolLimitExceeded(SpoolError):
    """A per-user or total limit (bytes or jobs) would be exceeded.

    ``kind`` is ``"bytes"`` or ``"jobs"`` so protocol front-ends can pick a status.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class SpoolIntegrityError(SpoolError, ValueError):
    """Spooled data failed authentication: tampered, truncated, reordered or wrong key."""


class SpoolJobNotFound(SpoolError, KeyError):
    """No spool entry with this id (never existed, expired or shredded)."""


class JobNotFound(IntakeError, KeyError):
    """No job with this id in the registry."""


class JobNotCancelable(IntakeError):
    """The job cannot be cancelled: finished already, or the caller does not own it."""

    def __init__(self, message: str, *, not_owner: bool = False) -> None:
        super().__init__(message)
        self.not_owner = not_owner


class LpdProtocolError(IntakeError, ValueError):
    """An LPD command, subcommand or control file is malformed or hostile."""


class AnalysisError(IntakeError):
    """Document analysis failed (Ghostscript error, timeout or resource limit)."""
