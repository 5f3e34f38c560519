"""A small asyncio SNMP client on pysnmp 7: GET and bounded WALK, every call with a timeout.

Values come back as plain Python: ``int`` for INTEGER/Counter/Gauge/TimeTicks,
``bytes`` for OCTET STRING, ``str`` (dotted) for OBJECT IDENTIFIER and IpAddress,
``None`` for NULL. ``noSuchObject``/``noSuchInstance``/``endOfMibView`` mean "absent":
such OIDs are left out of :meth:`SnmpClient.get`'s result instead of raising.

Engine warm-up costs ~0.7 s once per :class:`SnmpEngine`; share one engine between
clients (``engine=``) when polling many devices.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto import rfc1902, rfc1905

from mfp_adapters.errors import SnmpProtocolError, SnmpTableTooLargeError, SnmpTimeoutError

__all__ = ["CommunityAuth", "Oid", "SnmpClient", "SnmpValue", "UsmAuth", "oid_str", "parse_oid"]

log = logging.getLogger(__name__)

Oid = tuple[int, ...]
SnmpValue = int | bytes | str | None

_AUTH_PROTOCOLS = {
    "MD5": usmHMACMD5AuthProtocol,
    "SHA": usmHMACSHAAuthProtocol,
    "SHA256": usmHMAC192SHA256AuthProtocol,
}
_PRIV_PROTOCOLS = {"DES": usmDESPrivProtocol, "AES": usmAesCfb128Protocol, "AES256": usmAesCfb256Protocol}
_ABSENT = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)
_MAX_OID_LEN = 128
_SAFETY_MARGIN_S = 5.0
_FIRST_BULK = 8
_TOO_BIG, _NO_SUCH_NAME = 1, 2
_GET_CHUNK = 32  # objects per GET; a tooBig answer halves it


def parse_oid(text: str) -> Oid:
    """``"1.3.6.1"`` (a leading dot is allowed) -> ``(1, 3, 6, 1)``; raises ``ValueError``."""
    parts = text.strip().lstrip(".").split(".")
    if not parts or len(parts) > _MAX_OID_LEN or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a numeric OID: {text!r}")
    return tuple(int(p) for p in parts)


def oid_str(oid: Oid) -> str:
    """``(1, 3, 6, 1)`` -> ``"1.3.6.1"``."""
    return ".".join(str(part) for part in oid)


@dataclass(frozen=True)
class CommunityAuth:
    """SNMP v1 or v2c with a community string."""

    community: str = "public"
    version: Literal["1", "2c"] = "2c"

    def pysnmp_data(self) -> CommunityData:
        """The pysnmp authentication object."""
        return CommunityData(self.community, mpModel=0 if self.version == "1" else 1)

    @property
    def context_name(self) -> str:
        """SNMPv1/v2c have no context."""
        return ""


@dataclass(frozen=True)
class UsmAuth:
    """SNMPv3 USM, authPriv by default (auth ``MD5|SHA|SHA256``, priv ``DES|AES|AES256``)."""

    user: str
    auth_key: str
    priv_key: str | None = None
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"
    context_name: str = ""
    version: Literal["3"] = "3"

    def pysnmp_data(self) -> UsmUserData:
        """The pysnmp authentication object; raises ``ValueError`` on an unknown protocol."""
        try:
            auth = _AUTH_PROTOCOLS[self.auth_protocol.upper()]
            priv = _PRIV_PROTOCOLS[self.priv_protocol.upper()] if self.priv_key else None
        except KeyError as exc:
            raise ValueError(f"unknown SNMPv3 protocol {exc.args[0]!r}") from None
        if priv is None:
            return UsmUserData(self.user, self.auth_key, authProtocol=auth)
        return UsmUserData(self.user, self.auth_key, self.priv_key, authProtocol=auth, privProtocol=priv)


Auth = CommunityAuth | UsmAuth


def _to_python(value: Any) -> SnmpValue:
    # Order matters: IpAddress and Null derive from OctetString in pyasn1.
    if value.tagSet == rfc1902.IpAddress.tagSet:
        return ".".join(str(b) for b in bytes(value))
    if isinstance(value, univ.Null):
        return None
    if isinstance(value, univ.OctetString):
        return bytes(value)
    if isinstance(value, univ.ObjectIdentifier):
        return oid_str(tuple(value))
    if isinstance(value, univ.Integer):
        return int(value)
    raise SnmpProtocolError(f"unsupported SNMP value type {type(value).__name__}")


class _TooBigError(SnmpProtocolError):
    """error-status tooBig: ask for fewer objects per request."""


class SnmpClient:
    """GET and WALK one agent; every call is bounded by ``timeout_s`` (x ``retries + 1``).

    Use as ``async with SnmpClient(host, port, auth) as snmp: await snmp.get([...])``.
    """

    def __init__(
        self,
        host: str,
        port: int = 161,
        auth: Auth | None = None,
        *,
        timeout_s: float = 2.0,
        retries: int = 1,
        max_rows: int = 5000,
        bulk_size: int = 32,
        engine: SnmpEngine | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.auth: Auth = auth or CommunityAuth()
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_rows = max_rows
        self.bulk_size = bulk_size
        self._engine = engine
        self._own_engine = engine is None
        self._target: UdpTransportTarget | None = None
        self.requests_sent = 0

    async def __aenter__(self) -> SnmpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the engine's sockets if this client created the engine."""
        if self._own_engine and self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None

    @property
    def _call_budget_s(self) -> float:
        # pysnmp's own timeout x tries is the real bound; this outer one is a safety net that
        # also covers the engine's one-off warm-up (~0.7 s of CPU on a Pi-class machine).
        return self.timeout_s * (self.retries + 1) + _SAFETY_MARGIN_S

    async def _prepare(self) -> tuple[SnmpEngine, UdpTransportTarget]:
        if self._engine is None:
            self._engine = SnmpEngine()
        if self._target is None:
            self._target = await asyncio.wait_for(
                UdpTransportTarget.create(
                    (self.host, self.port), timeout=self.timeout_s, retries=self.retries
                ),
                self._call_budget_s,
            )
        return self._engine, self._target

    async def _call(self, command: Any, *args: Any) -> list[tuple[Oid, Any]]:
        engine, target = await self._prepare()
        context = ContextData(contextName=self.auth.context_name)
        self.requests_sent += 1
        try:
            indication, status, index, var_binds = await asyncio.wait_for(
                command(engine, self.auth.pysnmp_data(), target, context, *args, lookupMib=False),
                self._call_budget_s,
            )
        except TimeoutError:
            raise SnmpTimeoutError(f"{self.host}:{self.port}: no SNMP answer in time") from None
        if indication:
            text = str(indication)
            if "timeout" in text.lower():
                raise SnmpTimeoutError(f"{self.host}:{self.port}: {text}")
            raise SnmpProtocolError(f"{self.host}:{self.port}: {text}")
        code = int(status)
        if code == _TOO_BIG:
            raise _TooBigError(f"{self.host}:{self.port}: answer too big for one PDU")
        if code == _NO_SUCH_NAME:  # SNMPv1's way of saying "absent"
            return []
        if code:
            raise SnmpProtocolError(f"{self.host}:{self.port}: error-status {code} at index {index}")
        return [(tuple(name), value) for name, value in var_binds]

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, SnmpValue]:
        """GET ``oids``; absent objects are left out of the result."""
        result: dict[Oid, SnmpValue] = {}
        for start in range(0, len(oids), _GET_CHUNK):
            result.update(await self._get_chunk(oids[start : start + _GET_CHUNK]))
        return result

    async def _get_chunk(self, chunk: Sequence[Oid]) -> dict[Oid, SnmpValue]:
        try:
            rows = await self._call(get_cmd, *(ObjectType(ObjectIdentity(oid)) for oid in chunk))
        except _TooBigError:
            if len(chunk) == 1:
                raise
            half = len(chunk) // 2
            return await self._get_chunk(chunk[:half]) | await self._get_chunk(chunk[half:])
        if not rows and len(chunk) > 1:
            # SNMPv1 answers noSuchName for the whole PDU: ask one by one.
            result: dict[Oid, SnmpValue] = {}
            for oid in chunk:
                result.update(await self._get_chunk([oid]))
            return result
        return {name: _to_python(value) for name, value in rows if not isinstance(value, _ABSENT)}

    async def get_one(self, oid: Oid) -> SnmpValue:
        """GET one OID; ``None`` when it is absent."""
        return (await self.get([oid])).get(oid)

    async def walk(self, root: Oid, max_rows: int | None = None) -> list[tuple[Oid, SnmpValue]]:
        """Every ``(oid, value)`` under ``root`` in order; bounded by ``max_rows``.

        Raises :class:`SnmpTableTooLargeError` beyond the bound and
        :class:`SnmpProtocolError` if the agent does not move forward.
        """
        limit = self.max_rows if max_rows is None else max_rows
        rows: list[tuple[Oid, SnmpValue]] = []
        cursor = root
        # Start with a small bulk and double it: most printer tables are a handful of rows,
        # and every row past the table's end is decoded for nothing.
        repetitions = min(_FIRST_BULK, self.bulk_size)
        while True:
            if self.auth.version == "1":
                batch = await self._call(next_cmd, ObjectType(ObjectIdentity(cursor)))
            else:
                batch = await self._call(bulk_cmd, 0, repetitions, ObjectType(ObjectIdentity(cursor)))
                repetitions = min(repetitions * 2, self.bulk_size)
            if not batch:
                return rows
            for name, value in batch:
                if isinstance(value, rfc1905.EndOfMibView) or name[: len(root)] != root:
                    return rows
                if name <= cursor:
                    raise SnmpProtocolError(f"agent went backwards at {oid_str(name)} during a walk")
                if not isinstance(value, _ABSENT):
                    rows.append((name, _to_python(value)))
                cursor = name
                if len(rows) > limit:
                    raise SnmpTableTooLargeError(f"walk of {oid_str(root)} exceeded {limit} rows")
