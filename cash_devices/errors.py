"""The one exception tree of ``cash_devices``.

::

    CashDeviceError
    ├── ConfigurationError (ValueError)   bad driver name, URL, address, mask or profile
    ├── CcTalkError                       anything on a ccTalk line
    │   ├── FrameError (ValueError)       malformed frame: length, checksum/CRC, addresses
    │   ├── EchoError                     our own bytes did not come back (RX/TX wiring, other talker)
    │   ├── ReplyTimeout (TimeoutError)   no (complete) reply within the timeout
    │   ├── LineError (OSError)           the serial port itself failed (unplugged, write timeout)
    │   ├── NakError                      the device answered NAK (header 5)
    │   └── BusyError                     the device answered BUSY (header 6)
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


class CcTalkError(CashDeviceError):
    """Base class of ccTalk line errors."""


class FrameError(CcTalkError, ValueError):
    """A ccTalk frame is malformed (length, checksum or CRC, addressing)."""


class EchoError(CcTalkError):
    """The local echo of our own bytes was missing or different (wiring fault or bus collision)."""


class ReplyTimeout(CcTalkError, TimeoutError):
    """The device did not send a complete reply in time."""


class LineError(CcTalkError, OSError):
    """The serial port failed: unplugged adapter, write timeout, closed port."""


class NakError(CcTalkError):
    """The device answered NAK: it understood the frame and refused the command."""


class BusyError(CcTalkError):
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
