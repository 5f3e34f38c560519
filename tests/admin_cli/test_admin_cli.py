"""``printgate admin`` against a real hub process: a scripted walk, exit codes and exact messages.

The hub runs as its own process (``printgate hub`` on a temporary data dir, ports 0, addresses
from the ready file) for the whole module and is stopped by PID; the CLI reaches its admin port
over TLS pinned to the hub's CA, and terminals enroll with tokens the CLI makes. Most commands run in-process
through ``printgate_cli.commands.main`` and are written as the shell line an admin would type; a few
run as ``printgate`` subprocesses to cover the console script, the environment fallbacks and
stdin secrets end to end. Each test uses its own names, so the tests do not depend on order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import io
import json
import os
import re
import shlex
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
from hypothesis import given, settings
from hypothesis import strategies as st
from printgate.v1 import admin_pb2, terminal_pb2, terminal_pb2_grpc

from admin_cli.commands.users import USER_COLUMNS
from admin_cli.render import printable, table_of
from printgate_cli.commands import main
from terminal_app.hub.enrollment import Credentials, DeviceEnrollment
from tests.conftest import free_tcp_port

PRINTGATE = Path(sys.executable).parent / "printgate"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CSV_HEADER = "username,full_name,email,department,roles,card_numbers,billing,active,credit_limit_cents\n"


@dataclass
class HubProcess:
    """A ``printgate hub`` process serving on loopback: ``address`` is its admin port."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    address: str
    device_address: str

    @property
    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "hub-ca.pem"


