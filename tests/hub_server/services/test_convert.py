"""The enum tables of the services: each covers every value of its protobuf enum and exactly the
words the domain uses, so a word added on one side without the other fails here."""

from __future__ import annotations

from typing import Any

import pytest
from printgate.v1 import admin_pb2, common_pb2, kiosk_pb2, terminal_pb2

from hub_server.domain import accounts, devices, kiosk, pricing, quotas, users
from hub_server.errors import InvalidRequest
from hub_server.services import convert

# (table, protobuf enum, the domain's words)
TABLES: list[tuple[Any, Any, tuple[str, ...]]] = [
    (convert.FUNCTION, common_pb2.Function, pricing.FUNCTIONS),
    (convert.COLOR, common_pb2.ColorMode, pricing.COLORS),
    (convert.QUOTA_PERIOD, common_pb2.QuotaPeriod, quotas.PERIODS),
    (convert.QUOTA_UNIT, common_pb2.QuotaUnit, quotas.UNITS),
    (convert.QUOTA_COLOR_SCOPE, common_pb2.QuotaColorScope, quotas.COLOR_SCOPES),
    (convert.QUOTA_ACTION, common_pb2.QuotaAction, quotas.ACTIONS),
    (convert.BILLING, admin_pb2.Billing, users.BILLINGS),
    (convert.GROUP_KIND, admin_pb2.GroupKind, users.GROUP_KINDS),
    (convert.TERMINAL_KIND, admin_pb2.TerminalKind, devices.TERMINAL_KINDS),
    (convert.ACCOUNT_KIND, admin_pb2.AccountKind, accounts.ACCOUNT_KINDS),
    (convert.CASH_DEVICE_KIND, kiosk_pb2.CashDeviceKind, kiosk.DEVICE_KINDS),
    (convert.RELEASE_STATE, terminal_pb2.ReleaseState, ("queued", "sending", "printed", "failed", "refused")),
]


@pytest.mark.parametrize(
    ("table", "enum", "words"),
    TABLES,
    ids=lambda item: getattr(item, "DESCRIPTOR", None) and item.DESCRIPTOR.name,
)
def test_every_enum_value_has_the_domains_word(table: Any, enum: Any, words: tuple[str, ...]) -> None:
    values = [value.number for value in enum.DESCRIPTOR.values if value.number]  # 0: proto3's unset
    assert sorted(table.word(value, "x") for value in values) == sorted(words)
    assert [table.value(table.word(value, "x")) for value in values] == values


def test_an_unset_or_unknown_value_is_refused_or_defaulted() -> None:
    with pytest.raises(InvalidRequest, match=r"^colour mode must be set$"):
        convert.COLOR.word(common_pb2.COLOR_MODE_UNSPECIFIED, "colour mode")
    with pytest.raises(InvalidRequest, match=r"^function must be set$"):
        convert.FUNCTION.word(99, "function")
    assert convert.BILLING.word_or(0, "prepaid") == "prepaid"
    assert 0 not in convert.FUNCTION and common_pb2.FUNCTION_COPY in convert.FUNCTION


def test_user_references_and_outcomes() -> None:
    assert convert.user_ref(admin_pb2.UserRef(id=7)) == users.UserRef(id=7)
    assert convert.user_ref(admin_pb2.UserRef(username="alice")) == users.UserRef(username="alice")
    assert convert.user_ref(admin_pb2.UserRef()) == users.UserRef()
    assert convert.credit_outcome(True) == kiosk_pb2.CREDIT_OUTCOME_ALREADY_APPLIED
    assert convert.credit_outcome(False) == kiosk_pb2.CREDIT_OUTCOME_CREATED
    assert convert.timestamp_from_us(1_767_225_600_123_456).ToJsonString() == "2026-01-01T00:00:00.123456Z"
