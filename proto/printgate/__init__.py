"""printgate: generated gRPC contract stubs live in printgate.v1."""
