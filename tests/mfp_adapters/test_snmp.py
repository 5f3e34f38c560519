"""SNMP identity, counters, status and supplies: our real client against the simulated MFP over UDP."""

from __future__ import annotations

import time

import pytest

from hw_sim.mfp import MfpSimServer
from hw_sim.mfp.layouts import LAYOUTS
from mfp_adapters.device import MfpSnmp, trays_needing_paper
from mfp_adapters.errors import ProfileError, SnmpError, SnmpTableTooLargeError, SnmpTimeoutError
from mfp_adapters.mib import (
    BLOCKING_ERROR_BITS,
    ERROR_STATE_BITS,
    SupplyLevel,
    TrayState,
    blocking_errors,
    decode_error_state,
    supply_level,
    tray_state,
)
from mfp_adapters.profiles import load_profiles, parse_profile, select_profile
from mfp_adapters.snmp import CommunityAuth, SnmpClient, UsmAuth, parse_oid
from tests.mfp_adapters.conftest import run

# pysnmp 7 calls its own deprecated pysmi helpers; that noise is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIFE_COUNT = parse_oid("1.3.6.1.2.1.43.10.2.1.4.1.1")
ERROR_STATE = parse_oid("1.3.6.1.2.1.25.3.5.1.2.1")


def client(mfp: MfpSimServer, **kw) -> SnmpClient:
    kw.setdefault("timeout_s", 1.0)
    return SnmpClient("127.0.0.1", mfp.snmp_port, CommunityAuth(mfp.community), **kw)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (b"", []),
        (b"\x00", []),
        (b"\x00\x00", []),
        (b"\x80\x00", ["lowPaper"]),
        (b"\x20\x00", ["lowToner"]),
        (b"\x01\x00", ["serviceRequested"]),
        (b"\x04", ["jammed"]),
        (b"\x0c", ["doorOpen", "jammed"]),
        (b"\x00\x80", ["inputTrayMissing"]),
        (b"\x00\x02", ["overduePreventMaint"]),
        (b"\x00\x01", ["bit15"]),
    ],
)
def test_error_state_bit0_is_msb_of_first_octet(raw, names):
    assert decode_error_state(raw) == names


def test_blocking_errors_are_the_bits_that_stop_printing():
    # every defined bit: warnings (low supplies, nearly full, maintenance due) never block
    everything = decode_error_state(b"\xff\xfe")
    assert blocking_errors(everything) == [
        "doorOpen",
        "inputTrayMissing",
        "jammed",
        "markerSupplyMissing",
        "noPaper",
        "noToner",
        "offline",
        "outputFull",
        "outputTrayMissing",
        "serviceRequested",
    ]
    assert blocking_errors(["lowPaper", "lowToner", "outputNearFull", "inputTrayEmpty"]) == []
    assert set(ERROR_STATE_BITS) >= BLOCKING_ERROR_BITS


@pytest.mark.parametrize(
    ("level", "maximum", "codes", "expected"),
    [
        (7500, 15000, None, SupplyLevel(50.0)),
        (1060, 5300, None, SupplyLevel(20.0)),
        (-1, 100, None, SupplyLevel(None)),
        (-2, 100, None, SupplyLevel(None)),
        (-3, 100, None, SupplyLevel(None)),
        (150, 100, None, SupplyLevel(100.0)),
        # capacity unknown (-2), level a percentage: Sharp's waste toner in the recordings
        (100, -2, None, SupplyLevel(100.0, estimated=True)),
        (55, -2, None, SupplyLevel(55.0, estimated=True)),
        (150, -2, None, SupplyLevel(None)),  # not a percentage
        (-2, -2, None, SupplyLevel(None)),  # Sharp's fusing unit: nothing known
        (-3, -2, None, SupplyLevel(None)),  # Konica/Kyocera waste box: "some remaining"
        (50, -1, None, SupplyLevel(None)),  # -1: no restriction, not a percentage
        (50, 0, None, SupplyLevel(None)),
        # a vendor's coarse codes (Brother) win over the percentage reading, also estimated
        (0, -2, {0: 100, 1: 5}, SupplyLevel(100.0, estimated=True)),
        (1, -2, {0: 100, 1: 5}, SupplyLevel(5.0, estimated=True)),
        (-3, -2, {0: 100}, SupplyLevel(None)),
    ],
)
def test_supply_level_respects_special_values(level, maximum, codes, expected):
    assert supply_level(level, maximum, codes) == expected


