"""Web print: a document a user uploaded in the portal becomes a held job through the same
intake path as IPP and LPD (spool limits, encryption at rest, background analysis with the
intake's Ghostscript limits). The owner is the logged-in user: verified, not claimed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from hub_server.errors import PermissionDenied, QuotaExceeded
from hub_server.intake import IntakeService, OwnerRefused, PrintTicket, SpoolLimitExceeded, Submission

__all__ = ["PrintUploads"]

SOURCE = "web"


class PrintUploads:
    """Submits uploaded documents to print intake."""

    def __init__(self, service: IntakeService) -> None:
        self._service = service

    async def submit(
        self, username: str, job_name: str, document_format: str, chunks: AsyncIterator[bytes]
    ) -> int:
        """Store ``chunks`` as a held job of ``username``; returns its job id. Nothing is kept
        of a refused upload: over the spool's limits :class:`QuotaExceeded`, a user intake
        does not know :class:`PermissionDenied`; an exception from ``chunks`` (the upload's own
        bound) goes through unchanged."""
        submission = Submission(
            submitted_by=username,
            job_name=job_name,
            document_format=document_format,
            source=SOURCE,
            ticket=PrintTicket(),
            verified=True,
        )
        try:
            owner = self._service.resolve(username)
            with self._service.open_writer(owner, username) as writer:
                await self._service.write_stream(writer, chunks)
                record = self._service.add_stored_job(self._service.new_record(submission, owner), writer)
        except SpoolLimitExceeded as error:
            raise QuotaExceeded(f"not enough room for this document: {error}") from None
        except OwnerRefused as error:
            raise PermissionDenied(str(error)) from None
        return record.job_id
