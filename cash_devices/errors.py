"""The one exception tree of ``cash_devices``.

::

    CashDeviceError
    ├── ConfigurationError (ValueError)   bad driver name, URL, address, mask or profile
    ├── LinkError                         anything on a device's serial line (ccTalk, ID-003);
    │   │                                 ``CcTalkError`` is its former name, kept as an alias
    │   ├── FrameError (ValueError)       malformed frame: length, checksum/CRC, addresses, echo of a setting
    │   ├── EchoError                     our own bytes did not come back (RX/TX wiring, other talker)
    │   ├── ReplyTimeout (TimeoutError)   no (complete) reply within the timeout
    │   ├── LineError (OSError)           the serial port itself failed (unplugged, write timeout)
    │   ├── NakError                      the device refused the command (ccTalk NAK, ID-003 INVALID COMMAND)
    │   └── BusyError                     the device answered BUSY (ccTalk header 6)
    ├── EscrowError                       a note could not be routed (nothing held, route failed)
    ├── DeviceNotReady                    used before ``open()`` or after ``close()``
    └── PrinterError                      receipt printer
        ├── PrinterOffline (ConnectionError)
        └── PaperOut
"""

from __future__ import annotations


class CashDeviceError(Exception):
    """Base class of every error raised by ``cash_devices``."""


class ConfigurationError(CashDeviceError, ValueError):
    """A driver was given a setting it cannot use."""


class LinkError(CashDeviceError):
    """Base class of errors on a device's serial line (ccTalk, ID-003)."""


CcTalkError = LinkError  # the name from before ID-003 joined ccTalk; same class


class FrameError(LinkError, ValueError):
    """A frame is malformed (length, checksum or CRC, addressing, a setting not echoed back)."""


class EchoError(LinkError):
    """The local echo of our own bytes was missing or different (wiring fault or bus collision)."""


class ReplyTimeout(LinkError, TimeoutError):
    """The device did not send a complete reply in time."""


class LineError(LinkError, OSError):
    """The serial port failed: unplugged adapter, write timeout, closed port."""


class NakError(LinkError):
    """The device understood the frame and refused the command (ccTalk NAK, ID-003 INVALID COMMAND)."""


class BusyError(LinkError):
    """The device answered BUSY: try again later."""


class EscrowError(CashDeviceError):
    """A note in escrow could not be stacked or returned."""


class DeviceNotReady(CashDeviceError):
    """The device is not open."""


class PrinterError(CashDeviceError):
    """Base class of receipt printer errors."""


class PrinterOffline(PrinterError, ConnectionError):
    """The printer did not answer or reports itself offline (cover open, error)."""


class PaperOut(PrinterError):
    """The printer has no paper."""
