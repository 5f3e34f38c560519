"""Connecting to the real slapd: TLS both ways, failover, and each way it can go wrong, with the message."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from card_numbers import ConversionChain
from hub_server.dirsync.config import DirectoryConfig
from hub_server.dirsync.connection import connect_service
from hub_server.dirsync.errors import (
    DirectoryBindRefused,
    DirectoryConfigError,
    DirectoryTlsError,
    DirectoryUnavailable,
)
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain.dirsync_store import SqlUserStore
from tests.hub_server.dirsync.conftest import SITE_USERS, Directory
from tests.slapd import make_other_ca


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe goes


def test_ldaps_and_start_tls_both_verify_the_server(slapd_directory: Directory) -> None:
    for source in (
        slapd_directory.source(),
        slapd_directory.source(servers=[slapd_directory.server.ldap_url], start_tls=True),
    ):
        connection = connect_service(source)
        try:
            assert connection.info.paged_results and not connection.info.active_directory
            users = list(connection.search(source.user_base_dns[0], source.user_filter, ["sAMAccountName"]))
            assert len(users) == SITE_USERS  # four pages: the server serves 500 without paging
        finally:
            connection.close()


def test_plain_ldap_is_refused_unless_allowed(slapd_directory: Directory) -> None:
    with pytest.raises(DirectoryConfigError, match="would send passwords in clear"):
        slapd_directory.source(servers=[slapd_directory.server.ldap_url])
    allowed = slapd_directory.source(servers=[slapd_directory.server.ldap_url], allow_plaintext=True)
    connect_service(allowed).close()


def test_the_next_server_is_used_when_the_first_is_unreachable(slapd_directory: Directory) -> None:
    dead = f"ldaps://127.0.0.1:{_closed_port()}"
    connection = connect_service(slapd_directory.source(servers=[dead, slapd_directory.server.ldaps_url]))
    assert connection.url == slapd_directory.server.ldaps_url
    connection.close()


def test_no_reachable_server_names_each_one(slapd_directory: Directory) -> None:
    first, second = (f"ldaps://127.0.0.1:{_closed_port()}" for _ in range(2))
    with pytest.raises(
        DirectoryUnavailable,
        match=r"no server could be used: ldaps://127.*Can't contact LDAP server.*; ldaps://127",
    ) as caught:
        connect_service(slapd_directory.source(servers=[first, second], connect_timeout_s=1.0))
    assert not isinstance(caught.value, DirectoryTlsError)


def test_a_wrong_bind_password_is_refused_once_and_never_logged(
    slapd_directory: Directory, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.secret"
    wrong.write_text("not-the-password")
    wrong.chmod(0o600)
    second = slapd_directory.server.ldap_url
    source = slapd_directory.source(
        servers=[slapd_directory.server.ldaps_url, second], start_tls=True, bind_password_file=str(wrong)
    )
    with pytest.raises(DirectoryBindRefused, match="invalid credentials") as caught:
        connect_service(source)
    assert "not-the-password" not in str(caught.value)
    assert second not in str(caught.value)  # not retried on the next server


def test_a_password_file_others_can_read_is_refused(slapd_directory: Directory, tmp_path: Path) -> None:
    loose = tmp_path / "loose.secret"
    loose.write_text("x")
    loose.chmod(0o644)
    with pytest.raises(DirectoryConfigError, match="readable by other users"):
        connect_service(slapd_directory.source(bind_password_file=str(loose)))


def test_a_wrong_ca_fails_the_handshake_with_a_tls_message(
    slapd_directory: Directory, tmp_path: Path
) -> None:
    other = make_other_ca(tmp_path / "other-ca.pem")
    for source in (
        slapd_directory.source(ca_file=str(other)),
        slapd_directory.source(ca_file=str(other), servers=[slapd_directory.server.ldap_url], start_tls=True),
    ):
        with pytest.raises(DirectoryTlsError, match=r"TLS failed: .*signed by a CA in .*other-ca\.pem"):
            connect_service(source)


def test_an_expired_ca_is_refused_before_connecting(slapd_directory: Directory) -> None:
    expired = slapd_directory.server.tls.ca_file.parent / "expired-ca.pem"
    with pytest.raises(
        DirectoryTlsError, match=r"CA certificate CN=printgate test directory CA expired on \d{4}-\d\d-\d\d"
    ):
        connect_service(slapd_directory.source(ca_file=str(expired)))


def test_a_sync_that_cannot_connect_is_recorded_and_changes_nothing(
    slapd_directory: Directory, store: SqlUserStore
) -> None:
    source = slapd_directory.source(servers=[f"ldaps://127.0.0.1:{_closed_port()}"], connect_timeout_s=1.0)
    sync = DirectorySync(DirectoryConfig(sources=(source,)), store, ConversionChain.parse)
    with pytest.raises(DirectoryUnavailable):
        sync.sync("ad")
    run = store.runs("ad", 1)[0]
    assert run.outcome == "failed" and "no server could be used" in run.message
    assert store.linked_counts("ad") == (0, 0)


def test_a_missing_base_dn_and_a_rejected_filter_are_search_errors(
    slapd_directory: Directory, store: SqlUserStore
) -> None:
    for overrides, message in (
        (
            {"user_base_dns": ["ou=nowhere,dc=ad,dc=test"]},
            "base DN 'ou=nowhere,dc=ad,dc=test' does not exist",
        ),
        ({"user_filter": "(&(objectClass=user)(cn=*)"}, "rejects the filter"),
    ):
        sync = DirectorySync(
            DirectoryConfig(sources=(slapd_directory.source(**overrides),)), store, ConversionChain.parse
        )
        with pytest.raises(Exception, match=message):
            sync.sync("ad")
