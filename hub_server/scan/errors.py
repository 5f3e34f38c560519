"""Exceptions of the scan intake.

Tree::

    ScanError
    ├── ScanRefused              the SMTP receiver refuses a message (``smtp_status`` says how)
    │   └── MimeError (ValueError)  malformed, oversized or unsupported MIME
    ├── NoSession                no terminal session at the sending printer (and the policy refuses)
    ├── ProcessingError          converting or OCR-ing a scan failed, timed out or hit a limit
    ├── DeliveryError            a destination could not take the scan
    └── LinkError (ValueError)   a download link token is forged, malformed or expired
        └── LinkExpired
"""

from __future__ import annotations

__all__ = [
    "DeliveryError",
    "LinkError",
    "LinkExpired",
    "MimeError",
    "NoSession",
    "ProcessingError",
    "ScanError",
    "ScanRefused",
]


class ScanError(Exception):
    """Base class of every scan intake error."""


class ScanRefused(ScanError):
    """A message the receiver refuses; ``smtp_status`` is the reply line to send."""

    def __init__(self, message: str, smtp_status: str = "550 5.6.0") -> None:
        super().__init__(message)
        self.smtp_status = smtp_status

    @property
    def reply(self) -> str:
        """The full SMTP reply: status and message."""
        return f"{self.smtp_status} {self}"


class MimeError(ScanRefused, ValueError):
    """The message is not MIME we accept (malformed, too many parts, unsupported attachment)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "554 5.6.0")


class NoSession(ScanError):
    """Nobody is (or was, within the grace period) logged in at the sending printer."""


class ProcessingError(ScanError):
    """Conversion or OCR failed, timed out or exceeded its resource limits."""


class DeliveryError(ScanError):
    """A destination refused or could not be reached."""


class LinkError(ScanError, ValueError):
    """A download token that is not one of ours: malformed or with a wrong signature."""


class LinkExpired(LinkError):
    """A genuine download token whose time is over."""
