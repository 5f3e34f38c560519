"""The printer's and jobs' IPP attributes (RFC 8011, PWG 5100.12 / IPP Everywhere subset).

Data, not logic: what the hub queue advertises to driverless clients, and how a
``JobRecord`` looks on the wire. ``requested-attributes`` filtering lives here too.
"""

from __future__ import annotations

import datetime
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .icons import ICON_SIZES
from .ipp_codec import IppAttribute, IppValue
from .ipp_codec import Tag as T
from .ipp_codes import JobState, Operation, PrinterState
from .jobs import JobRecord

__all__ = [
    "COLOR_MODES_SUPPORTED",
    "DOCUMENT_FORMATS",
    "JOB_DESCRIPTION",
    "JOB_TEMPLATE",
    "MEDIA_SUPPORTED",
    "PRINTER_DEVICE_ID",
    "SIDES_SUPPORTED",
    "URF_SUPPORTED",
    "PrinterIdentity",
    "PrinterUri",
    "date_time",
    "job_attributes",
    "printer_attributes",
    "printer_uuid",
    "select",
]

DOCUMENT_FORMATS = (
    "application/pdf",
    "application/postscript",
    "image/pwg-raster",
    "application/vnd.hp-pjl",
    "image/jpeg",
    "image/urf",
    "application/octet-stream",
)
# Apple raster capabilities (AirPrint's urf-supported and the DNS-SD "URF" key): version
# 1.4, one copy per job, 8-bit grey and 24-bit sRGB, 300 and 600 dpi, duplex, qualities 4-5.
URF_SUPPORTED = ("V1.4", "CP1", "W8", "SRGB24", "RS300-600", "DM1", "PQ4-5", "IS1", "MT1")
PRINTER_DEVICE_ID = "MFG:printgate;MDL:pull-print hub;CMD:PDF,PS,PWGRaster,URF,JPEG;CLS:PRINTER;"

MEDIA_SUPPORTED = (
    "iso_a4_210x297mm",
    "iso_a3_297x420mm",
    "iso_a5_148x210mm",
    "na_letter_8.5x11in",
    "na_legal_8.5x14in",
    "na_index-4x6_4x6in",  # photos from phones
)
SIDES_SUPPORTED = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
COLOR_MODES_SUPPORTED = ("auto", "monochrome", "color")
COPIES_MAX = 999

JOB_TEMPLATE = frozenset(
    {
        "copies",
        "sides",
        "print-color-mode",
        "media",
        "job-hold-until",
        "job-priority",
        "job-sheets",
        "multiple-document-handling",
        "finishings",
        "orientation-requested",
        "print-quality",
        "number-up",
    }
)
JOB_DESCRIPTION = frozenset(
    {
        "job-id",
        "job-uri",
        "job-printer-uri",
        "job-name",
        "job-originating-user-name",
        "job-state",
        "job-state-reasons",
        "job-state-message",
        "number-of-documents",
        "time-at-creation",
        "time-at-processing",
        "time-at-completed",
        "job-printer-up-time",
        "date-time-at-creation",
        "date-time-at-processing",
        "date-time-at-completed",
        "job-k-octets",
        "job-impressions",
        "job-media-sheets",
        "job-impressions-completed",
        "job-media-sheets-completed",
        "document-format",
        "job-uuid",
        "number-of-intervening-jobs",
    }
)
_CREATION_ATTRIBUTES = frozenset(
    {"copies", "sides", "print-color-mode", "media", "media-col", "page-ranges", "job-name", "overrides"}
)
_SUPPLY = b"index=1;class=supplyThatIsConsumed;type=other;unit=percent;maxcapacity=100;level=-2;"
_SUPPORTED_OPERATIONS = (
    Operation.PRINT_JOB,
    Operation.VALIDATE_JOB,
    Operation.CREATE_JOB,
    Operation.SEND_DOCUMENT,
    Operation.CANCEL_JOB,
    Operation.GET_JOB_ATTRIBUTES,
    Operation.GET_JOBS,
    Operation.GET_PRINTER_ATTRIBUTES,
    Operation.CANCEL_MY_JOBS,
    Operation.CLOSE_JOB,
    Operation.IDENTIFY_PRINTER,
)


