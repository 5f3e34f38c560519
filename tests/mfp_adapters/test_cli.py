"""``printgate mfp probe`` and ``discover`` as a technician runs them, against the simulated MFP."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from hw_sim.mfp import MfpSimServer
from mfp_adapters.cli import expand_range
from tests.mfp_adapters.conftest import REPO, run


async def printgate(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "printgate_cli",
        "mfp",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_probe_json_has_the_documented_keys_and_values():
    async def body():
        async with MfpSimServer("sharp") as mfp:
            mfp.device.copy(4, color=True)
            mfp.device.print_pages(6)
            mfp.device.set_toner("cyan", 5)
            return await printgate("probe", "127.0.0.1", "--port", str(mfp.snmp_port), "--json")

    code, out, err = run(body())
    assert code == 0, err
    probe = json.loads(out)
    assert {"vendor", "model", "serial", "counters", "supplies", "status"} <= set(probe)
    assert (probe["vendor"], probe["model"], probe["serial"]) == ("Sharp", "MX-3570N", "SIM0000001")
    counters = probe["counters"]
    assert (counters["copy_color"], counters["print_mono"], counters["total"], counters["life_count"]) == (
        4,
        6,
        10,
        10,
    )
    assert probe["status"] == {"device": "warning", "printer": "idle", "errors": ["lowToner"], "alerts": []}
    cyan = next(s for s in probe["supplies"] if s["description"] == "Cyan Toner")
    assert {k: cyan[k] for k in ("type", "level", "max", "percent")} == {
        "type": "toner",
        "level": 500,
        "max": 10000,
        "percent": 5.0,
    }
    assert cyan["estimated"] is False
    waste = next(s for s in probe["supplies"] if s["type"] == "wasteToner")
    assert {k: waste[k] for k in ("level", "max", "percent", "estimated")} == {
        "level": 100,
        "max": -2,
        "percent": 100.0,
        "estimated": True,
    }  # Sharp reports the percentage with an unknown maximum
    assert probe["trays"][0] == {
        "index": 1,
        "name": "Tray 1",
        "media": "A4",
        "kind": "sheetFeedAutoRemovableTray",
        "manual": False,
        "level": 500,
        "max": 500,
        "percent": 100.0,
        "state": "ok",
    }
    assert [(t["name"], t["manual"], t["state"]) for t in probe["trays"][1:]] == [
        ("Tray 2", False, "ok"),
        ("Bypass Tray", True, "empty"),
    ]


def test_probe_of_a_silent_host_fails_with_a_clear_message():
    async def body():
        async with MfpSimServer("kyocera") as mfp:
            mfp.device.snmp_silent = True
            return await printgate(
                "probe", "127.0.0.1", "--port", str(mfp.snmp_port), "--timeout", "0.2", "--retries", "0"
            )

    code, out, err = run(body())
    assert code == 1 and out == ""
    assert "127.0.0.1" in err and "SNMP" in err


def test_discover_lists_only_what_answers():
    async def body():
        async with MfpSimServer("ricoh") as mfp:
            return await printgate(
                "discover", "127.0.0.1-3", "--port", str(mfp.snmp_port), "--timeout", "0.3", "--json"
            )

    code, out, err = run(body())
    assert code == 0, err
    found = json.loads(out)
    assert [(d["host"], d["vendor"], d["model"]) for d in found] == [("127.0.0.1", "Ricoh", "MP C3004")]


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("10.0.0.7", ["10.0.0.7"]),
        ("10.0.0.1-3", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
        ("10.0.0.254-10.0.1.1", ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]),
        ("192.168.1.0/30", ["192.168.1.1", "192.168.1.2"]),
    ],
)
def test_expand_range(text, hosts):
    assert expand_range(text) == hosts


@pytest.mark.parametrize("text", ["10.0.0.0/8", "10.0.0.9-3", "not-an-ip", "10.0.0.1-x"])
def test_expand_range_rejects_bad_or_huge_ranges(text):
    with pytest.raises(ValueError):
        expand_range(text)


def test_printgate_sim_mfp_runs_a_device_by_hand():
    async def body():
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "printgate_cli",
            "sim",
            "mfp",
            "--vendor",
            "konica_minolta",
            *("--snmp-port", "0", "--raw-port", "0", "--lpd-port", "0", "--ipp-port", "0"),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            banner = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
            snmp_port = banner.split("snmp udp/")[1].split()[0]
            code, out, err = await printgate("probe", "127.0.0.1", "--port", snmp_port, "--json")
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)
        return banner, code, out, err

    banner, code, out, err = run(body())
    assert banner.startswith("simulated konica_minolta MFP:")
    assert code == 0, err
    assert json.loads(out)["model"] == "bizhub C250i"
