"""Generated stubs of the printgate.v1 gRPC contract (see proto/generate.py)."""
