"""Hub fixtures: a database, a domain Hub on a fake clock, and a real in-process gRPC hub on TLS
(the admin on the admin port, terminals enrolled with real tokens on the device port)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2, terminal_pb2, terminal_pb2_grpc

from hub_server.clock import FakeClock
from hub_server.config import AuthConfig, HubConfig, PkiSettings
from hub_server.domain import open_hub_database
from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE, RunningHub, start_hub
from hub_server.storage import Database
from terminal_app.hub.enrollment import Credentials, CredentialStore
from tests.hub_server.devices import admin_channel, device_channel, enroll_device

# Cheap argon2 so tests spend their time on behaviour, not on hashing.
FAST_AUTH = AuthConfig(argon2_time_cost=1, argon2_memory_kib=1024)
# Every test enrolls from 127.0.0.1: the per-address enrollment limit must not get in the way.
TEST_PKI = PkiSettings(enroll_burst=10_000, enroll_per_minute=10_000)


BACKENDS = ["sqlite", "postgresql"]


def hub_config(data_dir: Path, database: str = "", **auth: object) -> HubConfig:
    """A test hub on free loopback ports with cheap hashing."""
    return HubConfig(
        listen="127.0.0.1:0",
        admin_listen="127.0.0.1:0",
        data_dir=data_dir,
        database=database,
        auth=AuthConfig(**{**FAST_AUTH.__dict__, **auth}),
        pki=TEST_PKI,
    )


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage backend in turn: the same contract holds on each."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return str(request.getfixturevalue("postgres").new_database())


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_hub_database(database_url)
    yield database
    database.close()


@dataclass
class HubClients:
    """A running hub with an admin stub (``channel``: TLS to the admin port) and a way to enroll
    terminals and kiosks (each with its own certificate and channel to the device port)."""

    running: RunningHub
    channel: grpc.aio.Channel
    admin_token: str
    clock: FakeClock
    device_channels: list[grpc.aio.Channel] = field(default_factory=list)

    @property
    def admin(self) -> admin_pb2_grpc.AdminServiceStub:
        return admin_pb2_grpc.AdminServiceStub(self.channel)

    @property
    def admin_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.admin_token}"),)

    async def call_admin(self, method: str, request: object) -> Any:
        return await getattr(self.admin, method)(request, metadata=self.admin_metadata)

    @property
    def devices_dir(self) -> Path:
        return self.running.hub.config.data_dir.parent / "devices"

    async def create_terminal(self, terminal_id: str, printer: str = "", kind: Any = 1) -> TerminalClient:
        """Enroll a terminal (kind 1) or kiosk (kind 2) with a token; its client on its own
        mutual-TLS channel."""
        state_dir = self.devices_dir / terminal_id
        credentials = await enroll_device(self.call_admin, state_dir, terminal_id, printer, kind)
        channel = device_channel(credentials)
        self.device_channels.append(channel)
        return TerminalClient(channel, terminal_id, state_dir)

    async def close(self) -> None:
        """Close the admin's and every device's channel."""
        for channel in (self.channel, *self.device_channels):
            await channel.close()

    async def create_user(
        self, username: str, card: str = "", pin: str = "", credit_cents: int = 0, **fields: Any
    ) -> None:
        await self.call_admin("CreateUser", admin_pb2.User(username=username, **fields))
        user = admin_pb2.UserRef(username=username)
        if card:
            await self.call_admin("AddCard", admin_pb2.Card(user=user, number=card))
        if pin:
            await self.call_admin("SetPin", admin_pb2.SetPinRequest(user=user, pin=pin))
        if credit_cents:
            await self.credit(username, credit_cents)

    async def credit(self, username: str, amount_cents: int) -> int:
        reply = await self.call_admin(
            "AdjustCredit",
            admin_pb2.AdjustCreditRequest(
                user=admin_pb2.UserRef(username=username),
                amount_cents=amount_cents,
                reason="test top-up",
                idempotency_key=str(uuid.uuid4()),
            ),
        )
        return int(reply.balance_cents)

    async def set_price(
        self,
        function: common_pb2.Function,
        color: common_pb2.ColorMode,
        cents: int,
        duplex: bool = False,
        group: str = "default",
    ) -> None:
        await self.call_admin(
            "SetPrice",
            admin_pb2.Price(
                printer_group=group,
                function=function,
                color=color,
                paper_size="*",
                duplex=duplex,
                price_cents_per_page=cents,
            ),
        )

    async def balance(self, username: str) -> int:
        reply = await self.call_admin(
            "ListAccounts", admin_pb2.ListAccountsRequest(user=admin_pb2.UserRef(username=username))
        )
        prepaid = [a for a in reply.accounts if a.kind == admin_pb2.ACCOUNT_KIND_PREPAID]
        return int(prepaid[0].balance_cents)

    async def check_ledger(self) -> admin_pb2.CheckLedgerResponse:
        return await self.call_admin("CheckLedger", admin_pb2.Empty())


@dataclass
class TerminalClient:
    """A terminal's view of the hub: its certificate (in ``state_dir``) names it on its channel."""

    channel: grpc.aio.Channel
    terminal_id: str
    state_dir: Path

    @property
    def stub(self) -> terminal_pb2_grpc.TerminalServiceStub:
        return terminal_pb2_grpc.TerminalServiceStub(self.channel)

    @property
    def credentials(self) -> Credentials:
        """What the terminal enrolled with (its key, certificate and pinned CA)."""
        credentials = CredentialStore(self.state_dir).current()
        assert credentials is not None
        return credentials

    def reconnect(self, address: str = "") -> grpc.aio.Channel:
        """A new channel with the same certificate (the caller closes the old one)."""
        self.channel = device_channel(self.credentials, address)
        return self.channel

    async def tap(self, number: str, pin: str = "") -> terminal_pb2.AuthenticateResponse:
        request = terminal_pb2.AuthenticateRequest(card=terminal_pb2.CardCredential(number=number, pin=pin))
        return await self.stub.Authenticate(request)

    async def pin(self, pin: str) -> terminal_pb2.AuthenticateResponse:
        request = terminal_pb2.AuthenticateRequest(pin=terminal_pb2.PinCredential(pin=pin))
        return await self.stub.Authenticate(request)

    async def password(self, username: str, password: str) -> terminal_pb2.AuthenticateResponse:
        request = terminal_pb2.AuthenticateRequest(
            password=terminal_pb2.PasswordCredential(username=username, password=password)
        )
        return await self.stub.Authenticate(request)

    async def session(self, token: str) -> terminal_pb2.Session:
        return await self.stub.GetSession(terminal_pb2.GetSessionRequest(session_token=token))

    async def report(
        self,
        token: str,
        key: str,
        pages: int,
        *,
        function: common_pb2.Function = common_pb2.FUNCTION_COPY,
        color: common_pb2.ColorMode = common_pb2.COLOR_MODE_MONO,
        duplex: bool = False,
        performed: bool = False,
        project: str = "",
        paper_size: str = "A4",
    ) -> terminal_pb2.ReportUsageResponse:
        request = terminal_pb2.ReportUsageRequest(
            session_token=token,
            idempotency_key=key,
            lines=[
                common_pb2.UsageLine(
                    function=function,
                    color=color,
                    paper_size=paper_size,
                    duplex=duplex,
                    pages=pages,
                )
            ],
            performed=performed,
            project_code=project,
        )
        return await self.stub.ReportUsage(request)

    async def logout(self, token: str) -> None:
        await self.stub.Logout(terminal_pb2.LogoutRequest(session_token=token))


def admin_channel_of(running: RunningHub) -> grpc.aio.Channel:
    """A TLS channel to a running hub's admin port, pinned to its CA file."""
    data_dir = running.hub.config.data_dir
    return admin_channel(f"127.0.0.1:{running.admin_port}", data_dir / HUB_CA_FILE)


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubClients]:
    clock = FakeClock()
    running = await start_hub(hub_config(tmp_path / "hub", database_url), clock)
    token = (tmp_path / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
    channel = admin_channel_of(running)
    clients = HubClients(running=running, channel=channel, admin_token=token, clock=clock)
    yield clients
    await clients.close()
    await running.stop(0)
