"""Configuration, roles, adoption, PINs, and a synced badge opening a session at a real hub."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from card_numbers import ConversionChain
from hub_server.dirsync.config import DirectoryConfig, load_directory_config, load_source
from hub_server.dirsync.errors import DirectoryConfigError
from hub_server.dirsync.reader import EntryError, in_chain_filter, nested_mode, stable_id
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain.dirsync_store import SqlUserStore
from hub_server.domain.security import Hasher, pin_lookup_key
from hub_server.domain.users import RoleRecord, UserRecord, create_user, upsert_role
from hub_server.storage import Database
from tests.hub_server.conftest import HubClients
from tests.hub_server.dirsync.conftest import Directory, Subtree
from tests.slapd import SiteGroup, SiteUser

NOW_US = 1_700_000_000_000_000
MINIMAL: dict[str, Any] = {
    "name": "campus",
    "kind": "active_directory",
    "servers": ["ldaps://dc1.example.test"],
    "bind_dn": "cn=svc",
    "bind_password_file": "/etc/secret",
    "user_base_dns": ["ou=people,dc=example,dc=test"],
}


def test_config_defaults_come_from_the_kind_and_are_checked() -> None:
    config = load_directory_config({"sync_interval_s": 600, "sources": [MINIMAL]})
    source = config.source("campus")
    assert (source.attributes.id, source.attributes.username, source.membership) == (
        "objectGUID",
        "sAMAccountName",
        "memberOf",
    )
    assert source.group_bases == ("ou=people,dc=example,dc=test",)
    assert load_directory_config(None) == DirectoryConfig()
    for bad, message in (
        ({**MINIMAL, "kind": "novell"}, "kind must be one of"),
        ({**MINIMAL, "servers": ["http://x"]}, "must be an ldap:// or ldaps:// URL"),
        ({**MINIMAL, "page_size": 0}, "page_size must be"),
        ({**MINIMAL, "page_size": True}, "wrong type"),
        ({**MINIMAL, "surprise": 1}, "unknown key"),
        ({**MINIMAL, "attributes": {"disabled_when": "sometimes"}}, "disabled_when"),
        ({**MINIMAL, "user_filter": "objectClass=user"}, "must be parenthesised"),
        ({k: v for k, v in MINIMAL.items() if k != "bind_dn"}, "bind_dn is required"),
    ):
        with pytest.raises(DirectoryConfigError, match=message):
            load_directory_config({"sources": [bad]})
    with pytest.raises(DirectoryConfigError, match="names must be unique"):
        load_directory_config({"sources": [MINIMAL, MINIMAL]})
    with pytest.raises(DirectoryConfigError, match="password_outage"):
        load_directory_config({"password_outage": "guess", "sources": []})


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.lists(st.text(max_size=5))),
        max_size=6,
    )
)
def test_any_config_table_loads_or_fails_with_a_config_error(extra: dict[str, Any]) -> None:
    values = {**MINIMAL, **extra}
    try:
        source = load_source(values, 0)
    except DirectoryConfigError as error:
        assert "[[directory.sources]] #1" in str(error)
    else:
        assert source.name == values["name"] and source.servers == tuple(values["servers"])


@given(st.binary(max_size=40))
def test_stable_id_decoding_accepts_16_byte_guids_and_refuses_the_rest_clearly(raw: bytes) -> None:
    attributes = load_source(MINIMAL, 0).attributes
    try:
        text = stable_id(attributes, {"objectGUID": [raw]})
    except EntryError as error:
        assert len(raw) != 16 and "a GUID is 16" in str(error)
    else:
        assert len(raw) == 16 and len(text) == 36


def test_guid_spelling_is_the_one_ad_shows() -> None:
    import uuid

    guid = uuid.UUID("8e3b7c5a-1f2d-4e6b-9a0c-1234567890ab")
    attributes = load_source(MINIMAL, 0).attributes
    assert stable_id(attributes, {"objectGUID": [guid.bytes_le]}) == str(guid)


def test_in_chain_is_asked_of_active_directory_only(slapd_directory: Directory) -> None:
    assert in_chain_filter("(objectClass=user)", "cn=a(b),dc=x") == (
        "(&(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=cn=a\\28b\\29,dc=x))"
    )
    from hub_server.dirsync.connection import connect_service

    source = slapd_directory.source(nested_groups="in_chain")
    connection = connect_service(source)
    try:
        with pytest.raises(DirectoryConfigError, match="needs Active Directory"):
            nested_mode(source, connection)
        assert nested_mode(slapd_directory.source(), connection) == "computed"
    finally:
        connection.close()


def _group_names(db: Database, username: str) -> list[str]:
    return [
        r["role_name"]
        for r in db.read(
            lambda tx: tx.execute(
                "SELECT role_name FROM user_roles r JOIN users u ON u.id = r.user_id"
                " WHERE u.username = :u ORDER BY 1",
                {"u": username},
            )
        )
    ]


def test_roles_follow_role_map_and_local_users_are_adopted_only_when_asked(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    db.write_sync(
        lambda tx: upsert_role(tx, RoleRecord("admin", False, ("print", "copy", "scan", "fax"), True, False))
    )
    local = db.write_sync(lambda tx: create_user(tx, UserRecord(username="ann", full_name="Old Ann"), NOW_US))
    ad_tree.add(
        [SiteUser("ann", full_name="Ann A", groups=["admins"]), SiteUser("bob", full_name="Bob B")],
        [SiteGroup("admins")],
    )
    role_map = {"admins": "admin"}
    refused = DirectorySync(
        DirectoryConfig(sources=(ad_tree.source(role_map=role_map),)), store, ConversionChain.parse
    ).sync("ad")
    assert [c.action for c in refused.changes] == ["conflict", "create"]
    adopting = ad_tree.source(role_map=role_map, adopt_local_users=True)
    result = DirectorySync(DirectoryConfig(sources=(adopting,)), store, ConversionChain.parse).sync("ad")
    assert [str(c) for c in result.changes] == [
        "adopt     ann: linked to cn=ann,ou=people," + ad_tree.base,
        "update    ann: full_name 'Old Ann' -> 'Ann A'; groups +admins; roles +admin",
    ]
    assert _group_names(db, "ann") == ["admin", "user"]
    assert (
        db.read(
            lambda tx: tx.scalar(
                "SELECT user_id FROM directory_links WHERE source = 'ad' AND dn LIKE 'cn=ann%'"
            )
        )
        == local
    )
    assert _group_names(db, "bob") == ["user"]


def test_pins_from_the_directory_are_hashed_once_and_unique(ad_tree: Subtree, db: Database) -> None:
    hasher, secret = Hasher(time_cost=1, memory_cost_kib=1024), b"s" * 32
    store = SqlUserStore(db, hasher.hash, lambda pin: pin_lookup_key(secret, pin))
    ad_tree.add([SiteUser("ann", badge="1"), SiteUser("bob", badge="2"), SiteUser("cy", badge="3")], [])
    ad_tree.modify(
        "".join(
            f"dn: cn={name},ou=people,{ad_tree.base}\nchangetype: modify\nreplace: extensionAttribute1\n"
            f"extensionAttribute1: {pin}\n\n"
            for name, pin in (("ann", "4711"), ("bob", "4711"), ("cy", "1234"))
        )
    )
    source = ad_tree.source(attributes={"pin": "extensionAttribute1"})
    result = DirectorySync(DirectoryConfig(sources=(source,)), store, ConversionChain.parse).sync("ad")
    assert [str(c) for c in result.changes if c.action == "conflict"] == [
        "conflict  bob: the directory's PIN is already another user's PIN; PIN not set"
    ]
    rows = {
        r["username"]: r
        for r in db.read(lambda tx: tx.execute("SELECT username, pin_hash, pin_lookup FROM users"))
    }
    assert rows["ann"]["pin_lookup"] == pin_lookup_key(secret, "4711") and hasher.verify(
        rows["ann"]["pin_hash"], "4711"
    )
    assert rows["bob"]["pin_hash"] is None
    assert rows["cy"]["pin_lookup"] == pin_lookup_key(secret, "1234")
    again = DirectorySync(DirectoryConfig(sources=(source,)), store, ConversionChain.parse).sync("ad")
    assert [c.action for c in again.changes] == ["conflict"]  # nothing re-hashed, bob still refused


async def test_a_badge_stored_as_decimal_opens_a_session_when_the_reader_sends_hex(
    ad_tree: Subtree, hub: HubClients
) -> None:
    ad_tree.add([SiteUser("ann", full_name="Ann A", badge="2490285352")], [])
    store = SqlUserStore(hub.running.db)
    source = ad_tree.source(card_conversion="dec2hex|lpad:8:0")
    sync = DirectorySync(DirectoryConfig(sources=(source,)), store, ConversionChain.parse)
    assert sync.sync("ad").counts["create"] == 1
    terminal = await hub.create_terminal("t1")
    reply = await terminal.tap("946EBD28")  # 2490285352 in hex, as a reader sends it
    assert reply.session.user.username == "ann"
    ad_tree.modify(
        f"dn: cn=ann,ou=people,{ad_tree.base}\nchangetype: modify\nreplace: userAccountControl\n"
        "userAccountControl: 514\n"
    )
    sync.sync("ad", force=True)
    with pytest.raises(grpc.aio.AioRpcError):
        await terminal.tap("946EBD28")  # disabled in the directory: the card no longer opens a session
