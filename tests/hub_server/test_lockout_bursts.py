"""Issue 19, finding 1: guesses sent at once get exactly the policy's free attempts.

The attack: hundreds of wrong passwords (or PINs) for one identity sent in parallel, with the
hub's real argon2 settings (64 MiB, t=3). Before the fix the lockout was checked before the
argon2 work and the failure recorded after it, so every guess of a burst was checked (300 of
300 passwords, 356 of 400 card PINs, 6 of 400 PINs alone), and a right password inside the burst
logged in and cleared the lock. Now an attempt is claimed in the database before the check:
each burst below gets exactly ``max_failed_attempts`` checks, counted as argon2 verifications
(in process) and as answers (``UNAUTHENTICATED`` for a checked guess, ``PERMISSION_DENIED`` for
one refused unchecked), on both backends, across two hub replicas on one PostgreSQL database and
across the two worker processes of one SQLite hub.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import argon2
import grpc
import pytest
import pytest_asyncio
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2

from hub_server.clock import FakeClock
from hub_server.config import AuthConfig
from hub_server.domain import open_hub_database
from hub_server.domain.lockout import login_counters
from hub_server.server import ADMIN_TOKEN_FILE, SECRET_FILE, RunningHub, start_hub
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import HubClients, TerminalClient, admin_channel_of, hub_config
from tests.hub_server.devices import device_channel
from tests.hub_server.processes import HubProcess

pytestmark = pytest.mark.asyncio

REAL = AuthConfig()  # the shipped argon2 settings, not the tests' cheap ones
LIMIT = REAL.max_failed_attempts
PASSWORD = "correct horse battery staple"
PIN = "7315"
CARD = "04C0FFEE01"
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


class Verifications:
    """Counts argon2 verifications in this process (every hub of these tests runs in it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        original = argon2.PasswordHasher.verify

        def verify(hasher: argon2.PasswordHasher, stored: Any, secret: Any) -> bool:
            with self._lock:
                self.count += 1
            return original(hasher, stored, secret)

        monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Verifications:
    return Verifications(monkeypatch)


async def real_hub(folder: Path, database_url: str, clock: FakeClock) -> tuple[RunningHub, HubClients]:
    config = hub_config(folder, database_url, **REAL.__dict__)
    running = await start_hub(config, clock)
    token = (folder / ADMIN_TOKEN_FILE).read_text().strip()
    return running, HubClients(
        running=running, channel=admin_channel_of(running), admin_token=token, clock=clock
    )


@pytest_asyncio.fixture
async def hub(tmp_path: Path, database_url: str) -> AsyncIterator[HubClients]:
    running, clients = await real_hub(tmp_path / "hub", database_url, FakeClock())
    yield clients
    await clients.channel.close()
    await running.stop(0)


def on_replica(terminal: TerminalClient, replica: RunningHub) -> TerminalClient:
    """The same enrolled terminal, connected to another replica's device port."""
    channel = device_channel(terminal.credentials, f"127.0.0.1:{replica.port}")
    return TerminalClient(channel, terminal.terminal_id, terminal.state_dir)


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def burst(calls: list[Callable[[], Awaitable[Any]]]) -> collections.Counter[grpc.StatusCode]:
    """Send every call at once; count the answers by status."""
    return collections.Counter(await asyncio.gather(*(code_of(call()) for call in calls)))


async def terminals(hub: HubClients, count: int) -> list[TerminalClient]:
    return [await hub.create_terminal(f"t{number}") for number in range(count)]


def counters(hub: HubClients) -> tuple[dict[int, int], dict[str, int]]:
    """failures_total per user id and per terminal id."""
    counted = hub.running.hub.auth.login_counters()
    return (
        {user: c.failures_total for user, c in counted.users.items()},
        {terminal: c.failures_total for terminal, c in counted.terminals.items()},
    )


async def test_300_parallel_wrong_passwords_get_exactly_the_free_checks(
    hub: HubClients, verifications: Verifications
) -> None:
    await hub.create_user("alice", initial_password=PASSWORD)
    spread = await terminals(hub, 4)  # the user's own count binds, whatever terminal is used
    verifications.count = 0
    answers = await burst(
        [lambda n=n: spread[n % 4].password("alice", f"guess-{n}") for n in range(300)]  # type: ignore[misc]
    )
    assert verifications.count == LIMIT
    assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 300 - LIMIT}
    users, _ = counters(hub)
    assert list(users.values()) == [LIMIT]
    # the right password is refused too while alice waits: the burst used her attempts up
    assert await code_of(spread[0].password("alice", PASSWORD)) == DENIED
    assert verifications.count == LIMIT


