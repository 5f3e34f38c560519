"""The layer rules of DESIGN.md, checked over every module of the tree.

Each top-level package may import only the packages listed for it. Every way of naming a module
counts: ``import``/``from`` statements at any depth (inside functions too), ``importlib`` and
``__import__`` calls with a literal name, ``"package.module:function"`` spec strings, and the
``-m package.module`` arguments of child processes. A forbidden dependency fails with the file,
line and rule it breaks, so the next wave cannot break the layers silently.

Inside the hub the layers are, from the bottom (``HUB_LAYERS``):

* ``storage`` (``hub_server.storage``) imports nothing else of the hub;
* the kernel (``errors``, ``clock``, ``config``) imports nothing else of the hub;
* a *capability* subpackage (``intake`` and every subpackage not named here, listed in
  ``CAPABILITIES``: the PKI, fleet, directory-sync, scan packages of this wave) imports nothing of
  the hub but itself, ``storage`` and the kernel's ``errors`` and ``clock``; ``intake`` nothing at
  all. Others import only its package, not its modules. A capability may translate its own gRPC
  service (its own vertical slice); where it needs the hub's tables, the adapter implementing its
  narrow interface lives in the domain (e.g. ``domain/dirsync_store.py``);
* ``domain`` imports storage, the kernel, capabilities and itself;
* ``services`` imports the kernel, the domain and itself (a servicer only ``common`` and
  ``convert`` of its neighbours); no SQL there;
* ``web`` (the console and the portal) is a second front end beside the services: it imports
  the kernel, the domain, capability packages (``documents``) and itself; never storage, never
  the services, no SQL, no gRPC;
* the entry modules (``server``, ``cli``) compose everything.

gRPC and protobuf stay out of storage, the kernel and the domain: only the services, the
capabilities' own service modules and the entry import ``grpc``, ``google.protobuf`` or
``printgate.v1``.
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
    "admin_cli": REPO / "admin_cli",
    "card_numbers": REPO / "card_numbers",
    "images": REPO / "images",
}
OURS = frozenset(SOURCES) | {"tests", "benchmarks"}

# package -> the other packages of ours it may import (DESIGN.md, "Layout")
ALLOWED: dict[str, frozenset[str]] = {
    "printgate": frozenset(),
    "hub_server": frozenset({"printgate", "mfp_adapters", "card_numbers"}),
    "terminal_app": frozenset(
        {"printgate", "reader_drivers", "mfp_adapters", "cash_devices", "card_numbers"}
    ),
    # card-number conversion chains, shared by the readers and the hub's directory sync
    "card_numbers": frozenset(),
    "reader_drivers": frozenset({"card_numbers"}),
    "cash_devices": frozenset(),
    "mfp_adapters": frozenset(),
    "hw_sim": frozenset(),
    # a client of the hub's gRPC API: the protocol stubs, nothing of the hub
    "admin_cli": frozenset({"printgate"}),
    # the image runs the terminal app on the device (readiness, watchdog), checks its config and
    # reads enrollment tokens (their format: printgate.enrollment_token)
    "images": frozenset({"terminal_app", "printgate"}),
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
        ("import hub_server.domain\n", "hub_server.domain", "import"),
        ("def f():\n    from hub_server import domain\n", "hub_server", "from-import"),
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


# -- layers inside the hub ---------------------------------------------------------------------

HUB = SOURCES["hub_server"]
KERNEL = frozenset({"hub_server.errors", "hub_server.clock", "hub_server.config"})
ENTRY = frozenset({"hub_server", "hub_server.server", "hub_server.cli"})
# layer -> the layers it may import (a capability: see capability_allows)
HUB_LAYERS: dict[str, frozenset[str]] = {
    "storage": frozenset({"storage"}),
    "kernel": frozenset(),
    "capability": frozenset(),
    "domain": frozenset({"storage", "kernel", "capability", "domain"}),
    "services": frozenset({"kernel", "domain", "services"}),
    "web": frozenset({"kernel", "domain", "capability", "web"}),
    "entry": frozenset({"storage", "kernel", "capability", "domain", "services", "web", "entry"}),
}
CAPABILITIES_WITHOUT_STORAGE = frozenset({"hub_server.intake", "hub_server.rules"})
# every capability subpackage there is: a new one is added here deliberately
CAPABILITIES = frozenset(
    {
        "hub_server.intake",
        "hub_server.pki",
        "hub_server.dirsync",
        "hub_server.scan",
        "hub_server.fleet",
        "hub_server.documents",
        "hub_server.rules",
    }
)
# capability -> the other capabilities whose package (narrow interface) it may use
CAPABILITY_USES = {"hub_server.fleet": frozenset({"hub_server.pki"})}
# what of the kernel a capability (other than intake) may use
KERNEL_FOR_CAPABILITIES = frozenset({"hub_server.errors", "hub_server.clock"})
SHARED_SERVICE_MODULES = frozenset(
    {"hub_server.services", "hub_server.services.common", "hub_server.services.convert"}
)
WIRE = ("grpc", "grpc_health", "google.protobuf", "printgate.v1")
SQL = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b", re.I | re.S
)


def hub_module(path: Path) -> str:
    """The dotted name of a module of the hub."""
    parts = path.relative_to(HUB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def hub_layer(module: str) -> str:
    """The layer of a hub module; a subpackage nobody named is a capability."""
    if module in ENTRY:
        return "entry"
    if any(_within(module, kernel) for kernel in KERNEL):
        return "kernel"
    for layer in ("storage", "domain", "services", "web"):
        if _within(module, f"hub_server.{layer}"):
            return layer
    return "capability"


def capability_of(module: str) -> str:
    """``hub_server.<name>``: the package of a capability module."""
    return ".".join(module.split(".")[:2])


def hub_violation(source: str, target: str) -> str | None:
    """Why hub module ``source`` may not import ``target`` (None: it may)."""
    if not _within(target, "hub_server") or target == "hub_server":
        return None
    layer, target_layer = hub_layer(source), hub_layer(target)
    if layer == "capability":
        own = capability_of(source)
        if _within(target, own):
            return None
        if own not in CAPABILITIES_WITHOUT_STORAGE and (
            target_layer == "storage" or target in KERNEL_FOR_CAPABILITIES
        ):
            return None
        if target in CAPABILITY_USES.get(own, ()):
            return None
        return f"{own} imports nothing else of the hub" + (
            "" if own in CAPABILITIES_WITHOUT_STORAGE else " but storage, errors and clock"
        )
    if target_layer not in HUB_LAYERS[layer]:
        return f"{layer} may not import {target_layer}"
    if target_layer == "capability" and target != capability_of(target):
        return f"outside {capability_of(target)} only its package is imported, not {target}"
    servicers = {source, target} - SHARED_SERVICE_MODULES
    if layer == target_layer == "services" and len(servicers) == 2:
        return "a servicer imports only common and convert of the services"
    return None


def _hub_modules() -> list[tuple[str, Path]]:
    return [(hub_module(path), path) for path in _modules("hub_server")]


def test_hub_layers_import_downwards_only() -> None:
    broken = [
        f"{path.relative_to(REPO)}:{ref.line}: {ref.how} {ref.target} ({why})"
        for module, path in _hub_modules()
        for ref in references(path)
        if (why := hub_violation(module, ref.target))
    ]
    assert not broken, "hub layer rule broken:\n" + "\n".join(broken)


def test_grpc_and_protobuf_stop_at_the_services() -> None:
    broken = [
        f"{path.relative_to(REPO)}:{ref.line}: {ref.target}"
        for module, path in _hub_modules()
        if hub_layer(module) in ("storage", "kernel", "domain", "web")
        for ref in references(path)
        if any(_within(ref.target, wire) for wire in WIRE)
    ]
    assert not broken, "wire types below the services:\n" + "\n".join(broken)


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_sql_in_the_front_ends_or_the_admin_cli() -> None:
    paths = [path for module, path in _hub_modules() if hub_layer(module) in ("services", "web")]
    paths += _modules("admin_cli")
    found = [
        f"{path.relative_to(REPO)}:{line}: {text[:60]!r}"
        for path in paths
        for line, text in _strings(path)
        if SQL.search(text)
    ]
    assert not found, "SQL belongs to the domain or storage:\n" + "\n".join(found)


def test_the_layers_know_every_hub_module() -> None:
    layers = {module: hub_layer(module) for module, _ in _hub_modules()}
    assert {layer for layer in layers.values()} == set(HUB_LAYERS)
    assert {capability_of(m) for m, layer in layers.items() if layer == "capability"} == CAPABILITIES


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        ("hub_server.storage.schema", "hub_server.domain.pricing", "storage may not import domain"),
        ("hub_server.storage.sqlite", "hub_server.errors", "storage may not import kernel"),
        ("hub_server.errors", "hub_server.domain", "kernel may not import domain"),
        (
            "hub_server.intake.service",
            "hub_server.errors",
            "hub_server.intake imports nothing else of the hub",
        ),
        (
            "hub_server.intake.spool",
            "hub_server.storage",
            "hub_server.intake imports nothing else of the hub",
        ),
        (
            "hub_server.pki.ca",
            "hub_server.domain.users",
            "hub_server.pki imports nothing else of the hub but storage, errors and clock",
        ),
        (
            "hub_server.fleet",
            "hub_server.intake",
            "hub_server.fleet imports nothing else of the hub but storage, errors and clock",
        ),
        (
            "hub_server.pki.tls",
            "hub_server.config",
            "hub_server.pki imports nothing else of the hub but storage, errors and clock",
        ),
        ("hub_server.domain.release", "hub_server.services.common", "domain may not import services"),
        ("hub_server.domain.jobs", "hub_server.server", "domain may not import entry"),
        ("hub_server.domain.jobs", "hub_server.intake.spool", "outside hub_server.intake only its package"),
        ("hub_server.services.admin", "hub_server.storage", "services may not import storage"),
        ("hub_server.web.console", "hub_server.storage", "web may not import storage"),
        ("hub_server.web.console", "hub_server.services.common", "web may not import services"),
        ("hub_server.services.admin", "hub_server.web", "services may not import web"),
        ("hub_server.domain.reports", "hub_server.web", "domain may not import web"),
        (
            "hub_server.web.console",
            "hub_server.documents.table",
            "outside hub_server.documents only its package",
        ),
        (
            "hub_server.services.kiosk",
            "hub_server.services.admin",
            "a servicer imports only common and convert",
        ),
    ],
)
def test_a_forbidden_hub_import_is_reported(source: str, target: str, why: str) -> None:
    assert why in (hub_violation(source, target) or "")


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("hub_server.pki.ca", "hub_server.storage"),
        ("hub_server.pki.tls", "hub_server.clock"),
        ("hub_server.dirsync.sync", "hub_server.errors"),
        ("hub_server.pki.ca", "hub_server.pki.store"),
        ("hub_server.intake.service", "hub_server.intake.spool"),
        ("hub_server.domain.jobs", "hub_server.intake"),
        ("hub_server.domain.hub", "hub_server.storage"),
        ("hub_server.services.kiosk", "hub_server.services.convert"),
        ("hub_server.services.admin", "hub_server.domain"),
        ("hub_server.server", "hub_server.intake"),
        ("hub_server.web.console", "hub_server.domain.reports"),
        ("hub_server.web.console", "hub_server.documents"),
        ("hub_server.web.portal", "hub_server.errors"),
        ("hub_server.domain.reports", "hub_server.documents"),
        ("hub_server.server", "hub_server.web"),
    ],
)
def test_an_allowed_hub_import_is_not_reported(source: str, target: str) -> None:
    assert hub_violation(source, target) is None


def test_sql_in_a_servicer_is_seen(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('ROWS = "SELECT id FROM users WHERE username = :u"\nOK = "select a card"\n')
    assert [line for line, text in _strings(module) if SQL.search(text)] == [1]
