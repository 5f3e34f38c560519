"""Sites: the campuses, buildings or branch offices one hub cluster serves.

A printer belongs to at most one site, and the terminal beside it with it; a user has at most
one home site (for the admin's lists); a held job belongs to the site whose hub replica took it
in (``[hub] site`` of that replica: its IPP/LPD intake, web uploads and mail). Nothing belongs to
a site by default: a hub without sites works as before.

**Job roaming.** A job is listed and released at any terminal of the cluster, whatever site
it was printed into, unless its site has ``roaming`` off: then only the terminals of that site
see it. The rule is one SQL condition (:func:`releasable_here`) that the job list and the release
both use, so what a terminal lists is exactly what it may release.

Reports: usage by site (the site of the printer where the pages were made) is a report
dimension beside user, department, project, printer and day.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub_server.clock import Clock
from hub_server.domain import validation
from hub_server.domain.store import Store
from hub_server.domain.users import USERNAME_IS
from hub_server.errors import NotFound, Refused
from hub_server.storage import Component, Tx

__all__ = ["SITES", "Site", "Sites", "releasable_here", "stamp_job"]

SITES = Component(
    "sites",
    [
        [
            """CREATE TABLE sites (
                id {id},
                name TEXT NOT NULL UNIQUE,
                roaming INTEGER NOT NULL DEFAULT 1,
                created_us BIGINT NOT NULL
            )""",
            """CREATE TABLE site_printers (
                printer_id BIGINT PRIMARY KEY REFERENCES printers(id),
                site_id BIGINT NOT NULL REFERENCES sites(id)
            )""",
            """CREATE TABLE site_users (
                user_id BIGINT PRIMARY KEY REFERENCES users(id),
                site_id BIGINT NOT NULL REFERENCES sites(id)
            )""",
            """CREATE TABLE site_jobs (
                job_id BIGINT PRIMARY KEY REFERENCES print_jobs(id),
                site_id BIGINT NOT NULL REFERENCES sites(id)
            )""",
            "CREATE INDEX site_printers_site ON site_printers (site_id)",
            "CREATE INDEX site_users_site ON site_users (site_id)",
        ]
    ],
)


def releasable_here(job: str = "j", terminal: str = ":terminal") -> str:
    """SQL: job ``job`` may be listed and released at terminal ``terminal`` (see the module
    docstring): it has no site, its site roams, or the terminal's printer is at its site."""
    return f"""NOT EXISTS (
        SELECT 1 FROM site_jobs sj JOIN sites s ON s.id = sj.site_id
        WHERE sj.job_id = {job}.id AND s.roaming = 0 AND sj.site_id NOT IN (
            SELECT sp.site_id FROM terminals td JOIN site_printers sp ON sp.printer_id = td.printer_id
            WHERE td.id = {terminal}))"""


def stamp_job(tx: Tx, job_id: int, site: str) -> None:
    """Record that this hub's site took job ``job_id`` in (nothing when ``site`` is "")."""
    if site:
        tx.execute(
            "INSERT INTO site_jobs (job_id, site_id) SELECT :j, id FROM sites WHERE name = :s",
            {"j": job_id, "s": site},
        )


@dataclass(frozen=True)
class Site:
    """A site, what belongs to it, and whether its jobs roam."""

    name: str
    roaming: bool
    printers: tuple[str, ...] = ()
    users: int = 0
    held_jobs: int = 0


def _site_id(tx: Tx, name: str) -> int:
    found = tx.scalar("SELECT id FROM sites WHERE name = :n", {"n": name})
    if found is None:
        raise NotFound(f"no site {name!r}")
    return int(found)


def _site(tx: Tx, row_id: int, name: str, roaming: bool) -> Site:
    printers = tx.execute(
        "SELECT p.name FROM site_printers sp JOIN printers p ON p.id = sp.printer_id"
        " WHERE sp.site_id = :s ORDER BY p.name",
        {"s": row_id},
    )
    users = tx.scalar("SELECT COUNT(*) FROM site_users WHERE site_id = :s", {"s": row_id})
    held = tx.scalar(
        "SELECT COUNT(*) FROM site_jobs sj JOIN print_jobs j ON j.id = sj.job_id"
        " WHERE sj.site_id = :s AND j.state = 'held'",
        {"s": row_id},
    )
    return Site(name, roaming, tuple(str(r["name"]) for r in printers), int(users or 0), int(held or 0))


