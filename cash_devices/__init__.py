"""Kiosk money and paper: ccTalk and ID-003 acceptors and validators, pulse acceptors, ESC/POS printers.

Drivers: ``cctalk`` (coin acceptors and note validators), ``id003`` (JCM note validators and
compatibles), ``pulse`` (GPIO pulse coin acceptors). The kiosk uses a small surface::

    acceptor = await open_acceptor("cctalk", "/dev/ttyUSB0", 2, kind="coin", resume=saved_state)
    await acceptor.enable()                    # or enable(acceptor.mask_for([100, 200]))
    async for event in acceptor.events():      # typed events, device order
        if isinstance(event, CreditEvent):     # CoinAccepted or NoteStacked: money, exactly once
            journal(event.idempotency_key, event.value_minor, event.currency, acceptor.counter_state)
    await acceptor.disable()                   # master inhibit first, read back to confirm
    acceptor.health                            # online, timeouts, lost events, resets, fraud alarms

    printer = open_receipt_printer("tcp://10.0.0.9:9100")
    printer.require_ready()                    # DLE EOT: raises PaperOut / PrinterOffline
    printer.print_receipt(RechargeReceipt(...))

Notes in escrow arrive as :class:`NoteEscrowed` (not credit); call
``validator.accept_escrow()`` or ``validator.return_escrow()`` (every :class:`Escrow` validator).
Persist ``acceptor.counter_state`` with each journalled event and pass it back as ``resume`` so keys
stay unique across restarts and events that happened while the kiosk was down are delivered (and
deduplicated by key).

Nothing here imports the rest of printgate.
"""

from cash_devices.base import Acceptor, Denomination, DeviceIdentity, Escrow, Health, SelfCheck
from cash_devices.cctalk import (
    CcTalkLink,
    ChecksumMode,
    Exchange,
    Frame,
    FrameReader,
    decode_frame,
    encode_frame,
    open_link,
)
from cash_devices.coin_acceptor import CcTalkCoinAcceptor
from cash_devices.errors import (
    BusyError,
    CashDeviceError,
    CcTalkError,
    ConfigurationError,
    DeviceNotReady,
    EchoError,
    EscrowError,
    FrameError,
    LineError,
    LinkError,
    NakError,
    PaperOut,
    PrinterError,
    PrinterOffline,
    ReplyTimeout,
)
from cash_devices.events import (
    CashEvent,
    CoinAccepted,
    CounterState,
    CreditEvent,
    DeviceError,
    ErrorKind,
    LinkChanged,
    LostEvents,
    NoteEscrowed,
    NoteReturned,
    NoteStacked,
    Reset,
    UnmappedCredit,
)
from cash_devices.id003 import Id003Link, open_id003_link
from cash_devices.id003_validator import Id003NoteValidator
from cash_devices.note_validator import CcTalkNoteValidator
from cash_devices.receipt import (
    CashBoxReport,
    PaperLevel,
    PrinterStatus,
    ReceiptPrinter,
    RechargeReceipt,
    VoucherSlip,
    format_money,
    open_receipt_printer,
)
from cash_devices.registry import open_acceptor

__all__ = [
    "Acceptor",
    "BusyError",
    "CashBoxReport",
    "CashDeviceError",
    "CashEvent",
    "CcTalkCoinAcceptor",
    "CcTalkError",
    "CcTalkLink",
    "CcTalkNoteValidator",
    "ChecksumMode",
    "CoinAccepted",
    "ConfigurationError",
    "CounterState",
    "CreditEvent",
    "Denomination",
    "DeviceError",
    "DeviceIdentity",
    "DeviceNotReady",
    "EchoError",
    "ErrorKind",
    "Escrow",
    "EscrowError",
    "Exchange",
    "Frame",
    "FrameError",
    "FrameReader",
    "Health",
    "Id003Link",
    "Id003NoteValidator",
    "LineError",
    "LinkChanged",
    "LinkError",
    "LostEvents",
    "NakError",
    "NoteEscrowed",
    "NoteReturned",
    "NoteStacked",
    "PaperLevel",
    "PaperOut",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "ReceiptPrinter",
    "RechargeReceipt",
    "ReplyTimeout",
    "Reset",
    "SelfCheck",
    "UnmappedCredit",
    "VoucherSlip",
    "decode_frame",
    "encode_frame",
    "format_money",
    "open_acceptor",
    "open_id003_link",
    "open_link",
    "open_receipt_printer",
]
