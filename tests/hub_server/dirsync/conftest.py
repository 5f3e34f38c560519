"""Directory-sync fixtures: one private slapd per session with a generated AD-like and an
OpenLDAP-style site, per-test subtrees for tests that change the directory, and sources
pointing at them."""

from __future__ import annotations

import itertools
import random
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub_server.dirsync.config import SourceConfig, load_source
from hub_server.domain.dirsync_store import SqlUserStore
from hub_server.storage import Database
from tests.slapd import (
    AD_SUFFIX,
    OPENLDAP_SUFFIX,
    SERVICE_PASSWORD,
    SiteGroup,
    SiteUser,
    SlapdServer,
    ad_ldif,
    openldap_ldif,
    service_dn,
)

SITE_USERS = 2000  # four pages of 500, past the server's 500-entry limit for plain searches
DEEP_CHAIN = 12  # d1 in d2 in ... d12: deeper than the default max_group_depth of 8
BADGE_BASE = 3_000_000_000  # badges stored in decimal; readers send hex


def site_badge(index: int) -> str:
    """The decimal badge the directory stores for user ``index``."""
    return str(BADGE_BASE + index)


def site_card(index: int) -> str:
    """The same badge as a reader sends it (8 hex digits)."""
    return f"{BADGE_BASE + index:08X}"


@dataclass
class Site:
    """A generated directory population, as the tests expect to find it in the hub."""

    users: list[SiteUser]
    groups: list[SiteGroup]


def make_site(count: int = SITE_USERS, seed: int = 17, posix: bool = False) -> Site:
    """Users u0000.. in g0..g29 (nested under all-staff under faculty), a deep chain and a cycle."""
    rng = random.Random(seed)
    groups = [
        SiteGroup(f"g{i}", groups=["all-staff"] if i < 10 else [], guid=uuid.UUID(int=rng.getrandbits(128)))
        for i in range(30)
    ]
    groups += [SiteGroup("all-staff", groups=["faculty"]), SiteGroup("faculty")]
    groups += [
        SiteGroup(f"d{i}", groups=[f"d{i + 1}"] if i < DEEP_CHAIN else []) for i in range(1, DEEP_CHAIN + 1)
    ]
    groups += [SiteGroup("c1", groups=["c2"]), SiteGroup("c2", groups=["c1"])]
    if posix:
        groups += [SiteGroup("printers-posix", posix=True)]
    users = []
    for i in range(count):
        direct = [f"g{i % 30}"]
        direct += ["d1"] if i == 0 else []
        direct += ["c1"] if i == 1 else []
        direct += ["printers-posix"] if posix and i % 100 == 0 else []
        users.append(
            SiteUser(
                username=f"u{i:04d}",
                full_name=f"User {i}",
                email=f"u{i:04d}@example.test",
                department=f"Dept {i % 7}",
                badge=site_badge(i),
                disabled=i % 50 == 49,
                groups=direct,
                guid=uuid.UUID(int=rng.getrandbits(128)),
            )
        )
    return Site(users, groups)


@dataclass
class Directory:
    """The running slapd and what it holds."""

    server: SlapdServer
    ad_site: Site
    openldap_site: Site
    password_file: Path
    tmp: Path

    def source(self, kind: str = "active_directory", **overrides: Any) -> SourceConfig:
        """A source on this server; ``overrides`` are ``[[directory.sources]]`` keys."""
        return load_source(self.source_table(kind, **overrides), 0)

    def source_table(self, kind: str = "active_directory", **overrides: Any) -> dict[str, Any]:
        """The ``[[directory.sources]]`` table of :meth:`source`, as hub.toml would hold it."""
        suffix = AD_SUFFIX if kind == "active_directory" else OPENLDAP_SUFFIX
        values: dict[str, Any] = {
            "name": "ad" if kind == "active_directory" else "ol",
            "kind": kind,
            "servers": [self.server.ldaps_url],
            "ca_file": str(self.server.tls.ca_file),
            "bind_dn": service_dn(suffix),
            "bind_password_file": str(self.password_file),
            "user_base_dns": [f"ou=people,{suffix}"],
            "group_base_dns": [f"ou=groups,{suffix}"],
            "card_conversion": "dec2hex|lpad:8:0",
            "connect_timeout_s": 3.0,
            "operation_timeout_s": 30.0,
        }
        if kind == "openldap":
            values["attributes"] = {"disabled": "employeeType", "disabled_when": "value:disabled"}
        values.update(overrides)
        return values


_subtrees = itertools.count(1)


@dataclass
class Subtree:
    """A fresh OU of its own in one of the server's databases, for a test that changes things."""

    directory: Directory
    suffix: str
    base: str
    kind: str

    def source(self, **overrides: Any) -> SourceConfig:
        """A source reading only this subtree."""
        return load_source(self.source_table(**overrides), 0)

    def source_table(self, **overrides: Any) -> dict[str, Any]:
        """The ``[[directory.sources]]`` table of :meth:`source`."""
        values = {"user_base_dns": [f"ou=people,{self.base}"], "group_base_dns": [f"ou=groups,{self.base}"]}
        return self.directory.source_table(self.kind, **{**values, **overrides})

    def add(self, users: list[SiteUser], groups: list[SiteGroup], with_base: bool = False) -> None:
        """Add users and groups online (the memberof overlay maintains memberOf)."""
        make = ad_ldif if self.kind == "active_directory" else openldap_ldif
        ldif = make(self.base, users, groups, with_base=with_base, with_containers=with_base)
        self.directory.server.add(self.suffix, ldif)

    def modify(self, ldif: str) -> None:
        """Apply LDIF change records."""
        self.directory.server.modify(self.suffix, ldif)


@pytest.fixture(scope="session")
def slapd_directory() -> Iterator[Directory]:
    """One private slapd for the session, loaded offline with both generated sites."""
    tmp = Path(tempfile.mkdtemp(prefix="printgate-slapd-"))
    server = SlapdServer(tmp / "slapd")
    password_file = tmp / "bind.secret"
    password_file.write_text(SERVICE_PASSWORD + "\n")
    password_file.chmod(0o600)
    ad_site, openldap_site = make_site(), make_site(seed=23, posix=True)
    try:
        server.configure()
        server.seed()
        server.load_offline(AD_SUFFIX, ad_ldif(AD_SUFFIX, ad_site.users, ad_site.groups, with_member_of=True))
        server.load_offline(
            OPENLDAP_SUFFIX, openldap_ldif(OPENLDAP_SUFFIX, openldap_site.users, openldap_site.groups)
        )
        server.start()
        yield Directory(server, ad_site, openldap_site, password_file, tmp)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _subtree(directory: Directory, kind: str) -> Subtree:
    suffix = AD_SUFFIX if kind == "active_directory" else OPENLDAP_SUFFIX
    base = f"ou=t{next(_subtrees)},{suffix}"
    tree = Subtree(directory, suffix, base, kind)
    tree.add([], [], with_base=True)
    return tree


@pytest.fixture
def ad_tree(slapd_directory: Directory) -> Subtree:
    """An empty AD-like subtree of this test's own."""
    return _subtree(slapd_directory, "active_directory")


@pytest.fixture
def ol_tree(slapd_directory: Directory) -> Subtree:
    """An empty OpenLDAP-style subtree of this test's own."""
    return _subtree(slapd_directory, "openldap")


@pytest.fixture
def store(db: Database) -> SqlUserStore:
    """The sync's store over the test database (each backend in turn)."""
    return SqlUserStore(db)
