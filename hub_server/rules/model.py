"""Job rules as values: what a rule looks at (:class:`Conditions`), what it does
(:class:`Actions`), the facts of one job (:class:`JobFacts`) and what the rules made of it
(:class:`Ruling`). Rules are kept as JSON objects (:meth:`Rule.to_json` / :func:`rule_from_json`);
reading one checks every field, so a rule that is stored can always be evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

__all__ = [
    "NAME_CHARS_MAX",
    "NOTE_CHARS_MAX",
    "SOURCES",
    "Actions",
    "Conditions",
    "JobFacts",
    "Rule",
    "RuleError",
    "Ruling",
    "rule_from_json",
]

SOURCES = ("ipp", "lpd", "web", "email")
NAME_CHARS_MAX = 64
NOTE_CHARS_MAX = 200
PATTERN_CHARS_MAX = 200
LIST_ITEMS_MAX = 100
_NAME = re.compile(r"^[\w .:/()+-]{1,64}$")


class RuleError(ValueError):
    """A rule that cannot be stored: an unknown field, a value of the wrong kind or range."""


@dataclass(frozen=True)
class JobFacts:
    """What is known of a job when rules run (``pages`` and ``color_pages`` of one copy)."""

    pages: int
    copies: int
    color_pages: int
    size_bytes: int
    job_name: str
    user: str
    groups: frozenset[str] = frozenset()
    queue: str = ""
    source: str = "ipp"
    application: str = ""  # the submitting application, where the client names it ("" otherwise)
    duplex: bool = False
    mono: bool = False


@dataclass(frozen=True)
class Conditions:
    """A rule matches a job when every condition set here holds (none set: every job).

    Numbers are inclusive bounds (``pages_min`` 61: more than 60 pages); patterns are regular
    expressions searched case-insensitively; a set of users, groups, queues or sources
    matches a job with any one of them."""

    pages_min: int | None = None
    pages_max: int | None = None
    copies_min: int | None = None
    copies_max: int | None = None
    color_pages_min: int | None = None
    color_pages_max: int | None = None
    size_bytes_min: int | None = None
    size_bytes_max: int | None = None
    name_pattern: str = ""
    application_pattern: str = ""
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in _BOUNDS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise RuleError(f"{name} must be a whole number >= 0")
        for low, high in _RANGES:
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and low_value > high_value:
                raise RuleError(f"{low} must not be above {high}")
        for name in ("name_pattern", "application_pattern"):
            _pattern(name, getattr(self, name))
        for name in ("users", "groups", "queues"):
            _names(name, getattr(self, name))
        unknown = set(self.sources) - set(SOURCES)
        if unknown:
            raise RuleError(f"sources must be among {', '.join(SOURCES)} (not {', '.join(sorted(unknown))})")

    def matches(self, job: JobFacts) -> bool:
        """True when ``job`` meets every condition."""
        numbers = {"pages": job.pages, "copies": job.copies, "color_pages": job.color_pages}
        numbers["size_bytes"] = job.size_bytes
        for what, value in numbers.items():
            low, high = getattr(self, f"{what}_min"), getattr(self, f"{what}_max")
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        if self.name_pattern and not re.search(self.name_pattern, job.job_name, re.I):
            return False
        if self.application_pattern and not re.search(self.application_pattern, job.application, re.I):
            return False
        if self.users and job.user not in self.users:
            return False
        if self.groups and self.groups.isdisjoint(job.groups):
            return False
        if self.queues and job.queue not in self.queues:
            return False
        return not self.sources or job.source in self.sources


_BOUNDS = tuple(
    f"{what}_{end}" for what in ("pages", "copies", "color_pages", "size_bytes") for end in ("min", "max")
)
_RANGES = tuple((_BOUNDS[index], _BOUNDS[index + 1]) for index in range(0, len(_BOUNDS), 2))


@dataclass(frozen=True)
class Actions:
    """What a matching rule does.

    ``hold``: the job stays held as it is and no later rule looks at it; ``delete``: the job
    is deleted and ``delete_reason`` is what its owner is told (required); ``force_duplex`` /
    ``force_mono``: printed so whatever the submission or the user asks; ``copies_max``: at
    most this many copies (0: no cap); ``printer_group``: the job is released only at printers
    of that group and priced there; ``notify``: a line in the hub's log naming the job."""

    hold: bool = False
    delete: bool = False
    delete_reason: str = ""
    force_duplex: bool = False
    force_mono: bool = False
    copies_max: int = 0
    printer_group: str = ""
    notify: str = ""

    def __post_init__(self) -> None:
        for name in ("hold", "delete", "force_duplex", "force_mono"):
            if not isinstance(getattr(self, name), bool):
                raise RuleError(f"{name} must be true or false")
        if isinstance(self.copies_max, bool) or not isinstance(self.copies_max, int) or self.copies_max < 0:
            raise RuleError("copies_max must be a whole number >= 0")
        for name in ("delete_reason", "notify"):
            _text(name, getattr(self, name))
        if self.printer_group:
            _names("printer_group", frozenset({self.printer_group}))
        if self.delete and not self.delete_reason.strip():
            raise RuleError("a rule that deletes jobs needs delete_reason (what the user is told)")
        if self.delete and self.hold:
            raise RuleError("a rule cannot both hold and delete")
        if not (
            self.hold
            or self.delete
            or self.force_duplex
            or self.force_mono
            or self.copies_max
            or self.printer_group
            or self.notify
        ):
            raise RuleError("a rule needs at least one action")


