"""Values to messages and back: a journal written before the values existed replays byte for byte."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st
from printgate.v1 import common_pb2, kiosk_pb2, terminal_pb2

from terminal_app.hub import wire
from terminal_app.hub.values import (
    CashDeviceKind,
    Colleague,
    ColorMode,
    FavouriteSet,
    Function,
    Outcome,
    QuotaUnit,
    ReleaseState,
    SecondFactorRequired,
    UsageLine,
    UsageReport,
)

UNKNOWN: Any = 99  # an enum number only a newer hub knows (the stubs accept known ones only)


def _stored_report() -> bytes:
    """A copy report as the terminal journaled it when it still built the message itself."""
    report = terminal_pb2.ReportUsageRequest(
        session_token="tok",
        idempotency_key="copy-1f2e",
        project_code="grant-7",
        performed=True,
        description="copy session at t1",
    )
    report.lines.extend(
        [
            common_pb2.UsageLine(
                function=common_pb2.FUNCTION_COPY, color=common_pb2.COLOR_MODE_MONO, paper_size="A4", pages=3
            ),
            common_pb2.UsageLine(
                function=common_pb2.FUNCTION_COPY, color=common_pb2.COLOR_MODE_COLOR, paper_size="A4", pages=1
            ),
        ]
    )
    stamp = Timestamp()
    stamp.FromMicroseconds(1_767_225_600_123_456)
    report.occurred_at.CopyFrom(stamp)
    return bytes(report.SerializeToString())


def test_a_stored_report_decodes_and_encodes_to_the_same_bytes() -> None:
    stored = _stored_report()
    report = wire.decode_report(stored)
    assert report == UsageReport(
        session_token="tok",
        idempotency_key="copy-1f2e",
        lines=(
            UsageLine(Function.COPY, ColorMode.MONO, "A4", duplex=False, pages=3),
            UsageLine(Function.COPY, ColorMode.COLOR, "A4", duplex=False, pages=1),
        ),
        project_code="grant-7",
        occurred_us=1_767_225_600_123_456,
        performed=True,
        description="copy session at t1",
    )
    assert wire.encode_report(report) == stored
    template = wire.decode_report(terminal_pb2.ReportUsageRequest(idempotency_key="k").SerializeToString())
    assert template.occurred_us is None and wire.encode_report(template) == b"\x12\x01k"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.builds(
        UsageReport,
        session_token=st.text(max_size=8),
        idempotency_key=st.text(min_size=1, max_size=8),
        lines=st.lists(
            st.builds(
                UsageLine,
                function=st.sampled_from([*Function, None]),
                color=st.sampled_from([*ColorMode, None]),
                paper_size=st.text(max_size=4),
                duplex=st.booleans(),
                pages=st.integers(0, 10**9),
            ),
            max_size=3,
        ).map(tuple),
        project_code=st.text(max_size=8),
        occurred_us=st.none() | st.integers(0, 2**52),
        performed=st.booleans(),
        description=st.text(max_size=8),
    )
)
def test_every_report_survives_the_journal(report: UsageReport) -> None:
    assert wire.decode_report(wire.encode_report(report)) == report


def test_answers_become_values_and_unknown_enums_do_not_crash() -> None:
    assert isinstance(
        wire.login(terminal_pb2.AuthenticateResponse(second_factor_required=True)), SecondFactorRequired
    )
    session = terminal_pb2.Session(
        user=terminal_pb2.UserSummary(id=7, username="alice", full_name="Alice A"),
        balance_cents=1000,
        available_cents=1200,
        allowed_functions=[common_pb2.FUNCTION_COPY, UNKNOWN],
        quotas=[
            common_pb2.QuotaState(
                name="month", unit=UNKNOWN, remaining=5, limit=10, action=common_pb2.QUOTA_ACTION_BLOCK
            )
        ],
    )
    value = wire.session(session)
    assert (value.user.user_id, value.user.username, value.available_cents) == (7, "alice", 1200)
    assert value.allowed_functions == frozenset({Function.COPY}) and value.copy_allowed
    assert value.quotas[0].unit is QuotaUnit.PAGES and value.quotas[0].blocking
    receipt = wire.report_receipt(terminal_pb2.ReportUsageResponse(outcome=UNKNOWN, charged_cents=5))
    assert receipt.outcome is None and receipt.charged_cents == 5
    applied = wire.report_receipt(
        terminal_pb2.ReportUsageResponse(outcome=terminal_pb2.REPORT_OUTCOME_ALREADY_APPLIED)
    )
    assert applied.outcome is Outcome.ALREADY_APPLIED
    progress = wire.release_progress(terminal_pb2.ReleaseProgress(job_id=3, state=UNKNOWN))
    assert progress.state is ReleaseState.QUEUED
    box = wire.cash_box(
        kiosk_pb2.CashBoxReport(
            expected_cents=450,
            lines=[
                kiosk_pb2.DenominationLine(
                    device_kind=kiosk_pb2.CASH_DEVICE_KIND_NOTE, value_cents=500, expected_count=1
                )
            ],
        )
    )
    assert box.last_emptied_us is None and box.lines[0].device_kind is CashDeviceKind.NOTE
    request = wire.empty_cash_box_request("tok", (("coin", 200, 3),), "empty-1", "")
    assert [(c.device_kind, c.value_cents, c.count) for c in request.counted] == [
        (kiosk_pb2.CASH_DEVICE_KIND_COIN, 200, 3)
    ]


def test_a_held_job_that_may_have_printed_says_so() -> None:
    """A release cut off where the printer could not say: the terminal shows it, and the
    screen words it (``job_may_have_printed``)."""
    message = terminal_pb2.HeldJob(id=4, name="report.pdf", owner="alice", pages=2, may_have_printed=True)
    held = wire.held_job(message)
    assert (held.job_id, held.may_have_printed, held.printed) == (4, True, False)
    assert wire.held_job(terminal_pb2.HeldJob(id=5)).may_have_printed is False


def test_sharing_answers_become_values() -> None:
    job = terminal_pb2.HeldJob(id=7, name="minutes", owner="alice", favourite=True)
    job.delegates.add(username="bob", full_name="Bob Builder", department="Works")
    value = wire.held_job(job)
    assert value.favourite and value.delegates == (Colleague("bob", "Bob Builder", "Works"),)
    assert wire.held_job(terminal_pb2.HeldJob(id=8)).delegates == ()
    session = wire.session(terminal_pb2.Session(printer_name="mfp-1", printer_location="Floor 2"))
    assert (session.printer_name, session.printer_location) == ("mfp-1", "Floor 2")
    answer = terminal_pb2.SetFavouriteResponse(favourite=True, favourites=3, favourites_max=20)
    assert wire.favourite_set(answer) == FavouriteSet(favourite=True, count=3, maximum=20)
