"""Requests from the unprivileged app to the device's root service, and their results: one home
for the format both sides read (the app in ``terminal_app``, the root side in ``images.guest``).

The app runs as an unprivileged user under ``NoNewPrivileges``; it cannot reboot the machine or
install an update. It writes a *request* file, the root side performs it and writes a *result*
file back. Both live under one directory on the data partition (the app's ``[fleet] ops_dir``)::

    <ops_dir>/staging/    the app's temporary files (renamed into requests/ when complete)
    <ops_dir>/requests/   <id>.json: one request each (the root side's path unit watches it)
    <ops_dir>/downloads/  <id>.raucb: the bundle an ``install_update`` request installs
    <ops_dir>/results/    <id>.json: the root side's answer (the app reads and removes it)

A request is one UTF-8 JSON object of at most :data:`MAX_REQUEST_BYTES` with exactly the keys of
its verb, ``{"v":1,"id":"<32 hex>","verb":"reboot"}`` or ``{"v":1,"id":…,"verb":"install_update",
"version":"1.1","sha256":"<64 hex>"}``. It names no path: the bundle of request ``id`` is
``downloads/<id>.raucb`` by construction, so a request can point at nothing else. A result is
``{"v":1,"id":…,"status":"rebooting"|"failed","detail":"…"}``; ``rebooting`` means the reboot
(into the new slot, for an update) follows within seconds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BUNDLE_SUFFIX",
    "DOWNLOADS",
    "MAX_DETAIL_CHARS",
    "MAX_REQUEST_BYTES",
    "MAX_RESULT_BYTES",
    "REQUESTS",
    "RESULTS",
    "RESULT_STATUSES",
    "SCHEMA_VERSION",
    "STAGING",
    "VERBS",
    "DeviceRequest",
    "DeviceResult",
    "RequestError",
    "bundle_name",
    "encode_request",
    "encode_result",
    "file_name",
    "parse_request",
    "parse_result",
    "request_id_of",
]

SCHEMA_VERSION = 1
MAX_REQUEST_BYTES = 4096
MAX_RESULT_BYTES = 4096
MAX_DETAIL_CHARS = 500
VERBS: tuple[str, ...] = ("reboot", "install_update")
RESULT_STATUSES: tuple[str, ...] = ("rebooting", "failed")

STAGING, REQUESTS, DOWNLOADS, RESULTS = "staging", "requests", "downloads", "results"
BUNDLE_SUFFIX = ".raucb"
_JSON_SUFFIX = ".json"

_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_~-]{0,63}$")
_KEYS = {
    "reboot": {"v", "id", "verb"},
    "install_update": {"v", "id", "verb", "version", "sha256"},
}


class RequestError(ValueError):
    """A request or result that is refused; the text says why."""


@dataclass(frozen=True)
class DeviceRequest:
    """One request to the root side; ``version`` and ``sha256`` only for ``install_update``."""

    id: str
    verb: str
    version: str = ""
    sha256: str = ""

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise RequestError("id must be 32 lower-case hex digits")
        if self.verb not in VERBS:
            raise RequestError(f"unknown verb {self.verb[:40]!r} (known: {', '.join(VERBS)})")
        if self.verb == "install_update":
            if not _VERSION.match(self.version):
                raise RequestError("version must be a version string")
            if not _SHA256.match(self.sha256):
                raise RequestError("sha256 must be 64 lower-case hex digits")
        elif self.version or self.sha256:
            raise RequestError(f"{self.verb} takes no version or sha256")


@dataclass(frozen=True)
class DeviceResult:
    """The root side's answer to request ``id``."""

    id: str
    status: str
    detail: str = ""

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise RequestError("id must be 32 lower-case hex digits")
        if self.status not in RESULT_STATUSES:
            raise RequestError(f"unknown result status {self.status[:40]!r}")


def file_name(request_id: str) -> str:
    """The name of request ``request_id``'s file in ``requests/`` and its result in ``results/``."""
    return request_id + _JSON_SUFFIX


def bundle_name(request_id: str) -> str:
    """The name of the bundle of ``install_update`` request ``request_id`` in ``downloads/``."""
    return request_id + BUNDLE_SUFFIX


def request_id_of(name: str) -> str | None:
    """The request id a file in ``requests/`` or ``results/`` is named by (None: not one of ours)."""
    stem = name.removesuffix(_JSON_SUFFIX)
    return stem if stem != name and _ID.match(stem) else None


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps({"v": SCHEMA_VERSION, **document}, separators=(",", ":"), sort_keys=True).encode()


def _decode(data: bytes, limit: int) -> dict[str, Any]:
    if len(data) > limit:
        raise RequestError(f"larger than {limit} bytes")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RequestError("not UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise RequestError("not a JSON object")
    version = document.get("v")
    if type(version) is not int:
        raise RequestError("no integer schema version 'v'")
    if version != SCHEMA_VERSION:
        raise RequestError(f"schema version {version} is not known (known: {SCHEMA_VERSION})")
    return document


def _text(document: dict[str, Any], key: str) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise RequestError(f"{key} must be a string")
    return value


def encode_request(request: DeviceRequest) -> bytes:
    """The request file's content."""
    document: dict[str, Any] = {"id": request.id, "verb": request.verb}
    if request.verb == "install_update":
        document.update(version=request.version, sha256=request.sha256)
    return _encode(document)


def parse_request(data: bytes) -> DeviceRequest:
    """The request in ``data``, checked strictly: :class:`RequestError` for anything but exactly
    the keys of a known verb with valid values."""
    document = _decode(data, MAX_REQUEST_BYTES)
    verb = _text(document, "verb")
    if verb not in _KEYS:
        raise RequestError(f"unknown verb {verb[:40]!r} (known: {', '.join(VERBS)})")
    unexpected = set(document) - _KEYS[verb]
    if unexpected:
        raise RequestError(f"{verb} takes no {', '.join(sorted(k[:40] for k in unexpected))}")
    return DeviceRequest(_text(document, "id"), verb, _text(document, "version"), _text(document, "sha256"))


def encode_result(result: DeviceResult) -> bytes:
    """The result file's content (the detail cut to :data:`MAX_DETAIL_CHARS`)."""
    return _encode({"id": result.id, "status": result.status, "detail": result.detail[:MAX_DETAIL_CHARS]})


def parse_result(data: bytes) -> DeviceResult:
    """The result in ``data`` (:class:`RequestError` when it is not one)."""
    document = _decode(data, MAX_RESULT_BYTES)
    return DeviceResult(_text(document, "id"), _text(document, "status"), _text(document, "detail"))
