import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from printgate.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_OUTCOME_UNSPECIFIED: _ClassVar[ReportOutcome]
    REPORT_OUTCOME_CREATED: _ClassVar[ReportOutcome]
    REPORT_OUTCOME_ALREADY_APPLIED: _ClassVar[ReportOutcome]
REPORT_OUTCOME_UNSPECIFIED: ReportOutcome
REPORT_OUTCOME_CREATED: ReportOutcome
REPORT_OUTCOME_ALREADY_APPLIED: ReportOutcome

class CardCredential(_message.Message):
    __slots__ = ("number", "pin")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    number: str
    pin: str
    def __init__(self, number: _Optional[str] = ..., pin: _Optional[str] = ...) -> None: ...

class PinCredential(_message.Message):
    __slots__ = ("pin",)
    PIN_FIELD_NUMBER: _ClassVar[int]
    pin: str
    def __init__(self, pin: _Optional[str] = ...) -> None: ...

class PasswordCredential(_message.Message):
    __slots__ = ("username", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class AuthenticateRequest(_message.Message):
    __slots__ = ("card", "pin", "password")
    CARD_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    card: CardCredential
    pin: PinCredential
    password: PasswordCredential
    def __init__(self, card: _Optional[_Union[CardCredential, _Mapping]] = ..., pin: _Optional[_Union[PinCredential, _Mapping]] = ..., password: _Optional[_Union[PasswordCredential, _Mapping]] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("second_factor_required", "session_token", "session")
    SECOND_FACTOR_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    second_factor_required: bool
    session_token: str
    session: Session
    def __init__(self, second_factor_required: _Optional[bool] = ..., session_token: _Optional[str] = ..., session: _Optional[_Union[Session, _Mapping]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class UserSummary(_message.Message):
    __slots__ = ("id", "username", "full_name", "email", "department")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    full_name: str
    email: str
    department: str
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ..., full_name: _Optional[str] = ..., email: _Optional[str] = ..., department: _Optional[str] = ...) -> None: ...

class ProjectSummary(_message.Message):
    __slots__ = ("code", "name")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("user", "account", "balance_cents", "credit_limit_cents", "available_cents", "arrears_cents", "blocked", "quotas", "allowed_functions", "color_allowed", "projects", "project_required", "expires_at", "auth_method", "postpaid")
    USER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ARREARS_CENTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    COLOR_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    AUTH_METHOD_FIELD_NUMBER: _ClassVar[int]
    POSTPAID_FIELD_NUMBER: _ClassVar[int]
    user: UserSummary
    account: str
    balance_cents: int
    credit_limit_cents: int
    available_cents: int
    arrears_cents: int
    blocked: bool
    quotas: _containers.RepeatedCompositeFieldContainer[_common_pb2.QuotaState]
    allowed_functions: _containers.RepeatedScalarFieldContainer[_common_pb2.Function]
    color_allowed: bool
    projects: _containers.RepeatedCompositeFieldContainer[ProjectSummary]
    project_required: bool
    expires_at: _timestamp_pb2.Timestamp
    auth_method: str
    postpaid: bool
    def __init__(self, user: _Optional[_Union[UserSummary, _Mapping]] = ..., account: _Optional[str] = ..., balance_cents: _Optional[int] = ..., credit_limit_cents: _Optional[int] = ..., available_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., blocked: _Optional[bool] = ..., quotas: _Optional[_Iterable[_Union[_common_pb2.QuotaState, _Mapping]]] = ..., allowed_functions: _Optional[_Iterable[_Union[_common_pb2.Function, str]]] = ..., color_allowed: _Optional[bool] = ..., projects: _Optional[_Iterable[_Union[ProjectSummary, _Mapping]]] = ..., project_required: _Optional[bool] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., auth_method: _Optional[str] = ..., postpaid: _Optional[bool] = ...) -> None: ...

class ReportUsageRequest(_message.Message):
    __slots__ = ("session_token", "idempotency_key", "lines", "project_code", "occurred_at", "performed", "description")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PERFORMED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    idempotency_key: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.UsageLine]
    project_code: str
    occurred_at: _timestamp_pb2.Timestamp
    performed: bool
    description: str
    def __init__(self, session_token: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.UsageLine, _Mapping]]] = ..., project_code: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., performed: _Optional[bool] = ..., description: _Optional[str] = ...) -> None: ...

class ReportUsageResponse(_message.Message):
    __slots__ = ("outcome", "transaction_id", "charged_cents", "priced_lines", "account", "balance_cents", "arrears_cents", "blocked", "quota_warnings", "recorded_at")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHARGED_CENTS_FIELD_NUMBER: _ClassVar[int]
    PRICED_LINES_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ARREARS_CENTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    QUOTA_WARNINGS_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    outcome: ReportOutcome
    transaction_id: int
    charged_cents: int
    priced_lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.PricedLine]
    account: str
    balance_cents: int
    arrears_cents: int
    blocked: bool
    quota_warnings: _containers.RepeatedScalarFieldContainer[str]
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, outcome: _Optional[_Union[ReportOutcome, str]] = ..., transaction_id: _Optional[int] = ..., charged_cents: _Optional[int] = ..., priced_lines: _Optional[_Iterable[_Union[_common_pb2.PricedLine, _Mapping]]] = ..., account: _Optional[str] = ..., balance_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., blocked: _Optional[bool] = ..., quota_warnings: _Optional[_Iterable[str]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LogoutRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class LogoutResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
