"""Print intake for the hub: an IPP printer (RFC 8011 over HTTP/IPPS), an LPD listener
(RFC 1179), an encrypted job spool and document analysis (pages, colour, paper, thumbnail).

This subpackage imports nothing else of ``hub_server``: the hub plugs in through the
``JobRegistry`` protocol (``InMemoryJobRegistry`` is the shipped implementation) and hands
in a ``Spool``. Start everything with ``await start_intake(registry, spool, ...)``; when the
hub deletes or expires a job itself, it calls ``IntakeServer.service.stop_analysis(job_id)``.
"""

from __future__ import annotations

from .analysis import AnalysisLimits, DocumentSettings, JobAnalysis, PageInfo, analyze_file, sniff_format
from .credentials import CredentialCache, PasswordCheck
from .errors import (
    AnalysisError,
    IntakeError,
    IppError,
    IppIncomplete,
    IppParseError,
    IppRequestError,
    JobNotCancelable,
    JobNotFound,
    LpdProtocolError,
    OwnerRefused,
    SpoolError,
    SpoolIntegrityError,
    SpoolJobNotFound,
    SpoolLimitExceeded,
)
from .http_server import server_ssl_context
from .ipp_codec import (
    IppAttribute,
    IppGroup,
    IppLimits,
    IppMessage,
    IppValue,
    Tag,
    encode_message,
    parse_message,
)
from .ipp_codes import JobState, Operation, Status
from .jobs import (
    REASON_ANALYSING,
    REASON_ANALYSIS_QUEUED,
    REASON_HELD,
    InMemoryJobRegistry,
    JobRecord,
    JobRegistry,
    PrintTicket,
)
from .server import IntakeServer, parse_listen, start_intake
from .service import IntakeConfig, IntakeService, Submission
from .spool import QueuePolicy, RecordSink, Spool, SpoolEntry, SpoolLimits, SpoolStore, SpoolWriter
from .spool_files import DirectorySpoolStore
from .tls import PemTlsSource, tls_context_from_pem

__all__ = [
    "REASON_ANALYSING",
    "REASON_ANALYSIS_QUEUED",
    "REASON_HELD",
    "AnalysisError",
    "AnalysisLimits",
    "CredentialCache",
    "DirectorySpoolStore",
    "DocumentSettings",
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
    "PasswordCheck",
    "PemTlsSource",
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
    "server_ssl_context",
    "sniff_format",
    "start_intake",
    "tls_context_from_pem",
]
