"""TerminalService: authentication (and linking an unknown card), sessions and usage for
terminals and kiosks, the print-release RPCs (ListJobs, GetThumbnail, ReleaseJobs,
DeleteJobs) when print intake runs, and favourites and passing a job on to a colleague
(SetFavourite, SearchColleagues, DelegateJob)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from printgate.v1 import common_pb2, terminal_pb2, terminal_pb2_grpc

from hub_server.domain import Hub
from hub_server.domain.auth import AuthResult, Credential
from hub_server.domain.jobs import Colleague
from hub_server.domain.pricing import PricedLine, UsageLine
from hub_server.domain.quotas import QuotaState
from hub_server.domain.release import JobView, Overrides, Progress
from hub_server.domain.security import SessionClaims
from hub_server.domain.sessions import GUEST_ONLY_RELEASES, SessionView
from hub_server.domain.usage import UsageReport, UsageResult
from hub_server.errors import InvalidRequest, PermissionDenied
from hub_server.services.common import DeviceGate, TerminalCalls, abort_for, translate_errors, until_revoked
from hub_server.services.convert import (
    COLOR,
    FUNCTION,
    QUOTA_ACTION,
    QUOTA_COLOR_SCOPE,
    QUOTA_PERIOD,
    QUOTA_UNIT,
    RELEASE_STATE,
    timestamp_from_us,
)


def usage_line_from_message(message: common_pb2.UsageLine) -> UsageLine:
    """A domain usage line; unknown enum values are refused."""
    if message.function not in FUNCTION or message.color not in COLOR:
        raise InvalidRequest("usage line needs a function and a colour mode")
    return UsageLine(
        function=FUNCTION.word(message.function, "function"),
        color=COLOR.word(message.color, "colour mode"),
        paper_size=message.paper_size,
        duplex=message.duplex,
        pages=message.pages,
    )


def usage_line_message(line: UsageLine) -> common_pb2.UsageLine:
    """The wire form of a usage line."""
    return common_pb2.UsageLine(
        function=FUNCTION.value(line.function),
        color=COLOR.value(line.color),
        paper_size=line.paper_size,
        duplex=line.duplex,
        pages=line.pages,
    )


def priced_line_message(line: PricedLine) -> common_pb2.PricedLine:
    """The wire form of a priced line."""
    return common_pb2.PricedLine(
        line=usage_line_message(line), unit_price_cents=line.unit_price_cents, amount_cents=line.amount_cents
    )


def quota_state_message(state: QuotaState) -> common_pb2.QuotaState:
    """The wire form of what is left of one quota."""
    return common_pb2.QuotaState(
        rule_id=state.rule.id,
        name=state.rule.name,
        period=QUOTA_PERIOD.value(state.rule.period),
        unit=QUOTA_UNIT.value(state.rule.unit),
        color_scope=QUOTA_COLOR_SCOPE.value(state.rule.color_scope),
        action=QUOTA_ACTION.value(state.rule.action),
        limit=state.rule.limit,
        used=state.used,
        remaining=state.remaining,
        period_start=state.period_start,
    )


def session_message(
    view: SessionView, claims: SessionClaims, prices: list[PricedLine], place: tuple[str, str]
) -> terminal_pb2.Session:
    """The wire form of a session (``prices``: unit prices at the terminal's printer group;
    ``place``: the printer's name and location there)."""
    allowed = [] if view.blocked else list(view.permissions.allowed_functions)
    return terminal_pb2.Session(
        user=terminal_pb2.UserSummary(
            id=view.user_id,
            username=view.username,
            full_name=view.full_name,
            email=view.email,
            department=view.department,
        ),
        account=view.account,
        postpaid=view.postpaid,
        balance_cents=view.balance_cents,
        credit_limit_cents=view.credit_limit_cents,
        available_cents=view.available_cents,
        arrears_cents=view.arrears_cents,
        blocked=view.blocked,
        quotas=[quota_state_message(state) for state in view.quotas],
        allowed_functions=[FUNCTION.value(name) for name in allowed],
        color_allowed=view.permissions.color_allowed and not view.blocked,
        projects=[terminal_pb2.ProjectSummary(code=code, name=name) for code, name in view.projects],
        project_required=view.permissions.project_required,
        expires_at=timestamp_from_us(claims.expires_us),
        auth_method=claims.auth_method,
        prices=[priced_line_message(line) for line in prices],
        printer_name=place[0],
        printer_location=place[1],
    )


def usage_response(result: UsageResult) -> terminal_pb2.ReportUsageResponse:
    """The wire form of a usage result."""
    return terminal_pb2.ReportUsageResponse(
        outcome=(
            terminal_pb2.REPORT_OUTCOME_ALREADY_APPLIED
            if result.already_applied
            else terminal_pb2.REPORT_OUTCOME_CREATED
        ),
        transaction_id=result.transaction_id,
        charged_cents=result.charged_cents,
        priced_lines=[priced_line_message(line) for line in result.priced_lines],
        account=result.account,
        balance_cents=result.balance_cents,
        arrears_cents=result.arrears_cents,
        blocked=result.blocked,
        quota_warnings=result.quota_warnings,
        recorded_at=timestamp_from_us(result.recorded_us),
    )


def add_held_job(
    response: terminal_pb2.ListJobsResponse, view: JobView, allowed: tuple[bool, bool, bool]
) -> None:
    """Append the wire form of one listed job (built in place: thousands of jobs stay fast)."""
    plan = view.plan
    job = response.jobs.add(
        id=view.job_id,
        name=view.name,
        owner=view.owner,
        pages=plan.pages,
        color_pages=plan.color_pages,
        copies=plan.copies,
        duplex=plan.duplex,
        paper_size="" if plan.paper == "*" else plan.paper,
        estimated_price_cents=view.estimated_price_cents,
        delegated=view.delegated,
        printed=view.printed,
        may_have_printed=view.may_have_printed,
        size_bytes=view.size_bytes,
        document_format=view.document_format,
        price_per_copy_cents=view.per_copy[0],
        price_mono_per_copy_cents=view.per_copy[1],
        price_duplex_per_copy_cents=view.per_copy[2],
        price_mono_duplex_per_copy_cents=view.per_copy[3],
        owner_verified=view.owner_verified,
        analysing=view.analysing,
        favourite=view.favourite,
        delegates=[colleague_message(colleague) for colleague in view.delegates],
        estimate_note=view.estimate_note,
        rule_note=plan.rule_note,
    )
    job.submitted_at.seconds, job.submitted_at.nanos = divmod(view.created_us, 1_000_000)
    job.submitted_at.nanos *= 1000
    job.expires_at.seconds, job.expires_at.nanos = divmod(view.expires_us, 1_000_000)
    job.expires_at.nanos *= 1000
    job.allowed.to_mono, job.allowed.to_duplex, job.allowed.fewer_copies = allowed


def colleague_message(colleague: Colleague) -> terminal_pb2.Colleague:
    """The wire form of a colleague."""
    return terminal_pb2.Colleague(
        username=colleague.username, full_name=colleague.full_name, department=colleague.department
    )


def progress_message(progress: Progress) -> terminal_pb2.ReleaseProgress:
    """The wire form of one release step."""
    return terminal_pb2.ReleaseProgress(
        job_id=progress.job_id,
        state=RELEASE_STATE.value(progress.state),
        bytes_sent=progress.bytes_sent,
        pages_printed=progress.pages_printed,
        pages_reported_by_printer=progress.pages_reported,
        charged_cents=progress.charged_cents,
        message=progress.message,
    )


def _page_token(token: str) -> int:
    if token and not token.isdigit():
        raise InvalidRequest("page_size must be >= 0 and page_token one this hub returned")
    return int(token or 0)


@translate_errors
class TerminalServicer(TerminalCalls, terminal_pb2_grpc.TerminalServiceServicer):
    """The hub side of TerminalService."""

    def __init__(self, hub: Hub, gate: DeviceGate) -> None:
        self.hub = hub
        self.gate = gate

    async def Authenticate(
        self, request: terminal_pb2.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.AuthenticateResponse:
        terminal_id = self._terminal(context)
        which = request.WhichOneof("credential")
        if which is None:
            raise InvalidRequest("a card, a PIN or a username and password is needed")
        credential = Credential(
            card_number=request.card.number,
            pin=request.card.pin if which == "card" else request.pin.pin,
            username=request.password.username,
            password=request.password.password,
        )
        return self._auth_response(terminal_id, await self.hub.auth.authenticate(terminal_id, credential))

    async def LinkCard(
        self, request: terminal_pb2.LinkCardRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.AuthenticateResponse:
        terminal_id = self._terminal(context)
        result = await self.hub.auth.link_card(
            terminal_id, request.card_number, request.username, request.password
        )
        return self._auth_response(terminal_id, result)

    def _auth_response(self, terminal_id: str, result: AuthResult) -> terminal_pb2.AuthenticateResponse:
        if result.second_factor_required:
            return terminal_pb2.AuthenticateResponse(second_factor_required=True)
        assert result.view is not None and result.claims is not None
        session = self._session_message(terminal_id, result.view, result.claims)
        return terminal_pb2.AuthenticateResponse(session_token=result.token, session=session)

    def _session_message(
        self, terminal_id: str, view: SessionView, claims: SessionClaims
    ) -> terminal_pb2.Session:
        prices = self.hub.prices.at_terminal(terminal_id)
        return session_message(view, claims, prices, self.hub.devices.place(terminal_id))

    async def GetSession(
        self, request: terminal_pb2.GetSessionRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.Session:
        terminal_id = self._terminal(context)
        claims, view = self.hub.sessions.get(terminal_id, request.session_token, guest_ok=True)
        return self._session_message(terminal_id, view, claims)

    async def ReportUsage(
        self, request: terminal_pb2.ReportUsageRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.ReportUsageResponse:
        terminal_id = self._terminal(context)
        report = UsageReport(
            user_id=0,  # bound to the session's user by the domain
            terminal_id=terminal_id,
            idempotency_key=request.idempotency_key,
            lines=[usage_line_from_message(line) for line in request.lines],
            project_code=request.project_code,
            occurred_us=request.occurred_at.ToMicroseconds() if request.HasField("occurred_at") else None,
            performed=request.performed,
            description=request.description,
            scan_counter_pages=(
                request.scan_counter_pages if request.HasField("scan_counter_pages") else None
            ),
            scan_counter_sent_only=request.scan_counter_sent_only,
        )
        return usage_response(
            await self.hub.sessions.report_usage(terminal_id, request.session_token, report)
        )

    async def Logout(
        self, request: terminal_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.LogoutResponse:
        await self.hub.sessions.logout(self._terminal(context), request.session_token)
        return terminal_pb2.LogoutResponse()

    # -- print release ------------------------------------------------------------------------

    async def ListJobs(
        self, request: terminal_pb2.ListJobsRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.ListJobsResponse:
        printing = self.hub.printing
        terminal_id = self._terminal(context)
        user_id, only_job_id = self.hub.sessions.releaser(terminal_id, request.session_token)
        after = _page_token(request.page_token)
        views, next_after = printing.list_jobs(
            terminal_id, user_id, request.page_size, after, only_job_id=only_job_id
        )
        allowed = printing.allowed_overrides()
        response = terminal_pb2.ListJobsResponse(next_page_token=str(next_after) if next_after else "")
        for view in views:
            add_held_job(response, view, allowed)
        return response

    async def GetThumbnail(
        self, request: terminal_pb2.GetThumbnailRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.Thumbnail:
        printing = self.hub.printing
        user_id, only_job_id = self.hub.sessions.releaser(self._terminal(context), request.session_token)
        if only_job_id and request.job_id != only_job_id:
            raise PermissionDenied(GUEST_ONLY_RELEASES)
        return terminal_pb2.Thumbnail(png=printing.thumbnail(user_id, request.job_id))

    async def DeleteJobs(
        self, request: terminal_pb2.DeleteJobsRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.DeleteJobsResponse:
        printing = self.hub.printing
        _, user_id = self._user(context, request.session_token)
        return terminal_pb2.DeleteJobsResponse(deleted=await printing.delete(user_id, list(request.job_ids)))

    async def SetFavourite(
        self, request: terminal_pb2.SetFavouriteRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.SetFavouriteResponse:
        _, user_id = self._user(context, request.session_token)
        result = await self.hub.sharing.set_favourite(user_id, request.job_id, request.favourite)
        return terminal_pb2.SetFavouriteResponse(
            favourite=result.favourite, favourites=result.count, favourites_max=result.maximum
        )

    async def SearchColleagues(
        self, request: terminal_pb2.SearchColleaguesRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.SearchColleaguesResponse:
        _, user_id = self._user(context, request.session_token)
        found = self.hub.sharing.search(user_id, request.query, request.limit)
        return terminal_pb2.SearchColleaguesResponse(colleagues=[colleague_message(c) for c in found])

    async def DelegateJob(
        self, request: terminal_pb2.DelegateJobRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.DelegateJobResponse:
        _, user_id = self._user(context, request.session_token)
        delegates = await self.hub.sharing.delegate(
            user_id, request.job_id, request.username, request.withdraw
        )
        return terminal_pb2.DelegateJobResponse(delegates=[colleague_message(c) for c in delegates])

    # -- scanning ------------------------------------------------------------------------------

    async def ListScanProfiles(
        self, request: terminal_pb2.ListScanProfilesRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.ListScanProfilesResponse:
        claims, _ = self.hub.sessions.get(self._terminal(context), request.session_token)
        menu = self.hub.scans.menu(claims.session_id)
        return terminal_pb2.ListScanProfilesResponse(
            profiles=[
                terminal_pb2.ScanProfileSummary(
                    id=choice.profile_id,
                    name_en=choice.name_en,
                    name_de=choice.name_de,
                    price_per_page_cents=choice.price_per_page_cents,
                    searchable=choice.searchable,
                )
                for choice in menu.choices
            ],
            chosen_id=menu.chosen_id,
        )

    async def SetScanProfile(
        self, request: terminal_pb2.SetScanProfileRequest, context: grpc.aio.ServicerContext
    ) -> terminal_pb2.SetScanProfileResponse:
        claims, _ = self.hub.sessions.get(self._terminal(context), request.session_token)
        await self.hub.scans.choose(claims.session_id, request.profile_id)
        return terminal_pb2.SetScanProfileResponse()

    async def ReleaseJobs(
        self, request: terminal_pb2.ReleaseJobsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[terminal_pb2.ReleaseProgress]:
        # A server stream is an async generator: translate_errors does not wrap it. A revoked
        # terminal's stream ends at once; the release itself goes on (as when it hangs up).
        try:
            printing = self.hub.printing
            caller = self.gate.identify(context)
            user_id, only_job_id = self.hub.sessions.releaser(caller.device_id, request.session_token)
            selected = {
                item.job_id: Overrides(
                    mono=item.overrides.mono, duplex=item.overrides.duplex, copies=item.overrides.copies
                )
                for item in request.jobs
            }
            key, project = request.idempotency_key, request.project_code
            released = printing.release(
                caller.device_id, user_id, selected, request.all, project, key, only_job_id
            )
            async for progress in until_revoked(released, self.gate, caller):
                yield progress_message(progress)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            await abort_for(context, "TerminalServicer.ReleaseJobs", error)
