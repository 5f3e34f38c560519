"""``printgate reader probe`` and ``printgate sim reader``, run as processes against simulators."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from hw_sim.readers import SerialReaderSim
from printgate_cli.commands import main
from reader_drivers.errors import ChainSyntaxError, ReaderConfigError
from reader_drivers.factory import open_reader
from reader_drivers.keyboard_wedge import WedgeReader
from reader_drivers.nfc_reader import NfcReader
from reader_drivers.pcsc_reader import PcscReader
from reader_drivers.serial_reader import SerialReader

REPO = Path(__file__).resolve().parents[2]


class Lines:
    """Lines of a process stream, read by a thread so waiting can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)

    def wait_for(self, predicate: Callable[[str], bool], timeout_s: float = 30.0) -> str:
        seen: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=timeout_s)
            except queue.Empty:
                pytest.fail(f"no matching line within {timeout_s} s; saw {seen}")
            seen.append(line)
            if predicate(line):
                return line


def printgate(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "printgate_cli", *args], cwd=REPO, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_probe_prints_json_lines_for_a_simulated_reader(tmp_path: Path, processes: list) -> None:
    with SerialReaderSim("id12la", str(tmp_path / "tty")) as sim:
        chain = "right:8|hex2dec|lpad:10:0"
        probe = printgate("reader", "probe", "--driver", "id12la", "--device", sim.path, "--json",
                          "--convert", chain, "--count", "2", "--timeout-s", "60")  # fmt: skip
        processes.append(probe)
        assert probe.stderr is not None and probe.stdout is not None
        Lines(probe.stderr).wait_for(lambda line: " ready" in line)
        stdout = Lines(probe.stdout)
        sim.tap("4B00423C15")
        first = json.loads(stdout.wait_for(lambda line: line.startswith("{")))
        sim.tap("0102030405")
        second = json.loads(stdout.wait_for(lambda line: line.startswith("{")))
        assert probe.wait(30) == 0
    assert (first["raw_hex"], first["technology"], first["card_number"]) == (
        "4B00423C15",
        "em4100",
        "0004340757",
    )
    assert first["reader_id"] == f"id12la:{sim.path}"
    assert second["card_number"] == str(0x02030405).rjust(10, "0")


def test_keyboard_driven_simulator_and_probe(tmp_path: Path, processes: list) -> None:
    link = str(tmp_path / "tty")
    sim = printgate("sim", "reader", "--driver", "rdm6300", "--link", link)
    processes.append(sim)
    assert sim.stdout is not None and sim.stdin is not None
    sim_out = Lines(sim.stdout)
    sim_out.wait_for(lambda line: "printgate reader probe --driver rdm6300 --device " + link in line)
    probe = printgate(
        "reader", "probe", "--driver", "rdm6300", "--device", link, "--count", "1", "--timeout-s", "60"
    )
    processes.append(probe)
    assert probe.stderr is not None and probe.stdout is not None
    Lines(probe.stderr).wait_for(lambda line: " ready" in line)
    sim.stdin.write("tap 4B00423C15\n")
    sim.stdin.flush()
    sim_out.wait_for(lambda line: line.startswith("ok tap"))
    assert Lines(probe.stdout).wait_for(lambda line: "raw=" in line).split() == [
        "4B00423C15", "raw=4B00423C15", "technology=em4100"
    ]  # fmt: skip
    assert probe.wait(30) == 0
    sim.stdin.write("bogus\nquit\n")
    sim.stdin.flush()
    assert sim.wait(30) == 0


def test_probe_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reader", "probe", "--driver", "rdm6300", "--device", "/x", "--convert", "hex2dex"]) == 2
    assert "unknown conversion step 'hex2dex'" in capsys.readouterr().err
    assert main(["reader", "probe", "--driver", "rdm6300"]) == 2
    assert "needs a url or a device" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reader", "probe", "--driver", "rdm6300", "--url", "loop://", "--device", "/x"])


def test_open_reader_builds_each_family() -> None:
    assert isinstance(open_reader("twn4", url="loop://"), SerialReader)
    assert open_reader("rdm6300", device="/dev/ttyUSB0").profile.name == "rdm6300"  # type: ignore[attr-defined]
    assert isinstance(open_reader("wedge", device="/dev/input/event3", keymap="de"), WedgeReader)
    assert isinstance(open_reader("pcsc"), PcscReader)
    assert isinstance(open_reader("nfc", url="udp:127.0.0.1:1"), NfcReader)
    reader = open_reader("pcsc", device="ACR122", convert="reverse-bytes", debounce_s=1.0)
    assert reader.reader_id == "pcsc:ACR122" and reader.convert is not None


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: open_reader("magic", device="/x"), ReaderConfigError, "unknown reader driver"),
        (lambda: open_reader("rdm6300", url="loop://", device="/x"), ReaderConfigError, "not both"),
        (lambda: open_reader("wedge"), ReaderConfigError, "needs a url or a device"),
        (lambda: open_reader("nfc", colour="red"), ReaderConfigError, "colour"),
        (lambda: open_reader("wedge", device="/x", keymap="fr"), ReaderConfigError, "unknown keymap"),
        (lambda: open_reader("pcsc", convert="lpad"), ChainSyntaxError, "lpad"),
    ],
)
def test_open_reader_explains_bad_configuration(
    call: Callable[[], object], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        call()
