"""Conversions the servicers share: every protobuf enum beside the domain's words for it, user
references, timestamps, replay outcomes. One home for each, so no servicer imports another's.

A conversion that only one servicer needs stays in that servicer's module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import admin_pb2, common_pb2, kiosk_pb2, terminal_pb2

from hub_server.domain.users import UserRef
from hub_server.errors import InvalidRequest

__all__ = [
    "ACCOUNT_KIND",
    "BILLING",
    "CASH_DEVICE_KIND",
    "COLOR",
    "FUNCTION",
    "GROUP_KIND",
    "QUOTA_ACTION",
    "QUOTA_COLOR_SCOPE",
    "QUOTA_PERIOD",
    "QUOTA_UNIT",
    "RELEASE_STATE",
    "TERMINAL_KIND",
    "EnumTable",
    "credit_outcome",
    "timestamp_from_us",
    "user_ref",
]

E = TypeVar("E", bound=int)


class EnumTable(Generic[E]):
    """A protobuf enum's values and the domain's word for each (0, proto3's "unset", has none)."""

    def __init__(self, words: Mapping[E, str]) -> None:
        self._words: dict[int, str] = {int(value): word for value, word in words.items()}
        self._values: dict[str, E] = {word: value for value, word in words.items()}

    def __contains__(self, value: object) -> bool:
        return value in self._words

    @property
    def words(self) -> tuple[str, ...]:
        """Every word, in the enum's order."""
        return tuple(self._words.values())

    def word(self, value: int, what: str) -> str:
        """The word for ``value``; :class:`InvalidRequest` when it is unset or unknown."""
        if value not in self._words:
            raise InvalidRequest(f"{what} must be set")
        return self._words[value]

    def word_or(self, value: int, default: str) -> str:
        """The word for ``value``, or ``default`` when it is unset or unknown."""
        return self._words.get(value, default)

    def value(self, word: str) -> E:
        """The enum value for a domain word."""
        return self._values[word]


FUNCTION = EnumTable(
    {
        common_pb2.FUNCTION_PRINT: "print",
        common_pb2.FUNCTION_COPY: "copy",
        common_pb2.FUNCTION_SCAN: "scan",
        common_pb2.FUNCTION_FAX: "fax",
    }
)
COLOR = EnumTable({common_pb2.COLOR_MODE_MONO: "mono", common_pb2.COLOR_MODE_COLOR: "color"})
QUOTA_PERIOD = EnumTable(
    {
        common_pb2.QUOTA_PERIOD_DAY: "day",
        common_pb2.QUOTA_PERIOD_WEEK: "week",
        common_pb2.QUOTA_PERIOD_MONTH: "month",
    }
)
QUOTA_UNIT = EnumTable({common_pb2.QUOTA_UNIT_PAGES: "pages", common_pb2.QUOTA_UNIT_CENTS: "cents"})
QUOTA_COLOR_SCOPE = EnumTable(
    {
        common_pb2.QUOTA_COLOR_SCOPE_ANY: "any",
        common_pb2.QUOTA_COLOR_SCOPE_MONO: "mono",
        common_pb2.QUOTA_COLOR_SCOPE_COLOR: "color",
    }
)
QUOTA_ACTION = EnumTable({common_pb2.QUOTA_ACTION_BLOCK: "block", common_pb2.QUOTA_ACTION_WARN: "warn"})
BILLING = EnumTable({admin_pb2.BILLING_PREPAID: "prepaid", admin_pb2.BILLING_DEPARTMENT: "department"})
TERMINAL_KIND = EnumTable(
    {admin_pb2.TERMINAL_KIND_TERMINAL: "terminal", admin_pb2.TERMINAL_KIND_KIOSK: "kiosk"}
)
GROUP_KIND = EnumTable({admin_pb2.GROUP_KIND_GROUP: "group", admin_pb2.GROUP_KIND_DEPARTMENT: "department"})
ACCOUNT_KIND = EnumTable(
    {
        admin_pb2.ACCOUNT_KIND_PREPAID: "prepaid",
        admin_pb2.ACCOUNT_KIND_POSTPAID: "postpaid",
        admin_pb2.ACCOUNT_KIND_SYSTEM: "system",
        admin_pb2.ACCOUNT_KIND_ARREARS: "arrears",
    }
)
CASH_DEVICE_KIND = EnumTable(
    {kiosk_pb2.CASH_DEVICE_KIND_COIN: "coin", kiosk_pb2.CASH_DEVICE_KIND_NOTE: "note"}
)
RELEASE_STATE = EnumTable(
    {
        terminal_pb2.RELEASE_STATE_QUEUED: "queued",
        terminal_pb2.RELEASE_STATE_SENDING: "sending",
        terminal_pb2.RELEASE_STATE_PRINTED: "printed",
        terminal_pb2.RELEASE_STATE_FAILED: "failed",
        terminal_pb2.RELEASE_STATE_REFUSED: "refused",
    }
)


def credit_outcome(already_applied: bool) -> kiosk_pb2.CreditOutcome:
    """CREATED, or ALREADY_APPLIED for a replay answered with the first result."""
    return kiosk_pb2.CREDIT_OUTCOME_ALREADY_APPLIED if already_applied else kiosk_pb2.CREDIT_OUTCOME_CREATED


def user_ref(message: admin_pb2.UserRef) -> UserRef:
    """A user reference by id or username (neither: a reference to nobody, refused by the domain)."""
    which = message.WhichOneof("ref")
    if which == "id":
        return UserRef(id=message.id)
    if which == "username":
        return UserRef(username=message.username)
    return UserRef()


def timestamp_from_us(microseconds_since_epoch: int) -> Timestamp:
    """A protobuf Timestamp for microseconds since the epoch."""
    stamp = Timestamp()
    stamp.FromMicroseconds(microseconds_since_epoch)
    return stamp
