"""The hub client of terminals and kiosks: TerminalService and KioskService calls on one channel.

Every method takes and returns plain values (:mod:`terminal_app.hub.values`); the messages are built
and read by :mod:`terminal_app.hub.wire`, and the channel, identity, deadlines, retries and error
classes are :class:`~terminal_app.hub.channel.HubChannel`'s. A terminal uses the TerminalService
calls; a kiosk identifies users with the same calls and takes money with the KioskService ones
(the hub refuses those to a terminal that is not a kiosk).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from printgate.v1 import kiosk_pb2, kiosk_pb2_grpc, terminal_pb2, terminal_pb2_grpc

from terminal_app.errors import DeviceRefused
from terminal_app.hub import wire
from terminal_app.hub.channel import HubChannel
from terminal_app.hub.enrollment import Credentials
from terminal_app.hub.values import (
    CashBox,
    CashBoxEmptied,
    CashCredit,
    CashCredited,
    Colleague,
    FavouriteSet,
    HeldJob,
    JobRelease,
    Login,
    RechargeOpened,
    RechargeSummary,
    ReleaseProgress,
    ReportReceipt,
    ScanMenu,
    SecondFactorRequired,
    Session,
    UsageReport,
    VoucherRedeemed,
)

__all__ = ["LIST_JOBS_MAX", "LIST_JOBS_PAGE_SIZE", "HubClient"]

LIST_JOBS_PAGE_SIZE = 100  # jobs per ListJobs answer: the page the terminal asks for
LIST_JOBS_MAX = 10_000  # a hub that keeps handing out page tokens is not followed further


class HubClient:
    """One device's connection to its hub (see the module docstring)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        address: str = "",
        deadline_s: float = 5.0,
        release_deadline_s: float = 600.0,
    ) -> None:
        self.channel = HubChannel(
            credentials, address=address, deadline_s=deadline_s, stream_deadline_s=release_deadline_s
        )

    # protoc's grpc stubs carry no annotations (calling them is allowed in pyproject's mypy
    # section); each answer is typed below, where it is received
    @property
    def _terminal(self) -> terminal_pb2_grpc.TerminalServiceStub:
        return self.channel.stub(terminal_pb2_grpc.TerminalServiceStub)

    @property
    def _kiosk(self) -> kiosk_pb2_grpc.KioskServiceStub:
        return self.channel.stub(kiosk_pb2_grpc.KioskServiceStub)

    @property
    def terminal_id(self) -> str:
        """This device's id at the hub (from its certificate)."""
        return self.channel.device_id

    @property
    def device_refusal(self) -> DeviceRefused | None:
        """Why the hub last refused this device itself (None: it has not)."""
        return self.channel.refusal

    async def close(self) -> None:
        """Close the channel (running calls are cancelled)."""
        await self.channel.close()

    async def reachable(self, timeout_s: float) -> bool:
        """Is the hub reachable (connected, or connecting within ``timeout_s``)?"""
        return await self.channel.reachable(timeout_s)

    def connection_failed(self) -> bool:
        """Is the channel failing to connect now?"""
        return self.channel.connection_failed()

    # -- identification --------------------------------------------------------------------

    async def _authenticate(self, request: terminal_pb2.AuthenticateRequest) -> Login | SecondFactorRequired:
        answer: terminal_pb2.AuthenticateResponse = await self.channel.call(
            self._terminal.Authenticate, request, "Authenticate"
        )
        return wire.login(answer)

    async def authenticate_card(self, number: str, pin: str = "") -> Login | SecondFactorRequired:
        """Identify by card (and its PIN when the hub asked for a second factor)."""
        credential = terminal_pb2.CardCredential(number=number, pin=pin)
        return await self._authenticate(terminal_pb2.AuthenticateRequest(card=credential))

    async def authenticate_pin(self, pin: str) -> Login | SecondFactorRequired:
        """Identify by PIN alone."""
        return await self._authenticate(
            terminal_pb2.AuthenticateRequest(pin=terminal_pb2.PinCredential(pin=pin))
        )

    async def authenticate_password(self, username: str, password: str) -> Login | SecondFactorRequired:
        """Identify by username and password."""
        credential = terminal_pb2.PasswordCredential(username=username, password=password)
        return await self._authenticate(terminal_pb2.AuthenticateRequest(password=credential))

    async def link_card(self, number: str, username: str, password: str) -> Login | SecondFactorRequired:
        """Link a card the hub does not know to the user this password proves; their session."""
        request = terminal_pb2.LinkCardRequest(card_number=number, username=username, password=password)
        answer: terminal_pb2.AuthenticateResponse = await self.channel.call(
            self._terminal.LinkCard, request, "LinkCard"
        )
        return wire.login(answer)

    # -- sessions and usage ------------------------------------------------------------------

    async def get_session(self, token: str) -> Session:
        """The session's user, money and permissions now."""
        request = terminal_pb2.GetSessionRequest(session_token=token)
        answer: terminal_pb2.Session = await self.channel.call(
            self._terminal.GetSession, request, "GetSession"
        )
        return wire.session(answer)

    async def report_usage(self, report: UsageReport) -> ReportReceipt:
        """Charge usage; the report's idempotency key makes a repeat harmless."""
        answer: terminal_pb2.ReportUsageResponse = await self.channel.call(
            self._terminal.ReportUsage, wire.report_request(report), "ReportUsage"
        )
        return wire.report_receipt(answer)

    async def logout(self, token: str) -> None:
        """End a session on the hub."""
        request = terminal_pb2.LogoutRequest(session_token=token)
        await self.channel.call(self._terminal.Logout, request, "Logout")

    # -- scanning ----------------------------------------------------------------------------

    async def scan_menu(self, token: str) -> ScanMenu:
        """The scan profiles the session may pick here and the one picked (``Refused`` where
        the hub takes no scans from this terminal's printer)."""
        request = terminal_pb2.ListScanProfilesRequest(session_token=token)
        answer: terminal_pb2.ListScanProfilesResponse = await self.channel.call(
            self._terminal.ListScanProfiles, request, "ListScanProfiles"
        )
        return wire.scan_menu(answer)

    async def choose_scan_profile(self, token: str, profile_id: str) -> None:
        """Apply a profile to the scans the printer sends during this session."""
        request = terminal_pb2.SetScanProfileRequest(session_token=token, profile_id=profile_id)
        await self.channel.call(self._terminal.SetScanProfile, request, "SetScanProfile")

    # -- held jobs ---------------------------------------------------------------------------

    async def list_jobs(self, token: str) -> list[HeldJob]:
        """Held jobs the session's user may release here, asked for in pages of
        :data:`LIST_JOBS_PAGE_SIZE` (each answer stays small and quick however many jobs wait)."""
        jobs: list[HeldJob] = []
        page_token = ""
        while True:
            request = terminal_pb2.ListJobsRequest(
                session_token=token, page_size=LIST_JOBS_PAGE_SIZE, page_token=page_token
            )
            answer: terminal_pb2.ListJobsResponse = await self.channel.call(
                self._terminal.ListJobs, request, "ListJobs"
            )
            jobs += [wire.held_job(job) for job in answer.jobs]
            page_token = answer.next_page_token
            if not page_token or len(jobs) >= LIST_JOBS_MAX:
                return jobs[:LIST_JOBS_MAX]

    async def thumbnail(self, token: str, job_id: int) -> bytes:
        """A PNG of the job's first page."""
        request = terminal_pb2.GetThumbnailRequest(session_token=token, job_id=job_id)
        answer: terminal_pb2.Thumbnail = await self.channel.call(
            self._terminal.GetThumbnail, request, "GetThumbnail"
        )
        return bytes(answer.png)

    async def delete_jobs(self, token: str, job_ids: list[int]) -> int:
        """Delete held jobs; returns how many were deleted."""
        request = terminal_pb2.DeleteJobsRequest(session_token=token, job_ids=job_ids)
        answer: terminal_pb2.DeleteJobsResponse = await self.channel.call(
            self._terminal.DeleteJobs, request, "DeleteJobs"
        )
        return int(answer.deleted)

    async def set_favourite(self, token: str, job_id: int, favourite: bool) -> FavouriteSet:
        """Star one of the user's own jobs (kept for a reprint until unstarred), or take the star off."""
        request = terminal_pb2.SetFavouriteRequest(session_token=token, job_id=job_id, favourite=favourite)
        answer: terminal_pb2.SetFavouriteResponse = await self.channel.call(
            self._terminal.SetFavourite, request, "SetFavourite"
        )
        return wire.favourite_set(answer)

    async def search_colleagues(self, token: str, query: str, limit: int = 0) -> list[Colleague]:
        """Colleagues whose username starts with ``query`` or whose name contains it (never the caller)."""
        request = terminal_pb2.SearchColleaguesRequest(session_token=token, query=query, limit=limit)
        answer: terminal_pb2.SearchColleaguesResponse = await self.channel.call(
            self._terminal.SearchColleagues, request, "SearchColleagues"
        )
        return [wire.colleague(found) for found in answer.colleagues]

    async def delegate_job(
        self, token: str, job_id: int, username: str, *, withdraw: bool = False
    ) -> tuple[Colleague, ...]:
        """Pass one of the user's jobs on to a colleague (``withdraw``: take it back); the job's
        colleagues now. Passing it on twice changes nothing."""
        request = terminal_pb2.DelegateJobRequest(
            session_token=token, job_id=job_id, username=username, withdraw=withdraw
        )
        answer: terminal_pb2.DelegateJobResponse = await self.channel.call(
            self._terminal.DelegateJob, request, "DelegateJob"
        )
        return tuple(wire.colleague(found) for found in answer.delegates)

    async def release_jobs(
        self, token: str, jobs: tuple[JobRelease, ...] | None, *, project_code: str, idempotency_key: str
    ) -> AsyncIterator[ReleaseProgress]:
        """Release ``jobs`` (``None``: every held job); yields progress until each job is done."""
        request = wire.release_request(token, jobs, project_code, idempotency_key)
        async for progress in self.channel.stream(self._terminal.ReleaseJobs, request):
            yield wire.release_progress(progress)

    # -- recharges (kiosks) ------------------------------------------------------------------

    async def open_recharge(self, token: str) -> RechargeOpened:
        """Start taking money for the session's user."""
        request = kiosk_pb2.OpenRechargeRequest(session_token=token)
        answer: kiosk_pb2.OpenRechargeResponse = await self.channel.call(
            self._kiosk.OpenRecharge, request, "OpenRecharge"
        )
        return wire.recharge_opened(answer)

    async def credit_cash(self, credit: CashCredit) -> CashCredited:
        """Credit one coin or stacked note (exactly once per idempotency key)."""
        answer: kiosk_pb2.CreditCashEventResponse = await self.channel.call(
            self._kiosk.CreditCashEvent, wire.cash_credit_request(credit), "CreditCashEvent"
        )
        return wire.cash_credited(answer)

    async def close_recharge(self, recharge_id: int) -> RechargeSummary:
        """Finish a recharge; answers its summary (again, if called again)."""
        request = kiosk_pb2.CloseRechargeRequest(recharge_id=recharge_id)
        answer: kiosk_pb2.RechargeSummary = await self.channel.call(
            self._kiosk.CloseRecharge, request, "CloseRecharge"
        )
        return wire.recharge_summary(answer)

    async def redeem_voucher(self, token: str, code: str) -> VoucherRedeemed:
        """Redeem a voucher code for the session's user."""
        request = kiosk_pb2.RedeemVoucherRequest(session_token=token, code=code)
        answer: kiosk_pb2.RedeemVoucherResponse = await self.channel.call(
            self._kiosk.RedeemVoucher, request, "RedeemVoucher"
        )
        return wire.voucher_redeemed(answer)

    # -- the cash box (kiosk operators) --------------------------------------------------------

    async def cash_box(self, token: str) -> CashBox:
        """This kiosk's cash box (operator sessions only: PERMISSION_DENIED otherwise)."""
        request = kiosk_pb2.OperatorRequest(session_token=token)
        answer: kiosk_pb2.CashBoxReport = await self.channel.call(
            self._kiosk.GetCashBox, request, "GetCashBox"
        )
        return wire.cash_box(answer)

    async def empty_cash_box(
        self, token: str, counted: tuple[tuple[str, int, int], ...], *, idempotency_key: str, note: str = ""
    ) -> CashBoxEmptied:
        """Record that an operator emptied the box; ``counted`` is ``((device kind, value, count), …)``."""
        request = wire.empty_cash_box_request(token, counted, idempotency_key, note)
        answer: kiosk_pb2.CashBoxEmptied = await self.channel.call(
            self._kiosk.EmptyCashBox, request, "EmptyCashBox"
        )
        return wire.cash_box_emptied(answer)
