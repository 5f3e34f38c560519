"""terminal.toml: defaults, every section, refusals with clear messages, and hostile input."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hw_sim.readers import SerialReaderSim
from printgate_cli.commands import main
from terminal_app.errors import ConfigError
from terminal_app.terminal import MessageKey, TerminalState
from terminal_app.terminal.config import HubSettings, config_from_document, load_config
from terminal_app.terminal.wiring import describe
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import HubClients

REPO = Path(__file__).resolve().parents[3]
MINIMAL = "[hub]\n"  # who the terminal is comes from its enrollment, not from this file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert (config.hub.address, config.hub.deadline_s, config.reader.driver) == ("", 5.0, "rdm6300")
    assert (config.identity_dir, config.hub.renew_check_s) == (
        tmp_path / "data" / "terminal" / "identity",
        3600,
    )
    assert (config.settings.idle_timeout_s, config.settings.language, config.mfp.counter) == (
        60.0,
        "en",
        "fih",
    )
    assert config.settings.offline.unknown_users == "refuse" and config.cache_max_users == 500
    assert config.store_path == tmp_path / "data" / "terminal" / "terminal.db"


def test_every_section(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            MINIMAL
            + """
[reader]
driver = "twn4"
url = "/dev/ttyACM0"
convert = "right:8|hex2dec|lpad:10:0"
[mfp]
counter = "snmp"
address = "192.0.2.10"
community = "private"
[mfp.fih]
enable_pin = 5
count_large_pin = 6
[session]
language = "de"
idle_timeout_s = 180
[prices]
copy_mono_cents = 4
[offline]
unknown_users = "allow"
unknown_user_page_cap = 5
cache_ttl_s = 3600
cache_max_users = 50
[storage]
data_dir = "/var/lib/printgate-terminal"
""",
        )
    )
    assert config.reader.convert == "right:8|hex2dec|lpad:10:0" and config.mfp.fih.enable_pin == 5
    assert (
        config.settings.language,
        config.settings.idle_timeout_s,
        config.settings.prices.copy_mono_cents,
    ) == (
        "de",
        180,
        4,
    )
    assert (config.settings.offline.unknown_user_page_cap, config.cache_ttl_s, config.cache_max_users) == (
        5,
        3600,
        50,
    )
    assert config.data_dir == Path("/var/lib/printgate-terminal")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[hub]\nterminal_id = "t1"\n', r"unknown key\(s\) in \[hub\]: terminal_id"),
        ("[hub]\nrenew_check_s = 0\n", "renew_check_s must be more than 0"),
        ('[offline]\ncache_max_users = "many"\n', "cache_max_users must be int"),
        (MINIMAL + "[hubb]\n", "unknown section"),
        (MINIMAL + "[session]\nidle_timout_s = 5\n", "unknown key"),
        (MINIMAL + "[session]\nidle_timeout_s = 5\n", "idle_timeout_s must be 10..3600"),
        (MINIMAL + '[session]\nlanguage = "fr"\n', "language"),
        (MINIMAL + '[mfp]\ncounter = "snmp"\n', "needs an address"),
        (MINIMAL + '[offline]\nunknown_users = "sometimes"\n', "unknown_users"),
        ("[hub\n", "cannot read"),
    ],
)
def test_refusals(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


KEYS = [
    "terminal_id",
    "driver",
    "counter",
    "fih",
    "idle_timeout_s",
    "language",
    "unknown_users",
    "copy_mono_cents",
    "data_dir",
    "deadline_s",
    "cache_max_users",
    "enable_pin",
    "grace_s",
    "address",
]
toml_values = st.recursive(
    st.one_of(st.integers(-(2**40), 2**40), st.text(max_size=8), st.booleans(), st.floats(allow_nan=False)),
    lambda inner: st.dictionaries(
        st.sampled_from(["a", "driver", "fih", "idle_timeout_s"]), inner, max_size=3
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    document=st.dictionaries(
        st.sampled_from(["hub", "reader", "mfp", "session", "prices", "offline", "storage", "x"]),
        st.one_of(
            toml_values,
            st.dictionaries(
                st.sampled_from(KEYS),
                toml_values,
                max_size=4,
            ),
        ),
        max_size=5,
    )
)
def test_hostile_documents_give_a_config_or_a_config_error(document: dict) -> None:
    try:
        config_from_document(document, Path("/base"))
    except ConfigError as exc:
        assert str(exc)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_give_a_config_or_a_config_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert str(exc)
    else:  # an empty file or a comment is a terminal with every default
        assert config.hub == HubSettings()


def test_describe_is_one_line() -> None:
    state = TerminalState(username="alice", balance_cents=985, message=MessageKey.OFFLINE_MODE, offline=True)
    assert describe(state) == "screen=starting user=alice balance=985 message=offline_mode offline"


def test_printgate_terminal_refuses_to_start_unenrolled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, MINIMAL + '[mfp.fih]\npin_factory = "mock"\n')
    assert main(["terminal", "--config", str(path)]) == 1
    assert "this terminal is not enrolled" in capsys.readouterr().err


async def test_printgate_terminal_runs_headless_and_stops_on_sigterm(hub: HubClients, tmp_path: Path) -> None:
    terminal = await hub.create_terminal("t1")
    await asyncio.to_thread(_run_headless_offline, tmp_path, terminal.state_dir)


def _run_headless_offline(tmp_path: Path, state_dir: Path) -> None:
    """An enrolled terminal whose hub does not answer: a tap is refused offline; SIGTERM ends it."""
    with SerialReaderSim("rdm6300") as reader:
        path = write(
            tmp_path,
            MINIMAL
            + f'address = "127.0.0.1:{free_tcp_port()}"\ndeadline_s = 0.5\nstate_dir = "{state_dir}"\n'
            + f'[reader]\nurl = "{reader.path}"\ndebounce_s = 0.0\n'
            + '[mfp.fih]\npin_factory = "mock"\ngrace_s = 0.0\n',
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "printgate_cli", "terminal", "--config", str(path)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        stderr = process.stderr
        assert stderr is not None

        def pump() -> None:
            for line in stderr:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while not any("offline_refused" in line for line in seen) and time.monotonic() < deadline:
            if any("screen=idle" in line for line in seen):
                reader.tap("0012345678")  # hub unreachable, card not cached: refused offline
            with contextlib.suppress(queue.Empty):
                while True:
                    seen.append(lines.get(timeout=0.5))
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(30) == 0, "".join(seen)
    assert any("message=offline_refused offline" in line for line in seen), "".join(seen)