def test_supply_unit_percent_is_measured_not_estimated():
    assert supply_level(40, -2, unit_percent=True) == SupplyLevel(40.0)
    assert supply_level(140, 100, unit_percent=True) == SupplyLevel(100.0)


@pytest.mark.parametrize(
    ("level", "maximum", "expected"),
    [
        (500, 500, (100.0, TrayState.OK)),
        (181, 550, (32.9, TrayState.OK)),  # Sharp "Tray 1"
        (55, 550, (10.0, TrayState.LOW)),  # Ricoh: at the 10 % threshold
        (1, 550, (0.2, TrayState.LOW)),
        (0, 550, (0.0, TrayState.EMPTY)),
        (0, -2, (None, TrayState.EMPTY)),
        (-3, 250, (None, TrayState.SOME)),  # Brother "TRAY1": at least one sheet
        (-2, -2, (None, TrayState.UNKNOWN)),  # Sharp "Auto Select"
        (-1, 100, (None, TrayState.UNKNOWN)),
        (-9, 100, (None, TrayState.UNKNOWN)),  # outside the MIB's range
        (80, -2, (None, TrayState.UNKNOWN)),
        (None, 100, (None, TrayState.UNKNOWN)),
    ],
)
def test_tray_state_respects_special_values(level, maximum, expected):
    assert tray_state(level, maximum) == expected


def test_tray_low_threshold_is_a_setting():
    assert tray_state(100, 500, low_percent=25) == (20.0, TrayState.LOW)
    assert tray_state(100, 500, low_percent=15) == (20.0, TrayState.OK)


def test_every_vendor_profile_loads_and_is_selected_by_sys_object_id():
    profiles = load_profiles()
    wanted = {"generic", "kyocera", "ricoh", "hp", "canon", "konica_minolta", "xerox", "sharp"}
    wanted |= {"lexmark", "brother", "epson", "toshiba"}
    assert set(profiles) == wanted
    for name, profile in profiles.items():
        for prefix in profile.sys_object_id_prefixes:
            assert select_profile(prefix + "1.2", "").name == name


@pytest.mark.parametrize(
    ("descr", "vendor"),
    [
        ("UTAX 3505ci", "UTAX"),
        ("TA Triumph-Adler 4006ci", "TA Triumph-Adler"),
        ("Copystar CS 4053ci", "Copystar"),
    ],
)
def test_kyocera_oem_brands_come_from_sys_descr(descr, vendor):
    profile = select_profile("1.3.6.1.4.1.1347.41", descr)
    assert (profile.name, profile.brand(descr)) == ("kyocera", vendor)


def test_unknown_device_gets_the_generic_profile():
    assert select_profile("1.3.6.1.4.1.424242.1", "Some Printer").name == "generic"


@pytest.mark.parametrize(
    "data",
    [
        {"vendor": "x"},
        {"name": "x", "vendor": "x", "counters": [{"key": "bogus", "oid": "1.3.6"}]},
        {"name": "x", "vendor": "x", "counters": [{"key": "total", "oid": "1.3.x"}]},
        {"name": "x", "vendor": "x", "model": [{"regex": "("}]},
        {"name": "x", "vendor": "x", "counters": [{"table": "1.3.6"}]},
    ],
)
def test_malformed_profile_is_a_profile_error(data):
    with pytest.raises(ProfileError):
        parse_profile(data, "test.toml")


