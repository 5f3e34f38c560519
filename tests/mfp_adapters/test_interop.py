"""Interop: our probe against real-device recordings (../shared/interop/snmprec) served by snmpsim.

Expected values are LibreNMS's discovery results (``<name>.json``) or, for the Kyocera
CS 4053ci walk, ``kyocera_cs4053ci.expected.json``. Two conventions differ on purpose:

* LibreNMS shows a level of -3 ("some remaining") as 50 % and treats a capacity <= 0 as
  100; we report ``percent = None`` there (the device does not say), never a guess.
* LibreNMS numbers hrPrinterDetectedErrorState 1-based (its "8" is bit 7,
  serviceRequested); the test converts that index to the bit name.

A percentage given without a known maximum (capacity -2: Sharp's waste toner) is shown as LibreNMS
shows it and marked ``estimated``. Paper trays (prtInputTable) are checked field by field against
the recording itself, against LibreNMS's "input" supplies where it lists them, and for what a
terminal would call "paper low" (hand-read from each recording). The recordings are found beside
the checkout (``../shared/interop/snmprec``) or in ``PRINTGATE_SNMPREC_DIR``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mfp_adapters.device import MfpSnmp, ProbeResult, trays_needing_paper
from mfp_adapters.mib import ERROR_STATE_BITS, INPUT_TYPES
from mfp_adapters.snmp import CommunityAuth, SnmpClient, UsmAuth
from tests.mfp_adapters.conftest import SHARED_SNMPREC, run

# pysnmp 7 calls its own deprecated pysmi helpers; that noise is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RECORDINGS = sorted(p.stem for p in SHARED_SNMPREC.glob("*.snmprec")) if SHARED_SNMPREC.is_dir() else []

LIBRENMS_VENDOR = {
    "brother": "Brother",
    "canonprinter": "Canon",
    "epson": "Epson",
    "jetdirect": "HP",
    "konica": "Konica Minolta",
    "kyocera": "Kyocera",
    "ricoh": "Ricoh",
    "sharp": "Sharp",
    "xerox": "Xerox",
}
# LibreNMS count sensors (by OID, or by Sharp's counter name) -> our canonical counter key.
SENSOR_OID_KEYS = {
    ".1.3.6.1.2.1.43.10.2.1.4.1.1": "life_count",
    ".1.3.6.1.2.1.43.10.2.1.5.1.1": "power_on_count",
    ".1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.5.0": "total",
    ".1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.6.0": "total_mono",
    ".1.3.6.1.4.1.11.2.3.9.4.2.1.4.1.2.22.0": "duplex",
    ".1.3.6.1.4.1.11.2.3.9.4.2.1.2.2.1.74.0": "scan",
    ".1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.1.1": "copy_mono",
    ".1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.1": "copy_color",
    ".1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.1.2": "print_mono",
    ".1.3.6.1.4.1.18334.1.1.1.5.7.2.2.1.5.2.2": "print_color",
    ".1.3.6.1.4.1.18334.1.1.1.5.7.2.1.3.0": "duplex",
    ".1.3.6.1.4.1.18334.1.1.1.5.7.2.1.5.0": "scan",
}
SHARP_NAME_KEYS = {
    "Prints": "print_total",
    "Black & White Print Count": "print_mono",
    "Full Color Print Count": "print_color",
    "Copies": "copy_total",
    "Black & White Copy Count": "copy_mono",
    "Full Color Copy Count": "copy_color",
    "Black & White Total Count": "total_mono",
    "Full Color Total Count": "total_color",
    "Duplex": "duplex",
    "Scan to E-mail/FTP": "scan",
}
DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
# Which automatic trays need paper in each recording (read from its prtInputTable by hand):
# Ricoh's cassettes stand at 55 of 550 sheets (10 %, low) and tray 4 is empty; Sharp's, Brother's
# and Ricoh's empty bypass trays are manual feeds (by name), Kyocera's MP tray by prtInputType;
# Konica's input 7 (0 of 150, no name, no type) cannot be told apart from a cassette.
NEEDING_PAPER = {"ricoh_mpc3002": [1, 2, 3, 4], "konica_c250i": [7]}
PRT_INPUT = "1.3.6.1.2.1.43.8.2.1."


def probe(snmpsim, stem: str, auth=None) -> ProbeResult:
    host, port, _ = snmpsim

    async def body():
        async with SnmpClient(host, port, auth or CommunityAuth(stem), timeout_s=3.0, retries=1) as snmp:
            return await MfpSnmp(snmp).probe()

    return run(body())


def _check_librenms(result: ProbeResult, expected: dict) -> None:
    device = expected["os"]["discovery"]["devices"][0]
    assert result.identity.sys_object_id == device["sysObjectID"].lstrip(".")
    assert result.identity.vendor == LIBRENMS_VENDOR[device["os"]]
    if device["hardware"]:
        assert result.identity.model == device["hardware"].split(" [")[0]
    assert result.identity.serial == device["serial"]
    _check_supplies(
        result, expected.get("printer-supplies", {}).get("discovery", {}).get("printer_supplies", [])
    )
    sensors = expected.get("sensors", {}).get("discovery", {}).get("sensors", [])
    _check_counters(result, [s for s in sensors if s["sensor_class"] == "count"])
    _check_states(result, [s for s in sensors if s["sensor_class"] == "state"])


def _check_supplies(result: ProbeResult, expected: list[dict]) -> None:
    ours = {s.index: s for s in result.supplies}
    marker = [e for e in expected if e["supply_oid"].startswith(".1.3.6.1.2.1.43.11.1.1.9.")]
    assert len(ours) >= len(marker)
    for entry in marker:
        supply = ours[entry["supply_index"]]
        assert supply.description == entry["supply_descr"]
        if entry["supply_type"] != "markerSupply":  # LibreNMS's word for "no type column"
            assert supply.type == entry["supply_type"]
        else:
            assert supply.type is None
        if supply.percent is not None:
            assert round(supply.percent) == entry["supply_current"]
        else:
            assert supply.level == -3 or (supply.max is not None and supply.max <= 0)
    for supply in result.supplies:  # a percentage without a known maximum is always marked
        unknown_maximum = supply.max is not None and supply.max <= 0
        assert supply.estimated == (supply.percent is not None and unknown_maximum), supply


def _recorded(directory: Path, stem: str) -> dict[str, str]:
    lines = (directory / f"{stem}.snmprec").read_text().splitlines()
    return dict(line.split("|", 2)[0::2] for line in lines)


def _check_trays(result: ProbeResult, stem: str, directory: Path, librenms: dict | None) -> None:
    recorded = _recorded(directory, stem)
    indexes = sorted({int(oid.rsplit(".", 1)[1]) for oid in recorded if oid.startswith(PRT_INPUT)})
    assert [tray.index for tray in result.trays] == indexes
    for tray in result.trays:
        column = {n: recorded.get(f"{PRT_INPUT}{n}.1.{tray.index}") for n in (2, 9, 10, 12, 13, 18)}
        assert tray.name == (column[13] or column[18])
        assert tray.media == column[12]
        level, maximum = (int(recorded[f"{PRT_INPUT}{n}.1.{tray.index}"]) for n in (10, 9))
        assert (tray.level, tray.max) == (level, maximum)
        assert tray.kind == (INPUT_TYPES[int(column[2])] if column[2] else None)
    entries = (librenms or {}).get("printer-supplies", {}).get("discovery", {}).get("printer_supplies", [])
    for entry in [e for e in entries if e["supply_type"] == "input"]:
        tray = next(t for t in result.trays if t.index == entry["supply_index"])
        assert (tray.name, tray.max) == (entry["supply_descr"], entry["supply_capacity"])
        if tray.percent is not None:
            assert round(tray.percent) == entry["supply_current"]
        else:  # LibreNMS shows "at least one sheet" (-3) as 50 %
            assert (tray.level, entry["supply_current"]) == (-3, 50)
    assert [tray.index for tray in trays_needing_paper(result.trays)] == NEEDING_PAPER.get(stem, [])


def _check_counters(result: ProbeResult, sensors: list[dict]) -> None:
    checked = 0
    for sensor in sensors:
        key = SENSOR_OID_KEYS.get(sensor["sensor_oid"])
        if sensor["sensor_type"] == "sharp":
            key = SHARP_NAME_KEYS.get(sensor["sensor_descr"], key)
        if key is None:
            continue  # not a page counter we expose (jam counts, Sharp document-filing rows)
        assert result.counters.values[key] == sensor["sensor_current"], key
        checked += 1
    assert checked >= min(1, len(sensors))


def _check_states(result: ProbeResult, sensors: list[dict]) -> None:
    for sensor in sensors:
        if sensor["sensor_type"] == "hrDeviceStatus":
            assert result.status.device == DEVICE_STATUS[int(sensor["sensor_current"])]
        elif sensor["sensor_type"] == "hrPrinterDetectedErrorState":
            index = int(sensor["sensor_current"])
            assert result.status.errors == ([] if index == 0 else [ERROR_STATE_BITS[index - 1]])


def _check_kyocera_walk(result: ProbeResult, expected: dict) -> None:
    c = result.counters.values
    assert (result.identity.vendor, result.identity.model) == ("Kyocera", expected["model_hrDeviceDescr"])
    assert result.identity.sys_object_id == expected["sysObjectID"]
    assert c["life_count"] == expected["prtMarkerLifeCount"]
    assert c["total"] == expected["kyocera_total_printed_43.10.1.1.12.1.1"]
    functions = expected["by_function_total"]
    assert (c["print_total"], c["copy_total"], c["fax"]) == (
        functions["print"],
        functions["copy"],
        functions["fax"],
    )
    for function, key in (("print", "print"), ("copy", "copy"), ("fax_print", "fax")):
        split = expected[function]
        assert c[f"{key}_mono"] == split["bw"]
        assert c[f"{key}_color"] == split["single_color"] + split["full_color"]
    assert c["scan"] == sum(expected["scan"].values())
    assert c["scan_sent"] == expected["scan"]["other_scan_4.1.1.1"]  # to PC, e-mail, box: not copies
    got = [(s.index, s.description, s.type, s.max, s.level) for s in result.supplies]
    types = {3: "toner", 4: "wasteToner"}
    want = [(s["index"], s["descr"], types[s["type"]], s["max"], s["level"]) for s in expected["supplies"]]
    assert got == want


@pytest.mark.parametrize("stem", RECORDINGS)
def test_recording_matches_expected_values(snmpsim, stem):
    _, _, directory = snmpsim
    result = probe(snmpsim, stem)
    librenms = directory / f"{stem}.json"
    walk = directory / f"{stem}.expected.json"
    _check_trays(result, stem, directory, json.loads(librenms.read_text()) if librenms.exists() else None)
    if librenms.exists():
        _check_librenms(result, json.loads(librenms.read_text()))
    elif walk.exists():
        _check_kyocera_walk(result, json.loads(walk.read_text()))
    else:  # an OS-detection stub: identity only, read from the recording itself
        recorded = _recorded(directory, stem)
        assert result.identity.sys_object_id == recorded["1.3.6.1.2.1.1.2.0"]
        assert result.identity.profile != "generic"
        model = recorded.get("1.3.6.1.4.1.1347.43.5.1.1.1.1")
        assert result.identity.model == model


def test_snmpv3_auth_priv_reads_the_same_as_v2c(snmpsim):
    if "konica_c250i" not in RECORDINGS:
        pytest.skip("konica_c250i recording absent")
    v3 = UsmAuth(
        "simulator",
        "auctoritas",
        "privatus",
        auth_protocol="SHA",
        priv_protocol="AES",
        context_name="konica_c250i",
    )
    assert probe(snmpsim, "konica_c250i", v3).to_json() == probe(snmpsim, "konica_c250i").to_json()
