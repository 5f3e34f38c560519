"""EnrollmentService over gRPC: translation only; the work is :class:`HubPki`'s."""

from __future__ import annotations

import logging
from typing import NoReturn

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import enrollment_pb2, enrollment_pb2_grpc

from hub_server.pki.enrollment import IssuedCertificate
from hub_server.pki.errors import PkiError, grpc_status_for
from hub_server.pki.hub_pki import HubPki

__all__ = ["EnrollmentServicer"]

log = logging.getLogger(__name__)
_KIND_NAME = {enrollment_pb2.DEVICE_KIND_TERMINAL: "terminal", enrollment_pb2.DEVICE_KIND_KIOSK: "kiosk"}
_KIND_ENUM = {name: value for value, name in _KIND_NAME.items()}


def _response(issued: IssuedCertificate, endpoints: tuple[str, ...]) -> enrollment_pb2.EnrollResponse:
    not_after = Timestamp()
    not_after.FromMicroseconds(issued.not_after_us)
    return enrollment_pb2.EnrollResponse(
        device_id=issued.identity.device_id,
        kind=_KIND_ENUM[issued.identity.kind],
        certificate_pem=issued.certificate_pem().decode(),
        chain_pem=issued.chain_pem().decode(),
        not_after=not_after,
        device_endpoints=list(endpoints),
    )


class EnrollmentServicer(enrollment_pb2_grpc.EnrollmentServiceServicer):
    """GetCaCertificate and Enroll on the enrollment listener; Renew on the device listener."""

    def __init__(self, pki: HubPki) -> None:
        self._pki = pki

    async def _refuse(self, context: grpc.aio.ServicerContext, what: str, error: PkiError) -> NoReturn:
        # The one place a refused enrollment is logged; messages carry no secrets.
        log.warning("%s refused for %s: %s", what, context.peer(), error)
        await context.abort(grpc_status_for(error), str(error))
        raise AssertionError("abort() raises")  # grpc's stubs do not declare it NoReturn

    async def GetCaCertificate(
        self, request: enrollment_pb2.GetCaCertificateRequest, context: grpc.aio.ServicerContext
    ) -> enrollment_pb2.GetCaCertificateResponse:
        """The trust bundle."""
        return enrollment_pb2.GetCaCertificateResponse(
            trust_bundle_pem=self._pki.material.trust_bundle_pem().decode()
        )

    async def Enroll(
        self, request: enrollment_pb2.EnrollRequest, context: grpc.aio.ServicerContext
    ) -> enrollment_pb2.EnrollResponse:
        """Token + CSR to a certificate."""
        try:
            kind = _KIND_NAME.get(request.kind, "unspecified")
            issued = await self._pki.enroller.enroll(request.token, kind, request.csr_pem, context.peer())
        except PkiError as error:
            await self._refuse(context, "enrollment", error)
        return _response(issued, self._pki.config.device_endpoints)

    async def Renew(
        self, request: enrollment_pb2.RenewRequest, context: grpc.aio.ServicerContext
    ) -> enrollment_pb2.EnrollResponse:
        """Current certificate (mutual TLS) + CSR to a new certificate."""
        try:
            peer = self._pki.authenticator.identify(context)
            issued = await self._pki.enroller.renew(peer, request.csr_pem)
        except PkiError as error:
            await self._refuse(context, "renewal", error)
        return _response(issued, self._pki.config.device_endpoints)
