"""The kiosk's JSON control lines: intents in, states out (``printgate kiosk --control stdin``).

An intent is one JSON object per line, ``{"intent": "CardPresented", "card_number": "0012"}``,
named by the class names of :mod:`terminal_app.kiosk.state` and :mod:`terminal_app.session.intents`
with their fields; anything else is a :class:`ValueError` that the kiosk reports and skips. Every
state is written as one JSON line.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import cast

from terminal_app.kiosk.state import KioskIntent, KioskState

__all__ = ["INTENTS", "MAX_LINE_CHARS", "parse_intent", "state_json"]

MAX_LINE_CHARS = 4096  # the longest intent (an emptying with every denomination) is far shorter
# every intent a kiosk takes, by class name (the identification intents both roles share included)
INTENTS: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(KioskIntent)}


def parse_intent(line: str) -> KioskIntent:
    """One JSON control line -> an intent; :class:`ValueError` for anything else (a line too long or
    nested too deep for the JSON decoder included)."""
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(f"a control line is at most {MAX_LINE_CHARS} characters")
    try:
        data = json.loads(line)
    except RecursionError as exc:  # "[[[[…": deeper than the decoder's stack
        raise ValueError("a control line is not nested that deep") from exc
    if not isinstance(data, dict) or not isinstance(data.get("intent"), str):
        raise ValueError("a control line is a JSON object with an 'intent' name")
    name = data.pop("intent")
    cls = INTENTS.get(name)
    if cls is None:
        raise ValueError(f"unknown intent {name!r}")
    hints = typing.get_type_hints(cls)
    if set(data) - set(hints):
        raise ValueError(f"{name} has no field(s) {sorted(set(data) - set(hints))}")
    if name == "EmptyCashBox":
        data["counted"] = _counted(data.get("counted"))
    for field_name, value in data.items():
        if field_name != "counted":
            data[field_name] = _checked(f"{name}.{field_name}", hints[field_name], value)
    return cast(KioskIntent, cls(**data))


def _checked(where: str, expected: object, value: object) -> object:
    """``value`` if it has the declared type (``str``, ``float``, ``float | None``), else ValueError."""
    kinds = typing.get_args(expected) or (expected,)
    if value is None and type(None) in kinds:
        return None
    if str in kinds and isinstance(value, str):
        return value
    if float in kinds and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)  # a JSON number; 5 and 5.0 are the same seconds
    raise ValueError(f"{where} must be {' or '.join(getattr(kind, '__name__', str(kind)) for kind in kinds)}")


def _counted(value: object) -> tuple[tuple[str, int, int], ...]:
    if not isinstance(value, list):
        raise ValueError("EmptyCashBox.counted must be a list of [kind, value_minor, count]")
    lines = []
    for line in value:
        if not (
            isinstance(line, list)
            and len(line) == 3
            and line[0] in ("coin", "note")
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in line[1:])
        ):
            raise ValueError(f"EmptyCashBox.counted line {line!r} is not [kind, value_minor, count]")
        lines.append((line[0], line[1], line[2]))
    return tuple(lines)


def state_json(state: KioskState) -> str:
    """One state as a JSON line (enums as their values)."""
    return json.dumps(dataclasses.asdict(state), default=str, sort_keys=True)
