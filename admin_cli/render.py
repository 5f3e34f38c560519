"""Replies as text: tables, ``name  value`` records and confirmations, built from the reply's
own field names and enum names, with hub data escaped so it cannot drive the terminal."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from printgate.v1 import admin_pb2

__all__ = [
    "Render",
    "enum_names",
    "enum_values",
    "printable",
    "record",
    "record_of",
    "said",
    "table",
    "table_of",
]


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``), so hub data cannot drive the terminal."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def enum_names(descriptor: Any) -> dict[str, int]:
    """Short lower-case names of a protobuf enum (``FUNCTION_PRINT`` -> ``print``), unset left out."""
    prefix = descriptor.values[0].name.removesuffix("UNSPECIFIED")  # proto3: the first value is 0
    return {
        value.name.removeprefix(prefix).lower(): value.number for value in descriptor.values if value.number
    }


def enum_values(enum: Any) -> dict[str, Any]:
    """:func:`_enum_names` of a generated enum type, for ``choices`` and request building."""
    return enum_names(enum.DESCRIPTOR)


def _short_enum_name(field: Any, value: int) -> str:
    names = {number: name for name, number in enum_names(field.enum_type).items()}
    return names.get(value, str(value) if value else "-")


def _scalar_text(field: Any, value: Any) -> str:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _short_enum_name(field, value)
    if isinstance(value, Timestamp):
        return value.ToJsonString()
    if isinstance(value, admin_pb2.UserRef):
        return value.username or (f"id {value.id}" if value.id else "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return printable(str(value)) or "-"  # a blank cell would shift the columns of a table


def _cell(message: Message, name: str) -> str:
    """One field of a message as text (lists joined by commas, a oneof scope by its member)."""
    descriptor = message.DESCRIPTOR
    if name in descriptor.oneofs_by_name:
        member = message.WhichOneof(name)
        if member is None:
            return "-"
        value = getattr(message, member)
        return (
            member if value is True else f"{member} {_scalar_text(descriptor.fields_by_name[member], value)}"
        )
    field: Any = descriptor.fields_by_name[name]
    value = getattr(message, name)
    if field.is_repeated:
        return ",".join(_scalar_text(field, item) for item in value) or "-"
    return _scalar_text(field, value)


def table(rows: Sequence[Message], columns: Sequence[str]) -> str:
    cells = [[_cell(row, column) for column in columns] for row in rows]
    headers = [column.upper() for column in columns]
    widths = [max(len(text) for text in column) for column in zip(headers, *cells, strict=False)]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *cells]
    ]
    return "\n".join(lines)


def record(message: Message, columns: Sequence[str]) -> str:
    width = max(len(column) for column in columns)
    return "\n".join(f"{column.ljust(width)}  {_cell(message, column)}".rstrip() for column in columns)


Render = Callable[[Any, argparse.Namespace], str]


def table_of(field: str, columns: Sequence[str], footer: Render | None = None) -> Render:
    """Render the repeated ``field`` of a reply as a table (``(none)`` when empty)."""

    def render(reply: Any, args: argparse.Namespace) -> str:
        rows = getattr(reply, field)
        text = table(rows, columns) if rows else "(none)"
        return f"{text}\n{footer(reply, args)}" if footer else text

    return render


def record_of(columns: Sequence[str]) -> Render:
    """Render a reply as ``name  value`` lines."""
    return lambda reply, args: record(reply, columns)


def said(template: str) -> Render:
    """Render an empty reply as a confirmation built from the arguments."""
    return lambda reply, args: template.format(**vars(args))
