"""Sync rules on small trees of their own: renames, disables, card moves, conflicts, the guard,
dry runs, and bad input from the directory, on both storage backends."""

from __future__ import annotations

import base64

import pytest

from card_numbers import ConversionChain
from hub_server.dirsync.config import DirectoryConfig
from hub_server.dirsync.errors import SyncRefused
from hub_server.dirsync.sync import DirectorySync
from hub_server.domain import account_names, cards, ledger
from hub_server.domain.dirsync_store import SqlUserStore
from hub_server.domain.users import UserRecord, create_user
from hub_server.storage import Database
from tests.hub_server.dirsync.conftest import Subtree
from tests.slapd import SiteGroup, SiteUser, ad_group_dn, ad_user_dn

NOW_US = 1_700_000_000_000_000


def _sync(tree: Subtree, store: SqlUserStore, percent: float = 10.0, **overrides: object) -> DirectorySync:
    config = DirectoryConfig(sources=(tree.source(**overrides),), max_disable_percent=percent)
    return DirectorySync(config, store, ConversionChain.parse)


def _users(db: Database) -> dict[str, tuple[int, int, list[str]]]:
    """username -> (id, active, cards)."""
    rows = db.read(lambda tx: tx.execute("SELECT id, username, active FROM users ORDER BY username"))
    cards = db.read(lambda tx: tx.execute("SELECT user_id, number FROM cards ORDER BY number"))
    return {
        r["username"]: (
            int(r["id"]),
            int(r["active"]),
            [c["number"] for c in cards if c["user_id"] == r["id"]],
        )
        for r in rows
    }


def _people(*names: str, badge_base: int = 100) -> list[SiteUser]:
    return [
        SiteUser(name, full_name=f"{name.title()} Person", badge=str(badge_base + i), groups=["staff"])
        for i, name in enumerate(names)
    ]