@pytest.mark.parametrize("vendor", sorted(LAYOUTS))
def test_probe_reads_exact_counters_of_each_simulated_vendor(vendor):
    async def body():
        async with MfpSimServer(vendor) as mfp:
            device = mfp.device
            device.copy(3, color=True)
            device.copy(2, duplex=True)
            device.print_pages(7)
            device.print_pages(4, color=True, duplex=True)
            async with client(mfp) as snmp:
                result = await MfpSnmp(snmp).probe()
            expected = device.counts()
            assert result.identity.profile == vendor
            assert result.identity.serial == device.serial
            assert result.identity.model == device.model
            assert result.counters.values["life_count"] == 16
            assert result.counters.life_count_unit == "impressions"
            for key, value in result.counters.values.items():
                assert value == expected[key], key
            return result

    result = run(body())
    if vendor in ("kyocera", "ricoh", "sharp", "konica_minolta", "lexmark", "brother", "xerox", "toshiba"):
        got = result.counters.values
        assert (got["copy_mono"], got["copy_color"], got["print_mono"], got["print_color"]) == (2, 3, 7, 4)


def test_brother_scans_count_adf_and_flatbed_once_each():
    """brScanCountTable rows by type: ADF and flatbed are summed into ``scan``; the ADF-duplex
    row (a part of the ADF row) is not added again."""

    async def body():
        async with MfpSimServer("brother") as mfp:
            mfp.device.scan(2)  # flatbed
            mfp.device.scan(3, source="adf")
            mfp.device.scan(4, source="adf", duplex=True)
            async with client(mfp) as snmp:
                return (await MfpSnmp(snmp).counters()).values["scan"]

    assert run(body()) == 2 + 3 + 4


def test_status_follows_jam_clear_and_toner():
    async def body():
        async with MfpSimServer("kyocera") as mfp, client(mfp) as snmp:
            mfp_snmp = MfpSnmp(snmp)
            idle = await mfp_snmp.status()
            assert (idle.device, idle.printer, idle.errors, idle.alerts) == ("running", "idle", [], [])
            mfp.device.jam()
            jammed = await mfp_snmp.status()
            assert (jammed.device, jammed.printer, jammed.errors) == ("down", "other", ["jammed"])
            assert [(a.severity, a.code, a.code_name, a.description) for a in jammed.alerts] == [
                ("critical", 8, "jam", "Paper jam")
            ]
            mfp.device.clear()
            mfp.device.set_toner("black", 5)
            low = await mfp_snmp.status()
            assert (low.device, low.errors, low.alerts) == ("warning", ["lowToner"], [])
            supplies = {s.description: s for s in await mfp_snmp.supplies()}
            assert (supplies["Black Toner"].percent, supplies["Black Toner"].estimated) == (5.0, False)
            assert supplies["Waste Toner Box"].percent is None
            assert (supplies["Waste Toner Box"].level, supplies["Waste Toner Box"].max) == (-3, -2)

    run(body())


def test_a_percentage_of_an_unknown_maximum_is_reported_as_an_estimate():
    async def body():
        async with MfpSimServer("sharp") as mfp, client(mfp) as snmp:
            return {s.description: s for s in await MfpSnmp(snmp).supplies()}

    supplies = run(body())
    waste = supplies["Waste Toner Box"]
    assert (waste.type, waste.level, waste.max, waste.percent, waste.estimated) == (
        "wasteToner", 100, -2, 100.0, True
    )  # fmt: skip
    assert supplies["Cyan Toner"].estimated is False