@dataclass(frozen=True)
class PrinterUri:
    """One URI the printer is reached on: over TLS or not, and whether that listener takes
    HTTP Basic credentials (only over TLS: a password never crosses the wire in clear)."""

    uri: str
    tls: bool
    authenticates: bool

    @property
    def security(self) -> str:
        """Its ``uri-security-supported`` keyword."""
        return "tls" if self.tls else "none"

    @property
    def authentication(self) -> str:
        """Its ``uri-authentication-supported`` keyword."""
        return "basic" if self.tls and self.authenticates else "requesting-user-name"


@dataclass(frozen=True)
class PrinterIdentity:
    """Who and where the queue is (PWG 5100.13 printer description), from the config."""

    name: str
    info: str
    location: str
    make_and_model: str
    organization: str = ""
    organizational_unit: str = ""
    geo_location: str = ""  # "geo:" URI or empty (unknown)


def printer_uuid(name: str) -> uuid.UUID:
    """The queue's stable UUID (printer-uuid, DNS-SD ``UUID``), derived from its name."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"printgate:{name}")


def _attr(name: str, tag: int, *values: object) -> IppAttribute:
    return IppAttribute(name, [IppValue(tag, value) for value in values])


def date_time(epoch_s: float) -> bytes:
    """RFC 2579 DateAndTime (11 octets, UTC)."""
    moment = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.UTC)
    return struct.pack(
        ">HBBBBBBcBB",
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 100_000,
        b"+",
        0,
        0,
    )


def printer_attributes(
    uris: Sequence[PrinterUri],
    *,
    identity: PrinterIdentity,
    up_time_s: int,
    queued_jobs: int,
    now_s: float,
    multiple_operation_timeout_s: int,
    job_kilobytes_max: int,
) -> list[IppAttribute]:
    """Every printer attribute: this queue's identity and state, then the fixed capabilities.

    ``uris`` are the printer's URIs, the one the request used first; the three ``uri-*``
    attributes list one value per URI, in the same order."""
    printer_uri = uris[0].uri
    web = printer_uri.replace("ipp", "http", 1)
    icons_base = web.rsplit("/", 1)[0] + "/icons"
    geo = (
        _attr("printer-geo-location", T.URI, identity.geo_location)
        if identity.geo_location
        else IppAttribute("printer-geo-location", [IppValue(T.UNKNOWN, None)])
    )
    name = identity.name
    return [
        _attr("printer-uri-supported", T.URI, *(u.uri for u in uris)),
        _attr("uri-security-supported", T.KEYWORD, *(u.security for u in uris)),
        _attr("uri-authentication-supported", T.KEYWORD, *(u.authentication for u in uris)),
        _attr("printer-name", T.NAME, name),
        _attr("printer-info", T.TEXT, identity.info),
        _attr("printer-location", T.TEXT, identity.location),
        _attr("printer-make-and-model", T.TEXT, identity.make_and_model),
        _attr("printer-organization", T.TEXT, identity.organization),
        _attr("printer-organizational-unit", T.TEXT, identity.organizational_unit),
        geo,
        _attr("printer-more-info", T.URI, web),
        _attr("printer-supply-info-uri", T.URI, web),
        _attr("printer-icons", T.URI, *(f"{icons_base}/printer-{size}.png" for size in ICON_SIZES)),
        _attr("printer-uuid", T.URI, printer_uuid(name).urn),
        _attr("printer-state", T.ENUM, PrinterState.IDLE),
        _attr("printer-state-reasons", T.KEYWORD, "none"),
        _attr("printer-state-message", T.TEXT, "accepting jobs for pull printing"),
        _attr("printer-is-accepting-jobs", T.BOOLEAN, True),
        _attr("printer-up-time", T.INTEGER, max(1, up_time_s)),
        _attr("printer-current-time", T.DATE_TIME, date_time(now_s)),
        # The configuration and the state change only at start (the queue is always idle).
        _attr("printer-config-change-time", T.INTEGER, 1),
        _attr("printer-config-change-date-time", T.DATE_TIME, date_time(now_s - up_time_s + 1)),
        _attr("printer-state-change-time", T.INTEGER, 1),
        _attr("printer-state-change-date-time", T.DATE_TIME, date_time(now_s - up_time_s + 1)),
        _attr("queued-job-count", T.INTEGER, queued_jobs),
        _attr("multiple-operation-time-out", T.INTEGER, multiple_operation_timeout_s),
        _attr("job-k-octets-supported", T.RANGE_OF_INTEGER, (0, job_kilobytes_max)),
        *_CAPABILITIES,
    ]


def _capabilities() -> tuple[IppAttribute, ...]:
    """What the queue accepts; the same for every request."""
    return (
        _attr("ipp-versions-supported", T.KEYWORD, "1.1", "2.0"),
        _attr("ipp-features-supported", T.KEYWORD, "ipp-everywhere"),
        _attr("operations-supported", T.ENUM, *[int(op) for op in _SUPPORTED_OPERATIONS]),
        _attr("charset-configured", T.CHARSET, "utf-8"),
        _attr("charset-supported", T.CHARSET, "utf-8", "us-ascii"),
        _attr("natural-language-configured", T.NATURAL_LANGUAGE, "en"),
        _attr("generated-natural-language-supported", T.NATURAL_LANGUAGE, "en"),
        _attr("document-format-default", T.MIME_MEDIA_TYPE, "application/octet-stream"),
        _attr("document-format-supported", T.MIME_MEDIA_TYPE, *DOCUMENT_FORMATS),
        _attr("compression-supported", T.KEYWORD, "none"),
        _attr("printer-device-id", T.TEXT, PRINTER_DEVICE_ID),
        _attr("urf-supported", T.KEYWORD, *URF_SUPPORTED),
        _attr("printer-get-attributes-supported", T.KEYWORD, "document-format"),
        _attr("identify-actions-default", T.KEYWORD, "display"),
        _attr("identify-actions-supported", T.KEYWORD, "display"),
        _attr("job-creation-attributes-supported", T.KEYWORD, *sorted(_CREATION_ATTRIBUTES)),
        _attr("preferred-attributes-supported", T.BOOLEAN, False),
        _attr("multiple-operation-time-out-action", T.KEYWORD, "abort-job"),
        # Accepted on the job, applied by the printer the job is released to.
        _attr("overrides-supported", T.KEYWORD, "document-number", "pages"),
        _attr("page-ranges-supported", T.BOOLEAN, True),
        _attr("print-content-optimize-default", T.KEYWORD, "auto"),
        _attr("print-content-optimize-supported", T.KEYWORD, "auto"),
        _attr("print-rendering-intent-default", T.KEYWORD, "auto"),
        _attr("print-rendering-intent-supported", T.KEYWORD, "auto"),
        # A hub has no toner: one supply of unknown level (-2) says where supplies are.
        _attr("printer-supply", T.OCTET_STRING, _SUPPLY),
        _attr("printer-supply-description", T.TEXT, "supplies are at the printers jobs are released to"),
        _attr("pdl-override-supported", T.KEYWORD, "attempted"),
        _attr("multiple-document-jobs-supported", T.BOOLEAN, False),
        _attr("job-ids-supported", T.BOOLEAN, True),
        _attr("which-jobs-supported", T.KEYWORD, "completed", "not-completed", "all"),
        _attr("color-supported", T.BOOLEAN, True),
        *_template_capabilities(),
        *_media_attributes(),
    )


def _template_capabilities() -> tuple[IppAttribute, ...]:
    # job-hold-until-* is not advertised: every job is held whatever the client asks.
    return (
        _attr("copies-default", T.INTEGER, 1),
        _attr("copies-supported", T.RANGE_OF_INTEGER, (1, COPIES_MAX)),
        _attr("sides-default", T.KEYWORD, "one-sided"),
        _attr("sides-supported", T.KEYWORD, *SIDES_SUPPORTED),
        _attr("print-color-mode-default", T.KEYWORD, "auto"),
        _attr("print-color-mode-supported", T.KEYWORD, *COLOR_MODES_SUPPORTED),
        _attr("media-default", T.KEYWORD, MEDIA_SUPPORTED[0]),
        _attr("media-supported", T.KEYWORD, *MEDIA_SUPPORTED),
        _attr("media-ready", T.KEYWORD, MEDIA_SUPPORTED[0], "na_letter_8.5x11in"),
        _attr("job-sheets-default", T.KEYWORD, "none"),
        _attr("job-sheets-supported", T.KEYWORD, "none"),
        _attr("orientation-requested-default", T.ENUM, 3),
        _attr("orientation-requested-supported", T.ENUM, 3, 4, 5, 6),
        _attr("output-bin-default", T.KEYWORD, "face-down"),
        _attr("output-bin-supported", T.KEYWORD, "face-down"),
        # Nominal figures: the hub releases to whichever printer the user is at.
        _attr("pages-per-minute", T.INTEGER, 30),
        _attr("pages-per-minute-color", T.INTEGER, 30),
        _attr("print-quality-default", T.ENUM, 4),
        _attr("print-quality-supported", T.ENUM, 3, 4, 5),
        _attr("printer-resolution-default", T.RESOLUTION, (600, 600, 3)),
        _attr("printer-resolution-supported", T.RESOLUTION, (300, 300, 3), (600, 600, 3)),
        _attr("pwg-raster-document-resolution-supported", T.RESOLUTION, (300, 300, 3), (600, 600, 3)),
        _attr("pwg-raster-document-type-supported", T.KEYWORD, "black_1", "sgray_8", "srgb_8"),
        _attr("pwg-raster-document-sheet-back", T.KEYWORD, "normal"),
        _attr("number-up-default", T.INTEGER, 1),
        _attr("number-up-supported", T.INTEGER, 1),
        _attr("finishings-default", T.ENUM, 3),
        _attr("finishings-supported", T.ENUM, 3),
        _attr("job-priority-default", T.INTEGER, 50),
        _attr("job-priority-supported", T.INTEGER, 100),
        _attr(
            "multiple-document-handling-supported",
            T.KEYWORD,
            "separate-documents-uncollated-copies",
            "separate-documents-collated-copies",
        ),
    )


_MEDIA_SIZES_HUNDREDTHS_MM = {  # PWG media name -> (x-dimension, y-dimension) in 1/100 mm
    "iso_a4_210x297mm": (21000, 29700),
    "iso_a3_297x420mm": (29700, 42000),
    "iso_a5_148x210mm": (14800, 21000),
    "na_letter_8.5x11in": (21590, 27940),
    "na_legal_8.5x14in": (21590, 35560),
    "na_index-4x6_4x6in": (10160, 15240),
}
_MARGIN_HUNDREDTHS_MM = 423  # 1/6 inch, the usual laser printer unprintable border


def _media_size(media: str) -> list[IppAttribute]:
    x_dimension, y_dimension = _MEDIA_SIZES_HUNDREDTHS_MM[media]
    return [_attr("x-dimension", T.INTEGER, x_dimension), _attr("y-dimension", T.INTEGER, y_dimension)]


def _media_col(media: str) -> list[IppAttribute]:
    """A media-col collection (PWG 5100.7) for one size, plain paper, automatic tray."""
    return [
        _attr("media-size", T.BEGIN_COLLECTION, _media_size(media)),
        _attr("media-size-name", T.KEYWORD, media),
        _attr("media-type", T.KEYWORD, "stationery"),
        _attr("media-source", T.KEYWORD, "auto"),
        *(
            _attr(f"media-{side}-margin", T.INTEGER, _MARGIN_HUNDREDTHS_MM)
            for side in ("bottom", "left", "right", "top")
        ),
    ]


def _media_attributes() -> list[IppAttribute]:
    return [
        _attr("media-col-default", T.BEGIN_COLLECTION, _media_col(MEDIA_SUPPORTED[0])),
        _attr(
            "media-col-ready",
            T.BEGIN_COLLECTION,
            _media_col(MEDIA_SUPPORTED[0]),
            _media_col("na_letter_8.5x11in"),
        ),
        _attr("media-col-database", T.BEGIN_COLLECTION, *[_media_col(media) for media in MEDIA_SUPPORTED]),
        _attr(
            "media-col-supported",
            T.KEYWORD,
            "media-size",
            "media-size-name",
            "media-type",
            "media-source",
            "media-bottom-margin",
            "media-left-margin",
            "media-right-margin",
            "media-top-margin",
        ),
        _attr("media-size-supported", T.BEGIN_COLLECTION, *[_media_size(media) for media in MEDIA_SUPPORTED]),
        _attr("media-type-supported", T.KEYWORD, "stationery"),
        _attr("media-source-supported", T.KEYWORD, "auto"),
        _attr("media-bottom-margin-supported", T.INTEGER, _MARGIN_HUNDREDTHS_MM),
        _attr("media-left-margin-supported", T.INTEGER, _MARGIN_HUNDREDTHS_MM),
        _attr("media-right-margin-supported", T.INTEGER, _MARGIN_HUNDREDTHS_MM),
        _attr("media-top-margin-supported", T.INTEGER, _MARGIN_HUNDREDTHS_MM),
    ]


def _job_uri(printer_uri: str, job_id: int) -> str:
    return f"{printer_uri.rstrip('/')}/{job_id}"


def _optional_int(tag_value: int | None) -> IppValue:
    return IppValue(T.NO_VALUE, None) if tag_value is None else IppValue(T.INTEGER, tag_value)


def _state_message(record: JobRecord) -> str:
    if record.state == JobState.PENDING_HELD:
        return "held until released at a printer"
    return record.state.name.lower().replace("_", "-")


def job_attributes(record: JobRecord, printer_uri: str, up_time_base_s: float) -> list[IppAttribute]:
    """Every attribute of one job (callers filter with ``select``)."""
    pages = record.analysis.page_count if record.analysis else None
    impressions = None if pages is None else pages * record.ticket.copies
    relative = int(max(0, record.created_at_s - up_time_base_s)) + 1
    completed = (
        IppValue(T.NO_VALUE, None)
        if record.completed_at_s is None
        else IppValue(T.INTEGER, int(max(0, record.completed_at_s - up_time_base_s)) + 1)
    )
    attributes = [
        _attr("job-id", T.INTEGER, record.job_id),
        _attr("job-uri", T.URI, _job_uri(printer_uri, record.job_id)),
        _attr("job-printer-uri", T.URI, printer_uri),
        _attr("job-name", T.NAME, record.job_name),
        _attr("job-originating-user-name", T.NAME, record.submitted_by),
        _attr("job-state", T.ENUM, int(record.state)),
        _attr("job-state-reasons", T.KEYWORD, *record.state_reasons),
        _attr("job-state-message", T.TEXT, _state_message(record)),
        _attr("number-of-documents", T.INTEGER, 1 if record.spool_id else 0),
        _attr("document-format", T.MIME_MEDIA_TYPE, record.document_format),
        _attr("time-at-creation", T.INTEGER, relative),
        IppAttribute("time-at-processing", [IppValue(T.NO_VALUE, None)]),
        IppAttribute("time-at-completed", [completed]),
        _attr("job-printer-up-time", T.INTEGER, relative),
        _attr("date-time-at-creation", T.DATE_TIME, date_time(record.created_at_s)),
        IppAttribute("date-time-at-processing", [IppValue(T.NO_VALUE, None)]),
        IppAttribute(
            "date-time-at-completed",
            [
                IppValue(T.NO_VALUE, None)
                if record.completed_at_s is None
                else IppValue(T.DATE_TIME, date_time(record.completed_at_s))
            ],
        ),
        _attr("job-k-octets", T.INTEGER, (record.size_bytes + 1023) // 1024),
        IppAttribute("job-impressions", [_optional_int(impressions)]),
        _attr("job-impressions-completed", T.INTEGER, 0),
        _attr("job-media-sheets-completed", T.INTEGER, 0),
        _attr("copies", T.INTEGER, record.ticket.copies),
        _attr("sides", T.KEYWORD, record.ticket.sides),
        _attr("print-color-mode", T.KEYWORD, record.ticket.print_color_mode),
        _attr("job-hold-until", T.KEYWORD, "indefinite"),
    ]
    if record.ticket.media:
        attributes.append(_attr("media", T.KEYWORD, record.ticket.media))
    return attributes


def select(attributes: Iterable[IppAttribute], requested: set[str] | None) -> list[IppAttribute]:
    """Keep the attributes ``requested-attributes`` asks for (None or "all" keeps all).

    The group names "job-template", "job-description" and "printer-description" expand
    to the matching sets (printer-description: every printer attribute that is not a
    job template's ``-default``/``-supported``/``-ready``).
    """
    chosen = list(attributes)
    if requested is None or "all" in requested:
        return chosen

    def wanted(name: str) -> bool:
        if name in requested:
            return True
        base = name.rsplit("-", 1)[0] if name.endswith(("-default", "-supported", "-ready")) else name
        if "job-template" in requested and base in JOB_TEMPLATE:
            return True
        if "job-description" in requested and name in JOB_DESCRIPTION:
            return True
        return "printer-description" in requested and base not in JOB_TEMPLATE

    return [attribute for attribute in chosen if wanted(attribute.name)]


_CAPABILITIES = _capabilities()
