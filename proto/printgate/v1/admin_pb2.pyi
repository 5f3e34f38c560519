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

class Billing(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_UNSPECIFIED: _ClassVar[Billing]
    BILLING_PREPAID: _ClassVar[Billing]
    BILLING_DEPARTMENT: _ClassVar[Billing]

class GroupKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_KIND_UNSPECIFIED: _ClassVar[GroupKind]
    GROUP_KIND_GROUP: _ClassVar[GroupKind]
    GROUP_KIND_DEPARTMENT: _ClassVar[GroupKind]

class TerminalKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TERMINAL_KIND_UNSPECIFIED: _ClassVar[TerminalKind]
    TERMINAL_KIND_TERMINAL: _ClassVar[TerminalKind]
    TERMINAL_KIND_KIOSK: _ClassVar[TerminalKind]

class AccountKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_KIND_UNSPECIFIED: _ClassVar[AccountKind]
    ACCOUNT_KIND_PREPAID: _ClassVar[AccountKind]
    ACCOUNT_KIND_POSTPAID: _ClassVar[AccountKind]
    ACCOUNT_KIND_SYSTEM: _ClassVar[AccountKind]
    ACCOUNT_KIND_ARREARS: _ClassVar[AccountKind]
BILLING_UNSPECIFIED: Billing
BILLING_PREPAID: Billing
BILLING_DEPARTMENT: Billing
GROUP_KIND_UNSPECIFIED: GroupKind
GROUP_KIND_GROUP: GroupKind
GROUP_KIND_DEPARTMENT: GroupKind
TERMINAL_KIND_UNSPECIFIED: TerminalKind
TERMINAL_KIND_TERMINAL: TerminalKind
TERMINAL_KIND_KIOSK: TerminalKind
ACCOUNT_KIND_UNSPECIFIED: AccountKind
ACCOUNT_KIND_PREPAID: AccountKind
ACCOUNT_KIND_POSTPAID: AccountKind
ACCOUNT_KIND_SYSTEM: AccountKind
ACCOUNT_KIND_ARREARS: AccountKind

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class User(_message.Message):
    __slots__ = ("id", "username", "full_name", "email", "department", "roles", "active", "billing", "groups", "has_pin", "has_password", "credit_limit_cents", "initial_password")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    BILLING_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    HAS_PIN_FIELD_NUMBER: _ClassVar[int]
    HAS_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    full_name: str
    email: str
    department: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    billing: Billing
    groups: _containers.RepeatedScalarFieldContainer[str]
    has_pin: bool
    has_password: bool
    credit_limit_cents: int
    initial_password: str
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ..., full_name: _Optional[str] = ..., email: _Optional[str] = ..., department: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ..., billing: _Optional[_Union[Billing, str]] = ..., groups: _Optional[_Iterable[str]] = ..., has_pin: _Optional[bool] = ..., has_password: _Optional[bool] = ..., credit_limit_cents: _Optional[int] = ..., initial_password: _Optional[str] = ...) -> None: ...

class UserRef(_message.Message):
    __slots__ = ("id", "username")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ...) -> None: ...

class UpdateUserRequest(_message.Message):
    __slots__ = ("user", "fields", "values")
    USER_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    fields: _containers.RepeatedScalarFieldContainer[str]
    values: User
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., fields: _Optional[_Iterable[str]] = ..., values: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("query", "limit", "offset")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    query: str
    limit: int
    offset: int
    def __init__(self, query: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "total")
    USERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    total: int
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class SetPinRequest(_message.Message):
    __slots__ = ("user", "pin")
    USER_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    pin: str
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., pin: _Optional[str] = ...) -> None: ...

class SetPinResponse(_message.Message):
    __slots__ = ("pin",)
    PIN_FIELD_NUMBER: _ClassVar[int]
    pin: str
    def __init__(self, pin: _Optional[str] = ...) -> None: ...

class SetPasswordRequest(_message.Message):
    __slots__ = ("user", "password")
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    password: str
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., password: _Optional[str] = ...) -> None: ...

class UnlockIdentityRequest(_message.Message):
    __slots__ = ("user", "terminal_id")
    USER_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    terminal_id: str
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., terminal_id: _Optional[str] = ...) -> None: ...

