"""``printgate admin site ...``: the sites one hub cluster serves, the printers (and their
terminals) and users at each, and whether a site's jobs roam (SiteAdminService, docs/scale.md)."""

from __future__ import annotations

from printgate.v1 import sites_pb2

from admin_cli.render import record_of, said, table_of
from admin_cli.verbs import Verb, VerbTable

__all__ = ["add_verbs"]

SITE_COLUMNS = ("name", "roaming", "printers", "users", "held_jobs")


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("site", "sites: printers and users per site, job roaming")
    save = verbs.add(
        "save",
        "create a site, or set whether its jobs roam to other sites",
        Verb(
            "SaveSite",
            lambda a: sites_pb2.Site(name=a.name, roaming=not a.no_roaming),
            record_of(SITE_COLUMNS),
            service="sites",
        ),
        "name",
    )
    save.add_argument("--no-roaming", action="store_true", help="its jobs print only at its own terminals")
    verbs.add(
        "list",
        "list the sites",
        Verb(
            "ListSites",
            lambda a: sites_pb2.ListSitesRequest(),
            table_of("sites", SITE_COLUMNS),
            service="sites",
        ),
    )
    verbs.add(
        "remove",
        "remove a site nothing belongs to any more",
        Verb(
            "RemoveSite",
            lambda a: sites_pb2.SiteRef(name=a.name),
            said("site {name} removed"),
            service="sites",
        ),
        "name",
    )
    printer = verbs.add(
        "printer",
        "put a printer (and the terminals beside it) at a site",
        Verb(
            "PlacePrinter",
            lambda a: sites_pb2.Placement(name=a.printer, site=a.site or ""),
            lambda reply, a: f"{a.printer} is at site {a.site}" if a.site else f"{a.printer} is at no site",
            service="sites",
        ),
        "printer",
    )
    printer.add_argument("site", nargs="?", help="the site (none: take it out of any)")
    user = verbs.add(
        "user",
        "give a user a home site",
        Verb(
            "PlaceUser",
            lambda a: sites_pb2.Placement(name=a.username, site=a.site or ""),
            lambda reply, a: f"{a.username}'s site is {a.site}" if a.site else f"{a.username} has no site",
            service="sites",
        ),
        "username",
    )
    user.add_argument("site", nargs="?", help="the site (none: take it away)")
