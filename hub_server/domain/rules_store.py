"""Job rules in the hub's database: the ordered rules admins edit, what they make of a held job
(its :class:`~hub_server.rules.JobFacts` read from ``print_jobs``), and the rules created once
from the ``[print]`` settings of earlier versions.

Its tables are the ``job_rules`` component of the hub's migrations (:data:`RULES`):

* ``job_rules``: one row per rule, its place in the order (``position``, 1 first) and its JSON
  (:meth:`~hub_server.rules.Rule.to_json`);
* ``job_rules_state``: one row, the rules' ``version`` (raised by every change in the same
  transaction) and whether the ``[print]`` settings were turned into rules (``seeded``);
* ``print_jobs.rule_note``: why the rules deleted a job (what its owner is told);
* ``print_jobs.rule_notified_us``: when the ``notify`` lines of the rules went to the job's owner
  (once per job: a job ruled again at intake is not mailed again).

Notices: every ``notify`` line is logged; the first time a job is ruled at intake they are also
mailed to its owner through :attr:`JobRules.mailer` (the hub's outbox over the site's relay,
when ``[scan.email]`` is set), after the transaction is durable. An owner without an e-mail
address, or a hub without a relay: logged only.

Replicas: each process keeps the parsed rules with the version it read them at, and every
transaction that evaluates rules reads the version first (one primary-key read) and re-reads
the rules when it moved, so a change made at any replica is seen by the next evaluation at
every other (docs/scale.md).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hub_server.clock import Clock
from hub_server.config import PrintConfig
from hub_server.domain.console import audit
from hub_server.domain.store import Store
from hub_server.domain.users import USERNAME_IS
from hub_server.errors import InvalidRequest, NotFound
from hub_server.intake import JobState
from hub_server.rules import Actions, Conditions, JobFacts, Rule, RuleError, Ruling, evaluate, rule_from_json
from hub_server.scan import OutgoingMail
from hub_server.storage import Component, Row, Tx

__all__ = [
    "ADMIN_API",
    "FACT_COLUMNS",
    "RULES",
    "RULES_MAX",
    "IntakeRuling",
    "JobFacts",
    "JobRules",
    "StoredRule",
    "groups_of",
    "rules_from_settings",
    "submitted_facts",
]

log = logging.getLogger(__name__)

RULES_MAX = 200
# Who the audit log names for a change over the admin API (it knows admin tokens, not people).
ADMIN_API = "admin API"

RULES = Component(
    "job_rules",
    [
        [
            """CREATE TABLE job_rules (
                name TEXT PRIMARY KEY,
                position INTEGER NOT NULL,
                body TEXT NOT NULL,
                changed_us BIGINT NOT NULL
            )""",
            """CREATE TABLE job_rules_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                version BIGINT NOT NULL,
                seeded INTEGER NOT NULL DEFAULT 0
            )""",
            "INSERT INTO job_rules_state (id, version, seeded) VALUES (1, 0, 0)",
            "ALTER TABLE print_jobs ADD COLUMN rule_note TEXT",
        ],
        ["ALTER TABLE print_jobs ADD COLUMN rule_notified_us BIGINT"],
    ],
)


@dataclass(frozen=True)
class IntakeRuling:
    """What the rules did to a job at intake, for after the transaction: the spool entry of a
    job they deleted (to shred) and the notice mail for its owner (to send)."""

    shred_spool_id: str | None = None
    mail: OutgoingMail | None = None


@dataclass(frozen=True)
class StoredRule:
    """A rule and its place in the order (1: evaluated first)."""

    position: int
    rule: Rule


def rules_from_settings(policy: PrintConfig) -> list[Rule]:
    """The rules equivalent to the ``[print]`` settings ``refuse_name_pattern``,
    ``force_duplex_over_pages`` and ``mono_over_color_pages`` (none set: none); a
    :class:`ValueError` names a setting no rule can hold."""
    try:
        return _rules_from_settings(policy)
    except RuleError as error:
        raise ValueError(f"[print] settings cannot become job rules: {error}") from None


def _rules_from_settings(policy: PrintConfig) -> list[Rule]:
    rules = []
    if policy.refuse_name_pattern:
        rules.append(
            Rule(
                "refused job names",
                Conditions(name_pattern=policy.refuse_name_pattern),
                Actions(delete=True, delete_reason="jobs with this name are not printed here"),
            )
        )
    if policy.force_duplex_over_pages:
        pages = policy.force_duplex_over_pages
        rules.append(
            Rule(
                f"duplex over {pages} pages",
                Conditions(pages_min=pages + 1),
                Actions(force_duplex=True),
                note=f"more than {pages} pages: printed duplex",
            )
        )
    if policy.mono_over_color_pages:
        pages = policy.mono_over_color_pages
        rules.append(
            Rule(
                f"mono over {pages} colour pages",
                Conditions(color_pages_min=pages + 1),
                Actions(force_mono=True),
                note=f"more than {pages} colour pages: printed in mono",
            )
        )
    return rules


# The columns of print_jobs (j) and users (u) submitted_facts reads.
FACT_COLUMNS = """j.job_name, j.queue, j.source, j.size_bytes, j.owner_user_id, u.username AS owner, j.copies,
    j.sides, j.color_mode, j.page_count, j.color_pages, j.doc_copies, j.doc_duplex, j.doc_grayscale"""
_MONO_MODES = ("monochrome", "process-monochrome", "bi-level", "process-bi-level")


def submitted_facts(row: Row, unanalysed_pages: int, groups: frozenset[str]) -> JobFacts:
    """What the job rules look at: the job as submitted (pages of one copy, ``unanalysed_pages``
    while they are not counted), its name, owner and the owner's ``groups``, queue and source
    (``row``: :data:`FACT_COLUMNS`)."""
    analysed = row["page_count"] is not None
    return JobFacts(
        pages=int(row["page_count"]) if analysed else unanalysed_pages,
        copies=int(row["copies"]) if int(row["copies"]) != 1 else int(row["doc_copies"] or 1),
        color_pages=int(row["color_pages"] or 0) if analysed else 0,
        size_bytes=int(row["size_bytes"] or 0),
        job_name=str(row["job_name"]),
        user=str(row["owner"] or ""),
        groups=groups,
        queue=str(row["queue"]),
        source=str(row["source"]),
        duplex=str(row["sides"]).startswith("two-sided") or bool(row["doc_duplex"]),
        mono=row["color_mode"] in _MONO_MODES or bool(row["doc_grayscale"]),
    )


def groups_of(tx: Tx, user_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The names of the groups and departments of each user (a user in none: absent)."""
    if not user_ids:
        return {}
    marks = ", ".join(f":u{index}" for index in range(len(user_ids)))
    rows = tx.execute(
        f"""SELECT m.user_id, g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id
            WHERE m.user_id IN ({marks})
            UNION SELECT u.id, g.name FROM users u JOIN user_groups g ON g.id = u.department_id
            WHERE u.id IN ({marks})""",
        {f"u{index}": user_id for index, user_id in enumerate(user_ids)},
    )
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(int(row["user_id"]), set()).add(str(row["name"]))
    return {user_id: frozenset(names) for user_id, names in found.items()}


