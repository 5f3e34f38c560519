"""Full syncs of the generated sites (2,000 users, paged) into both storage backends."""

from __future__ import annotations

from card_numbers import ConversionChain
from hub_server.dirsync.config import DirectoryConfig
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain.dirsync_store import SqlUserStore
from hub_server.storage import Database
from tests.hub_server.dirsync.conftest import DEEP_CHAIN, SITE_USERS, Directory, site_card


def _sync(
    directory: Directory, store: SqlUserStore, kind: str = "active_directory", **overrides: object
) -> DirectorySync:
    config = DirectoryConfig(sources=(directory.source(kind, **overrides),))
    return DirectorySync(config, store, ConversionChain.parse)


def _user(db: Database, username: str) -> dict:
    row = db.read(
        lambda tx: tx.one(
            """SELECT u.id, u.username, u.full_name, u.email, u.active, g.name AS department
               FROM users u LEFT JOIN user_groups g ON g.id = u.department_id WHERE u.username = :u""",
            {"u": username},
        )
    )
    assert row is not None, username
    groups = db.read(
        lambda tx: tx.execute(
            "SELECT g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id"
            " WHERE m.user_id = :u ORDER BY g.name",
            {"u": row["id"]},
        )
    )
    cards = db.read(
        lambda tx: tx.execute("SELECT number FROM cards WHERE user_id = :u ORDER BY number", {"u": row["id"]})
    )
    return {
        **dict(row),
        "groups": [g["name"] for g in groups],
        "cards": [c["number"] for c in cards],
    }


def test_active_directory_site_syncs_every_user_with_nested_groups_and_reader_card_numbers(
    slapd_directory: Directory, db: Database, store: SqlUserStore
) -> None:
    sync = _sync(slapd_directory, store)
    result = sync.sync("ad")
    assert result.outcome == "applied"
    assert result.counts["create"] == SITE_USERS
    assert result.counts["problem"] == 0
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM users")) == SITE_USERS
    assert (
        db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM directory_links WHERE source = 'ad'"))
        == SITE_USERS
    )
    # u0003 is in g3, which is in all-staff, which is in faculty
    assert _user(db, "u0003") == {
        "id": _user(db, "u0003")["id"],
        "username": "u0003",
        "full_name": "User 3",
        "email": "u0003@example.test",
        "active": 1,
        "department": "Dept 3",
        "groups": ["all-staff", "faculty", "g3"],
        "cards": [site_card(3)],
    }
    # the badge stored as decimal matches what a reader sends: 3000000003 -> B2D05E03
    assert site_card(3) == "B2D05E03"
    # disabled in AD (userAccountControl bit 2): created, but not active
    assert _user(db, "u0049")["active"] == 0
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM users WHERE active = 0")) == SITE_USERS // 50
    # the deep chain d1 < d2 < ... < d12 is followed 8 levels above d1, and said so
    assert _user(db, "u0000")["groups"] == sorted(
        ["g0", "all-staff", "faculty", *(f"d{i}" for i in range(1, 10))]
    )
    assert any(
        "max_group_depth=8" in change.detail for change in result.changes if change.action == "warning"
    )
    assert DEEP_CHAIN > 9
    # the cycle c1 <-> c2 is harmless
    assert _user(db, "u0001")["groups"] == ["all-staff", "c1", "c2", "faculty", "g1"]
    # every user has a prepaid account named after them
    assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'prepaid'")) == SITE_USERS

    again = sync.sync("ad")
    assert again.outcome == "applied"
    assert [c for c in again.changes if c.action not in ("warning",)] == []
    assert again.plan is not None and again.plan.users == []


def test_openldap_site_with_group_objects_posix_groups_and_entry_uuid(
    slapd_directory: Directory, db: Database, store: SqlUserStore
) -> None:
    sync = _sync(slapd_directory, store, "openldap")
    result = sync.sync("ol")
    assert result.counts["create"] == SITE_USERS
    assert result.plan is not None
    # the stable id is slapd's entryUUID
    stable = db.read(
        lambda tx: tx.scalar(
            "SELECT stable_id FROM directory_links WHERE dn = 'uid=u0100,ou=people,dc=openldap,dc=test'"
        )
    )
    assert len(stable) == 36 and stable.count("-") == 4
    user = _user(db, "u0100")
    assert user["groups"] == ["g10", "printers-posix"]  # groupOfNames member + posixGroup memberUid
    assert _user(db, "u0049")["active"] == 0  # employeeType: disabled
    assert _user(db, "u0007")["department"] == "Dept 0"