def test_trays_report_paper_as_the_printer_does_and_say_what_needs_paper():
    async def body():
        async with MfpSimServer("kyocera") as mfp, client(mfp) as snmp:
            mfp_snmp = MfpSnmp(snmp)
            full = await mfp_snmp.trays()
            mfp.device.set_paper(1, 30)
            mfp.device.set_paper(2, -3)
            low = await mfp_snmp.trays()
            low_status = await mfp_snmp.status()
            mfp.device.set_paper(1, 0)
            mfp.device.set_paper(2, 0)
            empty = await mfp_snmp.trays()
            empty_status = await mfp_snmp.status()
            return full, low, low_status, empty, empty_status

    full, low, low_status, empty, empty_status = run(body())
    rows = [(t.index, t.name, t.media, t.kind, t.manual, t.level, t.max, t.percent, t.state) for t in full]
    assert rows == [
        (1, "Tray 1", "A4", "sheetFeedAutoRemovableTray", False, 500, 500, 100.0, TrayState.OK),
        (2, "Tray 2", "A4", "sheetFeedAutoRemovableTray", False, 500, 500, 100.0, TrayState.OK),
        (3, "Bypass Tray", None, "sheetFeedManual", True, 0, 100, 0.0, TrayState.EMPTY),
    ]  # fmt: skip
    assert trays_needing_paper(full) == []  # an empty bypass tray is no "paper low"
    assert [(t.index, t.percent, t.state) for t in low[:2]] == [
        (1, 6.0, TrayState.LOW),
        (2, None, TrayState.SOME),
    ]
    assert [t.index for t in trays_needing_paper(low)] == [1]
    assert low_status.errors == ["lowPaper"]
    assert [(t.index, t.state) for t in trays_needing_paper(empty)] == [
        (1, TrayState.EMPTY),
        (2, TrayState.EMPTY),
    ]
    assert (empty_status.device, empty_status.errors) == ("down", ["lowPaper", "noPaper"])


def test_a_tray_without_a_type_is_manual_by_its_name():
    async def body():
        async with MfpSimServer("sharp") as mfp, client(mfp) as snmp:
            mfp.device.withdraw(parse_oid("1.3.6.1.2.1.43.8.2.1.2.1.3"))  # no prtInputType for the bypass
            mfp.device.inject(parse_oid("1.3.6.1.2.1.43.8.2.1.10.1.2"), 0x04, b"lots")  # garbage level
            return await MfpSnmp(snmp).trays()

    trays = run(body())
    assert (trays[2].kind, trays[2].manual, trays[2].state) == (None, True, TrayState.EMPTY)
    assert (trays[1].level, trays[1].state) == (None, TrayState.UNKNOWN)  # rejected, not guessed
    assert trays_needing_paper(trays) == []


def test_snmp_v1_walks_with_getnext_and_missing_objects():
    async def body():
        async with MfpSimServer("ricoh") as mfp:
            mfp.device.copy(4)
            auth = CommunityAuth(mfp.community, version="1")
            async with SnmpClient("127.0.0.1", mfp.snmp_port, auth, timeout_s=1.0) as snmp:
                counters = await MfpSnmp(snmp).counters()
                missing = await snmp.get([parse_oid("1.3.6.1.2.1.1.99.0"), LIFE_COUNT])
            assert counters.values["copy_mono"] == 4
            assert missing == {LIFE_COUNT: 4}

    run(body())


def test_garbage_types_and_bad_lengths_are_rejected_not_used():
    async def body():
        async with MfpSimServer("kyocera") as mfp, client(mfp) as snmp:
            mfp.device.inject(LIFE_COUNT, 0x04, b"lots")
            mfp.device.inject(ERROR_STATE, 0x04, b"\xff" * 40)
            mfp.device.inject(parse_oid("1.3.6.1.4.1.1347.42.3.1.2.1.1.2.1"), 0x02, -5)
            reader = MfpSnmp(snmp)
            counters = await reader.counters()
            status = await reader.status()
            assert "life_count" not in counters.values
            assert "copy_mono" not in counters.values
            assert status.errors == []
            assert reader.rejections == 3

    run(body())


