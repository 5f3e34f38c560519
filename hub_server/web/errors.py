"""The hub's errors as HTTP answers: one table, like the gRPC services'."""

from __future__ import annotations

from aiohttp import web

from hub_server.errors import (
    AlreadyExists,
    AuthenticationFailed,
    HubError,
    InvalidRequest,
    InvariantViolation,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Refused,
)

__all__ = ["http_error", "refusal"]

_STATUS_BY_ERROR: tuple[tuple[type[HubError], int], ...] = (
    (InvalidRequest, 400),
    (NotFound, 404),
    (AlreadyExists, 409),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (Refused, 409),
    (QuotaExceeded, 409),
    (InvariantViolation, 500),
)


def http_error(error: HubError) -> int:
    """The HTTP status a hub error is answered with."""
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def refusal(error: HubError) -> web.HTTPException:
    """The answer to a refused request: its status and the hub's own message as plain text."""
    status = http_error(error)
    cls = web.HTTPException
    for candidate in (
        web.HTTPBadRequest,
        web.HTTPNotFound,
        web.HTTPConflict,
        web.HTTPUnauthorized,
        web.HTTPForbidden,
        web.HTTPInternalServerError,
    ):
        if candidate.status_code == status:
            cls = candidate
    return cls(text=str(error))
