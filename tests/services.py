"""Services the tests start themselves and stop by PID: a private PostgreSQL cluster (and a
streaming-replication standby of it)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from tests.conftest import free_tcp_port

STARTUP_TIMEOUT_S = 30.0


def _postgres_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not candidates[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/setup.sh installs it)")
    return candidates[-1]


class PostgresServer:
    """A throwaway cluster on a loopback port; PostgreSQL refuses to run as root, so as root it
    runs as the ``postgres`` system user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_tcp_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._databases = 0

    def _as_owner(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def start(self, settings: dict[str, str] | None = None) -> None:
        """A new cluster (``initdb``), started with ``settings`` (``postgres -c``) on top of ours."""
        self._own_directory()
        initdb = [_postgres_bin("initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres"]
        initdb += ["-E", "UTF8"]
        subprocess.run(
            self._as_owner(initdb),
            check=True,
            capture_output=True,
        )
        self._launch(settings or {})

    def start_standby(self, primary: PostgresServer, settings: dict[str, str] | None = None) -> None:
        """A streaming-replication standby of ``primary`` (``pg_basebackup -R``), started."""
        self._own_directory()
        subprocess.run(
            self._as_owner(
                [
                    _postgres_bin("pg_basebackup"),
                    "-d", f"host=127.0.0.1 port={primary.port} user=postgres application_name=standby",
                    "-D", str(self.data), "-R", "-X", "stream", "--checkpoint=fast",
                ]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        self._launch(settings or {})

    def promote(self) -> None:
        """Promote this standby to a primary and wait until it accepts writes."""
        subprocess.run(
            self._as_owner([_postgres_bin("pg_ctl"), "promote", "-w", "-D", str(self.data)]),
            check=True,
            capture_output=True,
        )

    def kill(self) -> None:
        """``kill -9`` the server and every backend of it, as a crashed machine stops them."""
        assert self.process is not None
        # The server runs in its own process group (runuser, the postmaster and its backends):
        # killing only the first would leave a headless server answering its old connections.
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def _own_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)

    def _launch(self, settings: dict[str, str]) -> None:
        options = {"listen_addresses": "127.0.0.1", "max_connections": "300", **settings}
        log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self._as_owner(
                [
                    _postgres_bin("postgres"),
                    "-D", str(self.data), "-p", str(self.port), "-k", str(self.directory),
                    *(item for name, value in options.items() for item in ("-c", f"{name}={value}")),
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.directory / "postgres.log").read_text()[-2000:]) from None
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        self._databases += 1
        name = f"test_{self._databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: PostgreSQL's smart shutdown, by PID
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
