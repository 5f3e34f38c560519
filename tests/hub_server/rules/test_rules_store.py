"""Job rules kept in the hub's database, on both backends: the admins' edits, the order, the
version every replica checks, and the rules the [print] settings become once."""

from __future__ import annotations

import json
import logging

import pytest

from hub_server.clock import FakeClock
from hub_server.config import PrintConfig
from hub_server.domain.rules_store import JobRules, rules_from_settings
from hub_server.domain.store import Store
from hub_server.errors import InvalidRequest, NotFound
from hub_server.rules import Actions, Conditions, JobFacts, Rule
from hub_server.storage import Database

LONG = json.dumps({"name": "long", "conditions": {"pages_min": 61}, "actions": {"force_duplex": True}})
EXE = json.dumps(
    {
        "name": "exe",
        "conditions": {"name_pattern": r"\.exe$"},
        "actions": {"delete": True, "delete_reason": "no"},
    }
)
STUDENTS = json.dumps(
    {"name": "students", "conditions": {"groups": ["students"]}, "actions": {"copies_max": 1}}
)


def job(**changes: object) -> JobFacts:
    base: dict[str, object] = {
        "pages": 70,
        "copies": 3,
        "color_pages": 0,
        "size_bytes": 1,
        "job_name": "setup.exe",
        "user": "ann",
        "groups": frozenset({"students"}),
    }
    return JobFacts(**(base | changes))  # type: ignore[arg-type]


def names(rules: JobRules) -> list[tuple[int, str]]:
    return [(stored.position, stored.rule.name) for stored in rules.in_order()]


def version(db: Database) -> int:
    return int(db.read(lambda tx: tx.scalar("SELECT version FROM job_rules_state")))


async def test_add_move_remove_keep_one_order(db: Database) -> None:
    rules = JobRules(Store(db), FakeClock(), 1)
    start = version(db)
    await rules.add(LONG)
    await rules.add(STUDENTS)
    assert (await rules.add(EXE, position=1)).position == 1
    assert names(rules) == [(1, "exe"), (2, "long"), (3, "students")]
    assert (await rules.move("exe", 0)).position == 3
    assert names(rules) == [(1, "long"), (2, "students"), (3, "exe")]
    await rules.move("students", 1)
    await rules.remove("long")
    assert names(rules) == [(1, "students"), (2, "exe")]
    assert version(db) == start + 6  # every change raised it once
    with pytest.raises(InvalidRequest, match="exists"):
        await rules.add(EXE)
    with pytest.raises(NotFound):
        await rules.remove("long")
    with pytest.raises(NotFound):
        await rules.move("long", 1)
    with pytest.raises(InvalidRequest, match="position"):
        await rules.add(LONG, position=-1)
    assert names(rules) == [(1, "students"), (2, "exe")]
    assert version(db) == start + 6  # refused changes change nothing


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "JSON object"),
        ('{"name": "x", "actions": {}}', "at least one action"),
        ('{"name": "x", "actions": {"delete": true}}', "delete_reason"),
        (
            '{"name": "x", "actions": {"hold": true}, "conditions": {"name_pattern": "("}}',
            "regular expression",
        ),
    ],
)
async def test_bad_rules_are_refused_and_nothing_is_stored(db: Database, text: str, message: str) -> None:
    rules = JobRules(Store(db), FakeClock(), 1)
    with pytest.raises(InvalidRequest, match=message):
        await rules.add(text)
    assert rules.in_order() == []


async def test_a_change_at_one_replica_is_seen_by_the_next_evaluation_at_another(db: Database) -> None:
    here, there = JobRules(Store(db), FakeClock(), 1), JobRules(Store(db), FakeClock(), 1)
    await here.add(STUDENTS)
    assert there.test(job())[0].copies == 1  # read (and cached) at this version
    await here.add(EXE, position=1)
    ruling = there.test(job())[0]
    assert (ruling.deleted, ruling.fired, ruling.reason) == (True, ("exe",), "no")
    await here.remove("exe")
    assert there.test(job())[0].deleted is False


async def test_print_settings_become_rules_once(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    policy = PrintConfig(force_duplex_over_pages=60, mono_over_color_pages=5, refuse_name_pattern=r"\.exe$")
    rules = JobRules(Store(db), FakeClock(), 1)
    with caplog.at_level(logging.INFO, logger="hub_server.domain.rules_store"):
        assert rules.seed_from(policy) == rules_from_settings(policy)
    assert "3 rules created from [print] settings" in caplog.text
    assert names(rules) == [
        (1, "refused job names"),
        (2, "duplex over 60 pages"),
        (3, "mono over 5 colour pages"),
    ]
    assert rules.seed_from(policy) == []  # the next start
    for stored in rules.in_order():
        await rules.remove(stored.rule.name)
    assert rules.seed_from(policy) == []  # removed by an admin: not created again
    assert rules.in_order() == []


async def test_no_settings_seed_nothing_and_leave_seeding_for_later(db: Database) -> None:
    rules = JobRules(Store(db), FakeClock(), 1)
    assert rules.seed_from(PrintConfig()) == []
    assert rules.seed_from(PrintConfig(force_duplex_over_pages=2)) == [
        Rule(
            "duplex over 2 pages",
            Conditions(pages_min=3),
            Actions(force_duplex=True),
            "more than 2 pages: printed duplex",
        )
    ]


async def test_settings_seed_nothing_over_rules_an_admin_made(db: Database) -> None:
    rules = JobRules(Store(db), FakeClock(), 1)
    await rules.add(LONG)
    assert rules.seed_from(PrintConfig(force_duplex_over_pages=2)) == []
    assert names(rules) == [(1, "long")]


def test_a_setting_no_rule_can_hold_is_named() -> None:
    with pytest.raises(ValueError, match=r"\[print\] settings cannot become job rules: name_pattern"):
        rules_from_settings(PrintConfig(refuse_name_pattern="x" * 201))


def test_settings_map_to_equivalent_rules() -> None:
    assert rules_from_settings(PrintConfig()) == []
    refuse, duplex, mono = rules_from_settings(
        PrintConfig(force_duplex_over_pages=60, mono_over_color_pages=5, refuse_name_pattern="secret")
    )
    assert refuse.conditions.matches(job(job_name="Top SECRET")) and refuse.actions.delete
    assert not duplex.conditions.matches(job(pages=60)) and duplex.conditions.matches(job(pages=61))
    assert not mono.conditions.matches(job(color_pages=5)) and mono.conditions.matches(job(color_pages=6))
    assert (duplex.actions.force_duplex, mono.actions.force_mono) == (True, True)
