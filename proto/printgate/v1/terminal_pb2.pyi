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

class ReleaseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELEASE_STATE_UNSPECIFIED: _ClassVar[ReleaseState]
    RELEASE_STATE_QUEUED: _ClassVar[ReleaseState]
    RELEASE_STATE_SENDING: _ClassVar[ReleaseState]
    RELEASE_STATE_PRINTED: _ClassVar[ReleaseState]
    RELEASE_STATE_FAILED: _ClassVar[ReleaseState]
    RELEASE_STATE_REFUSED: _ClassVar[ReleaseState]
REPORT_OUTCOME_UNSPECIFIED: ReportOutcome
REPORT_OUTCOME_CREATED: ReportOutcome
REPORT_OUTCOME_ALREADY_APPLIED: ReportOutcome
RELEASE_STATE_UNSPECIFIED: ReleaseState
RELEASE_STATE_QUEUED: ReleaseState
RELEASE_STATE_SENDING: ReleaseState
RELEASE_STATE_PRINTED: ReleaseState
RELEASE_STATE_FAILED: ReleaseState
RELEASE_STATE_REFUSED: ReleaseState

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
    __slots__ = ("user", "account", "balance_cents", "credit_limit_cents", "available_cents", "arrears_cents", "blocked", "quotas", "allowed_functions", "color_allowed", "projects", "project_required", "expires_at", "auth_method", "postpaid", "prices", "printer_name", "printer_location")
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
    PRICES_FIELD_NUMBER: _ClassVar[int]
    PRINTER_NAME_FIELD_NUMBER: _ClassVar[int]
    PRINTER_LOCATION_FIELD_NUMBER: _ClassVar[int]
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
    prices: _containers.RepeatedCompositeFieldContainer[_common_pb2.PricedLine]
    printer_name: str
    printer_location: str
    def __init__(self, user: _Optional[_Union[UserSummary, _Mapping]] = ..., account: _Optional[str] = ..., balance_cents: _Optional[int] = ..., credit_limit_cents: _Optional[int] = ..., available_cents: _Optional[int] = ..., arrears_cents: _Optional[int] = ..., blocked: _Optional[bool] = ..., quotas: _Optional[_Iterable[_Union[_common_pb2.QuotaState, _Mapping]]] = ..., allowed_functions: _Optional[_Iterable[_Union[_common_pb2.Function, str]]] = ..., color_allowed: _Optional[bool] = ..., projects: _Optional[_Iterable[_Union[ProjectSummary, _Mapping]]] = ..., project_required: _Optional[bool] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., auth_method: _Optional[str] = ..., postpaid: _Optional[bool] = ..., prices: _Optional[_Iterable[_Union[_common_pb2.PricedLine, _Mapping]]] = ..., printer_name: _Optional[str] = ..., printer_location: _Optional[str] = ...) -> None: ...

class ReportUsageRequest(_message.Message):
    __slots__ = ("session_token", "idempotency_key", "lines", "project_code", "occurred_at", "performed", "description", "scan_counter_pages", "scan_counter_sent_only")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PERFORMED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCAN_COUNTER_PAGES_FIELD_NUMBER: _ClassVar[int]
    SCAN_COUNTER_SENT_ONLY_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    idempotency_key: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.UsageLine]
    project_code: str
    occurred_at: _timestamp_pb2.Timestamp
    performed: bool
    description: str
    scan_counter_pages: int
    scan_counter_sent_only: bool
    def __init__(self, session_token: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.UsageLine, _Mapping]]] = ..., project_code: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., performed: _Optional[bool] = ..., description: _Optional[str] = ..., scan_counter_pages: _Optional[int] = ..., scan_counter_sent_only: _Optional[bool] = ...) -> None: ...

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

