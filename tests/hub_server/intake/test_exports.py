"""The public surface of hub_server.intake: adding or removing a name must be deliberate."""

from __future__ import annotations

import hub_server.intake as intake

EXPECTED = {
    "REASON_ANALYSING",
    "REASON_ANALYSIS_QUEUED",
    "REASON_HELD",
    "AnalysisError",
    "AnalysisLimits",
    "CredentialCache",
    "PasswordCheck",
    "PemTlsSource",
    "server_ssl_context",
    "sniff_format",  # e-mail printing names a mailed document's format as IPP and LPD jobs get it
    "tls_context_from_pem",
    "InMemoryJobRegistry",
    "IntakeConfig",
    "IntakeError",
    "IntakeServer",
    "IntakeService",
    "IppAttribute",
    "IppError",
    "IppGroup",
    "IppIncomplete",
    "IppLimits",
    "IppMessage",
    "IppParseError",
    "IppRequestError",
    "IppValue",
    "JobAnalysis",
    "JobNotCancelable",
    "JobNotFound",
    "JobRecord",
    "JobRegistry",
    "JobState",
    "LpdProtocolError",
    "Operation",
    "OwnerRefused",
    "PageInfo",
    "DirectorySpoolStore",
    "DocumentSettings",
    "PrintTicket",
    "QueuePolicy",
    "RecordSink",
    "Spool",
    "SpoolEntry",
    "SpoolError",
    "SpoolIntegrityError",
    "SpoolJobNotFound",
    "SpoolLimitExceeded",
    "SpoolLimits",
    "SpoolStore",
    "SpoolWriter",
    "Status",
    "Submission",
    "Tag",
    "analyze_file",
    "encode_message",
    "parse_listen",
    "parse_message",
    "start_intake",
}


def test_all_is_exactly_the_documented_surface() -> None:
    assert set(intake.__all__) == EXPECTED
    assert all(hasattr(intake, name) for name in intake.__all__)


def test_intake_imports_nothing_else_of_the_hub() -> None:
    import ast
    from pathlib import Path

    for path in Path(intake.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert not node.module.startswith(("hub_server", "proto", "printgate")), (
                    path.name,
                    node.module,
                )
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("hub_server") for a in node.names), path.name
