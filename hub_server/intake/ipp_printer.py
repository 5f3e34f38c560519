"""The hub's IPP printer object: RFC 8011 operations over the HTTP front-end.

Supported: Get-Printer-Attributes, Validate-Job, Print-Job, Create-Job + Send-Document,
Get-Jobs, Get-Job-Attributes, Cancel-Job, Cancel-My-Jobs. Every accepted job is held
(``pending-held``) until released at a printer, so jobs never reach ``completed`` here.

Who is asking: the HTTP-authenticated user when the hub's password check accepted one
(a *verified* requester), else the sanitised ``requesting-user-name`` (a *claimed* name,
which anyone can send). The job owner is that name either way, and the record says which it
was (``owner_verified``). What a requester may do with an existing job depends only on
proof, never on a claim:

* A job's private attributes (name, originating user, format, sizes, ticket, times) are
  shown only to its verified owner; everyone else, a claimed owner included, sees the
  public set (id, uri, printer uri, state, state reasons). ``my-jobs`` lists the verified
  requester's jobs, and nothing for a claimed name.
* Cancel-Job and Cancel-My-Jobs need a verified owner. A claimed name gets
  ``client-error-not-authorized``, or, when the queue can authenticate, an HTTP 401
  challenge so the client retries with credentials. Cancel-Jobs (every user's jobs, an
  operator's operation) is not offered.
* Send-Document must come from the name that sent Create-Job, and from a verified requester
  when Create-Job's was verified.

Document data is streamed from the HTTP body into the spool and never held whole in memory.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace

from .analysis import sniff_format
from .credentials import CredentialCache, PasswordCheck
from .errors import (
    IppError,
    IppIncomplete,
    IppParseError,
    IppRequestError,
    JobNotCancelable,
    JobNotFound,
    OwnerRefused,
    SpoolLimitExceeded,
)
from .http_server import BodyReader, HttpError, HttpRequest, HttpResponse
from .ipp_attributes import (
    COLOR_MODES_SUPPORTED,
    COPIES_MAX,
    DOCUMENT_FORMATS,
    JOB_TEMPLATE,
    MEDIA_SUPPORTED,
    SIDES_SUPPORTED,
    PrinterIdentity,
    PrinterUri,
    job_attributes,
    printer_attributes,
    select,
)
from .ipp_codec import (
    IppAttribute,
    IppGroup,
    IppMessage,
    IppValue,
    Tag,
    encode_message,
    parse_message,
    peek_request_id,
)
from .ipp_codes import JobState, Operation, Status
from .jobs import FINAL_STATES, JobRecord, PrintTicket
from .names import clean_job_name, clean_user_name
from .service import IntakeService, Submission
from .spool import SpoolWriter

__all__ = ["IppContext", "IppPrinter"]

log = logging.getLogger(__name__)

_PRINTER_PATH = "/ipp/print"
_HOST_SAFE = re.compile(r"^[A-Za-z0-9.\-\[\]:]{1,255}$")
_PUBLIC_JOB_ATTRIBUTES = frozenset({"job-id", "job-uri", "job-printer-uri", "job-state", "job-state-reasons"})
_DEFAULT_GET_JOBS = {"job-id", "job-uri"}
_NAME_TAGS = (Tag.NAME, Tag.NAME_WITH_LANGUAGE)
_CHARSETS = ("utf-8", "us-ascii")
# Template attributes we accept and ignore (advertised with a single supported value).
_ACCEPTED_TEMPLATE = JOB_TEMPLATE | {"printer-resolution", "page-ranges", "media-col", "job-name"}

Document = AsyncIterator[bytes]


@dataclass(frozen=True)
class Endpoint:
    """A listener the printer is reached on: TLS (``ipps``) or not (``ipp``), and its port."""

    tls: bool
    port: int


@dataclass(frozen=True)
class IppContext:
    """Per-request facts from the transport: the printer URI this request used, the
    printer's URIs (this one first), whether credentials can be asked for on this connection
    (TLS and a queue that authenticates) and the authenticated user, if any."""

    printer_uri: str
    uris: tuple[PrinterUri, ...]
    can_authenticate: bool
    auth_user: str | None


@dataclass(frozen=True)
class Requester:
    """Who sent a request: a sanitised name, whether it was proven (HTTP authentication)
    or merely claimed (``requesting-user-name``), and the hub user it names (None: unknown)."""

    name: str
    verified: bool
    owner: str | None


class _CredentialsNeeded(Exception):
    """The operation needs a verified requester and the queue can authenticate: answer 401."""


# Under ``authentication = "required"``: the operations a client must authenticate for
# (creating and validating jobs, and changing them); the others show public facts only.
_IDENTIFIED_OPERATIONS = frozenset(
    {
        Operation.PRINT_JOB,
        Operation.VALIDATE_JOB,
        Operation.CREATE_JOB,
        Operation.SEND_DOCUMENT,
        Operation.CANCEL_JOB,
        Operation.CANCEL_MY_JOBS,
        Operation.CLOSE_JOB,
    }
)


def _string(value: object) -> str:
    # name/textWithLanguage values are (language, text) pairs.
    return value[1] if isinstance(value, tuple) else str(value)


def _op_attribute(request: IppMessage, name: str, tags: tuple[int, ...]) -> IppAttribute | None:
    """An operation attribute with one value of an allowed syntax; bad-request otherwise."""
    group = request.group(Tag.OPERATION)
    attribute = group.get(name) if group else None
    if attribute is None:
        return None
    if len(attribute.values) != 1 or attribute.tag not in tags:
        raise IppRequestError(f"{name}: wrong syntax or more than one value", Status.BAD_REQUEST)
    return attribute


def _template(request: IppMessage, name: str) -> IppAttribute | None:
    for tag in (Tag.JOB, Tag.OPERATION):
        group = request.group(tag)
        attribute = group.get(name) if group else None
        if attribute is not None:
            return attribute
    return None


class _MalformedRequest(IppParseError):
    def __init__(self, message: str, status: int, request_id: int) -> None:
        super().__init__(message, status)
        self.request_id = request_id


class IppPrinter:
    """Answers IPP requests for one hub queue."""

    def __init__(self, service: IntakeService, passwords: PasswordCheck | None = None) -> None:
        if service.config.authentication != "none" and passwords is None:
            raise ValueError("an IPP queue that authenticates needs the hub's password check")
        self.service = service
        self.credentials = (
            CredentialCache(passwords, service.config.credential_cache_s) if passwords is not None else None
        )
        # The listeners this printer is reached on (the hub or start_intake sets them); a
        # request on another one is answered with its own URI only.
        self.endpoints: list[Endpoint] = []
        self._operations: dict[
            int, Callable[[IppMessage, Document, IppContext, IppMessage], Awaitable[None]]
        ] = {
            Operation.GET_PRINTER_ATTRIBUTES: self._get_printer_attributes,
            Operation.VALIDATE_JOB: self._validate_job,
            Operation.PRINT_JOB: self._print_job,
            Operation.CREATE_JOB: self._create_job,
            Operation.SEND_DOCUMENT: self._send_document,
            Operation.GET_JOBS: self._get_jobs,
            Operation.GET_JOB_ATTRIBUTES: self._get_job_attributes,
            Operation.CANCEL_JOB: self._cancel_job,
            Operation.CANCEL_MY_JOBS: self._cancel_my_jobs,
            Operation.CLOSE_JOB: self._close_job,
            Operation.IDENTIFY_PRINTER: self._identify_printer,
        }

    # ------------------------------------------------------------------ HTTP entry
    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        """Serve one HTTP request carrying an IPP message."""
        if request.method == "GET":
            return HttpResponse(200, f"{self.service.config.printer_info}\n".encode())
        if request.method != "POST":
            return HttpResponse(405, b"only POST carries IPP\n", headers={"Allow": "GET, POST"})
        if not request.header("content-type").lower().startswith("application/ipp"):
            return HttpResponse(415, b"Content-Type must be application/ipp\n")
        can_authenticate = request.tls and self.service.config.authentication != "none"
        auth_user = await self._authenticate(request, can_authenticate)
        if isinstance(auth_user, bool):  # refused (the method never returns True)
            return _challenge(0, "credentials not accepted")
        uris = self._printer_uris(request)
        context = IppContext(uris[0].uri, uris, can_authenticate, auth_user or None)
        try:
            message, leftover = await self._read_message(request.body)
        except _MalformedRequest as error:
            self.service.count("ipp_malformed")
            log.warning("ipp: rejected malformed request from %s: %s", request.peer, error)
            return self._ipp_response(self._error_response(error.request_id, error.status, str(error)))
        try:
            response = await self.dispatch(message, _document(leftover, request.body), context)
        except _CredentialsNeeded:
            self.service.count("auth_challenged")
            return _challenge(message.request_id, "this operation needs a hub username and password")
        return self._ipp_response(response)

    def _ipp_response(self, message: IppMessage) -> HttpResponse:
        return HttpResponse(200, encode_message(message), content_type="application/ipp")

    async def _authenticate(self, request: HttpRequest, can_authenticate: bool) -> str | bool:
        """The authenticated user's name; "" when there are no credentials to check (none
        sent, or none accepted on this connection); False when they are refused."""
        header = request.header("authorization")
        if not header:
            return ""
        if not can_authenticate or self.credentials is None:
            # Plain HTTP never carries a password we accept; a queue that does not
            # authenticate ignores credentials. Either way the requester only claims a name.
            self.service.count("auth_ignored")
            return ""
        scheme, _, token = header.partition(" ")
        try:
            user, _, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        name = clean_user_name(user)
        if scheme.lower() != "basic" or not name or not await self.credentials.verified(user, password):
            self.service.count("auth_failed")
            log.info("ipp: credentials refused from %s", request.peer)  # never the password
            return False
        return name

    def _printer_uris(self, request: HttpRequest) -> tuple[PrinterUri, ...]:
        """This request's printer URI first, then the printer's other listeners' URIs."""
        host = request.header("host")
        if not _HOST_SAFE.match(host):
            host = "localhost"
        authenticates = self.service.config.authentication != "none"
        own = PrinterUri(
            f"{'ipps' if request.tls else 'ipp'}://{host}{_PRINTER_PATH}", request.tls, authenticates
        )
        name, port = _split_host(host)
        others = [
            PrinterUri(f"{'ipps' if e.tls else 'ipp'}://{name}:{e.port}{_PRINTER_PATH}", e.tls, authenticates)
            for e in self.endpoints
            if (e.tls, e.port) != (request.tls, port)
        ]
        return (own, *others)

    async def _read_message(self, body: BodyReader) -> tuple[IppMessage, bytes]:
        """Read body bytes until the IPP header parses; memory stays within the limits."""
        limits = self.service.config.ipp_limits
        buffer = bytearray()
        while True:
            chunk = await body.read()
            buffer += chunk
            try:
                message, offset = parse_message(bytes(buffer), limits)
            except IppIncomplete as error:
                if not chunk:
                    raise _MalformedRequest(str(error), Status.BAD_REQUEST, peek_request_id(buffer)) from None
                continue
            except IppParseError as error:
                raise _MalformedRequest(str(error), error.status, peek_request_id(buffer)) from None
            return message, bytes(buffer[offset:])

    # ------------------------------------------------------------------ dispatch
    def _error_response(self, request_id: int, status: int, message: str) -> IppMessage:
        response = IppMessage((1, 1), status, request_id)
        group = response.new_group(Tag.OPERATION)
        group.add("attributes-charset", Tag.CHARSET, "utf-8")
        group.add("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")
        group.add("status-message", Tag.TEXT, message[:255])
        return response

    async def dispatch(self, request: IppMessage, document: Document, context: IppContext) -> IppMessage:
        """Run one operation and return its response (errors become IPP statuses)."""
        version = request.version if request.version[0] in (1, 2) else (1, 1)
        response = self._error_response(request.request_id, Status.OK, "successful-ok")
        response.version = version
        try:
            self._check_common(request)
            if (
                context.can_authenticate
                and context.auth_user is None
                and self.service.config.authentication == "required"
                and request.code in _IDENTIFIED_OPERATIONS
            ):
                raise _CredentialsNeeded
            operation = self._operations.get(request.code)
            if operation is None:
                raise IppRequestError(
                    f"operation 0x{request.code:04x} not supported", Status.OPERATION_NOT_SUPPORTED
                )
            await operation(request, document, context, response)
        except IppError as error:
            self._fail(response, error.status, str(error))
        except OwnerRefused as error:
            self._fail(response, Status.NOT_AUTHORIZED, str(error))
        except SpoolLimitExceeded as error:
            status = Status.REQUEST_ENTITY_TOO_LARGE if error.kind == "bytes" else Status.TOO_MANY_JOBS
            self._fail(response, status, str(error))
        except (HttpError, _CredentialsNeeded):
            raise  # answered at the HTTP level: a broken upload, or a 401 challenge
        except Exception:  # a bug or a registry/disk failure must not kill the listener
            log.exception("ipp: operation 0x%04x failed", request.code)
            self._fail(response, Status.INTERNAL_ERROR, "internal error")
        return response

    def _fail(self, response: IppMessage, status: int, message: str) -> None:
        self.service.count(f"ipp_status_0x{status:04x}")
        log.info("ipp: request %d answered 0x%04x: %s", response.request_id, status, message)
        response.code = status
        operation = response.groups[0]
        operation.attributes[2] = IppAttribute("status-message", [IppValue(Tag.TEXT, message[:255])])
        response.groups = [
            group for group in response.groups if group.tag in (Tag.OPERATION, Tag.UNSUPPORTED_GROUP)
        ]

    def _check_common(self, request: IppMessage) -> None:
        """RFC 8011 section 4.1: version, request-id, charset and language first."""
        if request.version[0] not in (1, 2):
            raise IppRequestError(
                f"IPP version {request.version} not supported", Status.VERSION_NOT_SUPPORTED
            )
        if request.request_id <= 0:
            raise IppRequestError("request-id must be positive", Status.BAD_REQUEST)
        operation_groups = [g for g in request.groups if g.tag == Tag.OPERATION]
        if len(operation_groups) != 1 or request.groups[0] is not operation_groups[0]:
            raise IppRequestError("exactly one operation group must come first", Status.BAD_REQUEST)
        attributes = operation_groups[0].attributes
        if (
            len(attributes) < 2
            or (attributes[0].name, attributes[0].tag) != ("attributes-charset", Tag.CHARSET)
            or (attributes[1].name, attributes[1].tag)
            != ("attributes-natural-language", Tag.NATURAL_LANGUAGE)
        ):
            raise IppRequestError(
                "attributes-charset and attributes-natural-language must come first", Status.BAD_REQUEST
            )
        if str(attributes[0].first).lower() not in _CHARSETS:
            raise IppRequestError(
                f"charset {attributes[0].first!r} not supported", Status.CHARSET_NOT_SUPPORTED
            )
        if (
            _op_attribute(request, "printer-uri", (Tag.URI,)) is None
            and _op_attribute(request, "job-uri", (Tag.URI,)) is None
        ):
            raise IppRequestError("printer-uri is required", Status.BAD_REQUEST)

    # ------------------------------------------------------------------ helpers
    def _requester(self, request: IppMessage, context: IppContext) -> Requester:
        if context.auth_user:
            name, verified = context.auth_user, True
        else:
            attribute = _op_attribute(request, "requesting-user-name", _NAME_TAGS)
            name, verified = (clean_user_name(_string(attribute.first)) if attribute else ""), False
        owner = self.service.registry.resolve_owner(name) if name else None
        return Requester(name, verified, owner)

    def _names(self, record: JobRecord, requester: Requester) -> bool:
        """``requester``'s name is the job's owner (for an unclaimed job: its submitter)."""
        if record.owner is None:
            return bool(requester.name) and requester.name == record.submitted_by
        return requester.owner == record.owner

    def _owns(self, record: JobRecord, requester: Requester) -> bool:
        """``requester`` proved to be the job's owner; a claimed name never owns a job."""
        return requester.verified and self._names(record, requester)

    def _require_verified(self, requester: Requester, context: IppContext, what: str) -> None:
        """Refuse a merely claimed requester: 401 when the queue can authenticate, so the
        client retries with credentials; otherwise not-authorized with what to do instead."""
        if requester.verified:
            return
        if context.can_authenticate:
            raise _CredentialsNeeded
        self.service.count("ipp_claim_refused")
        raise IppRequestError(
            f"{what} needs an authenticated user and this queue does not authenticate IPP"
            " clients: delete held jobs at a printgate terminal or on the web page",
            Status.NOT_AUTHORIZED,
        )

    def _unsupported(self, response: IppMessage, attribute: IppAttribute) -> None:
        group = response.group(Tag.UNSUPPORTED_GROUP) or response.new_group(Tag.UNSUPPORTED_GROUP)
        group.attributes.append(attribute)

    def _ticket(self, request: IppMessage, response: IppMessage) -> PrintTicket:
        """Job template attributes; unsupported values go to the unsupported group."""
        copies = _template(request, "copies")
        sides = _template(request, "sides")
        color = _template(request, "print-color-mode")
        media = _template(request, "media")
        ticket = PrintTicket()
        rejected: list[IppAttribute] = []
        if copies is not None:
            if (
                copies.tag == Tag.INTEGER
                and isinstance(copies.first, int)
                and 1 <= copies.first <= COPIES_MAX
            ):
                ticket = replace(ticket, copies=copies.first)
            else:
                rejected.append(copies)
        chosen: dict[str, str] = {}
        for attribute, allowed in (
            (sides, SIDES_SUPPORTED),
            (color, COLOR_MODES_SUPPORTED),
            (media, MEDIA_SUPPORTED),
        ):
            if attribute is None:
                continue
            if attribute.tag in (Tag.KEYWORD, Tag.NAME) and attribute.first in allowed:
                chosen[attribute.name] = str(attribute.first)
            else:
                rejected.append(attribute)
        ticket = replace(
            ticket,
            sides=chosen.get("sides", ticket.sides),
            print_color_mode=chosen.get("print-color-mode", ticket.print_color_mode),
            media=chosen.get("media", ticket.media),
        )
        job_group = request.group(Tag.JOB)
        for attribute in job_group.attributes if job_group else []:
            if attribute.name not in _ACCEPTED_TEMPLATE:
                rejected.append(attribute)
        self._reject_or_ignore(request, response, rejected)
        return ticket

    def _reject_or_ignore(
        self, request: IppMessage, response: IppMessage, rejected: list[IppAttribute]
    ) -> None:
        if not rejected:
            return
        for attribute in rejected:
            self._unsupported(response, attribute)
        fidelity = _op_attribute(request, "ipp-attribute-fidelity", (Tag.BOOLEAN,))
        names = ", ".join(a.name for a in rejected)
        if fidelity is not None and fidelity.first is True:
            raise IppRequestError(f"unsupported: {names}", Status.ATTRIBUTES_OR_VALUES_NOT_SUPPORTED)
        response.code = Status.OK_IGNORED_OR_SUBSTITUTED

    def _submission(
        self, request: IppMessage, context: IppContext, response: IppMessage
    ) -> tuple[Submission, str | None]:
        """Validate a job-creating request and resolve its owner (Validate-Job does only this)."""
        compression = _op_attribute(request, "compression", (Tag.KEYWORD,))
        if compression is not None and compression.first != "none":
            self._unsupported(response, compression)
            raise IppRequestError(
                f"compression {compression.first!r} not supported", Status.COMPRESSION_NOT_SUPPORTED
            )
        document_format = self._document_format(request, response)
        job_name = _op_attribute(request, "job-name", _NAME_TAGS) or _op_attribute(
            request, "document-name", _NAME_TAGS
        )
        requester = self._requester(request, context)
        ticket = self._ticket(request, response)
        submission = Submission(
            submitted_by=requester.name or "anonymous",
            job_name=clean_job_name(_string(job_name.first)) if job_name else "untitled",
            document_format=document_format,
            source="ipp",
            ticket=ticket,
            verified=requester.verified,
        )
        return submission, self.service.resolve(requester.name)

    def _document_format(self, request: IppMessage, response: IppMessage) -> str:
        attribute = _op_attribute(request, "document-format", (Tag.MIME_MEDIA_TYPE,))
        if attribute is None:
            return "application/octet-stream"
        if str(attribute.first).lower() not in DOCUMENT_FORMATS:
            self._unsupported(response, attribute)
            raise IppRequestError(
                f"document-format {attribute.first!r} not supported", Status.DOCUMENT_FORMAT_NOT_SUPPORTED
            )
        return str(attribute.first).lower()

    def _job_group(self, response: IppMessage, record: JobRecord, context: IppContext) -> None:
        group = response.new_group(Tag.JOB)
        wanted = {"job-id", "job-uri", "job-state", "job-state-reasons", "job-state-message"}
        group.attributes.extend(
            a
            for a in job_attributes(record, context.printer_uri, self.service.started_at_s)
            if a.name in wanted
        )

    def _target_job(self, request: IppMessage) -> JobRecord:
        job_id_attribute = _op_attribute(request, "job-id", (Tag.INTEGER,))
        job_uri = _op_attribute(request, "job-uri", (Tag.URI,))
        if job_id_attribute is not None and isinstance(job_id_attribute.first, int):
            job_id = job_id_attribute.first
        elif job_uri is not None and str(job_uri.first).rsplit("/", 1)[-1].isdigit():
            job_id = int(str(job_uri.first).rsplit("/", 1)[-1])
        else:
            raise IppRequestError("job-id or job-uri is required", Status.BAD_REQUEST)
        record = self.service.registry.get_job(job_id)
        if record is None:
            raise IppRequestError(f"job {job_id} does not exist", Status.NOT_FOUND)
        return record

    def _requested(self, request: IppMessage, default: set[str] | None) -> set[str] | None:
        group = request.group(Tag.OPERATION)
        attribute = group.get("requested-attributes") if group else None
        if attribute is None:
            return default
        if any(value.tag != Tag.KEYWORD for value in attribute.values):
            raise IppRequestError("requested-attributes must be keywords", Status.BAD_REQUEST)
        return {str(value.value) for value in attribute.values}

    # ------------------------------------------------------------------ operations
    async def _get_printer_attributes(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        service = self.service
        queued = sum(1 for r in service.registry.list_jobs() if r.state not in FINAL_STATES)
        now = service.clock()
        attributes = printer_attributes(
            context.uris,
            identity=PrinterIdentity(
                name=service.config.printer_name,
                info=service.config.printer_info,
                location=service.config.printer_location,
                make_and_model=service.config.printer_make_and_model,
                organization=service.config.printer_organization,
                organizational_unit=service.config.printer_organizational_unit,
                geo_location=service.config.printer_geo_location,
            ),
            up_time_s=int(now - service.started_at_s) + 1,
            queued_jobs=queued,
            now_s=now,
            multiple_operation_timeout_s=int(service.config.multiple_operation_timeout_s),
            job_kilobytes_max=service.spool.limits.job_bytes_max // 1024,
        )
        response.new_group(Tag.PRINTER).attributes.extend(select(attributes, self._requested(request, None)))

    async def _validate_job(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        self._submission(request, context, response)

    async def _print_job(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        submission, owner = self._submission(request, context, response)
        first = await anext(document, b"")
        if not first:
            raise IppRequestError("Print-Job without document data", Status.BAD_REQUEST)
        submission = replace(submission, document_format=_stored_format(submission.document_format, first))
        with self.service.open_writer(owner, submission.submitted_by) as writer:
            writer.write(first)
            await self._stream(writer, document)
            record = self.service.add_stored_job(self.service.new_record(submission, owner), writer)
        self._job_group(response, record, context)

    async def _stream(self, writer: SpoolWriter, document: Document) -> None:
        try:
            await self.service.write_stream(writer, document)
        except HttpError:
            self.service.count("upload_aborted")
            raise

    async def _create_job(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        submission, owner = self._submission(request, context, response)
        self.service.spool.check_room(self.service.owner_key(owner, submission.submitted_by), 0, extra_jobs=1)
        record = self.service.new_record(submission, owner)
        record.state_reasons = ("job-incoming",)
        record.expires_at_s = record.created_at_s + self.service.config.multiple_operation_timeout_s
        record.job_id = self.service.registry.add_job(record)
        self._job_group(response, record, context)

    async def _send_document(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        last = _op_attribute(request, "last-document", (Tag.BOOLEAN,))
        if last is None:
            raise IppRequestError("last-document is required", Status.BAD_REQUEST)
        record = self._target_job(request)
        requester = self._requester(request, context)
        if not self._names(record, requester):
            raise IppRequestError(f"job {record.job_id} belongs to another user", Status.NOT_AUTHORIZED)
        if record.owner_verified:
            self._require_verified(requester, context, "adding a document to an authenticated user's job")
        if record.state in FINAL_STATES:
            raise IppRequestError(f"job {record.job_id} is already finished", Status.NOT_POSSIBLE)
        document_format = self._document_format(request, response)
        first = await anext(document, b"")
        if record.spool_id is not None:
            if first:
                raise IppRequestError("one document per job", Status.MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED)
        elif first:
            with self.service.open_writer(record.owner, record.submitted_by) as writer:
                writer.write(first)
                await self._stream(writer, document)
                record = self.service.attach_document(record, writer, _stored_format(document_format, first))
        self._job_group(response, record, context)

    async def _get_jobs(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        which = _op_attribute(request, "which-jobs", (Tag.KEYWORD,))
        which_jobs = str(which.first) if which else "not-completed"
        if which is not None and which_jobs not in ("completed", "not-completed", "all"):
            self._unsupported(response, which)
            raise IppRequestError(
                f"which-jobs {which_jobs!r} not supported", Status.ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
            )
        my_jobs = _op_attribute(request, "my-jobs", (Tag.BOOLEAN,))
        limit = _op_attribute(request, "limit", (Tag.INTEGER,))
        requester = self._requester(request, context)
        requested = self._requested(request, _DEFAULT_GET_JOBS)
        records = [r for r in self.service.registry.list_jobs() if _matches_which(r, which_jobs)]
        if my_jobs is not None and my_jobs.first is True:
            records = [r for r in records if self._owns(r, requester)]
        if limit is not None and isinstance(limit.first, int) and limit.first > 0:
            records = records[: limit.first]
        for record in records:
            self._add_job_attributes(response, record, context, requested, self._owns(record, requester))

    def _add_job_attributes(
        self,
        response: IppMessage,
        record: JobRecord,
        context: IppContext,
        requested: set[str] | None,
        own: bool,
    ) -> None:
        attributes = select(job_attributes(record, context.printer_uri, self.service.started_at_s), requested)
        if not own:
            attributes = [a for a in attributes if a.name in _PUBLIC_JOB_ATTRIBUTES]
        response.groups.append(IppGroup(Tag.JOB, attributes))

    async def _get_job_attributes(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        record = self._target_job(request)
        own = self._owns(record, self._requester(request, context))
        self._add_job_attributes(response, record, context, self._requested(request, None), own)

    async def _cancel_job(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        record = self._target_job(request)
        requester = self._requester(request, context)
        self._require_verified(requester, context, "Cancel-Job")
        if not self._owns(record, requester):
            raise IppRequestError(f"job {record.job_id} belongs to another user", Status.NOT_AUTHORIZED)
        self._cancel(record, requester)

    def _cancel(self, record: JobRecord, requester: Requester) -> None:
        try:
            self.service.cancel(record.job_id, record.owner if record.owner is not None else requester.name)
        except JobNotFound:
            raise IppRequestError(f"job {record.job_id} does not exist", Status.NOT_FOUND) from None
        except JobNotCancelable as error:
            status = Status.NOT_AUTHORIZED if error.not_owner else Status.NOT_POSSIBLE
            raise IppRequestError(str(error), status) from None

    async def _close_job(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        """PWG 5100.11: no more documents for this job. A job holds one document, so a job
        that has it is closed already; one closed before its document came is cancelled (there
        is nothing to release), as the multiple-operation time-out would abort it."""
        record = self._target_job(request)
        requester = self._requester(request, context)
        if not self._names(record, requester):
            raise IppRequestError(f"job {record.job_id} belongs to another user", Status.NOT_AUTHORIZED)
        if record.owner_verified:
            self._require_verified(requester, context, "closing an authenticated user's job")
        if record.spool_id is None and record.state not in FINAL_STATES:
            self._cancel(record, requester)
        self._job_group(response, self.service.registry.get_job(record.job_id) or record, context)

    async def _identify_printer(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        """PWG 5100.11: the queue has no panel of its own; the request is logged and counted
        (``identify_requested``) for the admin, and only "display" is accepted."""
        actions = _op_attribute(request, "identify-actions", (Tag.KEYWORD,))
        if actions is not None and any(str(value.value) != "display" for value in actions.values):
            self._unsupported(response, actions)
            raise IppRequestError(
                "identify-actions supports only display", Status.ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
            )
        self.service.count("identify_requested")
        log.info("ipp: Identify-Printer requested")

    async def _cancel_my_jobs(
        self, request: IppMessage, document: Document, context: IppContext, response: IppMessage
    ) -> None:
        """PWG 5100.11: cancel the verified requester's held jobs, or only those in ``job-ids``
        (all of them or none: if one is not the requester's held job, nothing is cancelled
        and the offending ids are returned as unsupported)."""
        requester = self._requester(request, context)
        self._require_verified(requester, context, "Cancel-My-Jobs")
        mine = {
            record.job_id: record
            for record in self.service.registry.list_jobs(requester.owner)
            if record.state == JobState.PENDING_HELD and self._owns(record, requester)
        }
        group = request.group(Tag.OPERATION)
        job_ids = group.get("job-ids") if group else None
        targets = list(mine.values())
        if job_ids is not None:
            wanted = [value.value for value in job_ids.values if isinstance(value.value, int)]
            if job_ids.tag != Tag.INTEGER or len(wanted) != len(job_ids.values):
                raise IppRequestError("job-ids must be integers", Status.BAD_REQUEST)
            refused = [job_id for job_id in wanted if job_id not in mine]
            if refused:
                self._unsupported(
                    response, IppAttribute("job-ids", [IppValue(Tag.INTEGER, i) for i in refused])
                )
                raise IppRequestError(
                    f"jobs {', '.join(map(str, refused))} are not your held jobs; nothing was cancelled",
                    Status.NOT_POSSIBLE,
                )
            targets = [mine[job_id] for job_id in dict.fromkeys(wanted)]
        for record in targets:
            self._cancel(record, requester)


def _challenge(request_id: int, message: str) -> HttpResponse:
    """HTTP 401 asking for Basic credentials (CUPS then asks its user for them), with an IPP
    response saying client-error-not-authenticated for clients that read the body."""
    response = IppMessage((1, 1), Status.NOT_AUTHENTICATED, request_id)
    group = response.new_group(Tag.OPERATION)
    group.add("attributes-charset", Tag.CHARSET, "utf-8")
    group.add("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")
    group.add("status-message", Tag.TEXT, message)
    return HttpResponse(
        401,
        encode_message(response),
        content_type="application/ipp",
        headers={"WWW-Authenticate": 'Basic realm="printgate", charset="UTF-8"'},
    )


def _split_host(host: str) -> tuple[str, int | None]:
    """``name:port`` / ``[v6]:port`` / ``name`` into the name and the port (None: default)."""
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and (not name.startswith("[") or name.endswith("]")):
        return name, int(port)
    return host, None


def _matches_which(record: JobRecord, which_jobs: str) -> bool:
    if which_jobs == "all":
        return True
    return (record.state in FINAL_STATES) == (which_jobs == "completed")


def _stored_format(requested: str, head: bytes) -> str:
    """The submitter's format, or the sniffed one when it sent octet-stream."""
    return sniff_format(head) if requested == "application/octet-stream" else requested


async def _document(leftover: bytes, body: BodyReader) -> AsyncIterator[bytes]:
    if leftover:
        yield leftover
    while chunk := await body.read():
        yield chunk