@dataclass
class Result:
    """What one ``printgate admin`` run did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def _wait_ready(process: subprocess.Popen[bytes], ready_file: Path, log: Path) -> tuple[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        lines = (ready_file.read_text() if ready_file.exists() else "").splitlines(keepends=True)
        if len(lines) == 2 and lines[1].endswith("\n"):  # device, then admin HOST:PORT, once serving
            return lines[0].strip(), lines[1].strip()
        if process.poll() is not None:
            pytest.fail(f"hub exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"hub not ready after {READY_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def admin_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A real hub process on a fresh data dir, stopped by PID at teardown."""
    assert PRINTGATE.exists(), f"{PRINTGATE} missing: run scripts/setup.sh"
    data_dir = tmp_path_factory.mktemp("admin-hub")
    ready_file, log = data_dir / "addr", data_dir / "hub.log"
    command = [str(PRINTGATE), "hub", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"]
    command += ["--admin-listen", "127.0.0.1:0"]
    with log.open("wb") as log_handle:
        process = subprocess.Popen(
            [*command, "--ready-file", str(ready_file)], stdout=log_handle, stderr=log_handle
        )
    try:
        device, admin_address = _wait_ready(process, ready_file, log)
        yield HubProcess(process, data_dir, admin_address, device)
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
    monkeypatch.delenv("PRINTGATE_HUB_CA", raising=False)


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


def admin(hub: HubProcess, command: str, stdin: str = "", json_output: bool = True) -> Result:
    """``printgate admin --hub ... --data-dir ... [--json] COMMAND`` (COMMAND split like a shell)."""
    login = ["--hub", hub.address, "--data-dir", str(hub.data_dir)]
    return run_admin([*login, *(["--json"] if json_output else []), *shlex.split(command)], stdin)


def ok(hub: HubProcess, command: str, stdin: str = "") -> Any:
    """A command that must succeed; returns its JSON document."""
    result = admin(hub, command, stdin)
    assert (result.code, result.err) == (0, ""), result
    return result.json()


def text(hub: HubProcess, command: str) -> str:
    """A command in text mode that must succeed; returns stdout."""
    result = admin(hub, command, json_output=False)
    assert (result.code, result.err) == (0, ""), result
    return result.out


def failed(hub: HubProcess, command: str, stdin: str = "") -> tuple[int, str]:
    """A command that must fail with nothing on stdout; returns its exit code and stderr."""
    result = admin(hub, command, stdin)
    assert result.out == "", result
    return result.code, result.err


def enroll(hub: HubProcess, terminal_id: str, state_dir: Path) -> Credentials:
    """A terminal enrolled with a token ``printgate admin enrollment create`` printed."""
    token = text(hub, f"enrollment create --kind terminal --terminal-id {terminal_id}").strip()
    return asyncio.run(DeviceEnrollment(state_dir, "terminal").enroll(token))


def authenticate(
    hub: HubProcess, terminal: Credentials, **credential: Any
) -> terminal_pb2.AuthenticateResponse:
    """TerminalService.Authenticate as a terminal calls it: mutual TLS with its certificate."""
    channel_credentials = grpc.ssl_channel_credentials(*terminal.channel_material())
    with grpc.secure_channel(hub.device_address, channel_credentials) as channel:
        stub = terminal_pb2_grpc.TerminalServiceStub(channel)
        request = terminal_pb2.AuthenticateRequest(**credential)
        reply: terminal_pb2.AuthenticateResponse = stub.Authenticate(request, timeout=10)
        return reply


def refused_with(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    code: grpc.StatusCode = raised.value.code()
    return code


# -- the scripted walk --------------------------------------------------------------------------


def test_walk_users_cards_and_groups(admin_hub: HubProcess) -> None:
    hub = admin_hub
    user = ok(
        hub,
        "user create walker --full-name 'Wanda Walker' --email w@example.org --department Geology"
        " --group walk-staff --credit-limit-cents 200",
    )
    assert {
        k: user[k] for k in ("username", "full_name", "department", "groups", "roles", "active", "billing")
    } == {
        "username": "walker",
        "full_name": "Wanda Walker",
        "department": "Geology",
        "groups": ["walk-staff"],
        "roles": ["user"],
        "active": True,
        "billing": "BILLING_PREPAID",
    }
    assert (user["credit_limit_cents"], user["has_pin"], user["has_password"]) == (200, False, False)

    card = ok(hub, "card add walker ' 04a1b2c3 ' --label 'blue tag'")
    assert (card["number"], card["username"], card["label"]) == ("04A1B2C3", "walker", "blue tag")
    ok(hub, "card add walker 0badcafe")
    assert [c["number"] for c in ok(hub, "card list walker")["cards"]] == ["04A1B2C3", "0BADCAFE"]
    assert ok(hub, "card remove 0BADCAFE") == {}
    assert [c["number"] for c in ok(hub, "card list walker")["cards"]] == ["04A1B2C3"]

    assert ok(hub, "group create walk-team")["kind"] == "GROUP_KIND_GROUP"
    assert ok(hub, "group create Walk-Dept --kind department")["kind"] == "GROUP_KIND_DEPARTMENT"
    assert ok(hub, "group add-member walk-team walker") == {}
    groups = {g["name"]: g for g in ok(hub, "group list")["groups"]}
    assert (groups["walk-team"]["member_count"], groups["Geology"]["kind"]) == (1, "GROUP_KIND_DEPARTMENT")
    assert text(hub, "group remove-member walk-team walker") == "removed walker from walk-team\n"
    assert {g["name"]: g["member_count"] for g in ok(hub, "group list")["groups"]}["walk-team"] == 0

    role = ok(hub, "role set walk-role --function print --function copy --requires-card-pin")
    assert (role["allowed_functions"], role["requires_card_pin"], role["color_allowed"]) == (
        ["FUNCTION_PRINT", "FUNCTION_COPY"],
        True,
        False,
    )
    assert "walk-role" in {r["name"] for r in ok(hub, "role list")["roles"]}
    updated = ok(hub, "user update walker --role walk-role --role user --email ww@example.org --inactive")
    assert (sorted(updated["roles"]), updated["email"], updated["full_name"], updated["active"]) == (
        ["user", "walk-role"],
        "ww@example.org",
        "Wanda Walker",
        False,
    )
    # The global options may also follow the verb.
    assert (
        run_admin(
            ["user", "show", "walker", "--json", "--hub", hub.address, "--data-dir", str(hub.data_dir)]
        ).json()
        == updated
    )


def test_walk_projects_printers_terminals_prices_quotas(admin_hub: HubProcess) -> None:
    hub = admin_hub
    project = ok(hub, "project create WALK1 --name 'Walk project' --group walk-staff")
    assert (project["account"], project["groups"], project["all_users"]) == (
        "project:WALK1",
        ["walk-staff"],
        False,
    )
    assert "WALK1" in {p["code"] for p in ok(hub, "project list")["projects"]}

    printer = ok(
        hub,
        "printer set walk-mfp --address 127.0.0.1:9100 --transport lpd --vendor-profile kyocera"
        " --printer-group walk-group --location 'Room 2'",
    )
    assert {
        k: printer[k] for k in ("address", "transport", "vendor_profile", "printer_group", "location")
    } == {
        "address": "127.0.0.1:9100",
        "transport": "lpd",
        "vendor_profile": "kyocera",
        "printer_group": "walk-group",
        "location": "Room 2",
    }
    assert printer in ok(hub, "printer list")["printers"]

    terminal = ok(hub, "terminal create walk-t1 --printer walk-mfp --location Hall")
    assert terminal["terminal"] == {
        "id": "walk-t1",
        "kind": "TERMINAL_KIND_TERMINAL",
        "printer": "walk-mfp",
        "location": "Hall",
    }
    kiosk = ok(hub, "terminal create walk-k1 --kind kiosk")
    assert terminal["key"] == kiosk["key"] == ""  # a TLS hub: devices are named by certificates
    listed = {t["id"]: t for t in ok(hub, "terminal list")["terminals"]}
    assert (listed["walk-k1"]["kind"], listed["walk-t1"]["printer"]) == ("TERMINAL_KIND_KIOSK", "walk-mfp")

    ok(hub, "price set --printer-group walk-group --function print --color mono --price-cents-per-page 7")
    ok(
        hub,
        "price set --printer-group walk-group --function copy --color color --paper-size A3 --duplex"
        " --price-cents-per-page 55",
    )
    # Listed by group, function name, colour, size, duplex.
    assert ok(hub, "price list --printer-group walk-group")["prices"] == [
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
        "quota create --name walk-daily --group walk-staff --period day --unit pages --color-scope color"
        " --limit 40 --action warn",
    )
    assert {r["id"]: r for r in ok(hub, "quota list")["rules"]}[rule["id"]] == {
        "id": rule["id"],
        "name": "walk-daily",
        "group": "walk-staff",
        "period": "QUOTA_PERIOD_DAY",
        "unit": "QUOTA_UNIT_PAGES",
        "color_scope": "QUOTA_COLOR_SCOPE_COLOR",
        "limit": 40,
        "action": "QUOTA_ACTION_WARN",
    }
    everyone = ok(hub, "quota create --name walk-monthly --period month --unit cents --limit 500")
    assert (everyone["everyone"], everyone["action"], everyone["color_scope"]) == (
        True,
        "QUOTA_ACTION_BLOCK",
        "QUOTA_COLOR_SCOPE_ANY",
    )
    assert text(hub, f"quota delete {rule['id']}") == f"quota rule {rule['id']} deleted\n"
    remaining = {r["id"] for r in ok(hub, "quota list")["rules"]}
    assert rule["id"] not in remaining and everyone["id"] in remaining


def test_walk_money_adjust_ledger_and_check(admin_hub: HubProcess) -> None:
    hub = admin_hub
    ok(hub, "user create payer")
    first = ok(hub, "account adjust --user payer --amount-cents 1000 --reason 'cash at desk'")
    assert (first["balance_cents"], first["already_applied"]) == (1000, False)
    assert first["idempotency_key"].startswith("admin-")
    refund = "account adjust --user payer --amount-cents -250 --reason 'refund slip'"
    refund += " --idempotency-key payer-refund-1"
    second = ok(hub, refund)
    assert (second["balance_cents"], second["idempotency_key"]) == (750, "payer-refund-1")
    assert ok(hub, refund) == {**second, "already_applied": True}

    entries = ok(hub, "account ledger --user payer")["entries"]
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
    older = ok(hub, f"account ledger --user payer --before-transaction-id {second['transaction_id']}")
    assert [e["transaction_id"] for e in older["entries"]] == [first["transaction_id"]]

    account = ok(hub, "account set-limit payer --credit-limit-cents 300")
    assert ok(hub, "account list --user payer")["accounts"] == [
        {
            "id": account["id"],
            "name": "user:payer",
            "kind": "ACCOUNT_KIND_PREPAID",
            "balance_cents": 750,
            "credit_limit_cents": 300,
            "owner": "payer",
        }
    ]
    # Down to the overdraft limit is allowed; one cent more is refused.
    assert ok(hub, "account adjust --user payer --amount-cents -1050 --reason x")["balance_cents"] == -300
    assert failed(
        hub, "account adjust --user payer --amount-cents -1 --reason x --idempotency-key payer-over"
    ) == (
        1,
        "printgate admin: FAILED_PRECONDITION: account user:payer cannot cover 1 cents"
        " (to retry, pass --idempotency-key payer-over)\n",
    )

    ok(hub, "user create payer-2 --department Payroll")
    posted = ok(
        hub, "account adjust --account department:Payroll --amount-cents -40 --reason 'manual charge'"
    )
    assert posted["balance_cents"] == -40
    accounts = {a["name"]: a for a in ok(hub, "account list")["accounts"]}
    assert (accounts["department:Payroll"]["kind"], accounts["department:Payroll"]["balance_cents"]) == (
        "ACCOUNT_KIND_POSTPAID",
        -40,
    )

    check = ok(hub, "account check")
    assert (check["ok"], check["problems"]) == (True, [])
    assert check["transactions"] >= 4 and check["accounts"] >= 5
    assert text(hub, "account check").startswith("ledger ok: ")


def test_money_in_text_mode(admin_hub: HubProcess) -> None:
    hub = admin_hub
    ok(hub, "user create tabled")
    adjusted = text(
        hub,
        "account adjust --user tabled --amount-cents 125 --reason 'tabled top-up' --idempotency-key tab-1",
    )
    transaction_id = ok(hub, "account ledger --user tabled")["entries"][0]["transaction_id"]
    assert (
        adjusted == f"transaction {transaction_id} applied; balance now 125 cents\nidempotency key: tab-1\n"
    )
    lines = text(hub, "account ledger --user tabled").splitlines()
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
    assert len(lines) == 2 and cells[1].endswith("Z")
    assert [cells[0], *cells[2:]] == [
        str(transaction_id),
        "adjustment",
        "user:tabled",
        "125",
        "125",
        "tabled",
        "top-up",
    ]


def test_csv_import_dry_run_then_real(admin_hub: HubProcess, tmp_path: Path) -> None:
    hub = admin_hub
    ok(hub, "user create imp-old --full-name 'Old Name'")
    ok(hub, "user create imp-same --full-name Same --email same@example.org")
    ok(hub, "card add imp-same CAFE0001")
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(
        CSV_HEADER
        + "imp-new,New Person,new@example.org,Imports,,CAFE0002;cafe0003,prepaid,true,100\n"
        + "imp-old,New Name,,,,,,,\n"
        + "imp-same,Same,same@example.org,,user,CAFE0001,prepaid,true,0\n"
        + "imp-thief,Thief,,,,cafe0001,,,\n"
        + "imp-bad,,,,,,weird,,\n"
    )
    rows = [
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
    counts = {"created": 1, "updated": 1, "unchanged": 1, "errors": 2}
    dry = admin(hub, f"user import --csv {csv_file} --dry-run")
    assert (dry.code, dry.err) == (1, "printgate admin: 2 of 5 rows in error (see the report)\n")
    assert dry.json() == {"dry_run": True, **counts, "rows": rows}
    assert failed(hub, "user show imp-new") == (1, "printgate admin: NOT_FOUND: no user named 'imp-new'\n")
    assert ok(hub, "user show imp-old")["full_name"] == "Old Name"

    real = admin(hub, f"user import --csv {csv_file}")
    assert (real.code, real.json()) == (1, {"dry_run": False, **counts, "rows": rows})
    created = ok(hub, "user show imp-new")
    assert (created["full_name"], created["department"], created["credit_limit_cents"]) == (
        "New Person",
        "Imports",
        100,
    )
    assert [c["number"] for c in ok(hub, "card list imp-new")["cards"]] == ["CAFE0002", "CAFE0003"]
    assert ok(hub, "user show imp-old")["full_name"] == "New Name"
    assert [c["number"] for c in ok(hub, "card list imp-same")["cards"]] == ["CAFE0001"]

    again = CSV_HEADER + "imp-new,New Person,new@example.org,Imports,,CAFE0002,prepaid,true,100\n"
    report = admin(hub, "user import --csv -", stdin=again, json_output=False)
    assert (report.code, report.err) == (0, "")
    assert report.out.splitlines() == [
        "LINE  USERNAME  ACTION     MESSAGE",
        "2     imp-new   unchanged  -",
        "summary: 0 created, 0 updated, 1 unchanged, 0 in error (applied)",
    ]
    assert ok(hub, "account check")["ok"] is True


def test_user_list_query_and_paging(admin_hub: HubProcess) -> None:
    hub = admin_hub
    for name in ("page-a", "page-b", "page-c"):
        ok(hub, f"user create {name} --email {name}@paging.example")
    first = ok(hub, "user list --query paging.example --limit 2")
    assert ([u["username"] for u in first["users"]], first["total"]) == (["page-a", "page-b"], 3)
    rest = ok(hub, "user list --query paging.example --limit 2 --offset 2")
    assert ([u["username"] for u in rest["users"]], rest["total"]) == (["page-c"], 3)
    assert text(hub, "user list --query no-such-user-anywhere") == "(none)\n0 of 0 users\n"


# -- credentials reach the terminal path -------------------------------------------------------


def test_password_pin_and_unlock_work_at_a_terminal(admin_hub: HubProcess, tmp_path: Path) -> None:
    hub = admin_hub
    ok(hub, "user create locky --password-stdin", stdin="first-password\n")
    assert ok(hub, "user show locky")["has_password"] is True
    terminal = enroll(hub, "locky-t", tmp_path / "locky-t")

    def login(password: str) -> terminal_pb2.AuthenticateResponse:
        credential = terminal_pb2.PasswordCredential(username="locky", password=password)
        return authenticate(hub, terminal, password=credential)

    assert login("first-password").session_token
    assert ok(hub, "user set-password locky --password-stdin", stdin="second-password\n") == {}
    assert refused_with(lambda: login("first-password")) == grpc.StatusCode.UNAUTHENTICATED
    for _ in range(4):  # 5 failures in all: the user waits (the hub's default max_failed_attempts)
        assert refused_with(lambda: login("wrong-password")) == grpc.StatusCode.UNAUTHENTICATED
    assert refused_with(lambda: login("second-password")) == grpc.StatusCode.PERMISSION_DENIED
    assert text(hub, "user unlock locky") == "unlocked user locky\n"
    # the failures counted against the terminal too: it waits until it is unlocked as well
    assert refused_with(lambda: login("second-password")) == grpc.StatusCode.PERMISSION_DENIED
    assert text(hub, "terminal unlock locky-t") == "unlocked terminal locky-t\n"
    assert login("second-password").session_token

    assert ok(hub, "user set-pin locky --pin-stdin", stdin="48151623\n") == {"pin": ""}
    assert authenticate(hub, terminal, pin=terminal_pb2.PinCredential(pin="48151623")).session_token
    new_pin = ok(hub, "user reset-pin locky")["pin"]
    assert new_pin.isdigit() and len(new_pin) >= 6
    assert authenticate(hub, terminal, pin=terminal_pb2.PinCredential(pin=new_pin)).session_token
    assert refused_with(
        lambda: authenticate(hub, terminal, pin=terminal_pb2.PinCredential(pin="48151623"))
    ) == (grpc.StatusCode.UNAUTHENTICATED)
    ok(hub, "user create locky-2")
    assert failed(hub, f"user set-pin locky-2 --pin {new_pin}") == (
        1,
        "printgate admin: ALREADY_EXISTS: that PIN is already in use; choose another\n",
    )


def test_terminal_unlock_after_unknown_cards(admin_hub: HubProcess, tmp_path: Path) -> None:
    hub = admin_hub
    ok(hub, "user create tapper")
    ok(hub, "card add tapper 7A7A7A7A")
    terminal = enroll(hub, "tap-t", tmp_path / "tap-t")

    def tap(number: str) -> terminal_pb2.AuthenticateResponse:
        return authenticate(hub, terminal, card=terminal_pb2.CardCredential(number=number))

    for _ in range(5):
        assert refused_with(lambda: tap("00000000")) == grpc.StatusCode.UNAUTHENTICATED
    assert refused_with(lambda: tap("7A7A7A7A")) == grpc.StatusCode.PERMISSION_DENIED
    assert text(hub, "terminal unlock tap-t") == "unlocked terminal tap-t\n"
    assert tap("7A7A7A7A").session_token


# -- errors: exact messages and exit codes ---------------------------------------------------


def test_hub_errors_exit_1_with_status_and_message(admin_hub: HubProcess) -> None:
    hub = admin_hub
    assert failed(hub, "user show bob") == (1, "printgate admin: NOT_FOUND: no user named 'bob'\n")
    ok(hub, "user create carder")
    ok(hub, "card add carder D00D0001")
    assert failed(hub, "card add carder d00d0001") == (
        1,
        "printgate admin: ALREADY_EXISTS: card D00D0001 is already linked to a user\n",
    )
    assert failed(hub, "user create carder") == (
        1,
        "printgate admin: ALREADY_EXISTS: user 'carder' already exists\n",
    )
    assert failed(hub, "quota delete 999999") == (1, "printgate admin: NOT_FOUND: no quota rule 999999\n")
    assert failed(hub, "user set-password carder --password short") == (
        1,
        "printgate admin: INVALID_ARGUMENT: a password is 8 to 128 characters\n",
    )
    ok(hub, "account adjust --user carder --amount-cents 5 --reason r --idempotency-key carder-k")
    assert failed(
        hub, "account adjust --user carder --amount-cents 6 --reason r --idempotency-key carder-k"
    ) == (
        1,
        "printgate admin: ALREADY_EXISTS: idempotency key 'carder-k' was already used with a different"
        " request (to retry, pass --idempotency-key carder-k)\n",
    )


def test_wrong_token_is_unauthenticated(admin_hub: HubProcess, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("not-the-token\n")
    ca = ["--ca", str(admin_hub.ca_file)]
    result = run_admin(["--hub", admin_hub.address, *ca, "--token-file", str(token_file), "user", "list"])
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "printgate admin: UNAUTHENTICATED: admin credential not recognised\n",
    )


def test_missing_token_is_a_usage_error(admin_hub: HubProcess, tmp_path: Path) -> None:
    ca = ["--ca", str(admin_hub.ca_file)]
    result = run_admin(["--hub", admin_hub.address, *ca, "user", "list"])
    assert (result.code, result.out, result.err) == (
        2,
        "",
        "printgate admin: no admin token: give --token-file or --data-dir, or set PRINTGATE_ADMIN_TOKEN\n",
    )
    absent = tmp_path / "absent"
    result = run_admin(["--hub", admin_hub.address, *ca, "--token-file", str(absent), "user", "list"])
    assert (result.code, result.err) == (
        2,
        f"printgate admin: cannot read admin token from {absent}: No such file or directory\n",
    )


def test_usage_errors_exit_2(admin_hub: HubProcess) -> None:
    hub = admin_hub
    code, err = failed(hub, "account adjust --user x --amount-cents 5")
    assert (code, err.splitlines()[-1]) == (
        2,
        "printgate admin account adjust: error: the following arguments are required: --reason",
    )
    code, err = failed(hub, "user update x")
    assert (code, err) == (
        2,
        "printgate admin: nothing to update: give at least one of --full-name, --email, --department,"
        " --role, --billing, --active/--inactive\n",
    )
    assert failed(hub, "user set-password x --password-stdin", stdin="") == (
        2,
        "printgate admin: no password on stdin\n",
    )
    assert failed(hub, "account adjust --user x --amount-cents 5 --reason ' '") == (
        2,
        "printgate admin: --reason must not be blank\n",
    )
    assert failed(hub, "price set --function print --color sepia --price-cents-per-page 1")[0] == 2
    assert failed(hub, "user list --timeout-s 0")[0] == 2
    assert failed(hub, "user import --csv /nonexistent/users.csv") == (
        2,
        "printgate admin: cannot read CSV /nonexistent/users.csv: No such file or directory\n",
    )


def test_hub_down_exits_3(monkeypatch: pytest.MonkeyPatch, admin_hub: HubProcess) -> None:
    monkeypatch.setenv("PRINTGATE_ADMIN_TOKEN", "t")
    monkeypatch.setenv("PRINTGATE_HUB_CA", str(admin_hub.ca_file))
    address = f"127.0.0.1:{free_tcp_port()}"
    result = run_admin(["--hub", address, "--timeout-s", "5", "user", "list"])
    assert (result.code, result.out) == (3, "")
    assert result.err.startswith(f"printgate admin: UNAVAILABLE: cannot reach hub at {address} (")
    assert result.err.count("\n") == 1


def test_silent_listener_hits_the_deadline_and_exits_3(
    monkeypatch: pytest.MonkeyPatch, admin_hub: HubProcess
) -> None:
    monkeypatch.setenv("PRINTGATE_ADMIN_TOKEN", "t")
    monkeypatch.setenv("PRINTGATE_HUB_CA", str(admin_hub.ca_file))
    with socket.socket() as silent:  # the kernel completes TCP handshakes; nobody speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        argv = [
            "--hub",
            address,
            "--timeout-s",
            "0.5",
            "account",
            "adjust",
            "--user",
            "u",
            "--amount-cents",
            "1",
        ]
        result = run_admin([*argv, "--reason", "r", "--idempotency-key", "k-1"])
    assert (result.code, result.out, result.err) == (
        3,
        "",
        f"printgate admin: DEADLINE_EXCEEDED: no answer from hub at {address} within 0.5 s"
        " (to retry, pass --idempotency-key k-1)\n",
    )


# -- the console script, env fallbacks, text output --------------------------------------------


def test_console_script_with_env_fallbacks_and_stdin(admin_hub: HubProcess) -> None:
    env = {
        **os.environ,
        "PRINTGATE_HUB": admin_hub.address,
        "PRINTGATE_ADMIN_TOKEN": admin_hub.token,
        "PRINTGATE_HUB_CA": str(admin_hub.ca_file),
    }

    def printgate(command: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        argv = [str(PRINTGATE), "admin", *shlex.split(command)]
        return subprocess.run(argv, input=stdin, env=env, capture_output=True, timeout=60, check=False)

    created = printgate(
        "user create scripted --full-name 'Script User' --password-stdin --json", b"scripted-secret\n"
    )
    assert (created.returncode, created.stderr) == (0, b"")
    assert json.loads(created.stdout)["has_password"] is True
    listed = printgate("user list --query scripted")
    assert (listed.returncode, listed.stderr) == (0, b"")
    assert listed.stdout.decode().splitlines() == [
        "USERNAME  FULL_NAME    EMAIL  DEPARTMENT  ROLES  GROUPS  ACTIVE  BILLING",
        "scripted  Script User  -      -           user   -       yes     prepaid",
        "1 of 1 users",
    ]
    missing = printgate("user show nobody-here")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        b"",
        b"printgate admin: NOT_FOUND: no user named 'nobody-here'\n",
    )


def test_terminal_create_says_how_the_device_enrolls(admin_hub: HubProcess) -> None:
    lines = text(admin_hub, "terminal create text-t --kind kiosk").splitlines()
    assert lines == [
        "id        text-t",
        "kind      kiosk",
        "printer   -",
        "location  -",
        "(it gets its certificate by enrolling: printgate admin enrollment create --kind kiosk"
        " --terminal-id text-t, then printgate kiosk enroll --token TOKEN on the device)",
    ]


# -- text rendering of hostile hub data -----------------------------------------------------------

hub_text = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(hub_text, hub_text, hub_text, st.lists(hub_text, max_size=3)), max_size=6))
def test_tables_stay_aligned_and_printable_whatever_the_hub_sends(fields: list[Any]) -> None:
    users = [
        admin_pb2.User(username=name, full_name=full_name, email=email, roles=roles)
        for name, full_name, email, roles in fields
    ]
    reply = admin_pb2.ListUsersResponse(users=users, total=len(users))
    rendered = table_of("users", USER_COLUMNS)(reply, argparse.Namespace())
    lines = rendered.split("\n")
    assert all(line.isprintable() for line in lines)
    if not users:
        assert lines == ["(none)"]
        return
    assert len(lines) == len(users) + 1
    starts = [match.start() for match in re.finditer(r"\S+", lines[0])]
    ends = [start - 2 for start in starts[1:]] + [None]  # cells are padded and joined by two spaces
    for user, line in zip(users, lines[1:], strict=True):
        cells = [line[start:end].rstrip() for start, end in zip(starts, ends, strict=True)]
        roles = ",".join(printable(role) or "-" for role in user.roles) or "-"
        expected = [
            printable(user.username) or "-",
            printable(user.full_name) or "-",
            printable(user.email) or "-",
        ]
        assert cells[:5] == [*(text.rstrip() for text in expected), "-", roles.rstrip()]