@dataclass(frozen=True)
class Rule:
    """One named rule: its conditions, its actions and an optional note shown to the user on
    the jobs it changes (its name when empty)."""

    name: str
    conditions: Conditions = field(default_factory=Conditions)
    actions: Actions = field(default_factory=lambda: Actions(hold=True))
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise RuleError(f"rule name: 1 to {NAME_CHARS_MAX} letters, digits, spaces or .:/()+-_")
        _text("note", self.note)

    def to_json(self) -> dict[str, Any]:
        """The rule as a JSON object (only what differs from the defaults)."""
        return {
            "name": self.name,
            "conditions": _changed(self.conditions),
            "actions": _changed(self.actions),
            **({"note": self.note} if self.note else {}),
        }


@dataclass(frozen=True)
class Ruling:
    """What the rules made of one job.

    ``fired``: the names of the rules that matched, in order; ``reason``: what the user is
    told (the delete reason, else the notes of the rules that changed the job, "" when none
    did); ``notices``: the notify lines of the rules that fired."""

    deleted: bool
    duplex: bool
    mono: bool
    copies: int
    printer_group: str
    fired: tuple[str, ...]
    reason: str
    notices: tuple[str, ...] = ()


def rule_from_json(value: Any) -> Rule:
    """A rule from its JSON object; :class:`RuleError` names what is wrong."""
    if not isinstance(value, Mapping):
        raise RuleError("a rule is a JSON object")
    _known("rule", value, ("name", "conditions", "actions", "note"))
    conditions = value.get("conditions", {})
    actions = value.get("actions", {})
    if not isinstance(conditions, Mapping) or not isinstance(actions, Mapping):
        raise RuleError("conditions and actions are JSON objects")
    _known("conditions", conditions, tuple(item.name for item in fields(Conditions)))
    _known("actions", actions, tuple(item.name for item in fields(Actions)))
    parsed: dict[str, Any] = {}
    for key, item in conditions.items():
        if key in ("users", "groups", "queues", "sources"):
            if not isinstance(item, list) or not all(isinstance(entry, str) for entry in item):
                raise RuleError(f"{key} is a list of names")
            parsed[key] = frozenset(item)
        else:
            parsed[key] = item
    for key in ("name_pattern", "application_pattern"):
        if not isinstance(parsed.get(key, ""), str):
            raise RuleError(f"{key} is a text")
    for key in ("delete_reason", "printer_group", "notify"):
        if not isinstance(actions.get(key, ""), str):
            raise RuleError(f"{key} is a text")
    name, note = value.get("name"), value.get("note", "")
    if not isinstance(name, str) or not isinstance(note, str):
        raise RuleError("name and note are texts")
    return Rule(name, Conditions(**parsed), Actions(**actions), note)


def _changed(value: Conditions | Actions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields(value):
        current = getattr(value, item.name)
        default = item.default if item.default_factory is MISSING else item.default_factory()
        if current != default:
            out[item.name] = sorted(current) if isinstance(current, frozenset) else current
    return out


def _known(what: str, value: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise RuleError(f"unknown {what} field(s): {', '.join(map(str, unknown))}")


def _pattern(name: str, pattern: str) -> None:
    if not isinstance(pattern, str) or len(pattern) > PATTERN_CHARS_MAX:
        raise RuleError(f"{name}: a regular expression of at most {PATTERN_CHARS_MAX} characters")
    try:
        re.compile(pattern)
    except re.error as error:
        raise RuleError(f"{name}: not a regular expression ({error})") from None


def _names(name: str, values: frozenset[str]) -> None:
    if not isinstance(values, frozenset) or len(values) > LIST_ITEMS_MAX:
        raise RuleError(f"{name}: at most {LIST_ITEMS_MAX} names")
    for value in values:
        if not isinstance(value, str) or not 0 < len(value) <= NAME_CHARS_MAX or not value.isprintable():
            raise RuleError(f"{name}: names of 1 to {NAME_CHARS_MAX} printable characters")


def _text(name: str, value: str) -> None:
    if not isinstance(value, str) or len(value) > NOTE_CHARS_MAX or not value.isprintable():
        raise RuleError(f"{name}: at most {NOTE_CHARS_MAX} printable characters")
