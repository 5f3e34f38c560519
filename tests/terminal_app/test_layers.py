"""The layers inside ``terminal_app``: protobuf stops at the hub client, Kivy stays in the ``ui`` folders,
the terminal and the kiosk are peers over shared parts.

Every spelling of an import counts (the repository's layer test's :func:`references`: statements at
any depth, ``importlib``/``__import__`` with a literal name, spec strings, ``-m`` arguments).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_layers import REPO, references

PACKAGE = REPO / "terminal_app"
UI_FOLDERS = (PACKAGE / "ui", PACKAGE / "terminal" / "ui", PACKAGE / "kiosk" / "ui")
WIRE = ("printgate.v1", "google.protobuf", "grpc")
# folder -> the parts of terminal_app its modules may not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "errors.py": ("terminal_app.hub", "terminal_app.session", "terminal_app.terminal", "terminal_app.kiosk"),
    "hub": ("terminal_app.session", "terminal_app.terminal", "terminal_app.kiosk", "terminal_app.ui"),
    "session": ("terminal_app.terminal", "terminal_app.kiosk", "terminal_app.ui"),
    "ui": ("terminal_app.terminal", "terminal_app.kiosk"),
    "terminal": ("terminal_app.kiosk",),
    "kiosk": ("terminal_app.terminal",),
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _named(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == prefix or target.startswith(prefix + ".") for prefix in prefixes)


def test_only_the_hub_client_speaks_protobuf_and_grpc() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{ref.line}: {ref.target}"
        for path in _modules()
        if PACKAGE / "hub" not in path.parents
        for ref in references(path)
        if _named(ref.target, WIRE)
    ]
    assert not offenders, "protobuf or grpc outside terminal_app/hub:\n" + "\n".join(offenders)


def test_kivy_only_in_the_ui_folders() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{ref.line}: {ref.target}"
        for path in _modules()
        if not any(folder in path.parents for folder in UI_FOLDERS)
        for ref in references(path)
        if _named(ref.target, ("kivy",))
    ]
    assert not offenders, "Kivy outside the ui folders:\n" + "\n".join(offenders)


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_parts_import_downwards_and_the_roles_are_peers(part: str) -> None:
    root = PACKAGE / part
    paths = [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))
    offenders = [
        f"{path.relative_to(REPO)}:{ref.line}: {ref.target}"
        for path in paths
        for ref in references(path)
        if _named(ref.target, FORBIDDEN[part])
    ]
    assert paths and not offenders, f"terminal_app/{part} imports what it may not:\n" + "\n".join(offenders)


def test_the_rules_see_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from printgate.v1 import terminal_pb2\n    import kivy.uix.label\n")
    targets = [ref.target for ref in references(module)]
    assert [target for target in targets if _named(target, WIRE)] == ["printgate.v1"]
    assert [target for target in targets if _named(target, ("kivy",))] == ["kivy.uix.label"]
