from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Function(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUNCTION_UNSPECIFIED: _ClassVar[Function]
    FUNCTION_PRINT: _ClassVar[Function]
    FUNCTION_COPY: _ClassVar[Function]
    FUNCTION_SCAN: _ClassVar[Function]
    FUNCTION_FAX: _ClassVar[Function]

class ColorMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLOR_MODE_UNSPECIFIED: _ClassVar[ColorMode]
    COLOR_MODE_MONO: _ClassVar[ColorMode]
    COLOR_MODE_COLOR: _ClassVar[ColorMode]

class QuotaPeriod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTA_PERIOD_UNSPECIFIED: _ClassVar[QuotaPeriod]
    QUOTA_PERIOD_DAY: _ClassVar[QuotaPeriod]
    QUOTA_PERIOD_WEEK: _ClassVar[QuotaPeriod]
    QUOTA_PERIOD_MONTH: _ClassVar[QuotaPeriod]

class QuotaUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTA_UNIT_UNSPECIFIED: _ClassVar[QuotaUnit]
    QUOTA_UNIT_PAGES: _ClassVar[QuotaUnit]
    QUOTA_UNIT_CENTS: _ClassVar[QuotaUnit]

class QuotaColorScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTA_COLOR_SCOPE_UNSPECIFIED: _ClassVar[QuotaColorScope]
    QUOTA_COLOR_SCOPE_ANY: _ClassVar[QuotaColorScope]
    QUOTA_COLOR_SCOPE_MONO: _ClassVar[QuotaColorScope]
    QUOTA_COLOR_SCOPE_COLOR: _ClassVar[QuotaColorScope]

class QuotaAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTA_ACTION_UNSPECIFIED: _ClassVar[QuotaAction]
    QUOTA_ACTION_BLOCK: _ClassVar[QuotaAction]
    QUOTA_ACTION_WARN: _ClassVar[QuotaAction]
FUNCTION_UNSPECIFIED: Function
FUNCTION_PRINT: Function
FUNCTION_COPY: Function
FUNCTION_SCAN: Function
FUNCTION_FAX: Function
COLOR_MODE_UNSPECIFIED: ColorMode
COLOR_MODE_MONO: ColorMode
COLOR_MODE_COLOR: ColorMode
QUOTA_PERIOD_UNSPECIFIED: QuotaPeriod
QUOTA_PERIOD_DAY: QuotaPeriod
QUOTA_PERIOD_WEEK: QuotaPeriod
QUOTA_PERIOD_MONTH: QuotaPeriod
QUOTA_UNIT_UNSPECIFIED: QuotaUnit
QUOTA_UNIT_PAGES: QuotaUnit
QUOTA_UNIT_CENTS: QuotaUnit
QUOTA_COLOR_SCOPE_UNSPECIFIED: QuotaColorScope
QUOTA_COLOR_SCOPE_ANY: QuotaColorScope
QUOTA_COLOR_SCOPE_MONO: QuotaColorScope
QUOTA_COLOR_SCOPE_COLOR: QuotaColorScope
QUOTA_ACTION_UNSPECIFIED: QuotaAction
QUOTA_ACTION_BLOCK: QuotaAction
QUOTA_ACTION_WARN: QuotaAction

class UsageLine(_message.Message):
    __slots__ = ("function", "color", "paper_size", "duplex", "pages")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    PAPER_SIZE_FIELD_NUMBER: _ClassVar[int]
    DUPLEX_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    function: Function
    color: ColorMode
    paper_size: str
    duplex: bool
    pages: int
    def __init__(self, function: _Optional[_Union[Function, str]] = ..., color: _Optional[_Union[ColorMode, str]] = ..., paper_size: _Optional[str] = ..., duplex: _Optional[bool] = ..., pages: _Optional[int] = ...) -> None: ...

class PricedLine(_message.Message):
    __slots__ = ("line", "unit_price_cents", "amount_cents")
    LINE_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_CENTS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    line: UsageLine
    unit_price_cents: int
    amount_cents: int
    def __init__(self, line: _Optional[_Union[UsageLine, _Mapping]] = ..., unit_price_cents: _Optional[int] = ..., amount_cents: _Optional[int] = ...) -> None: ...

class QuotaState(_message.Message):
    __slots__ = ("rule_id", "name", "period", "unit", "color_scope", "action", "limit", "used", "remaining", "period_start")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    COLOR_SCOPE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    rule_id: int
    name: str
    period: QuotaPeriod
    unit: QuotaUnit
    color_scope: QuotaColorScope
    action: QuotaAction
    limit: int
    used: int
    remaining: int
    period_start: str
    def __init__(self, rule_id: _Optional[int] = ..., name: _Optional[str] = ..., period: _Optional[_Union[QuotaPeriod, str]] = ..., unit: _Optional[_Union[QuotaUnit, str]] = ..., color_scope: _Optional[_Union[QuotaColorScope, str]] = ..., action: _Optional[_Union[QuotaAction, str]] = ..., limit: _Optional[int] = ..., used: _Optional[int] = ..., remaining: _Optional[int] = ..., period_start: _Optional[str] = ...) -> None: ...