class JobRules:
    """The job rules of one hub: read (cached by version), edited by admins, evaluated."""

    def __init__(self, store: Store, clock: Clock, unanalysed_pages: int) -> None:
        self.store = store
        self.clock = clock
        self.unanalysed_pages = unanalysed_pages
        self._cached: tuple[int, tuple[Rule, ...]] = (-1, ())
        # where notice mails go (the hub's outbox, set when it has a relay); None: logged only
        self.mailer: Callable[[OutgoingMail], bool] | None = None

    # -- reading ------------------------------------------------------------------------------

    def current(self, tx: Tx) -> tuple[Rule, ...]:
        """The rules in order, as of ``tx`` (re-read only when their version moved)."""
        version = int(tx.scalar("SELECT version FROM job_rules_state WHERE id = 1"))
        cached_version, rules = self._cached
        if cached_version != version:
            rules = tuple(stored.rule for stored in _stored(tx))
            self._cached = (version, rules)
        return rules

    def ruling(self, tx: Tx, facts: JobFacts) -> Ruling:
        """What the rules make of a job, as of ``tx``."""
        return evaluate(self.current(tx), facts)

    def apply_at_intake(self, tx: Tx, job_id: int, now_us: int) -> IntakeRuling:
        """Run the rules over a held job whose analysis is done (or will not come): a job they
        delete is cancelled with their reason in ``rule_note`` (its spool id is returned, for
        the caller to shred once committed); notices are logged, and the first time also made
        into a mail for the owner (returned, for :meth:`send` once committed)."""
        row = tx.one(
            f"SELECT {FACT_COLUMNS}, j.spool_id, u.email AS owner_email FROM print_jobs j"
            " JOIN users u ON u.id = j.owner_user_id WHERE j.id = :j AND j.state = 'held'",
            {"j": job_id},
        )
        if row is None:
            return IntakeRuling()  # held for claiming (no owner yet) or no longer held
        owner_id = int(row["owner_user_id"])
        facts = submitted_facts(
            row, self.unanalysed_pages, groups_of(tx, [owner_id]).get(owner_id, frozenset())
        )
        ruling = self.ruling(tx, facts)
        for notice in ruling.notices:
            log.info("job rules: job %d of %s: %s", job_id, facts.user, notice)
        cancelled = ruling.deleted and bool(
            tx.execute(
                "UPDATE print_jobs SET state = 'canceled', ipp_state = :s,"
                " state_reasons = 'job-canceled-by-operator', completed_us = :now, spool_id = NULL,"
                " rule_note = :why WHERE id = :j AND state = 'held' RETURNING id",
                {"s": int(JobState.CANCELED), "now": now_us, "why": ruling.reason, "j": job_id},
            )
        )  # not cancelled: taken for a release meanwhile, which plans under the same rules
        if cancelled:
            log.info("job rules: job %d of %s deleted by rule %r", job_id, facts.user, ruling.fired[-1])
        why_not_printed = ruling.reason if cancelled else ""
        mail = _notice_mail(
            tx, job_id, facts, ruling.notices, why_not_printed, str(row["owner_email"] or ""), now_us
        )
        return IntakeRuling((str(row["spool_id"] or "") or None) if cancelled else None, mail)

    def send(self, mail: OutgoingMail) -> None:
        """Hand a notice mail to the outbox (never waits; without one it stays logged only)."""
        if self.mailer is None:
            log.info("job rules: no mail relay ([scan.email]): the notice to %s is logged only", mail.to)
            return
        self.mailer(mail)

    def deleted_reason(self, job_id: int) -> str:
        """Why the rules deleted a job ("" when they did not)."""
        return str(
            self.store.read(
                lambda tx: tx.scalar("SELECT rule_note FROM print_jobs WHERE id = :j", {"j": job_id})
            )
            or ""
        )

    def in_order(self) -> list[StoredRule]:
        """Every rule in order."""
        return self.store.read(_stored)

    def test(self, facts: JobFacts) -> tuple[Ruling, frozenset[str]]:
        """What the stored rules would make of a job with these facts (nothing is changed),
        and the groups they saw: when ``facts.user`` is a hub user, their groups count besides
        ``facts.groups``."""

        def read(tx: Tx) -> tuple[Ruling, frozenset[str]]:
            user_id = tx.scalar(f"SELECT id FROM users WHERE {USERNAME_IS}", {"u": facts.user})
            groups = (
                groups_of(tx, [int(user_id)]).get(int(user_id), frozenset())
                if user_id is not None
                else frozenset()
            )
            seen = facts.groups | groups
            return self.ruling(tx, replace(facts, groups=seen)), seen

        return self.store.read(read)

    # -- editing ------------------------------------------------------------------------------

    async def add(self, rule_json: str, position: int = 0) -> StoredRule:
        """Add a rule (its JSON) at ``position`` (0: last); a name in use is refused."""
        rule = _parse(rule_json)

        def add(tx: Tx) -> StoredRule:
            names = [stored.rule.name for stored in _stored(tx)]
            if rule.name in names:
                raise InvalidRequest(f"a rule named {rule.name!r} exists (remove it first)")
            if len(names) >= RULES_MAX:
                raise InvalidRequest(f"at most {RULES_MAX} rules")
            place = _place(position, len(names) + 1)
            tx.execute(
                "INSERT INTO job_rules (name, position, body, changed_us) VALUES (:n, :p, :b, :t)",
                {
                    "n": rule.name,
                    "p": len(names) + 1,
                    "b": json.dumps(rule.to_json()),
                    "t": self.clock.now_us(),
                },
            )
            _renumber(tx, [*names[: place - 1], rule.name, *names[place - 1 :]])
            _audit(
                tx, "rule.add", rule.name, f"at {place}: {json.dumps(rule.to_json())}", self.clock.now_us()
            )
            return StoredRule(place, rule)

        return await self.store.write(add)

    async def remove(self, name: str) -> None:
        """Remove the rule named ``name``."""

        def remove(tx: Tx) -> None:
            if not tx.execute("DELETE FROM job_rules WHERE name = :n RETURNING name", {"n": name}):
                raise NotFound(f"no rule named {name!r}")
            _renumber(tx, [stored.rule.name for stored in _stored(tx)])
            _audit(tx, "rule.remove", name, "", self.clock.now_us())

        await self.store.write(remove)

    async def move(self, name: str, position: int) -> StoredRule:
        """Move the rule named ``name`` to ``position`` (1: first; 0: last)."""

        def move(tx: Tx) -> StoredRule:
            stored = _stored(tx)
            names = [item.rule.name for item in stored]
            if name not in names:
                raise NotFound(f"no rule named {name!r}")
            names.remove(name)
            place = _place(position, len(names) + 1)
            names.insert(place - 1, name)
            _renumber(tx, names)
            _audit(tx, "rule.move", name, f"to {place}", self.clock.now_us())
            return StoredRule(place, next(item.rule for item in stored if item.rule.name == name))

        return await self.store.write(move)

    def seed_from(self, policy: PrintConfig) -> list[Rule]:
        """Once, on a hub with no rules: the rules equivalent to its ``[print]`` settings
        (:func:`rules_from_settings`); logged. Returns the rules created (none after the first
        time, also when an admin has since removed them)."""
        rules = rules_from_settings(policy)
        if not rules:
            return []

        def seed(tx: Tx) -> list[Rule]:
            if (
                tx.one("UPDATE job_rules_state SET seeded = 1 WHERE id = 1 AND seeded = 0 RETURNING id")
                is None
            ):
                return []
            if tx.scalar("SELECT COUNT(*) FROM job_rules"):
                return []
            for position, rule in enumerate(rules, start=1):
                tx.execute(
                    "INSERT INTO job_rules (name, position, body, changed_us) VALUES (:n, :p, :b, :t)",
                    {
                        "n": rule.name,
                        "p": position,
                        "b": json.dumps(rule.to_json()),
                        "t": self.clock.now_us(),
                    },
                )
            tx.execute("UPDATE job_rules_state SET version = version + 1 WHERE id = 1")
            return rules

        seeded = self.store.write_sync(seed)
        for rule in seeded:
            log.info("job rules: [print] settings became the rule %s", json.dumps(rule.to_json()))
        if seeded:
            log.info(
                "job rules: %d rules created from [print] settings; edit them with 'printgate admin rule'"
                " (the settings are not read again)",
                len(seeded),
            )
        return seeded


