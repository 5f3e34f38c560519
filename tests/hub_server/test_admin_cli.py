"""``printgate admin`` against a real hub process: a scripted walk, exit codes and exact messages.

The hub runs as its own process (``printgate hub`` on a temporary data dir, port 0, address
from the ready file) for the whole module and is stopped by PID. Most commands run in-process
through ``terminal_app.cli.main``; a few run as ``printgate`` subprocesses to cover the console
script, the environment fallbacks and stdin secrets end to end.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from printgate.v1 import terminal_pb2, terminal_pb2_grpc

from terminal_app.cli import main
from tests.conftest import free_tcp_port

PRINTGATE = Path(sys.executable).parent / "printgate"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass
class HubProcess:
    """A ``printgate hub`` process serving on loopback."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    address: str

    @property
    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()


@dataclass
class Result:
    """What one ``printgate admin`` run did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def _wait_ready(process: subprocess.Popen[bytes], ready_file: Path, log: Path) -> str:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        text = ready_file.read_text() if ready_file.exists() else ""
        if text.endswith("\n"):  # the hub writes "HOST:PORT\n" once it serves
            return text.strip()
        if process.poll() is not None:
            pytest.fail(f"hub exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"hub not ready after {READY_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def admin_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A real hub process on a fresh data dir, stopped by PID at teardown."""
    assert PRINTGATE.exists(), f"{PRINTGATE} missing: run scripts/setup.sh"
    data_dir = tmp_path_factory.mktemp("admin-hub")
    ready_file, log = data_dir / "addr", data_dir / "hub.log"
    with log.open("wb") as log_handle:
        command = [str(PRINTGATE), "hub", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"]
        process = subprocess.Popen(
            [*command, "--ready-file", str(ready_file)], stdout=log_handle, stderr=log_handle
        )
    try:
        yield HubProcess(process, data_dir, _wait_ready(process, ready_file, log))
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(autouse=True)
def _no_admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment fallbacks must not leak in from the shell running the tests."""
    monkeypatch.delenv("PRINTGATE_HUB", raising=False)
    monkeypatch.delenv("PRINTGATE_ADMIN_TOKEN", raising=False)


def run_admin(argv: list[str], stdin: str = "") -> Result:
    """``printgate admin ARGV`` in-process, with stdout, stderr and stdin captured."""
    out, err, saved_stdin = io.StringIO(), io.StringIO(), sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["admin", *argv])
            except SystemExit as exit_:  # argparse usage errors
                code = int(exit_.code or 0)
    finally:
        sys.stdin = saved_stdin
    return Result(code, out.getvalue(), err.getvalue())


def admin(hub: HubProcess, *argv: str, stdin: str = "") -> Result:
    """An authenticated command with JSON output."""
    return run_admin(["--hub", hub.address, "--data-dir", str(hub.data_dir), "--json", *argv], stdin)


def ok(hub: HubProcess, *argv: str, stdin: str = "") -> Any:
    """An authenticated command that must succeed; returns its JSON document."""
    result = admin(hub, *argv, stdin=stdin)
    assert (result.code, result.err) == (0, ""), result
    return result.json()


def text(hub: HubProcess, *argv: str) -> str:
    """An authenticated command in text mode that must succeed; returns stdout."""
    result = run_admin(["--hub", hub.address, "--data-dir", str(hub.data_dir), *argv])
    assert (result.code, result.err) == (0, ""), result
    return result.out


def authenticate(
    hub: HubProcess, terminal_id: str, key: str, **credential: Any
) -> terminal_pb2.AuthenticateResponse:
    """TerminalService.Authenticate as the terminal would call it."""
    metadata = (("x-printgate-terminal-id", terminal_id), ("x-printgate-terminal-key", key))
    with grpc.insecure_channel(hub.address) as channel:
        stub = terminal_pb2_grpc.TerminalServiceStub(channel)
        reply: terminal_pb2.AuthenticateResponse = stub.Authenticate(
            terminal_pb2.AuthenticateRequest(**credential), metadata=metadata, timeout=10
        )
        return reply


def status_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    code: grpc.StatusCode = raised.value.code()
    return code


# -- the scripted walk --------------------------------------------------------------------------


def test_walk_directory_printers_prices_and_quota(admin_hub: HubProcess) -> None:
    hub = admin_hub
    user = ok(
        hub,
        "user",
        "create",
        "walker",
        "--full-name",
        "Wanda Walker",
        "--email",
        "w@example.org",
        "--department",
        "Geology",
        "--group",
        "walk-staff",
        "--credit-limit-cents",
        "200",
    )
    assert user["username"] == "walker" and user["department"] == "Geology"
    assert (user["groups"], user["roles"], user["active"], user["billing"]) == (
        ["walk-staff"],
        ["user"],
        True,
        "BILLING_PREPAID",
    )
    assert (user["credit_limit_cents"], user["has_pin"], user["has_password"]) == (200, False, False)

    card = ok(hub, "card", "add", "walker", " 04a1b2c3 ", "--label", "blue tag")
    assert (card["number"], card["username"], card["label"]) == ("04A1B2C3", "walker", "blue tag")
    ok(hub, "card", "add", "walker", "0badcafe")
    assert [c["number"] for c in ok(hub, "card", "list", "walker")["cards"]] == ["04A1B2C3", "0BADCAFE"]
    assert ok(hub, "card", "remove", "0BADCAFE") == {}
    assert [c["number"] for c in ok(hub, "card", "list", "walker")["cards"]] == ["04A1B2C3"]

    assert ok(hub, "group", "create", "walk-team")["kind"] == "GROUP_KIND_GROUP"
    assert ok(hub, "group", "create", "Walk-Dept", "--kind", "department")["kind"] == "GROUP_KIND_DEPARTMENT"
    ok(hub, "group", "add-member", "walk-team", "walker")
    groups = {g["name"]: g for g in ok(hub, "group", "list")["groups"]}
    assert groups["walk-team"]["member_count"] == 1 and groups["Geology"]["kind"] == "GROUP_KIND_DEPARTMENT"
    ok(hub, "group", "remove-member", "walk-team", "walker")
    assert {g["name"]: g["member_count"] for g in ok(hub, "group", "list")["groups"]}["walk-team"] == 0

    role = ok(
        hub, "role", "set", "walk-role", "--function", "print", "--function", "copy", "--requires-card-pin"
    )
    assert (role["allowed_functions"], role["requires_card_pin"], role["color_allowed"]) == (
        ["FUNCTION_PRINT", "FUNCTION_COPY"],
        True,
        False,
    )
    assert "walk-role" in {r["name"] for r in ok(hub, "role", "list")["roles"]}
    updated = ok(
        hub, "user", "update", "walker", "--role", "walk-role", "--role", "user", "--email", "ww@example.org"
    )
    assert (sorted(updated["roles"]), updated["email"], updated["full_name"]) == (
        ["user", "walk-role"],
        "ww@example.org",
        "Wanda Walker",
    )

    project = ok(hub, "project", "create", "WALK1", "--name", "Walk project", "--group", "walk-staff")
    assert (project["account"], project["groups"], project["all_users"]) == (
        "project:WALK1",
        ["walk-staff"],
        False,
    )
    assert "WALK1" in {p["code"] for p in ok(hub, "project", "list")["projects"]}

    printer = ok(
        hub,
        "printer",
        "set",
        "walk-mfp",
        "--address",
        "127.0.0.1:9100",
        "--transport",
        "lpd",
        "--vendor-profile",
        "kyocera",
        "--printer-group",
        "walk-group",
        "--location",
        "Room 2",
    )
    assert {k: printer[k] for k in ("transport", "vendor_profile", "printer_group", "location")} == {
        "transport": "lpd",
        "vendor_profile": "kyocera",
        "printer_group": "walk-group",
        "location": "Room 2",
    }
    assert [p["address"] for p in ok(hub, "printer", "list")["printers"] if p["name"] == "walk-mfp"] == [
        "127.0.0.1:9100"
    ]

    terminal = ok(hub, "terminal", "create", "walk-t1", "--printer", "walk-mfp", "--location", "Hall")
    assert terminal["terminal"] == {
        "id": "walk-t1",
        "kind": "TERMINAL_KIND_TERMINAL",
        "printer": "walk-mfp",
        "location": "Hall",
    }
    assert len(terminal["key"]) >= 32
    kiosk = ok(hub, "terminal", "create", "walk-k1", "--kind", "kiosk")
    listed = {t["id"]: t for t in ok(hub, "terminal", "list")["terminals"]}
    assert listed["walk-k1"]["kind"] == "TERMINAL_KIND_KIOSK" and listed["walk-t1"]["printer"] == "walk-mfp"
    assert kiosk["key"] != terminal["key"]

    ok(
        hub,
        "price",
        "set",
        "--printer-group",
        "walk-group",
        "--function",
        "print",
        "--color",
        "mono",
        "--price-cents-per-page",
        "7",
    )
    ok(
        hub,
        "price",
        "set",
        "--printer-group",
        "walk-group",
        "--function",
        "copy",
        "--color",
        "color",
        "--paper-size",
        "A3",
        "--duplex",
        "--price-cents-per-page",
        "55",
    )
    # Listed by group, function name, colour, size, duplex.
    assert ok(hub, "price", "list", "--printer-group", "walk-group")["prices"] == [
        {
            "printer_group": "walk-group",
            "function": "FUNCTION_COPY",
            "color": "COLOR_MODE_COLOR",
            "paper_size": "A3",
            "duplex": True,
            "price_cents_per_page": 55,
        },
        {
            "printer_group": "walk-group",
            "function": "FUNCTION_PRINT",
            "color": "COLOR_MODE_MONO",
            "paper_size": "*",
            "duplex": False,
            "price_cents_per_page": 7,
        },
    ]

    rule = ok(
        hub,
        "quota",
        "create",
        "--name",
        "walk-daily",
        "--group",
        "walk-staff",
        "--period",
        "day",
        "--unit",
        "pages",
        "--color-scope",
        "color",
        "--limit",
        "40",
        "--action",
        "warn",
    )
    rules = {r["id"]: r for r in ok(hub, "quota", "list")["rules"]}
    assert rules[rule["id"]] == {
        "id": rule["id"],
        "name": "walk-daily",
        "group": "walk-staff",
        "period": "QUOTA_PERIOD_DAY",
        "unit": "QUOTA_UNIT_PAGES",
        "color_scope": "QUOTA_COLOR_SCOPE_COLOR",
        "limit": 40,
        "action": "QUOTA_ACTION_WARN",
    }
    assert ok(hub, "quota", "delete", str(rule["id"])) == {}
    assert rule["id"] not in {r["id"] for r in ok(hub, "quota", "list")["rules"]}


def test_walk_money_adjust_ledger_and_check(admin_hub: HubProcess) -> None:
    hub = admin_hub
    ok(hub, "user", "create", "payer")
    first = ok(
        hub, "account", "adjust", "--user", "payer", "--amount-cents", "1000", "--reason", "cash at desk"
    )
    assert (first["balance_cents"], first["already_applied"]) == (1000, False)
    assert first["idempotency_key"].startswith("admin-")
    second = ok(
        hub,
        "account",
        "adjust",
        "--user",
        "payer",
        "--amount-cents",
        "-250",
        "--reason",
        "refund slip",
        "--idempotency-key",
        "payer-refund-1",
    )
    assert (second["balance_cents"], second["idempotency_key"]) == (750, "payer-refund-1")
    replay = ok(
        hub,
        "account",
        "adjust",
        "--user",
        "payer",
        "--amount-cents",
        "-250",
        "--reason",
        "refund slip",
        "--idempotency-key",
        "payer-refund-1",
    )
    assert replay == {**second, "already_applied": True}

    entries = ok(hub, "account", "ledger", "--user", "payer")["entries"]
    for entry in entries:
        assert entry.pop("recorded_at").endswith("Z")
    assert entries == [
        {
            "transaction_id": second["transaction_id"],
            "kind": "adjustment",
            "account": "user:payer",
            "amount_cents": -250,
            "balance_after_cents": 750,
            "description": "refund slip",
            "terminal_id": "",
            "idempotency_key": "payer-refund-1",
        },
        {
            "transaction_id": first["transaction_id"],
            "kind": "adjustment",
            "account": "user:payer",
            "amount_cents": 1000,
            "balance_after_cents": 1000,
            "description": "cash at desk",
            "terminal_id": "",
            "idempotency_key": first["idempotency_key"],
        },
    ]
    older = ok(
        hub, "account", "ledger", "--user", "payer", "--before-transaction-id", str(second["transaction_id"])
    )
    assert [e["transaction_id"] for e in older["entries"]] == [first["transaction_id"]]

    account = ok(hub, "account", "set-limit", "payer", "--credit-limit-cents", "300")
    assert (account["name"], account["balance_cents"], account["credit_limit_cents"]) == (
        "user:payer",
        750,
        300,
    )
    assert ok(hub, "account", "list", "--user", "payer")["accounts"] == [
        {
            "id": account["id"],
            "name": "user:payer",
            "kind": "ACCOUNT_KIND_PREPAID",
            "balance_cents": 750,
            "credit_limit_cents": 300,
            "owner": "payer",
        }
    ]
    # Down to the overdraft limit is allowed, one cent more is refused.
    assert (
        ok(hub, "account", "adjust", "--user", "payer", "--amount-cents", "-1050", "--reason", "x")[
            "balance_cents"
        ]
        == -300
    )
    refused = admin(
        hub,
        "account",
        "adjust",
        "--user",
        "payer",
        "--amount-cents",
        "-1",
        "--reason",
        "x",
        "--idempotency-key",
        "payer-over",
    )
    assert refused.code == 1
    assert refused.err == (
        "printgate admin: FAILED_PRECONDITION: account user:payer cannot cover 1 cents"
        " (to retry, pass --idempotency-key payer-over)\n"
    )

    check = ok(hub, "account", "check")
    assert check["ok"] is True and check["problems"] == [] and check["transactions"] >= 3
    assert text(hub, "account", "check").startswith("ledger ok: ")


def test_ledger_text_table(admin_hub: HubProcess) -> None:
    hub = admin_hub
    ok(hub, "user", "create", "tabled")
    adjusted = ok(
        hub, "account", "adjust", "--user", "tabled", "--amount-cents", "125", "--reason", "tabled top-up"
    )
    lines = text(hub, "account", "ledger", "--user", "tabled").splitlines()
    assert lines[0].split() == [
        "TRANSACTION_ID",
        "RECORDED_AT",
        "KIND",
        "ACCOUNT",
        "AMOUNT_CENTS",
        "BALANCE_AFTER_CENTS",
        "DESCRIPTION",
    ]
    cells = lines[1].split()
    assert len(lines) == 2
    assert [cells[0], *cells[2:]] == [
        str(adjusted["transaction_id"]),
        "adjustment",
        "user:tabled",
        "125",
        "125",
        "tabled",
        "top-up",
    ]


CSV_HEADER = "username,full_name,email,department,roles,card_numbers,billing,active,credit_limit_cents\n"


def test_csv_import_dry_run_then_real(admin_hub: HubProcess, tmp_path: Path) -> None:
    hub = admin_hub
    ok(hub, "user", "create", "imp-old", "--full-name", "Old Name")
    ok(hub, "user", "create", "imp-same", "--full-name", "Same", "--email", "same@example.org")
    ok(hub, "card", "add", "imp-same", "CAFE0001")
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(
        CSV_HEADER
        + "imp-new,New Person,new@example.org,Imports,,CAFE0002;cafe0003,prepaid,true,100\n"
        + "imp-old,New Name,,,,,,,\n"
        + "imp-same,Same,same@example.org,,user,CAFE0001,prepaid,true,0\n"
        + "imp-thief,Thief,,,,cafe0001,,,\n"
        + "imp-bad,,,,,,weird,,\n"
    )
    expected_rows = [
        {"line": 2, "username": "imp-new", "action": "created", "message": ""},
        {"line": 3, "username": "imp-old", "action": "updated", "message": ""},
        {"line": 4, "username": "imp-same", "action": "unchanged", "message": ""},
        {
            "line": 5,
            "username": "imp-thief",
            "action": "error",
            "message": "card CAFE0001 belongs to another user",
        },
        {
            "line": 6,
            "username": "imp-bad",
            "action": "error",
            "message": "billing must be prepaid or department, not 'weird'",
        },
    ]
    dry = admin(hub, "user", "import", "--csv", str(csv_file), "--dry-run")
    assert dry.code == 1 and dry.err == "printgate admin: 2 of 5 rows in error (see the report)\n"
    assert dry.json() == {
        "dry_run": True,
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "errors": 2,
        "rows": expected_rows,
    }
    missing = admin(hub, "user", "show", "imp-new")
    assert (missing.code, missing.err) == (1, "printgate admin: NOT_FOUND: no user named 'imp-new'\n")
    assert ok(hub, "user", "show", "imp-old")["full_name"] == "Old Name"

    real = admin(hub, "user", "import", "--csv", str(csv_file))
    assert real.code == 1
    assert real.json() == {
        "dry_run": False,
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "errors": 2,
        "rows": expected_rows,
    }
    created = ok(hub, "user", "show", "imp-new")
    assert (created["full_name"], created["department"], created["credit_limit_cents"]) == (
        "New Person",
        "Imports",
        100,
    )
    assert [c["number"] for c in ok(hub, "card", "list", "imp-new")["cards"]] == ["CAFE0002", "CAFE0003"]
    assert ok(hub, "user", "show", "imp-old")["full_name"] == "New Name"
    assert [c["number"] for c in ok(hub, "card", "list", "imp-same")["cards"]] == ["CAFE0001"]

    clean = tmp_path / "clean.csv"
    clean.write_text(CSV_HEADER + "imp-new,New Person,new@example.org,Imports,,CAFE0002,prepaid,true,100\n")
    report = text(hub, "user", "import", "--csv", str(clean))
    assert report.splitlines()[-1] == "summary: 0 created, 0 updated, 1 unchanged, 0 in error (applied)"
    assert ok(hub, "account", "check")["ok"] is True


# -- credentials reach the terminal path -------------------------------------------------------


def test_password_pin_and_unlock_work_at_a_terminal(admin_hub: HubProcess) -> None:
    hub = admin_hub
    ok(hub, "user", "create", "locky", "--password-stdin", stdin="first-password\n")
    assert ok(hub, "user", "show", "locky")["has_password"] is True
    key = ok(hub, "terminal", "create", "locky-t")["key"]

    def login(password: str) -> terminal_pb2.AuthenticateResponse:
        credential = terminal_pb2.PasswordCredential(username="locky", password=password)
        return authenticate(hub, "locky-t", key, password=credential)

    assert login("first-password").session_token
    assert ok(hub, "user", "set-password", "locky", "--password-stdin", stdin="second-password\n") == {}
    assert status_of(lambda: login("first-password")) == grpc.StatusCode.UNAUTHENTICATED
    for _ in range(4):  # 5 failures in all lock the user (hub default max_failed_attempts)
        assert status_of(lambda: login("wrong-password")) == grpc.StatusCode.UNAUTHENTICATED
    assert status_of(lambda: login("second-password")) == grpc.StatusCode.PERMISSION_DENIED
    assert ok(hub, "user", "unlock", "locky") == {}
    assert login("second-password").session_token

    assert ok(hub, "user", "set-pin", "locky", "--pin-stdin", stdin="48151623\n") == {"pin": ""}
    assert authenticate(hub, "locky-t", key, pin=terminal_pb2.PinCredential(pin="48151623")).session_token
    new_pin = ok(hub, "user", "reset-pin", "locky")["pin"]
    assert new_pin.isdigit() and len(new_pin) >= 6
    assert authenticate(hub, "locky-t", key, pin=terminal_pb2.PinCredential(pin=new_pin)).session_token
    ok(hub, "user", "create", "locky-2")
    taken = admin(hub, "user", "set-pin", "locky-2", "--pin", new_pin)
    assert (taken.code, taken.err) == (
        1,
        "printgate admin: ALREADY_EXISTS: that PIN is already in use; choose another\n",
    )


def test_terminal_unlock_after_unknown_cards(admin_hub: HubProcess) -> None:
    hub = admin_hub
    ok(hub, "user", "create", "tapper")
    ok(hub, "card", "add", "tapper", "7A7A7A7A")
    key = ok(hub, "terminal", "create", "tap-t")["key"]

    def tap(number: str) -> terminal_pb2.AuthenticateResponse:
        return authenticate(hub, "tap-t", key, card=terminal_pb2.CardCredential(number=number))

    for _ in range(5):
        assert status_of(lambda: tap("00000000")) == grpc.StatusCode.UNAUTHENTICATED
    assert status_of(lambda: tap("7A7A7A7A")) == grpc.StatusCode.PERMISSION_DENIED
    assert text(hub, "terminal", "unlock", "tap-t") == "unlocked terminal tap-t\n"
    assert tap("7A7A7A7A").session_token


# -- errors: exact messages and exit codes ---------------------------------------------------


def test_hub_errors_exit_1_with_status_and_message(admin_hub: HubProcess) -> None:
    hub = admin_hub
    unknown = admin(hub, "user", "show", "bob")
    assert (unknown.code, unknown.out, unknown.err) == (
        1,
        "",
        "printgate admin: NOT_FOUND: no user named 'bob'\n",
    )
    ok(hub, "user", "create", "carder")
    ok(hub, "card", "add", "carder", "D00D0001")
    duplicate = admin(hub, "card", "add", "carder", "d00d0001")
    assert (duplicate.code, duplicate.err) == (
        1,
        "printgate admin: ALREADY_EXISTS: card D00D0001 is already linked to a user\n",
    )
    again = admin(hub, "user", "create", "carder")
    assert (again.code, again.err) == (1, "printgate admin: ALREADY_EXISTS: user 'carder' already exists\n")
    no_rule = admin(hub, "quota", "delete", "999999")
    assert (no_rule.code, no_rule.err) == (1, "printgate admin: NOT_FOUND: no quota rule 999999\n")
    conflict = admin(
        hub,
        "account",
        "adjust",
        "--user",
        "carder",
        "--amount-cents",
        "5",
        "--reason",
        "r",
        "--idempotency-key",
        "carder-k",
    )
    assert conflict.code == 0
    reused = admin(
        hub,
        "account",
        "adjust",
        "--user",
        "carder",
        "--amount-cents",
        "6",
        "--reason",
        "r",
        "--idempotency-key",
        "carder-k",
    )
    assert (reused.code, reused.err) == (
        1,
        "printgate admin: ALREADY_EXISTS: idempotency key 'carder-k' was already used"
        " with a different request (to retry, pass --idempotency-key carder-k)\n",
    )


def test_wrong_token_is_unauthenticated(admin_hub: HubProcess, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("not-the-token\n")
    result = run_admin(["--hub", admin_hub.address, "--token-file", str(token_file), "user", "list"])
    assert (result.code, result.out) == (1, "")
    assert result.err == "printgate admin: UNAUTHENTICATED: admin credential not recognised\n"


def test_missing_token_is_a_usage_error(admin_hub: HubProcess, tmp_path: Path) -> None:
    result = run_admin(["--hub", admin_hub.address, "user", "list"])
    assert (result.code, result.out) == (2, "")
    assert (
        result.err
        == "printgate admin: no admin token: give --token-file or --data-dir, or set PRINTGATE_ADMIN_TOKEN\n"
    )
    absent = run_admin(["--hub", admin_hub.address, "--token-file", str(tmp_path / "absent"), "user", "list"])
    assert (absent.code, absent.err) == (
        2,
        f"printgate admin: cannot read admin token from {tmp_path / 'absent'}: No such file or directory\n",
    )


def test_usage_errors_exit_2(admin_hub: HubProcess) -> None:
    no_reason = admin(admin_hub, "account", "adjust", "--user", "x", "--amount-cents", "5")
    assert no_reason.code == 2 and no_reason.err.endswith(
        "error: the following arguments are required: --reason\n"
    )
    nothing = admin(admin_hub, "user", "update", "x")
    assert nothing.code == 2
    assert nothing.err.startswith("printgate admin: nothing to update: give at least one of --full-name")
    empty_stdin = admin(admin_hub, "user", "set-password", "x", "--password-stdin", stdin="")
    assert (empty_stdin.code, empty_stdin.err) == (2, "printgate admin: no password on stdin\n")
    assert (
        admin(
            admin_hub,
            "price",
            "set",
            "--function",
            "print",
            "--color",
            "sepia",
            "--price-cents-per-page",
            "1",
        ).code
        == 2
    )


def test_hub_down_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTGATE_ADMIN_TOKEN", "t")
    port = free_tcp_port()
    down = run_admin(["--hub", f"127.0.0.1:{port}", "--timeout-s", "5", "user", "list"])
    assert (down.code, down.out) == (3, "")
    assert down.err.startswith(f"printgate admin: UNAVAILABLE: cannot reach hub at 127.0.0.1:{port} (")
    assert down.err.count("\n") == 1


def test_silent_listener_hits_the_deadline_and_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTGATE_ADMIN_TOKEN", "t")
    with socket.socket() as silent:  # accepts TCP (backlog) but never speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        result = run_admin(["--hub", address, "--timeout-s", "0.5", "user", "list"])
    assert (result.code, result.out) == (3, "")
    assert result.err == f"printgate admin: DEADLINE_EXCEEDED: no answer from hub at {address} within 0.5 s\n"


# -- the console script, env fallbacks, text output --------------------------------------------


def test_console_script_with_env_fallbacks_and_stdin(admin_hub: HubProcess) -> None:
    env = {**os.environ, "PRINTGATE_HUB": admin_hub.address, "PRINTGATE_ADMIN_TOKEN": admin_hub.token}
    created = subprocess.run(
        [
            str(PRINTGATE),
            "admin",
            "user",
            "create",
            "scripted",
            "--full-name",
            "Script User",
            "--password-stdin",
            "--json",
        ],
        input=b"scripted-secret\n",
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (created.returncode, created.stderr) == (0, b"")
    assert json.loads(created.stdout)["has_password"] is True
    listed = subprocess.run(
        [str(PRINTGATE), "admin", "user", "list", "--query", "scripted"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0
    assert listed.stdout.decode().splitlines() == [
        "USERNAME  FULL_NAME    EMAIL  DEPARTMENT  ROLES  GROUPS  ACTIVE  BILLING",
        "scripted  Script User  -      -           user   -       yes     prepaid",
        "1 of 1 users",
    ]
    missing = subprocess.run(
        [str(PRINTGATE), "admin", "user", "show", "nobody-here"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        b"",
        b"printgate admin: NOT_FOUND: no user named 'nobody-here'\n",
    )


def test_text_output_of_terminal_create_shows_key_once(admin_hub: HubProcess) -> None:
    out = text(admin_hub, "terminal", "create", "text-t", "--kind", "kiosk")
    lines = out.splitlines()
    assert lines[:4] == ["id        text-t", "kind      kiosk", "printer   -", "location  -"]
    assert lines[4].startswith("key       ") and len(lines[4].split()[1]) >= 32
    assert lines[5] == "(the key is shown only now: store it on the terminal)"
    assert "key" not in text(admin_hub, "terminal", "list").lower().split()
