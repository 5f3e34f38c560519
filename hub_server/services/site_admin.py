"""The hub side of SiteAdminService: sites, which printers and users belong to each, and
whether a site's jobs roam, for admins (every call checks the admin credential first)."""

from __future__ import annotations

import grpc
from printgate.v1 import sites_pb2, sites_pb2_grpc

from hub_server.domain import Hub
from hub_server.domain.sites import Site
from hub_server.services.common import requires_admin, translate_errors

__all__ = ["SiteAdminServicer"]


def _site(site: Site) -> sites_pb2.Site:
    return sites_pb2.Site(
        name=site.name,
        roaming=site.roaming,
        printers=list(site.printers),
        users=site.users,
        held_jobs=site.held_jobs,
    )


@translate_errors
@requires_admin
class SiteAdminServicer(sites_pb2_grpc.SiteAdminServiceServicer):
    """Sites and what belongs to them."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def SaveSite(self, request: sites_pb2.Site, context: grpc.aio.ServicerContext) -> sites_pb2.Site:
        return _site(await self.hub.sites.save(request.name, request.roaming))

    async def ListSites(
        self, request: sites_pb2.ListSitesRequest, context: grpc.aio.ServicerContext
    ) -> sites_pb2.ListSitesResponse:
        return sites_pb2.ListSitesResponse(sites=[_site(site) for site in self.hub.sites.list()])

    async def RemoveSite(
        self, request: sites_pb2.SiteRef, context: grpc.aio.ServicerContext
    ) -> sites_pb2.RemoveSiteResponse:
        await self.hub.sites.remove(request.name)
        return sites_pb2.RemoveSiteResponse()

    async def PlacePrinter(
        self, request: sites_pb2.Placement, context: grpc.aio.ServicerContext
    ) -> sites_pb2.Placement:
        await self.hub.sites.place_printer(request.name, request.site)
        return request

    async def PlaceUser(
        self, request: sites_pb2.Placement, context: grpc.aio.ServicerContext
    ) -> sites_pb2.Placement:
        await self.hub.sites.place_user(request.name, request.site)
        return request
