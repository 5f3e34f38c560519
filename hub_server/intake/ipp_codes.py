"""IPP operation ids, status codes and job/printer states used by intake (RFC 8011, PWG 5100)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["JobState", "Operation", "PrinterState", "Status"]


class Operation(IntEnum):
    """Operation ids (RFC 8011 section 5.4.15)."""

    PRINT_JOB = 0x0002
    PRINT_URI = 0x0003
    VALIDATE_JOB = 0x0004
    CREATE_JOB = 0x0005
    SEND_DOCUMENT = 0x0006
    SEND_URI = 0x0007
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_JOBS = 0x000A
    GET_PRINTER_ATTRIBUTES = 0x000B
    CANCEL_JOBS = 0x0038  # PWG 5100.11; an operator's operation, not offered
    CANCEL_MY_JOBS = 0x0039  # PWG 5100.11
    CLOSE_JOB = 0x003B  # PWG 5100.11
    IDENTIFY_PRINTER = 0x003C  # PWG 5100.11


class Status(IntEnum):
    """Status codes (RFC 8011 section 4.1.6 and appendix B)."""

    OK = 0x0000
    OK_IGNORED_OR_SUBSTITUTED = 0x0001
    BAD_REQUEST = 0x0400
    FORBIDDEN = 0x0401
    NOT_AUTHENTICATED = 0x0402
    NOT_AUTHORIZED = 0x0403
    NOT_POSSIBLE = 0x0404
    TIMEOUT = 0x0405
    NOT_FOUND = 0x0406
    GONE = 0x0407
    REQUEST_ENTITY_TOO_LARGE = 0x0408
    REQUEST_VALUE_TOO_LONG = 0x0409
    DOCUMENT_FORMAT_NOT_SUPPORTED = 0x040A
    ATTRIBUTES_OR_VALUES_NOT_SUPPORTED = 0x040B
    URI_SCHEME_NOT_SUPPORTED = 0x040C
    CHARSET_NOT_SUPPORTED = 0x040D
    CONFLICTING_ATTRIBUTES = 0x040E
    COMPRESSION_NOT_SUPPORTED = 0x040F
    DOCUMENT_FORMAT_ERROR = 0x0411
    INTERNAL_ERROR = 0x0500
    OPERATION_NOT_SUPPORTED = 0x0501
    VERSION_NOT_SUPPORTED = 0x0503
    TEMPORARY_ERROR = 0x0505
    NOT_ACCEPTING_JOBS = 0x0506
    BUSY = 0x0507
    JOB_CANCELED = 0x0508
    MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED = 0x0509
    TOO_MANY_JOBS = 0x050B
    TOO_MANY_DOCUMENTS = 0x050C


class JobState(IntEnum):
    """job-state values (RFC 8011 section 5.3.7)."""

    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9


class PrinterState(IntEnum):
    """printer-state values (RFC 8011 section 5.4.11)."""

    IDLE = 3
    PROCESSING = 4
    STOPPED = 5