# -- enrollment and TLS ----------------------------------------------------------------------


def test_enrollment_tokens_are_made_listed_used_and_revoked(admin_hub: HubProcess, tmp_path: Path) -> None:
    from terminal_app.errors import EnrollmentRefused

    hub = admin_hub
    ok(hub, "printer set enr-mfp --address 127.0.0.1:9100")
    token = text(hub, "enrollment create --kind terminal --printer enr-mfp --expires 30m --note 'hall 2'")
    assert re.fullmatch(r"pge1-[0-9a-f]{10}-[0-9a-f]{32}-[0-9a-f]{64}-[0-9a-f]{8}@127\.0\.0\.1:\d+\n", token)
    token_id, secret = token.split("-")[1:3]
    assert token.rstrip().endswith("@" + hub.address)  # devices enroll at the admin port
    listing = text(hub, "enrollment list")
    listed = {t["token_id"]: t for t in ok(hub, "enrollment list")["tokens"]}[token_id]
    assert secret not in listing and secret not in json.dumps(listed)
    assert {k: listed[k] for k in ("kind", "printer", "uses_max", "uses_count", "state", "note")} == {
        "kind": "TERMINAL_KIND_TERMINAL",
        "printer": "enr-mfp",
        "uses_max": 1,
        "uses_count": 0,
        "state": "active",
        "note": "hall 2",
    }
    terminal = asyncio.run(DeviceEnrollment(tmp_path / "t", "terminal").enroll(token))
    assert re.fullmatch(r"terminal-[0-9a-f]{8}", terminal.device_id)
    terminals = {t["id"]: t for t in ok(hub, "terminal list")["terminals"]}
    assert terminals[terminal.device_id]["printer"] == "enr-mfp"
    used = {t["token_id"]: t for t in ok(hub, "enrollment list")["tokens"]}[token_id]
    assert (used["uses_count"], used["state"]) == (1, "used")

    spare = text(hub, "enrollment create --kind kiosk --uses 3").strip()
    spare_id = spare.split("-")[1]
    assert text(hub, f"enrollment revoke {spare_id}") == f"revoked enrollment token {spare_id}\n"
    assert failed(hub, f"enrollment revoke {spare_id}") == (
        1,
        f"printgate admin: NOT_FOUND: no active enrollment token '{spare_id}'\n",
    )
    with pytest.raises(EnrollmentRefused) as refused:
        asyncio.run(DeviceEnrollment(tmp_path / "k", "kiosk").enroll(spare))
    assert (refused.value.code, refused.value.detail) == (
        "UNAUTHENTICATED",
        f"enrollment token {spare_id} is revoked",
    )

    tap = terminal_pb2.CardCredential(number="0000")
    assert refused_with(lambda: authenticate(hub, terminal, card=tap)) == grpc.StatusCode.UNAUTHENTICATED
    said = text(hub, f"terminal revoke {terminal.device_id} --reason stolen")
    assert said == f"revoked terminal {terminal.device_id} (1 valid certificates)\n"
    with pytest.raises(grpc.RpcError) as after:
        authenticate(hub, terminal, card=tap)
    assert after.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ("x-printgate-device-refused", "revoked") in after.value.trailing_metadata()
    assert failed(hub, "terminal revoke never-enrolled") == (
        1,
        "printgate admin: NOT_FOUND: terminal 'never-enrolled' never enrolled\n",
    )


