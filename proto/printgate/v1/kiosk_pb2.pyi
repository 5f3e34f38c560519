import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from printgate.v1 import admin_pb2 as _admin_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CashDeviceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASH_DEVICE_KIND_UNSPECIFIED: _ClassVar[CashDeviceKind]
    CASH_DEVICE_KIND_COIN: _ClassVar[CashDeviceKind]
    CASH_DEVICE_KIND_NOTE: _ClassVar[CashDeviceKind]

class CreditOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_OUTCOME_UNSPECIFIED: _ClassVar[CreditOutcome]
    CREDIT_OUTCOME_CREATED: _ClassVar[CreditOutcome]
    CREDIT_OUTCOME_ALREADY_APPLIED: _ClassVar[CreditOutcome]
CASH_DEVICE_KIND_UNSPECIFIED: CashDeviceKind
CASH_DEVICE_KIND_COIN: CashDeviceKind
CASH_DEVICE_KIND_NOTE: CashDeviceKind
CREDIT_OUTCOME_UNSPECIFIED: CreditOutcome
CREDIT_OUTCOME_CREATED: CreditOutcome
CREDIT_OUTCOME_ALREADY_APPLIED: CreditOutcome

class OpenRechargeRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class OpenRechargeResponse(_message.Message):
    __slots__ = ("recharge_id", "username", "balance_cents", "arrears_cents", "currency")
    RECHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ARREARS_CENTS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    recharge_id: int
    username: str
    balance_cents: int
    arrears_cents: int
    currency: str
    def __init__(self, recharge_id: _Optional[int] = ..., username: _Optional[str] = ..., balance_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class CreditCashEventRequest(_message.Message):
    __slots__ = ("recharge_id", "idempotency_key", "value_minor", "currency", "denomination", "device_kind", "occurred_at")
    RECHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DENOMINATION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    recharge_id: int
    idempotency_key: str
    value_minor: int
    currency: str
    denomination: str
    device_kind: CashDeviceKind
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, recharge_id: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., value_minor: _Optional[int] = ..., currency: _Optional[str] = ..., denomination: _Optional[str] = ..., device_kind: _Optional[_Union[CashDeviceKind, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditCashEventResponse(_message.Message):
    __slots__ = ("outcome", "transaction_id", "credited_cents", "balance_cents", "arrears_cents", "recharge_total_cents", "recorded_at")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CREDITED_CENTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ARREARS_CENTS_FIELD_NUMBER: _ClassVar[int]
    RECHARGE_TOTAL_CENTS_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    outcome: CreditOutcome
    transaction_id: int
    credited_cents: int
    balance_cents: int
    arrears_cents: int
    recharge_total_cents: int
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, outcome: _Optional[_Union[CreditOutcome, str]] = ..., transaction_id: _Optional[int] = ..., credited_cents: _Optional[int] = ..., balance_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., recharge_total_cents: _Optional[int] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CloseRechargeRequest(_message.Message):
    __slots__ = ("recharge_id",)
    RECHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    recharge_id: int
    def __init__(self, recharge_id: _Optional[int] = ...) -> None: ...

class DenominationCount(_message.Message):
    __slots__ = ("device_kind", "value_cents", "count")
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_CENTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    device_kind: CashDeviceKind
    value_cents: int
    count: int
    def __init__(self, device_kind: _Optional[_Union[CashDeviceKind, str]] = ..., value_cents: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class RechargeSummary(_message.Message):
    __slots__ = ("recharge_id", "kiosk_id", "username", "coins", "notes", "total_cents", "balance_cents", "arrears_cents", "transaction_ids", "opened_at", "closed_at", "currency")
    RECHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    KIOSK_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    COINS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CENTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ARREARS_CENTS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    recharge_id: int
    kiosk_id: str
    username: str
    coins: _containers.RepeatedCompositeFieldContainer[DenominationCount]
    notes: _containers.RepeatedCompositeFieldContainer[DenominationCount]
    total_cents: int
    balance_cents: int
    arrears_cents: int
    transaction_ids: _containers.RepeatedScalarFieldContainer[int]
    opened_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    currency: str
    def __init__(self, recharge_id: _Optional[int] = ..., kiosk_id: _Optional[str] = ..., username: _Optional[str] = ..., coins: _Optional[_Iterable[_Union[DenominationCount, _Mapping]]] = ..., notes: _Optional[_Iterable[_Union[DenominationCount, _Mapping]]] = ..., total_cents: _Optional[int] = ..., balance_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., transaction_ids: _Optional[_Iterable[int]] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ...) -> None: ...

class RedeemVoucherRequest(_message.Message):
    __slots__ = ("session_token", "code")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    code: str
    def __init__(self, session_token: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class RedeemVoucherResponse(_message.Message):
    __slots__ = ("outcome", "transaction_id", "credited_cents", "balance_cents", "arrears_cents", "batch_id", "recorded_at")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CREDITED_CENTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ARREARS_CENTS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    outcome: CreditOutcome
    transaction_id: int
    credited_cents: int
    balance_cents: int
    arrears_cents: int
    batch_id: int
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, outcome: _Optional[_Union[CreditOutcome, str]] = ..., transaction_id: _Optional[int] = ..., credited_cents: _Optional[int] = ..., balance_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., batch_id: _Optional[int] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RedeemVoucherForUserRequest(_message.Message):
    __slots__ = ("user", "code")
    USER_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    user: _admin_pb2.UserRef
    code: str
    def __init__(self, user: _Optional[_Union[_admin_pb2.UserRef, _Mapping]] = ..., code: _Optional[str] = ...) -> None: ...

class UnlockVoucherRedemptionRequest(_message.Message):
    __slots__ = ("user", "terminal_id")
    USER_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    user: _admin_pb2.UserRef
    terminal_id: str
    def __init__(self, user: _Optional[_Union[_admin_pb2.UserRef, _Mapping]] = ..., terminal_id: _Optional[str] = ...) -> None: ...

class CreateVoucherBatchRequest(_message.Message):
    __slots__ = ("value_cents", "count", "expires_at", "prefix", "label")
    VALUE_CENTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    value_cents: int
    count: int
    expires_at: _timestamp_pb2.Timestamp
    prefix: str
    label: str
    def __init__(self, value_cents: _Optional[int] = ..., count: _Optional[int] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., prefix: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class VoucherBatch(_message.Message):
    __slots__ = ("id", "label", "prefix", "value_cents", "count", "redeemed", "created_at", "expires_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    VALUE_CENTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    label: str
    prefix: str
    value_cents: int
    count: int
    redeemed: int
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., label: _Optional[str] = ..., prefix: _Optional[str] = ..., value_cents: _Optional[int] = ..., count: _Optional[int] = ..., redeemed: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VoucherBatchCreated(_message.Message):
    __slots__ = ("batch", "codes", "csv")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    batch: VoucherBatch
    codes: _containers.RepeatedScalarFieldContainer[str]
    csv: str
    def __init__(self, batch: _Optional[_Union[VoucherBatch, _Mapping]] = ..., codes: _Optional[_Iterable[str]] = ..., csv: _Optional[str] = ...) -> None: ...

class ListVoucherBatchesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVoucherBatchesResponse(_message.Message):
    __slots__ = ("batches",)
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    batches: _containers.RepeatedCompositeFieldContainer[VoucherBatch]
    def __init__(self, batches: _Optional[_Iterable[_Union[VoucherBatch, _Mapping]]] = ...) -> None: ...

class ExportVoucherBatchRequest(_message.Message):
    __slots__ = ("batch_id", "include_redeemed")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REDEEMED_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    include_redeemed: bool
    def __init__(self, batch_id: _Optional[int] = ..., include_redeemed: _Optional[bool] = ...) -> None: ...

class VoucherExport(_message.Message):
    __slots__ = ("batch", "csv")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    batch: VoucherBatch
    csv: str
    def __init__(self, batch: _Optional[_Union[VoucherBatch, _Mapping]] = ..., csv: _Optional[str] = ...) -> None: ...

class CashBoxRef(_message.Message):
    __slots__ = ("kiosk_id",)
    KIOSK_ID_FIELD_NUMBER: _ClassVar[int]
    kiosk_id: str
    def __init__(self, kiosk_id: _Optional[str] = ...) -> None: ...

class OperatorRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class DenominationLine(_message.Message):
    __slots__ = ("device_kind", "value_cents", "expected_count", "counted_count")
    DEVICE_KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_CENTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    COUNTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    device_kind: CashDeviceKind
    value_cents: int
    expected_count: int
    counted_count: int
    def __init__(self, device_kind: _Optional[_Union[CashDeviceKind, str]] = ..., value_cents: _Optional[int] = ..., expected_count: _Optional[int] = ..., counted_count: _Optional[int] = ...) -> None: ...

class CashBoxReport(_message.Message):
    __slots__ = ("kiosk_id", "expected_cents", "lines", "last_emptied_at", "currency")
    KIOSK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CENTS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    LAST_EMPTIED_AT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    kiosk_id: str
    expected_cents: int
    lines: _containers.RepeatedCompositeFieldContainer[DenominationLine]
    last_emptied_at: _timestamp_pb2.Timestamp
    currency: str
    def __init__(self, kiosk_id: _Optional[str] = ..., expected_cents: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[DenominationLine, _Mapping]]] = ..., last_emptied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ...) -> None: ...

class EmptyCashBoxRequest(_message.Message):
    __slots__ = ("kiosk_id", "counted", "idempotency_key", "note")
    KIOSK_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    kiosk_id: str
    counted: _containers.RepeatedCompositeFieldContainer[DenominationCount]
    idempotency_key: str
    note: str
    def __init__(self, kiosk_id: _Optional[str] = ..., counted: _Optional[_Iterable[_Union[DenominationCount, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class KioskEmptyCashBoxRequest(_message.Message):
    __slots__ = ("session_token", "counted", "idempotency_key", "note")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    counted: _containers.RepeatedCompositeFieldContainer[DenominationCount]
    idempotency_key: str
    note: str
    def __init__(self, session_token: _Optional[str] = ..., counted: _Optional[_Iterable[_Union[DenominationCount, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CashBoxEmptied(_message.Message):
    __slots__ = ("outcome", "transaction_id", "kiosk_id", "expected_cents", "counted_cents", "difference_cents", "lines", "emptied_at")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIOSK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CENTS_FIELD_NUMBER: _ClassVar[int]
    COUNTED_CENTS_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    EMPTIED_AT_FIELD_NUMBER: _ClassVar[int]
    outcome: CreditOutcome
    transaction_id: int
    kiosk_id: str
    expected_cents: int
    counted_cents: int
    difference_cents: int
    lines: _containers.RepeatedCompositeFieldContainer[DenominationLine]
    emptied_at: _timestamp_pb2.Timestamp
    def __init__(self, outcome: _Optional[_Union[CreditOutcome, str]] = ..., transaction_id: _Optional[int] = ..., kiosk_id: _Optional[str] = ..., expected_cents: _Optional[int] = ..., counted_cents: _Optional[int] = ..., difference_cents: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[DenominationLine, _Mapping]]] = ..., emptied_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
