"""Kiosk money and paper: ccTalk coin and note acceptors, pulse acceptors, ESC/POS receipt printers."""

from cash_devices.cctalk import CcTalkLink, ChecksumMode, Frame, FrameReader, decode_frame, encode_frame
from cash_devices.errors import CashDeviceError

__all__ = [
    "CashDeviceError",
    "CcTalkLink",
    "ChecksumMode",
    "Frame",
    "FrameReader",
    "decode_frame",
    "encode_frame",
]
