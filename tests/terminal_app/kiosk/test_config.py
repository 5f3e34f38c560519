"""kiosk.toml, the JSON control lines of ``printgate kiosk`` (fuzzed), the cash journal's rules, and
acceptors resumed from the journal (real ccTalk driver, simulated device on a pty)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cash_devices import CoinAccepted, CounterState
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor
from printgate_cli.commands import main
from terminal_app.errors import ConfigError
from terminal_app.kiosk.config import load_kiosk_config
from terminal_app.kiosk.control import INTENTS, parse_intent
from terminal_app.kiosk.journal import CashJournal, JournaledCash
from terminal_app.kiosk.state import EmptyCashBox, RedeemVoucher, StartRecharge
from terminal_app.kiosk.wiring import open_acceptors
from terminal_app.terminal.state import CardPresented
from tests.terminal_app.kiosk.rig import acceptor_configs, master_inhibit_writes

CONFIG = """
[hub]
address = "127.0.0.1:50051"
terminal_id = "k1"
terminal_key = "secret"

[kiosk]
journal = "data/kiosk.db"
idle_timeout_s = 30
require_printer = false
accept_values_minor = [100, 200]

[printer]
url = "tcp://127.0.0.1:9100"

[[acceptor]]
name = "coin"
driver = "cctalk"
url = "/dev/ttyUSB0"
address = 2
kind = "coin"
checksum = "crc16"
"""


def test_a_kiosk_toml_is_read_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG)
    config = load_kiosk_config(path)
    assert (config.hub_address, config.terminal_id, config.terminal_key) == (
        "127.0.0.1:50051",
        "k1",
        "secret",
    )
    assert config.journal == tmp_path / "data" / "kiosk.db"
    assert (config.settings.idle_timeout_s, config.settings.recharge_timeout_s) == (30, 90.0)
    assert (config.settings.require_printer, config.settings.keep_accepting_offline) == (False, False)
    assert config.settings.accept_values_minor == (100, 200)
    [acceptor] = config.acceptors
    assert (acceptor.name, acceptor.driver, acceptor.url, acceptor.address) == (
        "coin",
        "cctalk",
        "/dev/ttyUSB0",
        2,
    )
    assert acceptor.options == {"kind": "coin", "checksum": "crc16"}
    assert config.printer_url == "tcp://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[kiosk]\n", "[kiosk]\nidle_timeot_s = 5\n"), "unknown [kiosk] key"),
        (('terminal_id = "k1"\n', ""), "missing key 'terminal_id'"),
        (("idle_timeout_s = 30", "idle_timeout_s = 1"), "at least 5 s"),
        (("[printer]", "[printr]"), "unknown table"),
        (("[hub]", "[hub"), "kiosk.toml"),
    ],
)
def test_a_bad_kiosk_toml_is_refused_clearly(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG.replace(*change))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_kiosk_config(path)


def test_control_lines_become_intents() -> None:
    assert parse_intent('{"intent": "CardPresented", "card_number": "0012"}') == CardPresented("0012")
    assert parse_intent('{"intent": "StartRecharge"}') == StartRecharge()
    assert parse_intent('{"intent": "RedeemVoucher", "code": "ABCD-EFGH"}') == RedeemVoucher("ABCD-EFGH")
    counted = '{"intent": "EmptyCashBox", "counted": [["coin", 200, 3], ["note", 500, 1]]}'
    assert parse_intent(counted) == EmptyCashBox((("coin", 200, 3), ("note", 500, 1)))
    for bad in (
        '{"intent": "Explode"}',
        '{"intent": "CardPresented", "card_number": 12}',
        '{"intent": "StartRecharge", "force": true}',
        '{"intent": "EmptyCashBox", "counted": [["coin", -1, 3]]}',
        '["StartRecharge"]',
    ):
        with pytest.raises(ValueError):
            parse_intent(bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_hostile_control_lines_are_refused_not_crashed(line: str) -> None:
    try:
        intent = parse_intent(line)
    except (ValueError, TypeError):
        return  # the CLI prints "bad control line" and goes on
    assert isinstance(intent, tuple(INTENTS.values()))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.sampled_from(["CardPresented", "RedeemVoucher", "EmptyCashBox", "PasswordEntered", "SetLanguage"]),
    st.dictionaries(
        st.sampled_from(["card_number", "code", "counted", "username", "password", "note"]), json_values
    ),
)
def test_fields_of_the_wrong_type_are_refused(name: str, fields: dict[str, object]) -> None:
    try:
        intent = parse_intent(json.dumps({"intent": name, **fields}))
    except (ValueError, TypeError):
        return
    for value in vars(intent).values():  # whatever got through has the declared types
        assert isinstance(value, str | tuple | float | type(None))


def _coin(key: str, value: int = 200, recharge_id: int | None = 7) -> JournaledCash:
    return JournaledCash(0, key, recharge_id, value, "EUR", "EU200A", "coin", 1, "pending", 0, None)


def test_the_journal_keeps_each_key_once_with_its_device_counter(tmp_path: Path) -> None:
    journal = CashJournal.open(tmp_path / "kiosk.db")
    assert journal.record(_coin("S/0/1"), "coin", "S", CounterState(0, 1))
    assert not journal.record(_coin("S/0/1"), "coin", "S", CounterState(0, 1))  # delivered again on resume
    assert journal.record(_coin("S/0/2", 50), "coin", "S", CounterState(0, 2))
    assert journal.counter("coin") == ("S", CounterState(0, 2))
    assert [(row.key, row.value_minor) for row in journal.pending()] == [("S/0/1", 200), ("S/0/2", 50)]
    journal.credited("S/0/1", 41)
    journal.attempted("S/0/2", "UNAVAILABLE")
    journal.close()

    reopened = CashJournal.open(tmp_path / "kiosk.db")  # what a restart sees
    [pending] = reopened.pending()
    assert (pending.key, pending.attempts, pending.state) == ("S/0/2", 1, "pending")
    assert [row.transaction_id for row in reopened.events("credited")] == [41]
    reopened.fail("S/0/2", "NOT_FOUND: no such recharge")
    assert reopened.pending_count() == 0 and [row.key for row in reopened.events("failed")] == ["S/0/2"]
    reopened.close()


def test_the_journal_is_durable_and_remembers_recharges_left_open(tmp_path: Path) -> None:
    journal = CashJournal.open(tmp_path / "kiosk.db")
    journal.recharge_opened(3, "alice", 10)
    journal.recharge_opened(4, "bob", 20)
    journal.recharge_closed(3)
    assert [r.recharge_id for r in journal.open_recharges()] == [4] and journal.last_recharge_id() == 4
    with sqlite3.connect(tmp_path / "kiosk.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    journal.close()


async def test_acceptors_resume_from_the_journal_unless_the_device_was_swapped(tmp_path: Path) -> None:
    coins = SimCoinAcceptor(2)
    with SimCcTalkBus(coins) as bus:
        journal = CashJournal.open(tmp_path / "kiosk.db")
        [config] = acceptor_configs(bus.path)[:1]
        journal.save_counter("coin", "SIM-99", CounterState(3, 200))  # another device's position
        devices = await open_acceptors([config], journal)
        assert journal.counter("coin") == ("SIM-12345678", CounterState(0, 0))  # opened afresh
        assert master_inhibit_writes(coins)[0] == "00" and not coins.master_accepting
        await devices.close()
        coins.master_accepting, coins.inhibit_mask = True, 0xFFFF  # a crashed kiosk left it enabled
        coins.insert_coin(100)  # while the kiosk is down
        devices = await open_acceptors([config], journal)  # resumed: the coin is delivered
        event = await asyncio.wait_for(anext(aiter(devices.slots[0].acceptor.events())), 5)
        assert isinstance(event, CoinAccepted) and (event.value_minor, event.event_counter) == (100, 1)
        assert not coins.master_accepting  # inhibited before anything else
        await devices.close()
        journal.close()


def test_printgate_kiosk_refuses_to_start_without_its_acceptor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG.replace("/dev/ttyUSB0", str(tmp_path / "no-such-line")))
    assert main(["kiosk", "--config", str(path), "--control", "none"]) == 1
    assert "cannot open the acceptors" in capsys.readouterr().err
    path.write_text("[hub]\n")
    assert main(["kiosk", "--config", str(path)]) == 2
    assert "missing key 'address'" in capsys.readouterr().err