async def test_400_parallel_card_pins_get_exactly_the_free_checks(
    hub: HubClients, verifications: Verifications
) -> None:
    await hub.call_admin(
        "UpsertRole",
        admin_pb2.Role(
            name="staff",
            requires_card_pin=True,
            allowed_functions=[common_pb2.FUNCTION_PRINT],
            color_allowed=True,
        ),
    )
    await hub.create_user("carol", card=CARD, pin=PIN, roles=["staff"])
    spread = await terminals(hub, 4)
    verifications.count = 0
    answers = await burst(
        [lambda n=n: spread[n % 4].tap(CARD, pin=f"{n:04d}") for n in range(400)]  # type: ignore[misc]  # never 7315
    )
    assert verifications.count == LIMIT
    assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 400 - LIMIT}


async def test_400_parallel_pins_alone_get_exactly_the_free_lookups(hub: HubClients) -> None:
    await hub.create_user("alice", pin=PIN)
    (terminal,) = await terminals(hub, 1)
    answers = await burst([lambda n=n: terminal.pin(f"{9000 + n}") for n in range(400)])  # type: ignore[misc]
    assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 400 - LIMIT}
    _, by_terminal = counters(hub)
    assert by_terminal == {"t0": LIMIT}
    assert await code_of(terminal.pin(PIN)) == DENIED  # the terminal waits: not even looked up


async def test_400_parallel_unknown_cards_are_counted_exactly(hub: HubClients) -> None:
    (terminal,) = await terminals(hub, 1)
    answers = await burst([lambda n=n: terminal.tap(f"DEAD{n:06X}") for n in range(400)])  # type: ignore[misc]
    assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 400 - LIMIT}


class Gate:
    """Holds wrong passwords inside argon2 until opened, so a test can place a right one
    while they are being checked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = threading.Event()
        self.inside = 0
        self._lock = threading.Lock()
        original = argon2.PasswordHasher.verify

        def verify(hasher: argon2.PasswordHasher, stored: Any, secret: Any) -> bool:
            if secret != PASSWORD:
                with self._lock:
                    self.inside += 1
                self.opened.wait(30)
            return original(hasher, stored, secret)

        monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)

    async def until_inside(self, count: int) -> None:
        async with asyncio.timeout(20):
            while self.inside < count:
                await asyncio.sleep(0.01)


async def test_a_right_password_behind_the_free_guesses_is_not_checked(
    hub: HubClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old hub checked it and logged in, clearing the lock the guesses had earned."""
    gate = Gate(monkeypatch)
    await hub.create_user("alice", initial_password=PASSWORD)
    (terminal,) = await terminals(hub, 1)
    guesses = [asyncio.ensure_future(code_of(terminal.password("alice", f"guess-{n}"))) for n in range(LIMIT)]
    await gate.until_inside(LIMIT)
    assert await code_of(terminal.password("alice", PASSWORD)) == DENIED  # not checked: no free attempt
    gate.opened.set()
    assert await asyncio.gather(*guesses) == [UNAUTHENTICATED] * LIMIT
    assert await code_of(terminal.password("alice", PASSWORD)) == DENIED  # alice now waits
    users, _ = counters(hub)
    assert list(users.values()) == [LIMIT]


