"""The one exception tree of :mod:`mfp_adapters`.

::

    MfpError                              base of everything raised here
    ├── MfpTimeoutError (TimeoutError)    a device did not answer within its timeout
    ├── SnmpError                         an SNMP exchange failed
    │   ├── SnmpTimeoutError (MfpTimeoutError)   no answer from the agent in time
    │   ├── SnmpProtocolError (ValueError)       error-status, garbage type, bad length
    │   └── SnmpTableTooLargeError               a walk returned more rows than allowed
    ├── ProfileError (ValueError)         a vendor profile file is malformed
    ├── MeteringError                     a copy session cannot be metered
    │   └── MeterStateError (RuntimeError)       unlock twice, lock without unlock
    ├── ReleaseError                      a job could not be handed to the device
    │   ├── ReleaseTimeoutError (MfpTimeoutError)
    │   ├── ReleaseRefusedError            the peer refused the job (LPD NAK, IPP status)
    │   └── JobFormatError (ValueError)    the job stream cannot be rewritten as asked
    ├── ParseError (ValueError)           a PJL / LPD / IPP message is malformed
    └── PanelLockError                    the panel lock (FIH, vendor platform) failed

``MfpTimeoutError`` also derives from the builtin :class:`TimeoutError`, so callers
that only know asyncio can still catch it.
"""

from __future__ import annotations


class MfpError(Exception):
    """Base of every error raised by :mod:`mfp_adapters`."""


class MfpTimeoutError(MfpError, TimeoutError):
    """A device did not answer within its timeout."""


class SnmpError(MfpError):
    """An SNMP exchange failed."""


class SnmpTimeoutError(SnmpError, MfpTimeoutError):
    """The SNMP agent did not answer in time."""


class SnmpProtocolError(SnmpError, ValueError):
    """The agent answered with an error status, a garbage type or a malformed value."""


class SnmpTableTooLargeError(SnmpError):
    """A walk returned more rows than the caller allowed."""


class ProfileError(MfpError, ValueError):
    """A vendor profile file is malformed."""


class MeteringError(MfpError):
    """A copy session cannot be metered."""


class MeterStateError(MeteringError, RuntimeError):
    """The meter was used out of order (unlock twice, lock without unlock)."""


class ReleaseError(MfpError):
    """A job could not be handed to the device."""


class ReleaseTimeoutError(ReleaseError, MfpTimeoutError):
    """The release peer stopped accepting data or never answered."""


class ReleaseRefusedError(ReleaseError):
    """The release peer refused the job (LPD negative acknowledgement, IPP error status)."""


class JobFormatError(ReleaseError, ValueError):
    """The job stream cannot be rewritten as asked."""


class ParseError(MfpError, ValueError):
    """A PJL, LPD or IPP message is malformed."""


class PanelLockError(MfpError):
    """The panel lock (FIH on GPIO, a vendor platform) failed."""