class ListJobsRequest(_message.Message):
    __slots__ = ("session_token", "page_size", "page_token")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    page_size: int
    page_token: str
    def __init__(self, session_token: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class AllowedOverrides(_message.Message):
    __slots__ = ("to_mono", "to_duplex", "fewer_copies")
    TO_MONO_FIELD_NUMBER: _ClassVar[int]
    TO_DUPLEX_FIELD_NUMBER: _ClassVar[int]
    FEWER_COPIES_FIELD_NUMBER: _ClassVar[int]
    to_mono: bool
    to_duplex: bool
    fewer_copies: bool
    def __init__(self, to_mono: _Optional[bool] = ..., to_duplex: _Optional[bool] = ..., fewer_copies: _Optional[bool] = ...) -> None: ...

class JobOverrides(_message.Message):
    __slots__ = ("mono", "duplex", "copies")
    MONO_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    COPIES_FIELD_NUMBER: _ClassVar[int]
    mono: bool
    duplex: bool
    copies: int
    def __init__(self, mono: _Optional[bool] = ..., duplex: _Optional[bool] = ..., copies: _Optional[int] = ...) -> None: ...

class HeldJob(_message.Message):
    __slots__ = ("id", "name", "owner", "pages", "color_pages", "copies", "duplex", "paper_size", "estimated_price_cents", "submitted_at", "expires_at", "delegated", "printed", "allowed", "size_bytes", "document_format", "price_per_copy_cents", "price_mono_per_copy_cents", "price_duplex_per_copy_cents", "price_mono_duplex_per_copy_cents", "owner_verified", "analysing", "may_have_printed", "estimate_note", "favourite", "delegates", "rule_note")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    COLOR_PAGES_FIELD_NUMBER: _ClassVar[int]
    COPIES_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    PAPER_SIZE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_PRICE_CENTS_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    DELEGATED_FIELD_NUMBER: _ClassVar[int]
    PRINTED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_COPY_CENTS_FIELD_NUMBER: _ClassVar[int]
    PRICE_MONO_PER_COPY_CENTS_FIELD_NUMBER: _ClassVar[int]
    PRICE_DUPLEX_PER_COPY_CENTS_FIELD_NUMBER: _ClassVar[int]
    PRICE_MONO_DUPLEX_PER_COPY_CENTS_FIELD_NUMBER: _ClassVar[int]
    OWNER_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    ANALYSING_FIELD_NUMBER: _ClassVar[int]
    MAY_HAVE_PRINTED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_NOTE_FIELD_NUMBER: _ClassVar[int]
    FAVOURITE_FIELD_NUMBER: _ClassVar[int]
    DELEGATES_FIELD_NUMBER: _ClassVar[int]
    RULE_NOTE_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    owner: str
    pages: int
    color_pages: int
    copies: int
    duplex: bool
    paper_size: str
    estimated_price_cents: int
    submitted_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    delegated: bool
    printed: bool
    allowed: AllowedOverrides
    size_bytes: int
    document_format: str
    price_per_copy_cents: int
    price_mono_per_copy_cents: int
    price_duplex_per_copy_cents: int
    price_mono_duplex_per_copy_cents: int
    owner_verified: bool
    analysing: bool
    may_have_printed: bool
    estimate_note: str
    favourite: bool
    delegates: _containers.RepeatedCompositeFieldContainer[Colleague]
    rule_note: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., owner: _Optional[str] = ..., pages: _Optional[int] = ..., color_pages: _Optional[int] = ..., copies: _Optional[int] = ..., duplex: _Optional[bool] = ..., paper_size: _Optional[str] = ..., estimated_price_cents: _Optional[int] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delegated: _Optional[bool] = ..., printed: _Optional[bool] = ..., allowed: _Optional[_Union[AllowedOverrides, _Mapping]] = ..., size_bytes: _Optional[int] = ..., document_format: _Optional[str] = ..., price_per_copy_cents: _Optional[int] = ..., price_mono_per_copy_cents: _Optional[int] = ..., price_duplex_per_copy_cents: _Optional[int] = ..., price_mono_duplex_per_copy_cents: _Optional[int] = ..., owner_verified: _Optional[bool] = ..., analysing: _Optional[bool] = ..., may_have_printed: _Optional[bool] = ..., estimate_note: _Optional[str] = ..., favourite: _Optional[bool] = ..., delegates: _Optional[_Iterable[_Union[Colleague, _Mapping]]] = ..., rule_note: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[HeldJob]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[HeldJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetThumbnailRequest(_message.Message):
    __slots__ = ("session_token", "job_id")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    job_id: int
    def __init__(self, session_token: _Optional[str] = ..., job_id: _Optional[int] = ...) -> None: ...

class Thumbnail(_message.Message):
    __slots__ = ("png",)
    PNG_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    def __init__(self, png: _Optional[bytes] = ...) -> None: ...

class JobRelease(_message.Message):
    __slots__ = ("job_id", "overrides")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    overrides: JobOverrides
    def __init__(self, job_id: _Optional[int] = ..., overrides: _Optional[_Union[JobOverrides, _Mapping]] = ...) -> None: ...

class ReleaseJobsRequest(_message.Message):
    __slots__ = ("session_token", "jobs", "all", "project_code", "idempotency_key")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    jobs: _containers.RepeatedCompositeFieldContainer[JobRelease]
    all: bool
    project_code: str
    idempotency_key: str
    def __init__(self, session_token: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[JobRelease, _Mapping]]] = ..., all: _Optional[bool] = ..., project_code: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReleaseProgress(_message.Message):
    __slots__ = ("job_id", "state", "bytes_sent", "pages_printed", "pages_reported_by_printer", "charged_cents", "message")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    PAGES_PRINTED_FIELD_NUMBER: _ClassVar[int]
    PAGES_REPORTED_BY_PRINTER_FIELD_NUMBER: _ClassVar[int]
    CHARGED_CENTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    state: ReleaseState
    bytes_sent: int
    pages_printed: int
    pages_reported_by_printer: bool
    charged_cents: int
    message: str
    def __init__(self, job_id: _Optional[int] = ..., state: _Optional[_Union[ReleaseState, str]] = ..., bytes_sent: _Optional[int] = ..., pages_printed: _Optional[int] = ..., pages_reported_by_printer: _Optional[bool] = ..., charged_cents: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class DeleteJobsRequest(_message.Message):
    __slots__ = ("session_token", "job_ids")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    job_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, session_token: _Optional[str] = ..., job_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class DeleteJobsResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class LinkCardRequest(_message.Message):
    __slots__ = ("card_number", "username", "password")
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    card_number: str
    username: str
    password: str
    def __init__(self, card_number: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class SetFavouriteRequest(_message.Message):
    __slots__ = ("session_token", "job_id", "favourite")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    FAVOURITE_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    job_id: int
    favourite: bool
    def __init__(self, session_token: _Optional[str] = ..., job_id: _Optional[int] = ..., favourite: _Optional[bool] = ...) -> None: ...

class SetFavouriteResponse(_message.Message):
    __slots__ = ("favourite", "favourites", "favourites_max")
    FAVOURITE_FIELD_NUMBER: _ClassVar[int]
    FAVOURITES_FIELD_NUMBER: _ClassVar[int]
    FAVOURITES_MAX_FIELD_NUMBER: _ClassVar[int]
    favourite: bool
    favourites: int
    favourites_max: int
    def __init__(self, favourite: _Optional[bool] = ..., favourites: _Optional[int] = ..., favourites_max: _Optional[int] = ...) -> None: ...

class Colleague(_message.Message):
    __slots__ = ("username", "full_name", "department")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    username: str
    full_name: str
    department: str
    def __init__(self, username: _Optional[str] = ..., full_name: _Optional[str] = ..., department: _Optional[str] = ...) -> None: ...

class SearchColleaguesRequest(_message.Message):
    __slots__ = ("session_token", "query", "limit")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    query: str
    limit: int
    def __init__(self, session_token: _Optional[str] = ..., query: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SearchColleaguesResponse(_message.Message):
    __slots__ = ("colleagues",)
    COLLEAGUES_FIELD_NUMBER: _ClassVar[int]
    colleagues: _containers.RepeatedCompositeFieldContainer[Colleague]
    def __init__(self, colleagues: _Optional[_Iterable[_Union[Colleague, _Mapping]]] = ...) -> None: ...

class DelegateJobRequest(_message.Message):
    __slots__ = ("session_token", "job_id", "username", "withdraw")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    WITHDRAW_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    job_id: int
    username: str
    withdraw: bool
    def __init__(self, session_token: _Optional[str] = ..., job_id: _Optional[int] = ..., username: _Optional[str] = ..., withdraw: _Optional[bool] = ...) -> None: ...

class DelegateJobResponse(_message.Message):
    __slots__ = ("delegates",)
    DELEGATES_FIELD_NUMBER: _ClassVar[int]
    delegates: _containers.RepeatedCompositeFieldContainer[Colleague]
    def __init__(self, delegates: _Optional[_Iterable[_Union[Colleague, _Mapping]]] = ...) -> None: ...

class ScanProfileSummary(_message.Message):
    __slots__ = ("id", "name_en", "name_de", "price_per_page_cents", "searchable")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_EN_FIELD_NUMBER: _ClassVar[int]
    NAME_DE_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_PAGE_CENTS_FIELD_NUMBER: _ClassVar[int]
    SEARCHABLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name_en: str
    name_de: str
    price_per_page_cents: int
    searchable: bool
    def __init__(self, id: _Optional[str] = ..., name_en: _Optional[str] = ..., name_de: _Optional[str] = ..., price_per_page_cents: _Optional[int] = ..., searchable: _Optional[bool] = ...) -> None: ...

class ListScanProfilesRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class ListScanProfilesResponse(_message.Message):
    __slots__ = ("profiles", "chosen_id")
    PROFILES_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_ID_FIELD_NUMBER: _ClassVar[int]
    profiles: _containers.RepeatedCompositeFieldContainer[ScanProfileSummary]
    chosen_id: str
    def __init__(self, profiles: _Optional[_Iterable[_Union[ScanProfileSummary, _Mapping]]] = ..., chosen_id: _Optional[str] = ...) -> None: ...

class SetScanProfileRequest(_message.Message):
    __slots__ = ("session_token", "profile_id")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    profile_id: str
    def __init__(self, session_token: _Optional[str] = ..., profile_id: _Optional[str] = ...) -> None: ...

class SetScanProfileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