def test_missing_rows_and_no_such_object_leave_keys_out():
    async def body():
        async with MfpSimServer("kyocera") as mfp, client(mfp) as snmp:
            mfp.device.withdraw(LIFE_COUNT)
            mfp.device.withdraw(parse_oid("1.3.6.1.4.1.1347.42.3.1.2.1.1.1.3"))
            counters = (await MfpSnmp(snmp).counters()).values
            assert "life_count" not in counters
            assert counters["print_color"] == 0  # the single-colour row still answers
            assert counters["print_mono"] == 0

    run(body())


def test_huge_table_is_bounded():
    async def body():
        async with MfpSimServer("generic") as mfp, client(mfp, max_rows=200) as snmp:
            mfp.device.add_junk_rows(400)
            with pytest.raises(SnmpTableTooLargeError):
                await MfpSnmp(snmp).supplies()

    run(body())


@pytest.mark.parametrize("silence", ["agent_silent", "wrong_community"])
def test_no_answer_is_a_timeout_in_bounded_time(silence):
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            community = "wrong" if silence == "wrong_community" else mfp.community
            mfp.device.snmp_silent = silence == "agent_silent"
            auth = CommunityAuth(community)
            async with SnmpClient("127.0.0.1", mfp.snmp_port, auth, timeout_s=0.3, retries=1) as snmp:
                started = time.monotonic()
                with pytest.raises(SnmpTimeoutError):
                    await MfpSnmp(snmp).identify()
                return time.monotonic() - started

    # Generous bound: the point is "bounded", not "fast" (timeout 0.3 s x 2 tries + engine start).
    assert run(body()) < 30


def test_poll_reads_the_same_as_counters_and_status_with_fewer_requests():
    async def body():
        async with MfpSimServer("kyocera") as mfp, client(mfp) as snmp:
            mfp.device.copy(2, color=True)
            mfp.device.jam()
            reader = MfpSnmp(snmp)
            await reader.identify()
            before = snmp.requests_sent
            counters, status = await reader.poll()
            poll_requests = snmp.requests_sent - before
            separate = (await reader.counters(), await reader.status())
            assert (counters.values, status) == (separate[0].values, separate[1])
            return poll_requests

    assert run(body()) == 2  # one GET for counters + status, one walk of the alert table


def test_too_big_answers_make_the_client_ask_for_less():
    async def body():
        async with MfpSimServer("kyocera") as mfp, client(mfp) as snmp:
            mfp.device.copy(3)
            reader = MfpSnmp(snmp)
            normal = (await reader.counters()).values
            mfp.agent.max_response_bytes = 200
            small = (await reader.counters()).values
            return normal, small

    normal, small = run(body())
    assert small == normal and normal["copy_mono"] == 3


@pytest.mark.parametrize(("auth_protocol", "priv_protocol"), [("SHA", "AES")])
def test_snmpv3_auth_priv_against_snmpsim(snmpsim_of_simulator, auth_protocol, priv_protocol):
    from tests.mfp_adapters.conftest import V3_AUTH_KEY, V3_PRIV_KEY, V3_USER

    port, counts = snmpsim_of_simulator
    good = UsmAuth(V3_USER, V3_AUTH_KEY, V3_PRIV_KEY, auth_protocol, priv_protocol, context_name="simkyocera")
    wrong_key = UsmAuth(
        V3_USER, V3_AUTH_KEY, "not-the-key", auth_protocol, priv_protocol, context_name="simkyocera"
    )

    async def body(auth):
        async with SnmpClient("127.0.0.1", port, auth, timeout_s=1.0, retries=0) as snmp:
            return await MfpSnmp(snmp).probe()

    result = run(body(good))
    assert (result.identity.vendor, result.identity.model) == ("Kyocera", "TASKalfa 3253ci")
    for key, value in result.counters.values.items():
        assert value == counts[key], key
    assert result.counters.values["copy_color"] == 7
    with pytest.raises(SnmpError):
        run(body(wrong_key))