def _audit(tx: Tx, action: str, name: str, detail: str, now_us: int) -> None:
    audit(tx, ADMIN_API, "admin", action, f"rule {name}", detail, now_us)


def _parse(rule_json: str) -> Rule:
    try:
        return rule_from_json(json.loads(rule_json))
    except json.JSONDecodeError as error:
        raise InvalidRequest(f"a rule is a JSON object ({error.msg})") from None
    except RuleError as error:
        raise InvalidRequest(str(error)) from None


def _stored(tx: Tx) -> list[StoredRule]:
    return [
        StoredRule(int(row["position"]), rule_from_json(json.loads(row["body"])))
        for row in tx.execute("SELECT position, body FROM job_rules ORDER BY position")
    ]


def _place(position: int, last: int) -> int:
    if position < 0:
        raise InvalidRequest("position must be >= 0 (0: last)")
    return last if position == 0 else min(position, last)


def _renumber(tx: Tx, names: Sequence[str]) -> None:
    """Give the rules ``names`` positions 1..n in that order and raise the version."""
    for position, name in enumerate(names, start=1):
        tx.execute("UPDATE job_rules SET position = :p WHERE name = :n", {"p": position, "n": name})
    tx.execute("UPDATE job_rules_state SET version = version + 1 WHERE id = 1")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