_PRINTER_IS = "SELECT id FROM printers WHERE name = :n"
_USER_IS = f"SELECT id FROM users WHERE {USERNAME_IS}"


def _place(tx: Tx, table: str, column: str, find_owner: str, owner: str, site: str) -> None:
    """Move the printer or user ``owner`` (found by ``find_owner``) to ``site`` ("" to none)."""
    owner_id = tx.scalar(find_owner, {"n": owner, "u": owner})
    if owner_id is None:
        raise NotFound(f"no {column.removesuffix('_id')} {owner!r}")
    tx.execute(f"DELETE FROM {table} WHERE {column} = :o", {"o": owner_id})
    if site:
        tx.execute(
            f"INSERT INTO {table} ({column}, site_id) VALUES (:o, :s)",
            {"o": owner_id, "s": _site_id(tx, site)},
        )


class Sites:
    """The admin's use cases on sites, and the hub's own site (``[hub] site``)."""

    def __init__(self, store: Store, clock: Clock, own_site: str = "") -> None:
        self._store = store
        self._clock = clock
        self.own_site = own_site

    def ensure_own_site(self) -> bool:
        """Create the site this replica names (``[hub] site``) when it does not exist yet; True
        when it was created."""
        if not self.own_site:
            return False
        validation.require(validation.CODE, self.own_site, "[hub] site")

        def create(tx: Tx) -> bool:
            made = tx.scalar(  # no row back: the site was there already
                "INSERT INTO sites (name, roaming, created_us) VALUES (:n, 1, :t)"
                " ON CONFLICT (name) DO NOTHING RETURNING id",
                {"n": self.own_site, "t": self._clock.now_us()},
            )
            return made is not None

        return self._store.write_sync(create)

    async def save(self, name: str, roaming: bool) -> Site:
        """Create a site, or set whether its jobs roam."""
        validation.require(validation.CODE, name, "site name")

        def save(tx: Tx) -> Site:
            tx.execute(
                "INSERT INTO sites (name, roaming, created_us) VALUES (:n, :r, :t)"
                " ON CONFLICT (name) DO UPDATE SET roaming = :r",
                {"n": name, "r": int(roaming), "t": self._clock.now_us()},
            )
            return _site(tx, _site_id(tx, name), name, roaming)

        return await self._store.write(save)

    def list(self) -> list[Site]:
        """Every site, by name."""

        def read(tx: Tx) -> list[Site]:
            rows = tx.execute("SELECT id, name, roaming FROM sites ORDER BY name")
            return [_site(tx, int(r["id"]), str(r["name"]), bool(r["roaming"])) for r in rows]

        return self._store.read(read)

    async def remove(self, name: str) -> None:
        """Remove a site nothing belongs to any more (printers, users and held jobs moved first)."""

        def remove(tx: Tx) -> None:
            site_id = _site_id(tx, name)
            if name == self.own_site:
                raise Refused(f"site {name!r} is this hub's own ([hub] site)")
            used = tx.scalar(
                """SELECT (SELECT COUNT(*) FROM site_printers WHERE site_id = :s)
                        + (SELECT COUNT(*) FROM site_users WHERE site_id = :s)""",
                {"s": site_id},
            )
            if used:
                raise Refused(f"site {name!r} still has printers or users: move them first")
            tx.execute("DELETE FROM site_jobs WHERE site_id = :s", {"s": site_id})  # they roam now
            tx.execute("DELETE FROM sites WHERE id = :s", {"s": site_id})

        await self._store.write(remove)

    async def place_printer(self, printer: str, site: str) -> None:
        """Put a printer (and the terminals beside it) at ``site``; "" takes it out of any."""
        await self._store.write(
            lambda tx: _place(tx, "site_printers", "printer_id", _PRINTER_IS, printer, site)
        )

    async def place_user(self, username: str, site: str) -> None:
        """Give a user a home site; "" takes it away."""
        await self._store.write(lambda tx: _place(tx, "site_users", "user_id", _USER_IS, username, site))
