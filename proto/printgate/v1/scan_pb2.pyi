import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScanPrinter(_message.Message):
    __slots__ = ("printer_id", "addresses", "smtp_login", "smtp_password", "has_password")
    PRINTER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    SMTP_LOGIN_FIELD_NUMBER: _ClassVar[int]
    SMTP_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    HAS_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    printer_id: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    smtp_login: str
    smtp_password: str
    has_password: bool
    def __init__(self, printer_id: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., smtp_login: _Optional[str] = ..., smtp_password: _Optional[str] = ..., has_password: _Optional[bool] = ...) -> None: ...

class ListScanPrintersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListScanPrintersResponse(_message.Message):
    __slots__ = ("printers",)
    PRINTERS_FIELD_NUMBER: _ClassVar[int]
    printers: _containers.RepeatedCompositeFieldContainer[ScanPrinter]
    def __init__(self, printers: _Optional[_Iterable[_Union[ScanPrinter, _Mapping]]] = ...) -> None: ...

class ScanPrinterRef(_message.Message):
    __slots__ = ("printer_id",)
    PRINTER_ID_FIELD_NUMBER: _ClassVar[int]
    printer_id: str
    def __init__(self, printer_id: _Optional[str] = ...) -> None: ...

class RemoveScanResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ScanProfile(_message.Message):
    __slots__ = ("id", "name_en", "name_de", "output", "ocr_languages", "destination", "file_name_pattern", "sidecar", "price_per_page_cents", "built_in")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    NAME_DE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    OCR_LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_PATTERN_FIELD_NUMBER: _ClassVar[int]
    SIDECAR_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_PAGE_CENTS_FIELD_NUMBER: _ClassVar[int]
    BUILT_IN_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_en: str
    name_de: str
    output: str
    ocr_languages: _containers.RepeatedScalarFieldContainer[str]
    destination: str
    file_name_pattern: str
    sidecar: str
    price_per_page_cents: int
    built_in: bool
    def __init__(self, id: _Optional[str] = ..., name_en: _Optional[str] = ..., name_de: _Optional[str] = ..., output: _Optional[str] = ..., ocr_languages: _Optional[_Iterable[str]] = ..., destination: _Optional[str] = ..., file_name_pattern: _Optional[str] = ..., sidecar: _Optional[str] = ..., price_per_page_cents: _Optional[int] = ..., built_in: _Optional[bool] = ...) -> None: ...

class ListScanProfilesAdminRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListScanProfilesAdminResponse(_message.Message):
    __slots__ = ("profiles",)
    PROFILES_FIELD_NUMBER: _ClassVar[int]
    profiles: _containers.RepeatedCompositeFieldContainer[ScanProfile]
    def __init__(self, profiles: _Optional[_Iterable[_Union[ScanProfile, _Mapping]]] = ...) -> None: ...

class ScanProfileRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListScanLogRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ScanLogEntry(_message.Message):
    __slots__ = ("scan_id", "printer_id", "user", "profile_id", "status", "pages", "amount_cents", "destination", "error", "recorded_at")
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    PRINTER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    scan_id: str
    printer_id: str
    user: str
    profile_id: str
    status: str
    pages: int
    amount_cents: int
    destination: str
    error: str
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, scan_id: _Optional[str] = ..., printer_id: _Optional[str] = ..., user: _Optional[str] = ..., profile_id: _Optional[str] = ..., status: _Optional[str] = ..., pages: _Optional[int] = ..., amount_cents: _Optional[int] = ..., destination: _Optional[str] = ..., error: _Optional[str] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListScanLogResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[ScanLogEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[ScanLogEntry, _Mapping]]] = ...) -> None: ...

class ListScanCounterChecksRequest(_message.Message):
    __slots__ = ("limit", "mismatches_only")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_ONLY_FIELD_NUMBER: _ClassVar[int]
    limit: int
    mismatches_only: bool
    def __init__(self, limit: _Optional[int] = ..., mismatches_only: _Optional[bool] = ...) -> None: ...

class ScanCounterCheck(_message.Message):
    __slots__ = ("session_id", "printer_id", "user", "status", "counter_pages", "delivered_pages", "failed_scans", "copy_pages", "reported_at", "checked_at", "sent_only")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PRINTER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNTER_PAGES_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_PAGES_FIELD_NUMBER: _ClassVar[int]
    FAILED_SCANS_FIELD_NUMBER: _ClassVar[int]
    COPY_PAGES_FIELD_NUMBER: _ClassVar[int]
    REPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_ONLY_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    printer_id: str
    user: str
    status: str
    counter_pages: int
    delivered_pages: int
    failed_scans: int
    copy_pages: int
    reported_at: _timestamp_pb2.Timestamp
    checked_at: _timestamp_pb2.Timestamp
    sent_only: bool
    def __init__(self, session_id: _Optional[str] = ..., printer_id: _Optional[str] = ..., user: _Optional[str] = ..., status: _Optional[str] = ..., counter_pages: _Optional[int] = ..., delivered_pages: _Optional[int] = ..., failed_scans: _Optional[int] = ..., copy_pages: _Optional[int] = ..., reported_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_only: _Optional[bool] = ...) -> None: ...

class ListScanCounterChecksResponse(_message.Message):
    __slots__ = ("checks",)
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[ScanCounterCheck]
    def __init__(self, checks: _Optional[_Iterable[_Union[ScanCounterCheck, _Mapping]]] = ...) -> None: ...
