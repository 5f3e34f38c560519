"""The job rules' evaluator and their JSON form, by example and by property."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub_server.rules import (
    SOURCES,
    Actions,
    Conditions,
    JobFacts,
    Rule,
    RuleError,
    evaluate,
    rule_from_json,
)

NAMES = st.sampled_from(["ann", "bob", "students", "staff", "q1", "q2"])
COUNTS = st.integers(min_value=0, max_value=200)


def facts(**changes: Any) -> JobFacts:
    base: dict[str, Any] = {
        "pages": 10,
        "copies": 2,
        "color_pages": 3,
        "size_bytes": 50_000,
        "job_name": "Report.pdf",
        "user": "ann",
        "groups": frozenset({"students"}),
        "queue": "q1",
        "source": "ipp",
    }
    return JobFacts(**(base | changes))


jobs = st.builds(
    JobFacts,
    pages=COUNTS,
    copies=st.integers(min_value=1, max_value=50),
    color_pages=COUNTS,
    size_bytes=st.integers(min_value=0, max_value=10**9),
    job_name=st.text(max_size=30),
    user=NAMES,
    groups=st.frozensets(NAMES, max_size=3),
    queue=NAMES,
    source=st.sampled_from(SOURCES),
    application=st.text(max_size=10),
    duplex=st.booleans(),
    mono=st.booleans(),
)


@st.composite
def bounds(draw: st.DrawFn, what: str) -> dict[str, int]:
    low, high = draw(st.one_of(st.none(), COUNTS)), draw(st.one_of(st.none(), COUNTS))
    if low is not None and high is not None and low > high:
        low, high = high, low
    return {key: value for key, value in ((f"{what}_min", low), (f"{what}_max", high)) if value is not None}


conditions = st.builds(
    lambda pages, copies, color, users, groups, queues, sources, name: Conditions(
        **pages,
        **copies,
        **color,
        users=users,
        groups=groups,
        queues=queues,
        sources=sources,
        name_pattern=name,
    ),
    bounds("pages"),
    bounds("copies"),
    bounds("color_pages"),
    st.frozensets(NAMES, max_size=2),
    st.frozensets(NAMES, max_size=2),
    st.frozensets(NAMES, max_size=2),
    st.frozensets(st.sampled_from(SOURCES), max_size=2),
    st.sampled_from(["", "exe", r"\.exe$", "^rep"]),
)


@st.composite
def actions(draw: st.DrawFn) -> Actions:
    delete = draw(st.booleans())
    hold = False if delete else draw(st.booleans())
    values: dict[str, Any] = {
        "hold": hold,
        "delete": delete,
        "delete_reason": "not here" if delete else "",
        "force_duplex": draw(st.booleans()),
        "force_mono": draw(st.booleans()),
        "copies_max": draw(st.integers(min_value=0, max_value=5)),
        "printer_group": draw(st.sampled_from(["", "basement", "floor-2"])),
        "notify": draw(st.sampled_from(["", "look at this"])),
    }
    if not any(values.values()):
        values["hold"] = True
    return Actions(**values)


rules = st.builds(
    Rule,
    st.from_regex(r"[a-z][a-z0-9 ]{0,20}", fullmatch=True),
    conditions,
    actions(),
    st.sampled_from(["", "why"]),
)


def test_no_rules_change_nothing() -> None:
    job = facts(duplex=True)
    ruling = evaluate([], job)
    assert (ruling.deleted, ruling.duplex, ruling.mono, ruling.copies) == (False, True, False, 2)
    assert (ruling.printer_group, ruling.fired, ruling.reason, ruling.notices) == ("", (), "", ())


def test_duplex_over_sixty_pages_names_its_rule() -> None:
    long_jobs = Rule(
        "long jobs", Conditions(pages_min=61), Actions(force_duplex=True), note="over 60 pages: duplex"
    )
    assert evaluate([long_jobs], facts(pages=60)).duplex is False
    ruling = evaluate([long_jobs], facts(pages=61))
    assert (ruling.duplex, ruling.fired, ruling.reason) == (True, ("long jobs",), "over 60 pages: duplex")


def test_delete_stops_later_rules_and_tells_why() -> None:
    exe = Rule(
        "no programs",
        Conditions(name_pattern=r"\.exe$"),
        Actions(delete=True, delete_reason="programs are not printed"),
    )
    later = Rule("cap", Conditions(), Actions(copies_max=1))
    ruling = evaluate([exe, later], facts(job_name="SETUP.EXE"))
    assert (ruling.deleted, ruling.fired, ruling.reason, ruling.copies) == (
        True,
        ("no programs",),
        "programs are not printed",
        2,
    )
    assert evaluate([exe, later], facts(job_name="setup.exe.pdf")).deleted is False


def test_group_caps_copies_and_hold_stops() -> None:
    staff = Rule("staff as is", Conditions(groups=frozenset({"staff"})), Actions(hold=True))
    students = Rule("students: one copy", Conditions(groups=frozenset({"students"})), Actions(copies_max=1))
    job = facts(copies=5, groups=frozenset({"staff", "students"}))
    assert evaluate([staff, students], job).copies == 5
    ruling = evaluate([students, staff], job)
    assert (ruling.copies, ruling.fired, ruling.reason) == (
        1,
        ("students: one copy", "staff as is"),
        "students: one copy",
    )


def test_mono_without_colour_pages_is_no_change() -> None:
    mono = Rule("mono", Conditions(), Actions(force_mono=True))
    assert evaluate([mono], facts(color_pages=0)).reason == ""
    assert evaluate([mono], facts(color_pages=1)).reason == "mono"


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"name": "x", "actions": {}}, "at least one action"),
        ({"name": "x", "actions": {"delete": True}}, "delete_reason"),
        ({"name": "x", "actions": {"hold": True}, "conditions": {"pages_min": -1}}, "pages_min"),
        ({"name": "x", "actions": {"hold": True}, "conditions": {"pages_min": 5, "pages_max": 4}}, "above"),
        ({"name": "x", "actions": {"hold": True}, "conditions": {"name_pattern": "("}}, "regular expression"),
        ({"name": "x", "actions": {"hold": True}, "conditions": {"sources": ["fax"]}}, "sources"),
        ({"name": "x", "actions": {"hold": True}, "colour": 1}, "unknown rule field"),
        ({"name": "x", "actions": {"hold": "yes"}}, "true or false"),
        ({"name": "", "actions": {"hold": True}}, "rule name"),
        ({"name": "x", "actions": {"copies_max": True}}, "copies_max"),
        ([], "JSON object"),
    ],
)
def test_bad_rules_are_refused_by_name(rule: Any, error: str) -> None:
    with pytest.raises(RuleError, match=error):
        rule_from_json(rule)


@given(rules)
def test_json_round_trip(rule: Rule) -> None:
    assert rule_from_json(json.loads(json.dumps(rule.to_json()))) == rule


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["name", "conditions", "actions", "note", "pages_min", "hold", "delete", "users", "x"]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_any_json_is_a_rule_or_a_rule_error(value: Any) -> None:
    try:
        rule = rule_from_json(value)
    except RuleError:
        return
    assert rule_from_json(rule.to_json()) == rule


@given(st.lists(rules, max_size=6), jobs)
def test_outcome_properties(rule_list: list[Rule], job: JobFacts) -> None:
    ruling = evaluate(rule_list, job)
    matching = [rule for rule in rule_list if rule.conditions.matches(job)]
    stop = next(
        (index for index, rule in enumerate(matching) if rule.actions.delete or rule.actions.hold), None
    )
    applied = matching if stop is None else matching[: stop + 1]
    assert ruling.fired == tuple(rule.name for rule in applied)
    assert ruling.deleted == any(rule.actions.delete for rule in applied)
    if ruling.deleted:
        assert ruling.reason == applied[-1].actions.delete_reason
        return
    assert ruling.duplex == (job.duplex or any(rule.actions.force_duplex for rule in applied))
    assert ruling.mono == (job.mono or any(rule.actions.force_mono for rule in applied))
    caps = [rule.actions.copies_max for rule in applied if rule.actions.copies_max]
    assert ruling.copies == min([job.copies, *caps])
    groups = [rule.actions.printer_group for rule in applied if rule.actions.printer_group]
    assert ruling.printer_group == (groups[-1] if groups else "")
    assert ruling.notices == tuple(
        f"rule {rule.name!r}: {rule.actions.notify}" for rule in applied if rule.actions.notify
    )
    assert evaluate(rule_list, job) == ruling


@given(conditions, jobs)
def test_conditions_match_exactly_their_bounds(condition: Conditions, job: JobFacts) -> None:
    def within(value: int, low: int | None, high: int | None) -> bool:
        return (low is None or value >= low) and (high is None or value <= high)

    expected = (
        within(job.pages, condition.pages_min, condition.pages_max)
        and within(job.copies, condition.copies_min, condition.copies_max)
        and within(job.color_pages, condition.color_pages_min, condition.color_pages_max)
        and (not condition.users or job.user in condition.users)
        and (not condition.groups or bool(condition.groups & job.groups))
        and (not condition.queues or job.queue in condition.queues)
        and (not condition.sources or job.source in condition.sources)
        and (not condition.name_pattern or re.search(condition.name_pattern, job.job_name, re.I) is not None)
    )
    assert condition.matches(job) == expected