NAME_IN_MAIL_CHARS = 80


def _notice_mail(
    tx: Tx,
    job_id: int,
    facts: JobFacts,
    notices: tuple[str, ...],
    why_not_printed: str,
    email: str,
    now_us: int,
) -> OutgoingMail | None:
    """The owner's notice mail the first time rules with ``notify`` fire for a job (marked in
    ``rule_notified_us``, so a job ruled again is not mailed again); None otherwise or without
    an address (then the log lines are all there is)."""
    if not notices:
        return None
    first = tx.execute(
        "UPDATE print_jobs SET rule_notified_us = :t WHERE id = :j AND rule_notified_us IS NULL RETURNING id",
        {"t": now_us, "j": job_id},
    )
    if not first:
        return None
    if not email:
        log.info("job rules: job %d of %s: no e-mail address, the notice is logged only", job_id, facts.user)
        return None
    name = _CONTROL.sub(" ", facts.job_name).strip()[:NAME_IN_MAIL_CHARS] or f"job {job_id}"
    outcome = f"It was not printed: {why_not_printed}\n\n" if why_not_printed else ""
    body = (
        f'Your print job "{name}" (job {job_id}, {facts.pages} page(s), {facts.copies} copies)'
        " matched the site's print rules:\n\n"
        + "".join(f"{notice}\n" for notice in notices)
        + f"\n{outcome}This message was sent automatically by the print system.\n"
    )
    return OutgoingMail(email, f'Print job "{name}": print rule notice', body)
