"""The simulated MFP against mfp.md and vendor_counter_oids.yaml: BER on the wire, MIB values.

The BER codec is checked against pysnmp/pyasn1's encoder and decoder (not our SNMP client);
counters are read from the simulator's MIB at the OIDs the reference lists for each vendor.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from hw_sim.mfp import MfpSimServer, SimulatedMfp
from hw_sim.mfp.ber import BerError, Message, Value, decode_message, encode_message

# pysnmp 7 calls its own deprecated pysmi helpers; that noise is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

Oid = tuple[int, ...]


def _oid(text: str) -> Oid:
    return tuple(int(part) for part in text.split("."))


ERROR_STATE = _oid("1.3.6.1.2.1.25.3.5.1.2.1")


def run(coroutine):
    return asyncio.run(coroutine)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_ber_decoder_never_crashes_on_random_bytes(data):
    with contextlib.suppress(BerError):
        decode_message(data)


oids = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=12).map(lambda t: (1, 3, *t))
values = st.one_of(
    st.tuples(st.just(0x02), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(0x04), st.binary(max_size=64)),
    st.tuples(st.just(0x41), st.integers(0, 2**32 - 1)),
    st.tuples(st.just(0x46), st.integers(0, 2**64 - 1)),
    st.tuples(st.just(0x06), oids),
    st.tuples(st.just(0x05), st.none()),
)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 1),
    st.binary(max_size=20),
    st.integers(0, 2**31 - 1),
    st.lists(st.tuples(oids, values), max_size=8),
)
def test_ber_round_trip(version, community, request_id, binds):
    message = Message(version, community, 0xA2, request_id, 0, 0, binds)
    encoded = encode_message(message)
    assert decode_message(encoded) == message
    for cut in (1, len(encoded) // 2, len(encoded) - 1):
        with pytest.raises(BerError):
            decode_message(encoded[:cut])


def test_agent_counts_malformed_datagrams():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.agent.datagram_received(b"\x30\x03\x02\x01", ("127.0.0.1", 1))
            mfp.agent.datagram_received(b"garbage", ("127.0.0.1", 1))
            return mfp.agent.malformed

    assert run(body()) == 2


def test_a_get_request_encoded_by_pysnmp_decodes_exactly() -> None:
    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 4242)
    v2c.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 2, 0), v2c.Null())])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, b"public")
    v2c.apiMessage.set_pdu(message, pdu)
    assert decode_message(encoder.encode(message)) == Message(
        1, b"public", 0xA0, 4242, 0, 0, [((1, 3, 6, 1, 2, 1, 1, 2, 0), (0x05, None))]
    )


def test_a_response_encoded_here_decodes_exactly_with_pyasn1() -> None:
    binds: list[tuple[Oid, Value]] = [
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), (0x06, (1, 3, 6, 1, 4, 1, 1347, 41))),
        ((1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1), (0x41, 76498)),
        ((1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 8, 1, 5), (0x02, -2)),
        ((1, 3, 6, 1, 2, 1, 1, 5, 0), (0x04, b"sim")),
        ((1, 3, 6, 1, 4, 1, 99, 1), (0x46, 2**64 - 1)),
    ]
    raw = encode_message(Message(1, b"public", 0xA2, 7, 0, 0, binds))
    decoded, rest = decoder.decode(raw, asn1Spec=v2c.Message())
    assert rest == b""
    pdu = v2c.apiMessage.get_pdu(decoded)
    assert v2c.apiPDU.get_request_id(pdu) == 7
    got = [
        (tuple(oid), type(value).__name__, value.prettyPrint()) for oid, value in v2c.apiPDU.get_varbinds(pdu)
    ]
    assert got == [
        ((1, 3, 6, 1, 2, 1, 1, 2, 0), "ObjectIdentifier", "1.3.6.1.4.1.1347.41"),
        ((1, 3, 6, 1, 2, 1, 43, 10, 2, 1, 4, 1, 1), "Counter32", "76498"),
        ((1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 8, 1, 5), "Integer", "-2"),
        ((1, 3, 6, 1, 2, 1, 1, 5, 0), "OctetString", "sim"),
        ((1, 3, 6, 1, 4, 1, 99, 1), "Counter64", str(2**64 - 1)),
    ]


# mfp.md §1.1: hrPrinterDetectedErrorState, bit 0 = MSB of the first octet
@pytest.mark.parametrize(("verb", "octets"), [
    (lambda mfp: None, "0000"),
    (lambda mfp: mfp.jam(), "0400"),
    (lambda mfp: mfp.open_door(), "0800"),
    (lambda mfp: mfp.set_error("lowPaper"), "8000"),
    (lambda mfp: mfp.set_error("serviceRequested"), "0100"),
    (lambda mfp: mfp.set_error("inputTrayEmpty"), "0004"),
    (lambda mfp: mfp.set_toner("black", 5), "2000"),
    (lambda mfp: mfp.set_toner("black", 0), "1000"),
])  # fmt: skip
def test_error_state_octets_are_the_mib_bits(verb, octets: str) -> None:
    mfp = SimulatedMfp()
    verb(mfp)
    _, values = mfp.mib()
    assert values[ERROR_STATE] == (0x04, bytes.fromhex(octets))


def _mib_values(mfp: SimulatedMfp) -> dict[Oid, Any]:
    _, values = mfp.mib()
    return {oid: payload for oid, (_, payload) in values.items()}


def _busy(mfp: SimulatedMfp) -> None:
    mfp.print_pages(7, color=False)
    mfp.print_pages(5, color=True, duplex=True)
    mfp.copy(3, color=False)
    mfp.copy(2, color=True)
    mfp.fax_print(4)
    mfp.scan(6)


def test_kyocera_counters_sit_where_the_reference_says() -> None:
    mfp = SimulatedMfp("kyocera")
    _busy(mfp)
    values = _mib_values(mfp)
    base = "1.3.6.1.4.1.1347"
    assert values[_oid(f"{base}.42.3.1.1.1.1.1")] == 12  # function_total F=1 print
    assert values[_oid(f"{base}.42.3.1.1.1.1.2")] == 5  # F=2 copy
    assert values[_oid(f"{base}.42.3.1.1.1.1.4")] == 4  # F=4 fax
    assert values[_oid(f"{base}.42.3.1.2.1.1.1.1")] == 7  # function_colour print, C=1 bw
    assert values[_oid(f"{base}.42.3.1.2.1.1.1.3")] == 5  # print, C=3 full colour
    assert values[_oid(f"{base}.42.3.1.2.1.1.2.1")] == 3  # copy bw
    assert values[_oid(f"{base}.43.10.1.1.12.1.1")] == 21  # total printed, all functions
    assert values[_oid(f"{base}.43.5.1.1.28.1")] == b"SIM0000001"  # serial
    assert values[_oid("1.3.6.1.2.1.43.10.2.1.4.1.1")] == 21  # prtMarkerLifeCount
    assert values[_oid("1.3.6.1.2.1.1.2.0")] == _oid("1.3.6.1.4.1.1347.41")


def test_ricoh_counter_table_is_matched_by_its_type_codes() -> None:
    mfp = SimulatedMfp("ricoh")
    _busy(mfp)
    values = _mib_values(mfp)
    table = "1.3.6.1.4.1.367.3.2.1.2.19.5.1"
    by_type = {
        values[oid]: values[_oid(f"{table}.9.{oid[-1]}")] for oid in values if oid[:-1] == _oid(f"{table}.2")
    }
    # type codes from vendor_counter_oids.yaml: 10 machine total, 201 copy bw, 202 copy colour,
    # 401 print bw, 402 print colour, 870 scan
    assert {code: by_type[code] for code in (10, 201, 202, 401, 402, 870)} == {
        10: 21, 201: 3, 202: 2, 401: 7, 402: 5, 870: 6
    }  # fmt: skip


def test_konica_hp_and_sharp_counters_sit_where_the_reference_says() -> None:
    konica, hp, sharp = SimulatedMfp("konica_minolta"), SimulatedMfp("hp"), SimulatedMfp("sharp")
    for mfp in (konica, hp, sharp):
        _busy(mfp)
    k = _mib_values(konica)
    base = "1.3.6.1.4.1.18334.1.1.1.5.7.2"
    assert k[_oid(f"{base}.1.3.0")] == 5  # duplex
    assert k[_oid(f"{base}.1.5.0")] == 6  # scans total
    # colour_function .{C}.{F}: C 1 black, 2 colour; F 1 copy, 2 print
    assert [k[_oid(f"{base}.2.1.5.{c}.{f}")] for c, f in ((1, 1), (1, 2), (2, 1), (2, 2))] == [3, 7, 2, 5]
    h = _mib_values(hp)
    base = "1.3.6.1.4.1.11.2.3.9.4.2.1"
    assert [h[_oid(f"{base}.4.1.2.{n}.0")] for n in (5, 6, 7, 22)] == [21, 14, 7, 5]
    assert h[_oid(f"{base}.2.2.1.74.0")] == 6  # flatbed scans
    s = _mib_values(sharp)
    names = {oid[-3:]: value for oid, value in s.items() if oid[:-3] == _oid("1.3.6.1.4.1.2385.1.1.19.2.1.4")}
    by_name = {names[index]: s[_oid("1.3.6.1.4.1.2385.1.1.19.2.1.3") + index] for index in names}
    assert by_name[b"Black & White Print Count"] == 7 and by_name[b"Full Color Copy Count"] == 2


def test_supplies_use_the_mib_special_values() -> None:
    mfp = SimulatedMfp()
    mfp.set_toner("cyan", 40)
    values = _mib_values(mfp)
    entry = "1.3.6.1.2.1.43.11.1.1"
    assert values[_oid(f"{entry}.9.1.1")] * 100 // values[_oid(f"{entry}.8.1.1")] == 40
    assert values[_oid(f"{entry}.5.1.5")] == 4  # wasteToner
    assert (values[_oid(f"{entry}.8.1.5")], values[_oid(f"{entry}.9.1.5")]) == (-2, -3)  # unknown, some left


def test_the_agent_answers_a_pysnmp_get_over_udp() -> None:
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.print_pages(9)
            engine = SnmpEngine()
            try:
                target = await UdpTransportTarget.create(("127.0.0.1", mfp.snmp_port), timeout=2, retries=1)
                error, status, _, binds = await get_cmd(
                    engine, CommunityData("public"), target, ContextData(),
                    ObjectType(ObjectIdentity("1.3.6.1.2.1.43.10.2.1.4.1.1")),
                    ObjectType(ObjectIdentity("1.3.6.1.4.1.1347.43.5.1.1.1.1")),
                    lookupMib=False,
                )  # fmt: skip
            finally:
                engine.close_dispatcher()
            return error, int(status), [value.prettyPrint() for _, value in binds]

    error, status, values = run(body())
    assert (error, status, values) == (None, 0, ["9", "TASKalfa 3253ci"])


def test_input_table_rows_use_the_printer_mib_columns() -> None:
    mfp = SimulatedMfp()
    mfp.set_paper(2, -3)  # "at least one sheet"
    values = _mib_values(mfp)
    entry = "1.3.6.1.2.1.43.8.2.1"
    rows = {
        index: tuple(values[_oid(f"{entry}.{column}.1.{index}")] for column in (2, 8, 9, 10, 12, 13))
        for index in (1, 2, 3)
    }
    # PrtInputTypeTC 3 sheetFeedAutoRemovableTray, 5 sheetFeedManual; capacity unit 8 = sheets
    assert rows == {
        1: (3, 8, 500, 500, b"A4", b"Tray 1"),
        2: (3, 8, 500, -3, b"A4", b"Tray 2"),
        3: (5, 8, 100, 0, b"", b"Bypass Tray"),
    }


@pytest.mark.parametrize(("trays", "octets"), [
    ({1: 500, 2: 500}, "0000"),
    ({1: 50, 2: 500}, "8000"),  # lowPaper: bit 0
    ({1: 0, 2: 500}, "8000"),  # one cassette empty: low, the other still feeds
    ({1: 0, 2: 0}, "C000"),  # lowPaper + noPaper (bit 1): every cassette is empty
    ({1: -3, 2: 0}, "8000"),
])  # fmt: skip
def test_paper_error_bits_follow_the_trays(trays: dict[int, int], octets: str) -> None:
    mfp = SimulatedMfp()
    for tray, sheets in trays.items():
        mfp.set_paper(tray, sheets)
    _, values = mfp.mib()
    assert values[ERROR_STATE] == (0x04, bytes.fromhex(octets))
    assert (mfp.print_pages(1) == 0) == ("C0" in octets)  # no paper stops printing


def test_sharp_reports_the_waste_toner_as_a_percent_of_an_unknown_maximum() -> None:
    # as the Sharp recording does (prtMarkerSupplies index 5: max -2, level 100)
    values = _mib_values(SimulatedMfp("sharp"))
    entry = "1.3.6.1.2.1.43.11.1.1"
    assert (values[_oid(f"{entry}.8.1.5")], values[_oid(f"{entry}.9.1.5")]) == (-2, 100)
    with pytest.raises(ValueError):
        SimulatedMfp().set_paper(4, 10)
