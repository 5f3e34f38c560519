"""The layer rules of DESIGN.md, checked over every module of the tree.

Each top-level package may import only the packages listed for it. Every way of naming a module
counts: ``import``/``from`` statements at any depth (inside functions too), ``importlib`` and
``__import__`` calls with a literal name, ``"package.module:function"`` spec strings, and the
``-m package.module`` arguments of child processes. A forbidden dependency fails with the file,
line and rule it breaks, so the next wave cannot break the layers silently.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# package (as imported) -> where its sources live
SOURCES: dict[str, Path] = {
    "printgate": REPO / "proto" / "printgate",
    "hub_server": REPO / "hub_server",
    "terminal_app": REPO / "terminal_app",
    "reader_drivers": REPO / "reader_drivers",
    "cash_devices": REPO / "cash_devices",
    "mfp_adapters": REPO / "mfp_adapters",
    "hw_sim": REPO / "hw_sim",
    "printgate_cli": REPO / "printgate_cli",
    "images": REPO / "images",
}
OURS = frozenset(SOURCES) | {"tests", "benchmarks"}

# package -> the other packages of ours it may import (DESIGN.md, "Layout")
ALLOWED: dict[str, frozenset[str]] = {
    "printgate": frozenset(),
    "hub_server": frozenset({"printgate", "mfp_adapters"}),
    "terminal_app": frozenset({"printgate", "reader_drivers", "mfp_adapters", "cash_devices"}),
    "reader_drivers": frozenset(),
    "cash_devices": frozenset(),
    "mfp_adapters": frozenset(),
    "hw_sim": frozenset(),
    # the image runs the terminal app on the device (readiness, watchdog) and checks its config
    "images": frozenset({"terminal_app"}),
    # the command table and the whole-site demo know every role
    "printgate_cli": frozenset(SOURCES) - {"printgate_cli"},
}

_DOTTED = re.compile(r"^([a-z_][a-z0-9_]*)(\.[a-z_][a-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Reference:
    """One place where a module names another module."""

    path: Path
    line: int
    target: str  # dotted module name
    how: str


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_name(node: ast.Call) -> str:
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def references(path: Path) -> Iterator[Reference]:
    """Every module name ``path`` refers to, however it is spelled."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Reference(path, node.lineno, alias.name, "import")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Reference(path, node.lineno, node.module, "from-import")
        elif isinstance(node, ast.Call) and node.args:
            name, first = _call_name(node), _literal(node.args[0])
            if name in ("import_module", "__import__") and first:
                yield Reference(path, node.lineno, first, f"{name}()")
        elif isinstance(node, ast.List | ast.Tuple):
            # ["python", "-m", "package.module", ...]: a child process running our module
            items = [_literal(element) for element in node.elts]
            for flag, value in itertools.pairwise(items):
                if flag == "-m" and value:
                    yield Reference(path, node.lineno, value, "-m")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value:
            match = _DOTTED.match(node.value)
            if match and match.group(1) in OURS and "." in node.value.partition(":")[0]:
                yield Reference(path, node.lineno, node.value.partition(":")[0], "spec string")


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _modules(package: str) -> list[Path]:
    root = SOURCES[package]
    generated = root / "v1"  # protoc's output is not ours to police
    return sorted(p for p in root.rglob("*.py") if generated not in p.parents)


@pytest.mark.parametrize("package", sorted(SOURCES))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    broken = [
        f"{ref.path.relative_to(REPO)}:{ref.line}: {ref.how} {ref.target} "
        f"({package} may import {sorted(ALLOWED[package]) or 'nothing of ours'})"
        for path in _modules(package)
        for ref in references(path)
        if _top(ref.target) in OURS - {package} and _top(ref.target) not in ALLOWED[package]
    ]
    assert not broken, "layer rule broken:\n" + "\n".join(broken)


def test_no_package_imports_the_command_table() -> None:
    offenders = [
        f"{ref.path.relative_to(REPO)}:{ref.line}"
        for package in sorted(set(SOURCES) - {"printgate_cli"})
        for path in _modules(package)
        for ref in references(path)
        if _top(ref.target) == "printgate_cli"
    ]
    assert not offenders


def test_every_source_package_is_policed() -> None:
    # a new top-level package must get a rule here before it can hold code
    on_disk = {p.parent.name for p in REPO.glob("*/__init__.py")} | {"printgate"}
    assert on_disk - {"tests", "benchmarks", "proto"} == set(SOURCES)


@pytest.mark.parametrize(
    ("source", "target", "how"),
    [
        ("import hub_server.hub\n", "hub_server.hub", "import"),
        ("def f():\n    from hub_server import hub\n", "hub_server", "from-import"),
        (
            "import importlib\nimportlib.import_module('hub_server.cli')\n",
            "hub_server.cli",
            "import_module()",
        ),
        ("__import__('hw_sim.cli')\n", "hw_sim.cli", "__import__()"),
        ("SPEC = 'hub_server.cli:register'\n", "hub_server.cli", "spec string"),
        ("CMD = [exe, '-m', 'hub_server.cli', 'x']\n", "hub_server.cli", "-m"),
    ],
)
def test_every_spelling_of_an_import_is_seen(tmp_path: Path, source: str, target: str, how: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert (target, how) in {(ref.target, ref.how) for ref in references(module)}
