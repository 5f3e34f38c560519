"""The checked-in gRPC stubs are exactly what the pinned generator makes from the contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "proto" / "printgate" / "v1"


def _generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "proto" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    generator = _generator()
    generator.generate(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*.py*"))
    checked_in = sorted(p.relative_to(ROOT / "proto") for p in STUBS.glob("*_pb2*.py*"))
    assert fresh == checked_in
    for relative in fresh:
        assert (tmp_path / relative).read_bytes() == (ROOT / "proto" / relative).read_bytes(), relative


def test_every_proto_file_is_generated() -> None:
    protos = {p.stem for p in STUBS.glob("*.proto")}
    assert protos == {
        "admin",
        "common",
        "directory",
        "enrollment",
        "fleet",
        "kiosk",
        "scan",
        "sites",
        "terminal",
    }
    for name in protos:
        assert (STUBS / f"{name}_pb2.py").exists() and (STUBS / f"{name}_pb2_grpc.py").exists()