async def test_a_right_password_does_not_forgive_guesses_still_being_checked(
    hub: HubClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    await hub.create_user("alice", initial_password=PASSWORD)
    first, second = await terminals(hub, 2)
    guesses = [
        asyncio.ensure_future(code_of(first.password("alice", f"guess-{n}"))) for n in range(LIMIT - 1)
    ]
    await gate.until_inside(LIMIT - 1)
    reply = await second.password("alice", PASSWORD)  # one attempt was still free
    assert reply.session.user.username == "alice"
    gate.opened.set()
    assert await asyncio.gather(*guesses) == [UNAUTHENTICATED] * (LIMIT - 1)
    # the guesses settled after the login still count: one more failure and alice waits
    assert await code_of(second.password("alice", "one more guess")) == UNAUTHENTICATED
    assert await code_of(second.password("alice", PASSWORD)) == DENIED


async def test_two_replicas_on_one_postgresql_share_the_count(
    tmp_path: Path, postgres: Any, verifications: Verifications
) -> None:
    url = postgres.new_database()
    clock = FakeClock()
    first, first_clients = await real_hub(tmp_path / "a", url, clock)
    (tmp_path / "b").mkdir()
    shutil.copy(tmp_path / "a" / SECRET_FILE, tmp_path / "b" / SECRET_FILE)  # replicas share the secret
    shutil.copy(tmp_path / "a" / ADMIN_TOKEN_FILE, tmp_path / "b" / ADMIN_TOKEN_FILE)
    shutil.copytree(tmp_path / "a" / "pki", tmp_path / "b" / "pki")  # and the CA their devices trust
    second, second_clients = await real_hub(tmp_path / "b", url, clock)
    try:
        await first_clients.create_user("alice", initial_password=PASSWORD, pin=PIN)
        on_first = await first_clients.create_terminal("t1")
        on_second = on_replica(on_first, second)
        verifications.count = 0
        answers = await burst(
            [
                lambda n=n: (on_first if n % 2 else on_second).password("alice", f"guess-{n}")  # type: ignore[misc]
                for n in range(300)
            ]
        )
        assert verifications.count == LIMIT
        assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 300 - LIMIT}
        # PINs alone at one terminal, half through each replica
        t2 = await first_clients.create_terminal("t2")
        t2_second = on_replica(t2, second)
        answers = await burst(
            [lambda n=n: (t2 if n % 2 else t2_second).pin(f"{9000 + n}") for n in range(400)]  # type: ignore[misc]
        )
        assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 400 - LIMIT}
    finally:
        for clients, running in ((first_clients, first), (second_clients, second)):
            await clients.channel.close()
            await running.stop(0)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[HubProcess]:
    config = tmp_path / "hub.toml"
    config.write_text("[hub]\nworkers = 2\n")  # real argon2 settings: the defaults
    (tmp_path / "hub").mkdir()
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.start()
    yield process
    process.stop()


async def test_two_worker_processes_on_one_sqlite_share_the_count(two_workers: HubProcess) -> None:
    hub = two_workers
    async with hub.admin_channel() as admin_channel:
        admin = admin_pb2_grpc.AdminServiceStub(admin_channel)
        await admin.CreateUser(
            admin_pb2.User(username="alice", initial_password=PASSWORD), metadata=hub.admin_metadata
        )
        enrolled = await hub.enroll(admin_channel, "t1")
    await enrolled.channel.close()
    # several channels: SO_REUSEPORT spreads connections, not calls, over the two workers
    channels = [
        grpc.aio.secure_channel(
            hub.address,
            grpc.ssl_channel_credentials(*enrolled.credentials.channel_material()),
            options=[("grpc.use_local_subchannel_pool", 1)],
        )
        for _ in range(8)
    ]
    try:
        clients = [TerminalClient(channel, "t1", enrolled.state_dir) for channel in channels]
        answers = await burst(
            [lambda n=n: clients[n % len(clients)].password("alice", f"guess-{n}") for n in range(300)]  # type: ignore[misc]
        )
        assert answers == {UNAUTHENTICATED: LIMIT, DENIED: 300 - LIMIT}
    finally:
        for channel in channels:
            await channel.close()
    hub.stop()
    db = open_hub_database(f"sqlite:///{hub.data_dir / 'hub.db'}")
    try:
        counted = {c.identity: c.failures_total for c in db.read(login_counters)}
    finally:
        db.close()
    assert counted == {"terminal:t1": LIMIT, "user:1": LIMIT}
