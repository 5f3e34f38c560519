"""The hub side of JobRulesService: the job rules for admins (every call checks the admin
credential first; the domain writes every change to the audit log)."""

from __future__ import annotations

import json

import grpc
from printgate.v1 import admin_pb2, admin_pb2_grpc

from hub_server.domain import Hub
from hub_server.domain.rules_store import JobFacts
from hub_server.services.common import requires_admin, translate_errors

__all__ = ["JobRulesServicer"]


@translate_errors
@requires_admin
class JobRulesServicer(admin_pb2_grpc.JobRulesServiceServicer):
    """List, add, remove, move and try the job rules."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def _listed(self) -> admin_pb2.JobRuleList:
        return admin_pb2.JobRuleList(
            rules=[
                admin_pb2.JobRule(
                    position=stored.position,
                    name=stored.rule.name,
                    rule_json=json.dumps(stored.rule.to_json(), sort_keys=True),
                )
                for stored in self.hub.rules.in_order()
            ]
        )

    async def ListJobRules(
        self, request: admin_pb2.ListJobRulesRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.JobRuleList:
        return self._listed()

    async def AddJobRule(
        self, request: admin_pb2.AddJobRuleRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.JobRuleList:
        await self.hub.rules.add(request.rule_json, request.position)
        return self._listed()

    async def RemoveJobRule(
        self, request: admin_pb2.JobRuleRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.JobRuleList:
        await self.hub.rules.remove(request.name)
        return self._listed()

    async def MoveJobRule(
        self, request: admin_pb2.MoveJobRuleRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.JobRuleList:
        await self.hub.rules.move(request.name, request.position)
        return self._listed()

    async def TestJobRules(
        self, request: admin_pb2.JobRulesTestRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.JobRuling:
        facts = JobFacts(
            pages=request.pages,
            copies=request.copies or 1,
            color_pages=request.color_pages,
            size_bytes=request.size_bytes,
            job_name=request.job_name,
            user=request.user,
            groups=frozenset(request.groups),
            queue=request.queue,
            source=request.source or "ipp",
            application=request.application,
            duplex=request.duplex,
            mono=request.mono,
        )
        ruling, groups = self.hub.rules.test(facts)
        return admin_pb2.JobRuling(
            deleted=ruling.deleted,
            duplex=ruling.duplex,
            mono=ruling.mono,
            copies=ruling.copies,
            printer_group=ruling.printer_group,
            fired=list(ruling.fired),
            reason=ruling.reason,
            notices=list(ruling.notices),
            groups=sorted(groups),
        )
