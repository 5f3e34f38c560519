"""The simulated MFP's SNMP v1/v2c agent on loopback UDP (GET, GETNEXT, GETBULK).

It serves :meth:`SimulatedMfp.mib`; a request with an unknown community, or any request
while ``snmp_silent`` is set, gets no answer at all, as real agents do.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from typing import Any

from hw_sim.mfp.ber import (
    END_OF_MIB_VIEW,
    GET,
    GETBULK,
    GETNEXT,
    NO_SUCH_OBJECT,
    RESPONSE,
    BerError,
    Message,
    decode_message,
    encode_message,
)
from hw_sim.mfp.model import SimulatedMfp

__all__ = ["SnmpAgent"]

log = logging.getLogger(__name__)

_NO_SUCH_NAME, _TOO_BIG = 2, 1
_MAX_RESPONSE = 8000
_MAX_REPETITIONS = 200


class SnmpAgent(asyncio.DatagramProtocol):
    """Answers SNMP requests for one :class:`SimulatedMfp`."""

    def __init__(self, device: SimulatedMfp, communities: frozenset[bytes] = frozenset({b"public"})) -> None:
        self.device = device
        self.communities = communities
        self.requests = 0
        self.malformed = 0
        self.max_response_bytes = _MAX_RESPONSE
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = decode_message(data)
        except BerError as exc:
            self.malformed += 1
            log.info("snmp agent: dropped malformed datagram from %s: %s", addr, exc)
            return
        if (
            self.device.snmp_silent
            or request.community not in self.communities
            or request.version not in (0, 1)
        ):
            return
        if request.pdu_type not in (GET, GETNEXT, GETBULK) or (
            request.pdu_type == GETBULK and request.version == 0
        ):
            self.malformed += 1
            return
        self.requests += 1
        response = self.answer(request)
        if self.transport is not None:
            self.transport.sendto(response, addr)

    def answer(self, request: Message) -> bytes:
        """Encode the response to one decoded request."""
        order, values = self.device.mib()
        v1 = request.version == 0
        binds: list[tuple[tuple[int, ...], Any]] = []
        status = index = 0
        if request.pdu_type == GETBULK:
            binds = self._bulk(request, order, values)
        else:
            for position, (oid, _) in enumerate(request.var_binds, start=1):
                found = self._lookup(oid, request.pdu_type == GETNEXT, order, values)
                if found is None and v1:
                    status, index = _NO_SUCH_NAME, position
                    binds = list(request.var_binds)
                    break
                if found is None:
                    tag = NO_SUCH_OBJECT if request.pdu_type == GET else END_OF_MIB_VIEW
                    binds.append((oid, (tag, None)))
                else:
                    binds.append(found)
        reply = Message(
            request.version, request.community, RESPONSE, request.request_id, status, index, binds
        )
        encoded = encode_message(reply)
        while len(encoded) > _MAX_RESPONSE and len(reply.var_binds) > 1:
            reply.var_binds = reply.var_binds[: len(reply.var_binds) // 2]
            encoded = encode_message(reply)
        return encoded

    @staticmethod
    def _lookup(oid: tuple[int, ...], next_: bool, order: list[Any], values: dict[Any, Any]) -> Any:
        if not next_:
            return (oid, values[oid]) if oid in values else None
        position = bisect.bisect_right(order, oid)
        if position >= len(order):
            return None
        found = order[position]
        return found, values[found]

    def _bulk(self, request: Message, order: list[Any], values: dict[Any, Any]) -> list[Any]:
        non_repeaters = max(0, request.error_status)
        repetitions = min(max(0, request.error_index), _MAX_REPETITIONS)
        binds: list[Any] = []
        for oid, _ in request.var_binds[:non_repeaters]:
            binds.append(self._lookup(oid, True, order, values) or (oid, (END_OF_MIB_VIEW, None)))
        for oid, _ in request.var_binds[non_repeaters:]:
            cursor = oid
            for _ in range(repetitions):
                found = self._lookup(cursor, True, order, values)
                if found is None:
                    binds.append((cursor, (END_OF_MIB_VIEW, None)))
                    break
                binds.append(found)
                cursor = found[0]
        return binds
