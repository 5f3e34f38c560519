"""Release planning without a hub: the job rules' outcome and the user's overrides (plan_job),
the rules the [print] settings become, how reported pages split into mono and colour lines,
and the [print] configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub_server.config import PrintConfig, load_config
from hub_server.domain.pricing import UsageLine
from hub_server.domain.release import Overrides, Plan, plan_job
from hub_server.domain.rules_store import rules_from_settings, submitted_facts
from hub_server.errors import PermissionDenied, Refused
from hub_server.rules import evaluate


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "job_name": "report.pdf",
        "copies": 2,
        "sides": "one-sided",
        "color_mode": "auto",
        "page_count": 10,
        "color_pages": 4,
        "paper_size": "A4",
        "doc_copies": None,
        "doc_duplex": None,
        "doc_grayscale": None,
        "queue": "hub",
        "source": "ipp",
        "size_bytes": 1000,
        "owner": "ann",
        "owner_user_id": 1,
    }
    return {**base, **changes}


def plan(job: dict[str, Any], overrides: Overrides | None, policy: PrintConfig) -> Plan:
    """plan_job under the rules ``policy``'s [print] settings become."""
    facts = submitted_facts(job, policy.unanalysed_pages, frozenset())
    return plan_job(job, overrides, policy, evaluate(rules_from_settings(policy), facts))


def test_as_submitted() -> None:
    assert plan(row(), None, PrintConfig()) == Plan(10, 4, 2, False, False, "A4", False)


def test_document_settings_count_when_the_ticket_says_nothing() -> None:
    planned = plan(row(copies=1, doc_copies=3, doc_duplex=1, doc_grayscale=1), None, PrintConfig())
    assert (planned.copies, planned.duplex, planned.mono, planned.color_pages) == (3, True, True, 0)


def test_rules_force_duplex_and_mono() -> None:
    policy = PrintConfig(force_duplex_over_pages=9, mono_over_color_pages=3)
    notes = "more than 9 pages: printed duplex; more than 3 colour pages: printed in mono"
    assert plan(row(), None, policy) == Plan(10, 0, 2, True, True, "A4", False, notes)
    assert plan(row(page_count=9, color_pages=3), None, policy) == Plan(9, 3, 2, False, False, "A4", False)


def test_refused_name_pattern() -> None:
    with pytest.raises(Refused, match="not printed here"):
        plan(row(job_name="Payroll SECRET"), None, PrintConfig(refuse_name_pattern="secret"))


def test_overrides_only_as_allowed() -> None:
    assert plan(row(), Overrides(mono=True, duplex=True, copies=1), PrintConfig()) == Plan(
        10, 0, 1, True, True, "A4", False
    )
    for overrides, policy in (
        (Overrides(mono=True), PrintConfig(allow_to_mono=False)),
        (Overrides(duplex=True), PrintConfig(allow_to_duplex=False)),
        (Overrides(copies=1), PrintConfig(allow_fewer_copies=False)),
        (Overrides(copies=3), PrintConfig()),
    ):
        with pytest.raises(PermissionDenied):
            plan(row(), overrides, policy)
    # Asking for what the job does already is no override.
    assert plan(row(color_mode="monochrome"), Overrides(mono=True), PrintConfig(allow_to_mono=False)).mono


def test_unanalysed_jobs_use_the_configured_estimate() -> None:
    planned = plan(
        row(page_count=None, color_pages=None, paper_size=None), None, PrintConfig(unanalysed_pages=2)
    )
    assert planned == Plan(2, 0, 2, False, False, "*", True)


def test_reported_pages_split_mono_first() -> None:
    plan = Plan(pages=3, color_pages=1, copies=2, duplex=True, mono=False, paper="A4", estimated=False)
    assert plan.lines() == [
        UsageLine("print", "color", "A4", True, 2),
        UsageLine("print", "mono", "A4", True, 4),
    ]
    assert plan.lines(3) == [UsageLine("print", "mono", "A4", True, 3)]
    assert plan.lines(5) == [
        UsageLine("print", "color", "A4", True, 1),
        UsageLine("print", "mono", "A4", True, 4),
    ]
    assert plan.lines(8) == [
        UsageLine("print", "color", "A4", True, 2),
        UsageLine("print", "mono", "A4", True, 6),
    ]
    assert plan.lines(0) == [UsageLine("print", "mono", "A4", True, 0)]


@given(
    pages=st.integers(0, 500),
    color=st.integers(0, 500),
    copies=st.integers(1, 99),
    reported=st.none() | st.integers(0, 100_000),
)
def test_lines_always_add_up(pages: int, color: int, copies: int, reported: int | None) -> None:
    color = min(color, pages)
    plan = Plan(pages, color, copies, False, False, "A4", False)
    lines = plan.lines(reported)
    total = pages * copies if reported is None else reported
    assert sum(line.pages for line in lines) == total
    assert sum(line.pages for line in lines if line.color == "color") <= color * copies
    assert all(line.pages >= 0 for line in lines)


def test_print_section_of_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        '[print]\nlpd_listen = "127.0.0.1:5515"\nreprint_hours = 2.5\n'
        '[print.printer_snmp]\n"floor-2" = "10.0.0.12:1161"\n'
    )
    config = load_config(path, ipp_listen="127.0.0.1:6631")
    assert config.printing.enabled
    assert (config.printing.ipp_listen, config.printing.lpd_listen) == ("127.0.0.1:6631", "127.0.0.1:5515")
    assert config.printing.reprint_hours == 2.5
    assert config.printing.printer_snmp == {"floor-2": "10.0.0.12:1161"}
    assert not load_config().printing.enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[print]\nbogus = 1\n", "unknown key"),
        ('[print]\nunknown_owner = "maybe"\n', "unknown_owner"),
        ('[print]\nrefuse_name_pattern = "("\n', "missing"),
        ('[hub]\nworkers = 2\n[print]\nipp_listen = "127.0.0.1:0"\n', "workers = 1"),
    ],
)
def test_bad_print_config_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(text)
    with pytest.raises(Exception, match=message):
        load_config(path)