def test_a_renamed_user_keeps_account_balance_and_history(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    ann, bob = _people("ann", "bob")
    ad_tree.add([ann, bob], [SiteGroup("staff")])
    sync = _sync(ad_tree, store)
    assert sync.sync("ad").counts["create"] == 2
    ann_id = _users(db)["ann"][0]

    def top_up(tx):
        claim = ledger.open_transaction(tx, kind="adjustment", recorded_us=NOW_US, user_id=ann_id)
        account = ledger.account_id(tx, account_names.prepaid("ann"))
        ledger.post(
            tx,
            claim.transaction_id,
            [
                ledger.Posting(account, 500),
                ledger.Posting(ledger.create_account(tx, account_names.ADJUSTMENTS, "system", NOW_US), -500),
            ],
        )

    db.write_sync(top_up)
    ad_tree.modify(
        f"dn: {ad_user_dn(ad_tree.base, 'ann')}\nchangetype: modify\n"
        "replace: sAMAccountName\nsAMAccountName: anne\n"
    )
    result = sync.sync("ad")
    assert [str(c) for c in result.changes] == ["rename    ann: to anne"]
    users = _users(db)
    assert users["anne"][0] == ann_id and "ann" not in users
    balance = db.read(lambda tx: ledger.balance(tx, ledger.account_id(tx, account_names.prepaid("anne"))))
    assert balance == 500
    assert db.read(ledger.check_ledger) == []


def test_usernames_are_one_name_whatever_their_case(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    # the hub's usernames are unique regardless of case: a directory "Eve" is the local "eve"'s name
    local_id = db.write_sync(lambda tx: create_user(tx, UserRecord(username="eve"), NOW_US))
    ad_tree.add([SiteUser("Eve", full_name="Other Eve", badge="1"), *_people("ann")], [SiteGroup("staff")])
    sync = _sync(ad_tree, store)
    result = sync.sync("ad")
    conflicts = [str(c) for c in result.changes if c.action == "conflict"]
    assert len(conflicts) == 1 and conflicts[0].startswith("conflict  Eve: ")
    assert conflicts[0].endswith("the username belongs to hub user 'eve' (not from a directory); not created")
    assert sorted(_users(db)) == ["ann", "eve"] and _users(db)["eve"][0] == local_id
    # a directory user whose name changes only in case is renamed: same account, same books
    ann_id = _users(db)["ann"][0]
    ad_tree.modify(
        f"dn: {ad_user_dn(ad_tree.base, 'ann')}\nchangetype: modify\n"
        "replace: sAMAccountName\nsAMAccountName: ANN\n"
    )
    result = sync.sync("ad")
    assert [str(c) for c in result.changes if c.action != "conflict"] == ["rename    ann: to ANN"]
    assert _users(db)["ANN"][0] == ann_id and "ann" not in _users(db)
    assert store.link_of("ann") is not None and store.link_of("ann") == store.link_of("ANN")
    assert db.read(ledger.check_ledger) == []


def test_gone_users_are_disabled_never_deleted_and_come_back(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    people = _people(*(f"p{i}" for i in range(20)))
    ad_tree.add(people, [SiteGroup("staff")])
    sync = _sync(ad_tree, store)
    sync.sync("ad")
    ad_tree.directory.server.delete(ad_tree.suffix, ad_user_dn(ad_tree.base, "p3"))
    result = sync.sync("ad")
    assert [str(c) for c in result.changes] == ["disable   p3: gone from the directory"]
    users = _users(db)
    assert len(users) == 20 and users["p3"][1] == 0
    assert users["p3"][2] == ["00000067"]  # keeps its card (103): disabled, not stripped
    people[3].groups = []
    ad_tree.add([people[3]], [])
    p3 = ad_user_dn(ad_tree.base, "p3")
    ad_tree.modify(
        f"dn: {ad_group_dn(ad_tree.base, 'staff')}\nchangetype: modify\nadd: member\nmember: {p3}\n"
    )
    back = sync.sync("ad")
    assert [str(c) for c in back.changes] == ["enable    p3: enabled in the directory"]
    assert _users(db)["p3"][0] == users["p3"][0]  # same account, stable id unchanged


def test_a_filter_that_finds_nobody_is_refused_without_force(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    ad_tree.add(_people("ann", "bob", "cy"), [SiteGroup("staff")])
    _sync(ad_tree, store).sync("ad")
    before = _users(db)
    empty = _sync(ad_tree, store, user_filter="(&(objectClass=user)(sAMAccountName=nobody-here))")
    with pytest.raises(SyncRefused, match=r"would disable all 3 active directory users .*--force"):
        empty.sync("ad")
    assert _users(db) == before
    assert store.runs("ad", 1)[0].outcome == "refused"
    forced = empty.sync("ad", force=True)
    assert forced.counts["disable"] == 3
    assert {u[1] for u in _users(db).values()} == {0}
    assert len(_users(db)) == 3


def test_dry_run_prints_the_exact_diff_and_changes_nothing(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    ann, bob = _people("ann", "bob")
    ad_tree.add([ann, bob], [SiteGroup("staff")])
    sync = _sync(ad_tree, store)
    dry = sync.sync("ad", dry_run=True)
    assert dry.outcome == "dry-run"
    assert [str(c) for c in dry.changes] == [
        "create    ann: Ann Person; groups staff",
        "create    bob: Bob Person; groups staff",
    ]
    assert _users(db) == {}
    sync.sync("ad")
    ad_tree.modify(
        f"dn: {ad_user_dn(ad_tree.base, 'bob')}\nchangetype: modify\nreplace: mail\nmail: bob@new.test\n"
        f"-\nreplace: employeeID\nemployeeID: 4096\n\n"
        f"dn: {ad_group_dn(ad_tree.base, 'staff')}\nchangetype: modify\ndelete: member\n"
        f"member: {ad_user_dn(ad_tree.base, 'ann')}\n"
    )
    before = _users(db)
    dry = sync.sync("ad", dry_run=True)
    assert [str(c) for c in dry.changes] == [
        "update    ann: groups -staff",
        "update    bob: email '' -> 'bob@new.test'",
        "cards     bob: +00001000 -00000065",
    ]
    assert _users(db) == before
    applied = sync.sync("ad")
    assert [str(c) for c in applied.changes] == [str(c) for c in dry.changes]
    assert _users(db)["bob"][2] == ["00001000"]


def test_cards_move_between_directory_users_and_conflicts_are_reported_not_guessed(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    ann, bob, cy, dee = _people("ann", "bob", "cy", "dee")
    ad_tree.add([ann, bob, cy, dee], [SiteGroup("staff")])
    # a local user the directory does not know, holding a card and a username
    local_id = db.write_sync(lambda tx: create_user(tx, UserRecord(username="eve"), NOW_US))
    db.write_sync(lambda tx: cards.add_card(tx, local_id, "0000ABCD", "by hand", NOW_US))
    sync = _sync(ad_tree, store)
    sync.sync("ad")
    ad_tree.add([SiteUser("eve", full_name="Other Eve", badge="43981")], [])  # 43981 = ABCD
    ad_tree.modify(
        # ann's badge goes to bob; cy and dee are both given 777
        f"dn: {ad_user_dn(ad_tree.base, 'ann')}\nchangetype: modify\ndelete: employeeID\n\n"
        f"dn: {ad_user_dn(ad_tree.base, 'bob')}\nchangetype: modify\nreplace: employeeID\nemployeeID: 100\n\n"
        f"dn: {ad_user_dn(ad_tree.base, 'cy')}\nchangetype: modify\nreplace: employeeID\nemployeeID: 777\n\n"
        f"dn: {ad_user_dn(ad_tree.base, 'dee')}\nchangetype: modify\nreplace: employeeID\nemployeeID: 777\n"
    )
    result = sync.sync("ad")
    lines = [str(c) for c in result.changes]
    assert "card-move bob: card 00000064 from ann" in lines
    assert "conflict  cy, dee: card 00000309 is given to 2 directory users; left as it is" in lines
    assert any(
        line.startswith("conflict  eve: ") and "hub user 'eve' (not from a directory)" in line
        for line in lines
    )
    users = _users(db)
    assert users["bob"][2] == ["00000064"] and users["ann"][2] == []
    # their old badges are no longer in the directory; the disputed 777 goes to neither
    assert users["cy"][2] == [] and users["dee"][2] == []
    assert users["eve"] == (local_id, 1, ["0000ABCD"])  # the local user is untouched
    assert result.counts["conflict"] == 2


def test_odd_encodings_oversized_values_and_duplicates_are_reported_and_skipped(
    ad_tree: Subtree, db: Database, store: SqlUserStore
) -> None:
    good = _people("good")
    ad_tree.add(good, [SiteGroup("staff")])
    base = ad_tree.base
    latin1 = base64.b64encode("Jos\xe9".encode("latin-1")).decode()
    ad_tree.directory.server.add(
        ad_tree.suffix,
        "".join(
            f"dn: cn={cn},ou=people,{base}\nobjectClass: user\ncn: {cn}\nsn: x\nsAMAccountName: {sam}\n"
            f"objectGUID:: {base64.b64encode(bytes([i] * 16)).decode()}\n{extra}\n"
            for i, (cn, sam, extra) in enumerate(
                [
                    ("latin", "jose", f"extensionAttribute1:: {latin1}\n"),
                    ("huge", "huge", f"extensionAttribute1: {'x' * 5000}\n"),
                    ("dup1", "twin", ""),
                    ("dup2", "twin", ""),
                    ("badcard", "badcard", "employeeID: 12AB\n"),
                    ("badname", "bad name!", ""),
                ],
                start=1,
            )
        ),
    )
    result = _sync(ad_tree, store, attributes={"full_name": "extensionAttribute1"}).sync("ad")
    problems = sorted(c.detail for c in result.changes if c.action == "problem")
    assert len(problems) == 6
    assert any("extensionAttribute1 is not UTF-8 (byte 3: b'\\xe9')" in p for p in problems)
    assert any("extensionAttribute1 is 5000 characters long (at most 256)" in p for p in problems)
    assert sum("username 'twin' is used by 2 entries" in p for p in problems) == 2
    assert any(
        "employeeID '12AB' is no card number" in p and "expected decimal digits" in p for p in problems
    )
    assert any("'bad name!' is not a valid hub username" in p for p in problems)
    assert list(_users(db)) == ["good"]
