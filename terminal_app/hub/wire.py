"""Messages to values and back: the one place where protobuf meets :mod:`terminal_app.hub.values`.

Enum tables are data (one per protobuf enum); a value the hub sends that this client does not know
becomes ``None`` (or the documented default), never an exception. Usage reports are stored in the
terminal's journal as the serialized ``ReportUsageRequest`` (:func:`encode_report`,
:func:`decode_report`), so a journal written before this module existed replays unchanged.
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import common_pb2, kiosk_pb2, terminal_pb2

from terminal_app.hub.values import (
    CashBox,
    CashBoxEmptied,
    CashCredit,
    CashCredited,
    CashDeviceKind,
    Colleague,
    ColorMode,
    DenominationLine,
    FavouriteSet,
    Function,
    HeldJob,
    JobRelease,
    Login,
    Outcome,
    PricedLine,
    Project,
    Quota,
    QuotaUnit,
    RechargeOpened,
    RechargeSummary,
    ReleaseProgress,
    ReleaseState,
    ReportReceipt,
    ScanChoice,
    ScanMenu,
    SecondFactorRequired,
    Session,
    UsageLine,
    UsageReport,
    User,
    VoucherRedeemed,
)

__all__ = [
    "cash_box",
    "cash_box_emptied",
    "cash_credit_request",
    "cash_credited",
    "decode_report",
    "empty_cash_box_request",
    "encode_report",
    "held_job",
    "login",
    "recharge_opened",
    "recharge_summary",
    "release_progress",
    "release_request",
    "report_receipt",
    "report_request",
    "session",
    "voucher_redeemed",
]

_FUNCTIONS = {
    common_pb2.FUNCTION_PRINT: Function.PRINT,
    common_pb2.FUNCTION_COPY: Function.COPY,
    common_pb2.FUNCTION_SCAN: Function.SCAN,
    common_pb2.FUNCTION_FAX: Function.FAX,
}
_COLORS = {common_pb2.COLOR_MODE_MONO: ColorMode.MONO, common_pb2.COLOR_MODE_COLOR: ColorMode.COLOR}
_QUOTA_UNITS = {common_pb2.QUOTA_UNIT_PAGES: QuotaUnit.PAGES, common_pb2.QUOTA_UNIT_CENTS: QuotaUnit.CENTS}
_REPORT_OUTCOMES = {
    terminal_pb2.REPORT_OUTCOME_CREATED: Outcome.CREATED,
    terminal_pb2.REPORT_OUTCOME_ALREADY_APPLIED: Outcome.ALREADY_APPLIED,
}
_RELEASE_STATES = {
    terminal_pb2.RELEASE_STATE_QUEUED: ReleaseState.QUEUED,
    terminal_pb2.RELEASE_STATE_SENDING: ReleaseState.SENDING,
    terminal_pb2.RELEASE_STATE_PRINTED: ReleaseState.PRINTED,
    terminal_pb2.RELEASE_STATE_FAILED: ReleaseState.FAILED,
    terminal_pb2.RELEASE_STATE_REFUSED: ReleaseState.REFUSED,
}
_FUNCTION_NUMBERS = {function: number for number, function in _FUNCTIONS.items()}
_COLOR_NUMBERS = {color: number for number, color in _COLORS.items()}
_DEVICE_KINDS = {
    CashDeviceKind.COIN: kiosk_pb2.CASH_DEVICE_KIND_COIN,
    CashDeviceKind.NOTE: kiosk_pb2.CASH_DEVICE_KIND_NOTE,
}


def _timestamp(wall_us: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromMicroseconds(wall_us)
    return stamp


# ------------------------------------------------------------------------------ sessions


def _usage_line(line: common_pb2.UsageLine) -> UsageLine:
    return UsageLine(
        function=_FUNCTIONS.get(line.function),
        color=_COLORS.get(line.color),
        paper_size=line.paper_size,
        duplex=line.duplex,
        pages=int(line.pages),
    )


def _priced_line(priced: common_pb2.PricedLine) -> PricedLine:
    return PricedLine(_usage_line(priced.line), int(priced.unit_price_cents), int(priced.amount_cents))


def session(message: terminal_pb2.Session) -> Session:
    """A session (a quota of an unknown unit counts pages, as the hub's default)."""
    return Session(
        user=User(int(message.user.id), message.user.username, message.user.full_name),
        balance_cents=int(message.balance_cents),
        available_cents=int(message.available_cents),
        arrears_cents=int(message.arrears_cents),
        postpaid=message.postpaid,
        blocked=message.blocked,
        quotas=tuple(
            Quota(
                name=quota.name,
                unit=_QUOTA_UNITS.get(quota.unit, QuotaUnit.PAGES),
                remaining=int(quota.remaining),
                limit=int(quota.limit),
                blocking=quota.action == common_pb2.QUOTA_ACTION_BLOCK,
            )
            for quota in message.quotas
        ),
        allowed_functions=frozenset(
            _FUNCTIONS[function] for function in message.allowed_functions if function in _FUNCTIONS
        ),
        color_allowed=message.color_allowed,
        projects=tuple(Project(project.code, project.name) for project in message.projects),
        project_required=message.project_required,
        auth_method=message.auth_method,
        prices=tuple(_priced_line(priced) for priced in message.prices),
        printer_name=message.printer_name,
        printer_location=message.printer_location,
    )


def login(message: terminal_pb2.AuthenticateResponse) -> Login | SecondFactorRequired:
    """An identification's answer."""
    if message.second_factor_required:
        return SecondFactorRequired()
    return Login(message.session_token, session(message.session))


# ------------------------------------------------------------------------------ usage


def report_request(report: UsageReport) -> terminal_pb2.ReportUsageRequest:
    """The message of a usage report."""
    message = terminal_pb2.ReportUsageRequest(
        session_token=report.session_token,
        idempotency_key=report.idempotency_key,
        project_code=report.project_code,
        performed=report.performed,
        description=report.description,
        lines=[
            common_pb2.UsageLine(
                function=_FUNCTION_NUMBERS[line.function]
                if line.function
                else common_pb2.FUNCTION_UNSPECIFIED,
                color=_COLOR_NUMBERS[line.color] if line.color else common_pb2.COLOR_MODE_UNSPECIFIED,
                paper_size=line.paper_size,
                duplex=line.duplex,
                pages=line.pages,
            )
            for line in report.lines
        ],
    )
    if report.occurred_us is not None:
        message.occurred_at.CopyFrom(_timestamp(report.occurred_us))
    if report.scan_counter_pages is not None:
        message.scan_counter_pages = report.scan_counter_pages
        message.scan_counter_sent_only = report.scan_counter_sent_only
    return message


def _report(message: terminal_pb2.ReportUsageRequest) -> UsageReport:
    return UsageReport(
        session_token=message.session_token,
        idempotency_key=message.idempotency_key,
        lines=tuple(_usage_line(line) for line in message.lines),
        project_code=message.project_code,
        occurred_us=message.occurred_at.ToMicroseconds() if message.HasField("occurred_at") else None,
        performed=message.performed,
        description=message.description,
        scan_counter_pages=message.scan_counter_pages if message.HasField("scan_counter_pages") else None,
        scan_counter_sent_only=message.scan_counter_sent_only,
    )


def encode_report(report: UsageReport) -> bytes:
    """A usage report as the journal stores it (the serialized ``ReportUsageRequest``)."""
    return bytes(report_request(report).SerializeToString())


def decode_report(data: bytes) -> UsageReport:
    """A usage report the journal stored."""
    return _report(terminal_pb2.ReportUsageRequest.FromString(data))


def report_receipt(message: terminal_pb2.ReportUsageResponse) -> ReportReceipt:
    """The hub's answer to a usage report."""
    return ReportReceipt(
        outcome=_REPORT_OUTCOMES.get(message.outcome),
        charged_cents=int(message.charged_cents),
        priced_lines=tuple(_priced_line(priced) for priced in message.priced_lines),
    )


# ------------------------------------------------------------------------------ held jobs


def held_job(message: terminal_pb2.HeldJob) -> HeldJob:
    """A held job."""
    return HeldJob(
        job_id=int(message.id),
        name=message.name,
        owner=message.owner,
        pages=int(message.pages),
        color_pages=int(message.color_pages),
        copies=int(message.copies),
        duplex=message.duplex,
        estimated_price_cents=int(message.estimated_price_cents),
        delegated=message.delegated,
        printed=message.printed,
        allowed_mono=message.allowed.to_mono,
        allowed_duplex=message.allowed.to_duplex,
        allowed_fewer_copies=message.allowed.fewer_copies,
        price_per_copy_cents=int(message.price_per_copy_cents),
        price_mono_per_copy_cents=int(message.price_mono_per_copy_cents),
        price_duplex_per_copy_cents=int(message.price_duplex_per_copy_cents),
        price_mono_duplex_per_copy_cents=int(message.price_mono_duplex_per_copy_cents),
        owner_verified=message.owner_verified,
        analysing=message.analysing,
        may_have_printed=message.may_have_printed,
        favourite=message.favourite,
        delegates=tuple(colleague(found) for found in message.delegates),
        estimate_note=message.estimate_note,
        rule_note=message.rule_note,
    )


def colleague(message: terminal_pb2.Colleague) -> Colleague:
    """A colleague a job can be passed on to."""
    return Colleague(message.username, message.full_name, message.department)


def favourite_set(message: terminal_pb2.SetFavouriteResponse) -> FavouriteSet:
    """The hub's answer to a star set or taken off."""
    return FavouriteSet(message.favourite, int(message.favourites), int(message.favourites_max))


def release_request(
    token: str, jobs: tuple[JobRelease, ...] | None, project_code: str, idempotency_key: str
) -> terminal_pb2.ReleaseJobsRequest:
    """Release these jobs (``None``: every held job of the user)."""
    request = terminal_pb2.ReleaseJobsRequest(
        session_token=token, project_code=project_code, idempotency_key=idempotency_key
    )
    if jobs is None:
        request.all = True
    else:
        request.jobs.extend(
            terminal_pb2.JobRelease(
                job_id=job.job_id,
                overrides=terminal_pb2.JobOverrides(
                    mono=job.overrides.mono, duplex=job.overrides.duplex, copies=job.overrides.copies
                ),
            )
            for job in jobs
        )
    return request


def release_progress(message: terminal_pb2.ReleaseProgress) -> ReleaseProgress:
    """One progress update (an unknown state reads as queued)."""
    return ReleaseProgress(
        job_id=int(message.job_id),
        state=_RELEASE_STATES.get(message.state, ReleaseState.QUEUED),
        pages_printed=int(message.pages_printed),
        charged_cents=int(message.charged_cents),
        message=message.message,
    )


# ------------------------------------------------------------------------------ kiosks


def recharge_opened(message: kiosk_pb2.OpenRechargeResponse) -> RechargeOpened:
    """An opened recharge."""
    return RechargeOpened(
        recharge_id=int(message.recharge_id),
        username=message.username,
        balance_cents=int(message.balance_cents),
        arrears_cents=int(message.arrears_cents),
        currency=message.currency,
    )


def cash_credit_request(credit: CashCredit) -> kiosk_pb2.CreditCashEventRequest:
    """The message of one cash event."""
    return kiosk_pb2.CreditCashEventRequest(
        recharge_id=credit.recharge_id,
        idempotency_key=credit.idempotency_key,
        value_minor=credit.value_minor,
        currency=credit.currency,
        denomination=credit.denomination,
        device_kind=_DEVICE_KINDS[credit.device_kind],
        occurred_at=_timestamp(credit.occurred_us),
    )


def cash_credited(message: kiosk_pb2.CreditCashEventResponse) -> CashCredited:
    """A credited cash event."""
    return CashCredited(
        transaction_id=int(message.transaction_id),
        balance_cents=int(message.balance_cents),
        arrears_cents=int(message.arrears_cents),
        recharge_total_cents=int(message.recharge_total_cents),
    )


def recharge_summary(message: kiosk_pb2.RechargeSummary) -> RechargeSummary:
    """A closed recharge."""
    return RechargeSummary(
        recharge_id=int(message.recharge_id),
        total_cents=int(message.total_cents),
        balance_cents=int(message.balance_cents),
        arrears_cents=int(message.arrears_cents),
    )


def voucher_redeemed(message: kiosk_pb2.RedeemVoucherResponse) -> VoucherRedeemed:
    """A redeemed voucher."""
    return VoucherRedeemed(
        transaction_id=int(message.transaction_id),
        credited_cents=int(message.credited_cents),
        balance_cents=int(message.balance_cents),
        arrears_cents=int(message.arrears_cents),
    )


def _denomination_line(line: kiosk_pb2.DenominationLine) -> DenominationLine:
    kind = CashDeviceKind.NOTE if line.device_kind == kiosk_pb2.CASH_DEVICE_KIND_NOTE else CashDeviceKind.COIN
    return DenominationLine(kind, int(line.value_cents), int(line.expected_count), int(line.counted_count))


def cash_box(message: kiosk_pb2.CashBoxReport) -> CashBox:
    """A kiosk's cash box."""
    emptied = message.last_emptied_at.ToMicroseconds() if message.HasField("last_emptied_at") else None
    return CashBox(
        int(message.expected_cents), tuple(_denomination_line(line) for line in message.lines), emptied
    )


def empty_cash_box_request(
    token: str, counted: tuple[tuple[str, int, int], ...], idempotency_key: str, note: str
) -> kiosk_pb2.KioskEmptyCashBoxRequest:
    """An operator's emptying: ``counted`` is ``((device kind, value, count), …)``."""
    return kiosk_pb2.KioskEmptyCashBoxRequest(
        session_token=token,
        counted=[
            kiosk_pb2.DenominationCount(
                device_kind=_DEVICE_KINDS[CashDeviceKind(kind)], value_cents=value, count=count
            )
            for kind, value, count in counted
        ],
        idempotency_key=idempotency_key,
        note=note,
    )


def cash_box_emptied(message: kiosk_pb2.CashBoxEmptied) -> CashBoxEmptied:
    """A booked emptying."""
    return CashBoxEmptied(
        difference_cents=int(message.difference_cents),
        lines=tuple(_denomination_line(line) for line in message.lines),
        emptied_us=message.emptied_at.ToMicroseconds(),
    )


def scan_menu(message: terminal_pb2.ListScanProfilesResponse) -> ScanMenu:
    """The Scan tile's profiles as values."""
    return ScanMenu(
        tuple(
            ScanChoice(
                profile.id,
                profile.name_en,
                profile.name_de,
                int(profile.price_per_page_cents),
                profile.searchable,
            )
            for profile in message.profiles
        ),
        message.chosen_id,
    )
