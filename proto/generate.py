"""Generate the Python stubs for the printgate gRPC contract.

Run from anywhere: ``python proto/generate.py [OUTPUT_DIR]``. With no argument the stubs are
written next to the .proto files (the checked-in copies); a test generates into a temporary
directory and compares byte for byte, so checked-in stubs never drift from the contract.
The generator is pinned (grpcio-tools in pyproject's dev extra) to keep output reproducible.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent


def proto_files() -> list[Path]:
    """Every .proto file of the contract, in a stable order."""
    return sorted((PROTO_ROOT / "printgate").rglob("*.proto"))


def generate(output_dir: Path) -> None:
    """Write *_pb2.py, *_pb2.pyi and *_pb2_grpc.py for every contract file under output_dir."""
    output_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    relative = [str(path.relative_to(PROTO_ROOT)) for path in proto_files()]
    arguments = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={output_dir}",
        f"--pyi_out={output_dir}",
        f"--grpc_python_out={output_dir}",
        *relative,
    ]
    # protoc resolves relative names against the working directory's -I roots only.
    status = protoc.main(arguments)
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT)
