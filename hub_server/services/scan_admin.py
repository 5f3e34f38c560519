"""The hub side of ScanAdminService: the printers that may send scans, the scan profiles and
the scan log, for admins (every call checks the admin credential first)."""

from __future__ import annotations

from typing import Any

import grpc
from printgate.v1 import scan_pb2, scan_pb2_grpc

from hub_server.domain import Hub
from hub_server.domain.scan_store import ProfileSpec
from hub_server.services.common import requires_admin, translate_errors

__all__ = ["ScanAdminServicer"]


def _printer(printer: Any) -> scan_pb2.ScanPrinter:
    return scan_pb2.ScanPrinter(
        printer_id=printer.printer_id,
        addresses=sorted(printer.addresses),
        smtp_login=printer.smtp_login or "",
        has_password=printer.password_hash is not None,
    )


def _profile(profile: Any, built_in: bool) -> scan_pb2.ScanProfile:
    return scan_pb2.ScanProfile(
        id=profile.profile_id,
        name_en=profile.name_en,
        name_de=profile.name_de,
        output=profile.output.value,
        ocr_languages=list(profile.ocr_languages),
        destination=profile.destination,
        file_name_pattern=profile.file_name_pattern,
        sidecar=profile.sidecar.value,
        price_per_page_cents=profile.price_per_page_cents,
        built_in=built_in,
    )


@translate_errors
@requires_admin
class ScanAdminServicer(scan_pb2_grpc.ScanAdminServiceServicer):
    """Scan printers, profiles and log."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def AddScanPrinter(
        self, request: scan_pb2.ScanPrinter, context: grpc.aio.ServicerContext
    ) -> scan_pb2.ScanPrinter:
        printer = await self.hub.scans.register_printer(
            request.printer_id, request.addresses, request.smtp_login, request.smtp_password
        )
        return _printer(printer)

    async def ListScanPrinters(
        self, request: scan_pb2.ListScanPrintersRequest, context: grpc.aio.ServicerContext
    ) -> scan_pb2.ListScanPrintersResponse:
        return scan_pb2.ListScanPrintersResponse(printers=[_printer(p) for p in self.hub.scans.printers()])

    async def RemoveScanPrinter(
        self, request: scan_pb2.ScanPrinterRef, context: grpc.aio.ServicerContext
    ) -> scan_pb2.RemoveScanResponse:
        await self.hub.scans.remove_printer(request.printer_id)
        return scan_pb2.RemoveScanResponse()

    async def SaveScanProfile(
        self, request: scan_pb2.ScanProfile, context: grpc.aio.ServicerContext
    ) -> scan_pb2.ScanProfile:
        profile = await self.hub.scans.define_profile(
            ProfileSpec(
                request.id,
                request.name_en,
                request.name_de,
                request.output,
                tuple(request.ocr_languages),
                request.destination,
                request.file_name_pattern,
                request.sidecar,
                request.price_per_page_cents,
            )
        )
        return _profile(profile, built_in=False)

    async def ListScanProfiles(
        self, request: scan_pb2.ListScanProfilesAdminRequest, context: grpc.aio.ServicerContext
    ) -> scan_pb2.ListScanProfilesAdminResponse:
        profiles = self.hub.scans.profiles().values()
        return scan_pb2.ListScanProfilesAdminResponse(
            profiles=[_profile(p, self.hub.scans.built_in(p.profile_id)) for p in profiles]
        )

    async def RemoveScanProfile(
        self, request: scan_pb2.ScanProfileRef, context: grpc.aio.ServicerContext
    ) -> scan_pb2.RemoveScanResponse:
        await self.hub.scans.remove_profile(request.id)
        return scan_pb2.RemoveScanResponse()

    async def ListScanLog(
        self, request: scan_pb2.ListScanLogRequest, context: grpc.aio.ServicerContext
    ) -> scan_pb2.ListScanLogResponse:
        response = scan_pb2.ListScanLogResponse()
        for entry in self.hub.scans.log(request.limit or 100):
            line = response.entries.add(
                scan_id=entry.scan_id,
                printer_id=entry.printer_id,
                user=entry.user or "",
                profile_id=entry.profile_id,
                status=entry.status,
                pages=entry.pages,
                amount_cents=entry.amount_cents,
                destination=entry.destination or "",
                error=entry.error or "",
            )
            line.recorded_at.FromMicroseconds(entry.recorded_us)
        return response

    async def ListScanCounterChecks(
        self, request: scan_pb2.ListScanCounterChecksRequest, context: grpc.aio.ServicerContext
    ) -> scan_pb2.ListScanCounterChecksResponse:
        response = scan_pb2.ListScanCounterChecksResponse()
        for check in self.hub.scans.counter_checks(request.limit or 100, request.mismatches_only):
            line = response.checks.add(
                session_id=check.session_id,
                printer_id=check.printer_id,
                user=check.user,
                status=check.status,
                counter_pages=check.counter_pages,
                delivered_pages=check.delivered_pages,
                failed_scans=check.failed_scans,
                copy_pages=check.copy_pages,
                sent_only=check.sent_only,
            )
            line.reported_at.FromMicroseconds(check.reported_us)
            if check.checked_us is not None:
                line.checked_at.FromMicroseconds(check.checked_us)
        return response
