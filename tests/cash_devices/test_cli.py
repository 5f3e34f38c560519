"""``printgate cash probe`` and ``printgate cash printer`` as a technician runs them, against simulators."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor, SimId003Validator, SimNoteValidator
from hw_sim.cash.escpos_sim import SimReceiptPrinter

REPO = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout_s=20):
    deadline = time.monotonic() + timeout_s  # a hang guard, not a timing assertion
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.01)


class Process:
    """A ``printgate`` child process whose stdout lines arrive on a queue (hang-guarded reads)."""

    def __init__(self, *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "printgate_cli", *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line)

    def say(self, line: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def json_line(self, timeout_s: float = 20) -> dict:
        return json.loads(self.lines.get(timeout=timeout_s))

    def finish(self, timeout_s: float = 20) -> tuple[int, str]:
        try:
            _, stderr = self.popen.communicate(timeout=timeout_s)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()
        return self.popen.returncode, stderr


@pytest.mark.parametrize("checksum", ["simple", "crc16"])
def test_probe_prints_identity_then_one_object_per_coin_and_error(checksum):
    device = SimCoinAcceptor(address=3, crc16=checksum == "crc16")
    with SimCcTalkBus(device) as bus:
        probe = Process(
            "cash", "probe", "--driver", "cctalk", "--url", bus.path, "--address", "3",
            "--checksum", checksum, "--json", "--max-events", "3",
        )  # fmt: skip
        identity = probe.json_line()
        assert (identity["type"], identity["serial"], identity["address"]) == ("identity", "SIM-12345678", 3)
        assert [d["value_minor"] for d in identity["denominations"]] == [5, 10, 20, 50, 100, 200]
        assert identity["self_check"] == {"ok": True, "code": 0, "name": "OK"}
        wait_until(lambda: device.master_accepting)  # the probe enables after printing the identity
        device.insert_coin(200)
        device.jam()
        device.insert_coin(5)
        records = [probe.json_line() for _ in range(3)]
        code, stderr = probe.finish()
    assert code == 0, stderr
    assert records[0] == {
        "type": "coin",
        "value_minor": 200,
        "currency": "EUR",
        "event_counter": 1,
        "device_serial": "SIM-12345678",
        "epoch": 0,
        "position": 6,
        "coin_id": "EU200A",
        "sorter_path": 1,
        "idempotency_key": "SIM-12345678/0/1",
    }
    assert records[1] == {
        "type": "error",
        "code": 14,
        "name": "credit sensor blocked",
        "kind": "fault",
        "kept": False,
        "device_serial": "SIM-12345678",
    }
    assert (records[2]["value_minor"], records[2]["event_counter"]) == (5, 3)
    assert device.master_accepting is False  # inhibited again on the way out


def test_probe_stacks_notes_from_escrow():
    device = SimNoteValidator()
    with SimCcTalkBus(device) as bus:
        probe = Process("cash", "probe", "--url", bus.path, "--kind", "note", "--json", "--max-events", "2")
        assert probe.json_line()["category"] == "Bill Validator"
        wait_until(lambda: device.master_accepting)
        device.insert_note(1000)
        escrow, stacked = probe.json_line(), probe.json_line()
        code, stderr = probe.finish()
    assert code == 0, stderr
    assert (escrow["type"], stacked["type"], stacked["value_minor"]) == ("escrow", "note", 1000)
    assert stacked["escrow_id"] == escrow["escrow_id"]


def test_probe_reports_a_dead_line_clearly():
    with SimCcTalkBus(SimCoinAcceptor(), echo=False) as bus:
        probe = Process("cash", "probe", "--url", bus.path, "--json", "--timeout-s", "0.1")
        code, stderr = probe.finish()
    assert code == 1
    assert "echo" in stderr and "wiring" in stderr


def test_printer_status_command():
    with SimReceiptPrinter() as printer:
        url = f"tcp://127.0.0.1:{printer.port}"
        ok = Process("cash", "printer", "--url", url, "--json", "--test-receipt")
        assert ok.json_line() == {"type": "printer_status", "online": True, "paper": "ok", "ready": True}
        assert ok.finish()[0] == 0
        printer.paper_out()
        out = Process("cash", "printer", "--url", url, "--json")
        assert out.json_line() == {"type": "printer_status", "online": False, "paper": "out", "ready": False}
        assert out.finish()[0] == 1
        assert len(printer.receipts) == 1


def test_sim_cash_cctalk_runs_by_hand_and_answers_the_probe():
    sim = Process("sim", "cash", "cctalk", "--checksum", "crc16")
    try:
        banner = sim.lines.get(timeout=20)
        path = banner.split(" on ", 1)[1].split(" ", 1)[0]
        probe = Process("cash", "probe", "--url", path, "--checksum", "crc16", "--json", "--max-events", "1")
        assert probe.json_line()["category"] == "Coin Acceptor"
        sim.say("state coin")
        while not sim.lines.get(timeout=20).startswith("accepting=True"):  # wait for the enable
            sim.say("state coin")
        sim.say("coin 100")
        assert probe.json_line()["value_minor"] == 100
        assert probe.finish()[0] == 0
        sim.say("quit")
        assert sim.finish()[0] == 0
    finally:
        for process in (sim, probe):
            if process.popen.poll() is None:
                process.popen.kill()


def test_probe_id003_stacks_a_note_and_reports_a_fault():
    with SimId003Validator() as device:
        probe = Process(
            "cash", "probe", "--driver", "id003", "--url", device.path, "--json", "--max-events", "3"
        )  # fmt: skip
        identity = probe.json_line()
        assert (identity["type"], identity["manufacturer"], identity["category"]) == (
            "identity", "JCM", "Bill Validator"
        )  # fmt: skip
        assert [d["value_minor"] for d in identity["denominations"]] == [500, 1000, 2000, 5000, 10000, 20000]
        assert identity["self_check"] == {"ok": True, "code": 0x1A, "name": "disable"}
        wait_until(lambda: not device.inhibited)
        device.insert_note(5000)
        escrow, stacked = probe.json_line(), probe.json_line()
        wait_until(lambda: device.steady is None)
        device.jam()
        fault = probe.json_line()
        code, stderr = probe.finish()
    assert code == 0, stderr
    assert (escrow["type"], stacked["type"], stacked["value_minor"], stacked["event_counter"]) == (
        "escrow", "note", 5000, 1
    )  # fmt: skip
    assert stacked["idempotency_key"] == f"{identity['serial']}/0/1"
    assert (fault["type"], fault["name"], fault["kind"]) == ("error", "jam in acceptor", "fault")
    assert device.inhibited is True and device.stacked == [0x65]


def test_sim_cash_id003_runs_by_hand_and_answers_the_probe():
    sim = Process("sim", "cash", "id003")
    probe = None
    try:
        banner = sim.lines.get(timeout=20)
        path = banner.split(" on ", 1)[1].strip()
        probe = Process("cash", "probe", "--driver", "id003", "--url", path, "--json", "--max-events", "2")
        assert probe.json_line()["category"] == "Bill Validator"
        sim.say("state")
        while not sim.lines.get(timeout=20).startswith("inhibited=False"):  # wait for the enable
            sim.say("state")
        sim.say("note 2000")
        records = [probe.json_line(), probe.json_line()]
        assert [(r["type"], r["value_minor"]) for r in records] == [("escrow", 2000), ("note", 2000)]
        assert probe.finish()[0] == 0
        sim.say("quit")
        assert sim.finish()[0] == 0
    finally:
        for process in (sim, probe):
            if process is not None and process.popen.poll() is None:
                process.popen.kill()