class ImportUsersRequest(_message.Message):
    __slots__ = ("csv", "dry_run")
    CSV_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    csv: str
    dry_run: bool
    def __init__(self, csv: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class ImportRowResult(_message.Message):
    __slots__ = ("line", "username", "action", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    username: str
    action: str
    message: str
    def __init__(self, line: _Optional[int] = ..., username: _Optional[str] = ..., action: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ImportUsersResponse(_message.Message):
    __slots__ = ("dry_run", "created", "updated", "unchanged", "errors", "rows")
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    errors: int
    rows: _containers.RepeatedCompositeFieldContainer[ImportRowResult]
    def __init__(self, dry_run: _Optional[bool] = ..., created: _Optional[int] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., errors: _Optional[int] = ..., rows: _Optional[_Iterable[_Union[ImportRowResult, _Mapping]]] = ...) -> None: ...

class Card(_message.Message):
    __slots__ = ("id", "user", "number", "label", "username")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    id: int
    user: UserRef
    number: str
    label: str
    username: str
    def __init__(self, id: _Optional[int] = ..., user: _Optional[_Union[UserRef, _Mapping]] = ..., number: _Optional[str] = ..., label: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class CardRef(_message.Message):
    __slots__ = ("number",)
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    number: str
    def __init__(self, number: _Optional[str] = ...) -> None: ...

class ListCardsResponse(_message.Message):
    __slots__ = ("cards",)
    CARDS_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[Card]
    def __init__(self, cards: _Optional[_Iterable[_Union[Card, _Mapping]]] = ...) -> None: ...

class Group(_message.Message):
    __slots__ = ("id", "name", "kind", "member_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    kind: GroupKind
    member_count: int
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[GroupKind, str]] = ..., member_count: _Optional[int] = ...) -> None: ...

class ListGroupsResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[Group]
    def __init__(self, groups: _Optional[_Iterable[_Union[Group, _Mapping]]] = ...) -> None: ...

class GroupMembershipRequest(_message.Message):
    __slots__ = ("group", "user", "member")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    group: str
    user: UserRef
    member: bool
    def __init__(self, group: _Optional[str] = ..., user: _Optional[_Union[UserRef, _Mapping]] = ..., member: _Optional[bool] = ...) -> None: ...

class Role(_message.Message):
    __slots__ = ("name", "requires_card_pin", "allowed_functions", "color_allowed", "project_required")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_CARD_PIN_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    COLOR_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    requires_card_pin: bool
    allowed_functions: _containers.RepeatedScalarFieldContainer[_common_pb2.Function]
    color_allowed: bool
    project_required: bool
    def __init__(self, name: _Optional[str] = ..., requires_card_pin: _Optional[bool] = ..., allowed_functions: _Optional[_Iterable[_Union[_common_pb2.Function, str]]] = ..., color_allowed: _Optional[bool] = ..., project_required: _Optional[bool] = ...) -> None: ...

class ListRolesResponse(_message.Message):
    __slots__ = ("roles",)
    ROLES_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedCompositeFieldContainer[Role]
    def __init__(self, roles: _Optional[_Iterable[_Union[Role, _Mapping]]] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("id", "code", "name", "all_users", "groups", "active", "account")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALL_USERS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    id: int
    code: str
    name: str
    all_users: bool
    groups: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    account: str
    def __init__(self, id: _Optional[int] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., all_users: _Optional[bool] = ..., groups: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ..., account: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects",)
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ...) -> None: ...

class Printer(_message.Message):
    __slots__ = ("id", "name", "address", "transport", "vendor_profile", "printer_group", "location")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    VENDOR_PROFILE_FIELD_NUMBER: _ClassVar[int]
    PRINTER_GROUP_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    address: str
    transport: str
    vendor_profile: str
    printer_group: str
    location: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., transport: _Optional[str] = ..., vendor_profile: _Optional[str] = ..., printer_group: _Optional[str] = ..., location: _Optional[str] = ...) -> None: ...

class ListPrintersResponse(_message.Message):
    __slots__ = ("printers",)
    PRINTERS_FIELD_NUMBER: _ClassVar[int]
    printers: _containers.RepeatedCompositeFieldContainer[Printer]
    def __init__(self, printers: _Optional[_Iterable[_Union[Printer, _Mapping]]] = ...) -> None: ...

class Terminal(_message.Message):
    __slots__ = ("id", "kind", "printer", "location")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRINTER_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: TerminalKind
    printer: str
    location: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[TerminalKind, str]] = ..., printer: _Optional[str] = ..., location: _Optional[str] = ...) -> None: ...

class CreateTerminalResponse(_message.Message):
    __slots__ = ("terminal", "key")
    TERMINAL_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    terminal: Terminal
    key: str
    def __init__(self, terminal: _Optional[_Union[Terminal, _Mapping]] = ..., key: _Optional[str] = ...) -> None: ...

class ListTerminalsResponse(_message.Message):
    __slots__ = ("terminals",)
    TERMINALS_FIELD_NUMBER: _ClassVar[int]
    terminals: _containers.RepeatedCompositeFieldContainer[Terminal]
    def __init__(self, terminals: _Optional[_Iterable[_Union[Terminal, _Mapping]]] = ...) -> None: ...

class CreateEnrollmentTokenRequest(_message.Message):
    __slots__ = ("kind", "printer", "terminal_id", "expires_s", "uses", "note")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRINTER_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_S_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    kind: TerminalKind
    printer: str
    terminal_id: str
    expires_s: int
    uses: int
    note: str
    def __init__(self, kind: _Optional[_Union[TerminalKind, str]] = ..., printer: _Optional[str] = ..., terminal_id: _Optional[str] = ..., expires_s: _Optional[int] = ..., uses: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class EnrollmentToken(_message.Message):
    __slots__ = ("token_id", "kind", "terminal_id", "printer", "uses_max", "uses_count", "created_at", "expires_at", "revoked_at", "state", "note")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    PRINTER_FIELD_NUMBER: _ClassVar[int]
    USES_MAX_FIELD_NUMBER: _ClassVar[int]
    USES_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    kind: TerminalKind
    terminal_id: str
    printer: str
    uses_max: int
    uses_count: int
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    state: str
    note: str
    def __init__(self, token_id: _Optional[str] = ..., kind: _Optional[_Union[TerminalKind, str]] = ..., terminal_id: _Optional[str] = ..., printer: _Optional[str] = ..., uses_max: _Optional[int] = ..., uses_count: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CreateEnrollmentTokenResponse(_message.Message):
    __slots__ = ("token", "info")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    token: str
    info: EnrollmentToken
    def __init__(self, token: _Optional[str] = ..., info: _Optional[_Union[EnrollmentToken, _Mapping]] = ...) -> None: ...

class ListEnrollmentTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[EnrollmentToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[EnrollmentToken, _Mapping]]] = ...) -> None: ...

class EnrollmentTokenRef(_message.Message):
    __slots__ = ("token_id",)
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    def __init__(self, token_id: _Optional[str] = ...) -> None: ...

class RevokeTerminalRequest(_message.Message):
    __slots__ = ("terminal_id", "reason")
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    terminal_id: str
    reason: str
    def __init__(self, terminal_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeTerminalResponse(_message.Message):
    __slots__ = ("revoked_certificates",)
    REVOKED_CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    revoked_certificates: int
    def __init__(self, revoked_certificates: _Optional[int] = ...) -> None: ...

class Price(_message.Message):
    __slots__ = ("printer_group", "function", "color", "paper_size", "duplex", "price_cents_per_page")
    PRINTER_GROUP_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    PAPER_SIZE_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    PRICE_CENTS_PER_PAGE_FIELD_NUMBER: _ClassVar[int]
    printer_group: str
    function: _common_pb2.Function
    color: _common_pb2.ColorMode
    paper_size: str
    duplex: bool
    price_cents_per_page: int
    def __init__(self, printer_group: _Optional[str] = ..., function: _Optional[_Union[_common_pb2.Function, str]] = ..., color: _Optional[_Union[_common_pb2.ColorMode, str]] = ..., paper_size: _Optional[str] = ..., duplex: _Optional[bool] = ..., price_cents_per_page: _Optional[int] = ...) -> None: ...

class ListPricesRequest(_message.Message):
    __slots__ = ("printer_group",)
    PRINTER_GROUP_FIELD_NUMBER: _ClassVar[int]
    printer_group: str
    def __init__(self, printer_group: _Optional[str] = ...) -> None: ...

class ListPricesResponse(_message.Message):
    __slots__ = ("prices",)
    PRICES_FIELD_NUMBER: _ClassVar[int]
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    def __init__(self, prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("id", "name", "kind", "balance_cents", "credit_limit_cents", "owner")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    kind: AccountKind
    balance_cents: int
    credit_limit_cents: int
    owner: str
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ..., balance_cents: _Optional[int] = ..., credit_limit_cents: _Optional[int] = ..., owner: _Optional[str] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ...) -> None: ...

class AdjustCreditRequest(_message.Message):
    __slots__ = ("user", "account", "amount_cents", "reason", "idempotency_key")
    USER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    account: str
    amount_cents: int
    reason: str
    idempotency_key: str
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., account: _Optional[str] = ..., amount_cents: _Optional[int] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AdjustCreditResponse(_message.Message):
    __slots__ = ("transaction_id", "balance_cents", "already_applied")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CENTS_FIELD_NUMBER: _ClassVar[int]
    ALREADY_APPLIED_FIELD_NUMBER: _ClassVar[int]
    transaction_id: int
    balance_cents: int
    already_applied: bool
    def __init__(self, transaction_id: _Optional[int] = ..., balance_cents: _Optional[int] = ..., already_applied: _Optional[bool] = ...) -> None: ...

class SetCreditLimitRequest(_message.Message):
    __slots__ = ("user", "credit_limit_cents")
    USER_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    credit_limit_cents: int
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., credit_limit_cents: _Optional[int] = ...) -> None: ...

class GetLedgerRequest(_message.Message):
    __slots__ = ("user", "account", "limit", "before_transaction_id")
    USER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    account: str
    limit: int
    before_transaction_id: int
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., account: _Optional[str] = ..., limit: _Optional[int] = ..., before_transaction_id: _Optional[int] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("transaction_id", "recorded_at", "kind", "account", "amount_cents", "balance_after_cents", "description", "terminal_id", "idempotency_key")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_CENTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    transaction_id: int
    recorded_at: _timestamp_pb2.Timestamp
    kind: str
    account: str
    amount_cents: int
    balance_after_cents: int
    description: str
    terminal_id: str
    idempotency_key: str
    def __init__(self, transaction_id: _Optional[int] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., account: _Optional[str] = ..., amount_cents: _Optional[int] = ..., balance_after_cents: _Optional[int] = ..., description: _Optional[str] = ..., terminal_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GetLedgerResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ...) -> None: ...

class CheckLedgerResponse(_message.Message):
    __slots__ = ("ok", "transactions", "accounts", "problems")
    OK_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    transactions: int
    accounts: int
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ok: _Optional[bool] = ..., transactions: _Optional[int] = ..., accounts: _Optional[int] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...

class QuotaRule(_message.Message):
    __slots__ = ("id", "name", "everyone", "group", "user", "period", "unit", "color_scope", "limit", "action")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVERYONE_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    COLOR_SCOPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    everyone: bool
    group: str
    user: UserRef
    period: _common_pb2.QuotaPeriod
    unit: _common_pb2.QuotaUnit
    color_scope: _common_pb2.QuotaColorScope
    limit: int
    action: _common_pb2.QuotaAction
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., everyone: _Optional[bool] = ..., group: _Optional[str] = ..., user: _Optional[_Union[UserRef, _Mapping]] = ..., period: _Optional[_Union[_common_pb2.QuotaPeriod, str]] = ..., unit: _Optional[_Union[_common_pb2.QuotaUnit, str]] = ..., color_scope: _Optional[_Union[_common_pb2.QuotaColorScope, str]] = ..., limit: _Optional[int] = ..., action: _Optional[_Union[_common_pb2.QuotaAction, str]] = ...) -> None: ...

class QuotaRuleRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListQuotaRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[QuotaRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[QuotaRule, _Mapping]]] = ...) -> None: ...

class Delegation(_message.Message):
    __slots__ = ("owner", "delegate_user", "delegate_group")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_USER_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_GROUP_FIELD_NUMBER: _ClassVar[int]
    owner: UserRef
    delegate_user: UserRef
    delegate_group: str
    def __init__(self, owner: _Optional[_Union[UserRef, _Mapping]] = ..., delegate_user: _Optional[_Union[UserRef, _Mapping]] = ..., delegate_group: _Optional[str] = ...) -> None: ...

class ListDelegationsRequest(_message.Message):
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: UserRef
    def __init__(self, owner: _Optional[_Union[UserRef, _Mapping]] = ...) -> None: ...

class ListDelegationsResponse(_message.Message):
    __slots__ = ("delegations",)
    DELEGATIONS_FIELD_NUMBER: _ClassVar[int]
    delegations: _containers.RepeatedCompositeFieldContainer[Delegation]
    def __init__(self, delegations: _Optional[_Iterable[_Union[Delegation, _Mapping]]] = ...) -> None: ...

class ListPrintJobsRequest(_message.Message):
    __slots__ = ("owner", "limit")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    owner: UserRef
    limit: int
    def __init__(self, owner: _Optional[_Union[UserRef, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class PrintJob(_message.Message):
    __slots__ = ("id", "owner", "submitted_by", "name", "state", "pages", "color_pages", "copies", "size_bytes", "source", "submitted_at", "expires_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    COLOR_PAGES_FIELD_NUMBER: _ClassVar[int]
    COPIES_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    owner: str
    submitted_by: str
    name: str
    state: str
    pages: int
    color_pages: int
    copies: int
    size_bytes: int
    source: str
    submitted_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., owner: _Optional[str] = ..., submitted_by: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., pages: _Optional[int] = ..., color_pages: _Optional[int] = ..., copies: _Optional[int] = ..., size_bytes: _Optional[int] = ..., source: _Optional[str] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPrintJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[PrintJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[PrintJob, _Mapping]]] = ...) -> None: ...

class DeletePrintJobsRequest(_message.Message):
    __slots__ = ("job_ids",)
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    job_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, job_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class DeletePrintJobsResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class AssignPrintJobRequest(_message.Message):
    __slots__ = ("job_id", "owner")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    owner: UserRef
    def __init__(self, job_id: _Optional[int] = ..., owner: _Optional[_Union[UserRef, _Mapping]] = ...) -> None: ...

class CreateConsoleUserRequest(_message.Message):
    __slots__ = ("username", "role", "password")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    username: str
    role: str
    password: str
    def __init__(self, username: _Optional[str] = ..., role: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class ConsoleUser(_message.Message):
    __slots__ = ("id", "username", "role", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    role: str
    active: bool
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ..., role: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ConsoleUserRef(_message.Message):
    __slots__ = ("username",)
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    username: str
    def __init__(self, username: _Optional[str] = ...) -> None: ...

class ListConsoleUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[ConsoleUser]
    def __init__(self, users: _Optional[_Iterable[_Union[ConsoleUser, _Mapping]]] = ...) -> None: ...

class ExportReportRequest(_message.Message):
    __slots__ = ("kind", "dimension", "first_day", "last_day", "format")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    FIRST_DAY_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    dimension: str
    first_day: str
    last_day: str
    format: str
    def __init__(self, kind: _Optional[str] = ..., dimension: _Optional[str] = ..., first_day: _Optional[str] = ..., last_day: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class ReportChunk(_message.Message):
    __slots__ = ("file_name", "content_type", "data")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    content_type: str
    data: bytes
    def __init__(self, file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ListJobRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class JobRule(_message.Message):
    __slots__ = ("position", "name", "rule_json")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RULE_JSON_FIELD_NUMBER: _ClassVar[int]
    position: int
    name: str
    rule_json: str
    def __init__(self, position: _Optional[int] = ..., name: _Optional[str] = ..., rule_json: _Optional[str] = ...) -> None: ...

class JobRuleList(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[JobRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[JobRule, _Mapping]]] = ...) -> None: ...

class AddJobRuleRequest(_message.Message):
    __slots__ = ("rule_json", "position")
    RULE_JSON_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    rule_json: str
    position: int
    def __init__(self, rule_json: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class JobRuleRef(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class MoveJobRuleRequest(_message.Message):
    __slots__ = ("name", "position")
    NAME_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    position: int
    def __init__(self, name: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class JobRulesTestRequest(_message.Message):
    __slots__ = ("pages", "copies", "color_pages", "size_bytes", "job_name", "application", "user", "groups", "queue", "source", "duplex", "mono")
    PAGES_FIELD_NUMBER: _ClassVar[int]
    COPIES_FIELD_NUMBER: _ClassVar[int]
    COLOR_PAGES_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    MONO_FIELD_NUMBER: _ClassVar[int]
    pages: int
    copies: int
    color_pages: int
    size_bytes: int
    job_name: str
    application: str
    user: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    queue: str
    source: str
    duplex: bool
    mono: bool
    def __init__(self, pages: _Optional[int] = ..., copies: _Optional[int] = ..., color_pages: _Optional[int] = ..., size_bytes: _Optional[int] = ..., job_name: _Optional[str] = ..., application: _Optional[str] = ..., user: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ..., queue: _Optional[str] = ..., source: _Optional[str] = ..., duplex: _Optional[bool] = ..., mono: _Optional[bool] = ...) -> None: ...

class JobRuling(_message.Message):
    __slots__ = ("deleted", "duplex", "mono", "copies", "printer_group", "fired", "reason", "notices", "groups")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    MONO_FIELD_NUMBER: _ClassVar[int]
    COPIES_FIELD_NUMBER: _ClassVar[int]
    PRINTER_GROUP_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    duplex: bool
    mono: bool
    copies: int
    printer_group: str
    fired: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    notices: _containers.RepeatedScalarFieldContainer[str]
    groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deleted: _Optional[bool] = ..., duplex: _Optional[bool] = ..., mono: _Optional[bool] = ..., copies: _Optional[int] = ..., printer_group: _Optional[str] = ..., fired: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., notices: _Optional[_Iterable[str]] = ..., groups: _Optional[_Iterable[str]] = ...) -> None: ...
