"""Schema migrations per component, on every backend: recorded by (component, number), a new
component added beside the others, a database newer than the code, a failing migration, the
series of databases made before components, and two processes opening one database at once."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from hub_server.storage import Component, Database, SchemaError, open_database

CORE = Component("core", [["CREATE TABLE people (id {id}, name TEXT NOT NULL)"]])
CORE_2 = Component("core", [*CORE.migrations, ["ALTER TABLE people ADD COLUMN email TEXT"]])
PKI = Component(
    "pki",
    [["CREATE TABLE certificates (id {id}, person_id BIGINT REFERENCES people(id), der {blob} NOT NULL)"]],
)
FLEET = Component("fleet", [["CREATE TABLE devices (id TEXT PRIMARY KEY)"]])


def versions(db: Database) -> list[tuple[str, int]]:
    rows = db.read(
        lambda tx: tx.execute("SELECT component, number FROM schema_versions ORDER BY component, number")
    )
    return [(str(row["component"]), int(row["number"])) for row in rows]


def tables(db: Database) -> set[str]:
    """Every table of the database (both engines' catalogues)."""
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'table'"
        if db.dialect == "sqlite"
        else "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    return {str(row["name"]) for row in db.read(lambda tx: tx.execute(sql))}


def reopen(url: str, components: Sequence[Component]) -> Database:
    return open_database(url, components)


def test_each_component_records_its_own_numbers(database_url: str) -> None:
    db = reopen(database_url, [CORE, PKI])
    try:
        assert versions(db) == [("core", 1), ("pki", 1)]
        assert {"people", "certificates", "schema_versions"} <= tables(db)
        db.write_sync(lambda tx: tx.execute("INSERT INTO people (name) VALUES ('alice')"))
        db.write_sync(
            lambda tx: tx.execute("INSERT INTO certificates (person_id, der) VALUES (1, :d)", {"d": b"\x30"})
        )
    finally:
        db.close()
    again = reopen(database_url, [CORE, PKI])  # nothing new to apply: nothing changes
    try:
        assert versions(again) == [("core", 1), ("pki", 1)]
        assert again.read(lambda tx: tx.scalar("SELECT der FROM certificates")) == b"\x30"
    finally:
        again.close()


def test_a_new_component_adds_its_tables_beside_the_others(database_url: str) -> None:
    reopen(database_url, [CORE]).close()
    db = reopen(database_url, [CORE_2, FLEET, PKI])  # a core migration and two new components at once
    try:
        assert versions(db) == [("core", 1), ("core", 2), ("fleet", 1), ("pki", 1)]
        db.write_sync(lambda tx: tx.execute("INSERT INTO people (name, email) VALUES ('a', 'a@example.org')"))
        assert db.read(lambda tx: tx.scalar("SELECT email FROM people")) == "a@example.org"
    finally:
        db.close()


def test_components_this_code_does_not_run_are_left_alone(database_url: str) -> None:
    reopen(database_url, [CORE, PKI]).close()
    db = reopen(database_url, [CORE])
    try:
        assert versions(db) == [("core", 1), ("pki", 1)]
        assert "certificates" in tables(db)
    finally:
        db.close()


def test_a_database_newer_than_the_code_refuses_to_open(database_url: str) -> None:
    reopen(database_url, [CORE_2]).close()
    with pytest.raises(SchemaError, match="'core' of the database is at migration 2, newer than this hub"):
        reopen(database_url, [CORE, PKI])
    db = reopen(database_url, [CORE_2])
    try:
        assert versions(db) == [("core", 1), ("core", 2)]  # the refused open applied nothing (no pki)
        assert "certificates" not in tables(db)
    finally:
        db.close()


def test_a_failing_migration_leaves_nothing_behind(database_url: str) -> None:
    reopen(database_url, [CORE]).close()
    broken = Component(
        "pki", [["CREATE TABLE certificates (id {id})", "CREATE TABLE oops (no type at all,)"]]
    )
    with pytest.raises(Exception, match=r"(?i)syntax"):
        reopen(database_url, [CORE_2, broken])
    db = reopen(database_url, [CORE])
    try:
        # One transaction: core 2, which ran first, and pki's first statement are gone too.
        assert versions(db) == [("core", 1)]
        assert not {"certificates", "oops"} & tables(db)
        assert db.read(lambda tx: tx.execute("SELECT * FROM people")) == []
    finally:
        db.close()


def test_the_series_of_databases_before_components_becomes_the_cores(database_url: str) -> None:
    db = reopen(database_url, [])
    try:  # what a hub before components left: its tables and schema_migrations (version 1)
        db.write_sync(lambda tx: tx.execute("DROP TABLE schema_versions"))
        db.write_sync(
            lambda tx: tx.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        )
        db.write_sync(
            lambda tx: tx.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_us BIGINT)"
            )
        )
        db.write_sync(lambda tx: tx.execute("INSERT INTO schema_migrations VALUES (1, 1767225600000000)"))
        db.write_sync(lambda tx: tx.execute("INSERT INTO people (id, name) VALUES (1, 'alice')"))
    finally:
        db.close()
    migrated = reopen(database_url, [CORE_2, PKI])
    try:
        assert versions(migrated) == [("core", 1), ("core", 2), ("pki", 1)]
        applied = migrated.read(
            lambda tx: tx.scalar("SELECT applied_us FROM schema_versions WHERE number = 1")
        )
        assert applied == 1767225600000000  # the old record, kept
        assert "schema_migrations" not in tables(migrated)
        assert migrated.read(lambda tx: tx.scalar("SELECT name FROM people")) == "alice"
    finally:
        migrated.close()


def test_two_processes_opening_at_once_migrate_once(database_url: str) -> None:
    opened: list[Database] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(reopen(database_url, [CORE_2, FLEET, PKI]))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert len(opened) == 4
        assert versions(opened[0]) == [("core", 1), ("core", 2), ("fleet", 1), ("pki", 1)]
    finally:
        for db in opened:
            db.close()


def test_component_names_are_checked() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        Component("Bad-Name", [])


def test_a_component_named_twice_is_refused(database_url: str) -> None:
    with pytest.raises(ValueError, match="named twice"):
        reopen(database_url, [CORE, CORE_2])