def test_enrollment_usage_errors(admin_hub: HubProcess) -> None:
    code, err = failed(admin_hub, "enrollment create --kind terminal --expires soon")
    assert (code, err.splitlines()[-1]) == (
        2,
        "printgate admin enrollment create: error: argument --expires: expected a duration like 24h,"
        " 30m, 7d or seconds, not soon",
    )
    assert failed(admin_hub, "enrollment create --kind terminal --uses 0")[0] == 2
    assert failed(admin_hub, "enrollment create --kind terminal --terminal-id 'a b'") == (
        1,
        "printgate admin: INVALID_ARGUMENT: device id 'a b' must be 1-64 of A-Z a-z 0-9 . _ - "
        "(starting alphanumeric)\n",
    )
    assert failed(admin_hub, "enrollment create --kind terminal --printer no-such-printer") == (
        1,
        "printgate admin: NOT_FOUND: no printer named 'no-such-printer'\n",
    )
    ok(admin_hub, "terminal create enr-kiosk --kind kiosk")
    assert failed(admin_hub, "enrollment create --kind terminal --terminal-id enr-kiosk") == (
        1,
        "printgate admin: INVALID_ARGUMENT: 'enr-kiosk' is registered as a kiosk, not a terminal\n",
    )


def test_the_cli_trusts_only_the_hubs_ca(admin_hub: HubProcess, tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    token_file = tmp_path / "token"
    token_file.write_text(admin_hub.token + "\n")
    login = ["--hub", admin_hub.address, "--token-file", str(token_file)]
    result = run_admin([*login, "user", "list"])
    assert (result.code, result.out, result.err) == (
        2,
        "",
        "printgate admin: no hub CA to verify the hub with: give --ca FILE or --data-dir DIR, or set"
        " PRINTGATE_HUB_CA\n",
    )
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    result = run_admin([*login, "--ca", str(tmp_path / "junk.pem"), "user", "list"])
    assert (result.code, result.err) == (
        2,
        f"printgate admin: {tmp_path / 'junk.pem'} holds no PEM certificate\n",
    )

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else's CA")])
    now = datetime.datetime.now(datetime.UTC)
    other = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "other.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    result = run_admin([*login, "--ca", str(tmp_path / "other.pem"), "--timeout-s", "5", "user", "list"])
    assert (result.code, result.out) == (3, "")  # the hub's certificate does not chain to it: nothing sent
    assert result.err.startswith(f"printgate admin: UNAVAILABLE: cannot reach hub at {admin_hub.address} (")
    result = run_admin([*login, "--ca", str(admin_hub.ca_file), "user", "list", "--query", "nobody-at-all"])
    assert (result.code, result.err) == (0, "")
