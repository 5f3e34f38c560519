"""The scan intake over the hub's tables: which printers may send scans, the scan profiles, who
is logged in at which printer (the :class:`~hub_server.scan.SessionLocator`), scan charges
through the ledger (the :class:`~hub_server.scan.ScanMeter`) and the scan log.

Its tables are the ``scan`` component of the hub's migrations (:data:`SCAN`):

* ``scan_printers``: a printer (by the name it has in ``printers``) allowed to send scans, its
  addresses and optional SMTP login with an argon2 hash;
* ``scan_profiles``: the admins' profiles (the built-in "Scan to me" ones need no row);
* ``scan_presence``: one row per session opened at a terminal beside a printer, written at
  login while the scan intake runs; its end is the session's logout (``ended_sessions``) or
  expiry, so a logout writes nothing here. Rows older than a day past their expiry are purged
  at the next login;
* ``scan_log``: what became of every scan (and the session it was attributed to);
* ``scan_counter_checks``: per session, what the MFP's own scan counter moved by (reported by the
  terminal with the copy session's usage) against the scan pages delivered for the session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hub_server.clock import Clock
from hub_server.domain import ledger
from hub_server.domain.accounts import charge_account
from hub_server.domain.devices import printer_of_terminal
from hub_server.domain.pricing import PricedLine
from hub_server.domain.security import SessionClaims
from hub_server.domain.store import Store
from hub_server.domain.usage import UsageReport, post_charge, record_lines
from hub_server.errors import InvalidRequest, NotFound, Refused
from hub_server.scan import (
    SCAN_TO_ME,
    SCAN_TO_ME_SEARCHABLE,
    OutputFormat,
    PrinterDirectory,
    RegisteredPrinter,
    ScanOutcome,
    ScanProfile,
    ScanSession,
    SidecarFormat,
)
from hub_server.storage import Component, Tx

__all__ = [
    "BUILT_IN_PROFILES",
    "SCAN",
    "CounterCheck",
    "ProfileSpec",
    "ScanChoice",
    "ScanLogEntry",
    "ScanMenu",
    "Scans",
]

log = logging.getLogger(__name__)

BUILT_IN_PROFILES = (SCAN_TO_ME, SCAN_TO_ME_SEARCHABLE)
NO_SCANNING = "scanning is not set up at this printer"
PRESENCE_KEPT_US = 24 * 3600 * 1_000_000  # presence rows are purged a day after their session expired

SCAN = Component(
    "scan",
    [
        [
            """CREATE TABLE scan_printers (
                printer_id TEXT PRIMARY KEY,
                addresses TEXT NOT NULL DEFAULT '',
                smtp_login TEXT UNIQUE,
                password_hash TEXT
            )""",
            """CREATE TABLE scan_profiles (
                profile_id TEXT PRIMARY KEY,
                name_en TEXT NOT NULL,
                name_de TEXT NOT NULL,
                output TEXT NOT NULL,
                ocr_languages TEXT NOT NULL DEFAULT 'deu,eng',
                destination TEXT NOT NULL DEFAULT 'email',
                file_name_pattern TEXT NOT NULL,
                sidecar TEXT NOT NULL DEFAULT 'none',
                price_per_page_cents BIGINT NOT NULL DEFAULT 0 CHECK (price_per_page_cents >= 0)
            )""",
            """CREATE TABLE scan_presence (
                session_id TEXT PRIMARY KEY,
                printer_id TEXT NOT NULL,
                user_id BIGINT NOT NULL REFERENCES users(id),
                opened_us BIGINT NOT NULL,
                expires_us BIGINT NOT NULL,
                profile_id TEXT
            )""",
            "CREATE INDEX scan_presence_printer ON scan_presence (printer_id, opened_us)",
            "CREATE INDEX scan_presence_expiry ON scan_presence (expires_us)",
            """CREATE TABLE scan_log (
                scan_id TEXT PRIMARY KEY,
                printer_id TEXT NOT NULL,
                username TEXT,
                profile_id TEXT NOT NULL,
                status TEXT NOT NULL,
                pages INTEGER NOT NULL DEFAULT 0,
                amount_cents BIGINT NOT NULL DEFAULT 0,
                destination TEXT,
                receipt TEXT,
                error TEXT,
                recorded_us BIGINT NOT NULL
            )""",
            "CREATE INDEX scan_log_time ON scan_log (recorded_us)",
        ],
        [
            "ALTER TABLE scan_log ADD COLUMN session_id TEXT",
            "CREATE INDEX scan_log_session ON scan_log (session_id)",
            """CREATE TABLE scan_counter_checks (
                session_id TEXT PRIMARY KEY,
                printer_id TEXT NOT NULL,
                user_id BIGINT NOT NULL REFERENCES users(id),
                expires_us BIGINT NOT NULL,
                counter_pages BIGINT NOT NULL CHECK (counter_pages >= 0),
                copy_pages BIGINT NOT NULL DEFAULT 0,
                sent_only INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'pending',
                delivered_pages BIGINT NOT NULL DEFAULT 0,
                failed_scans INTEGER NOT NULL DEFAULT 0,
                reported_us BIGINT NOT NULL,
                checked_us BIGINT
            )""",
            "CREATE INDEX scan_counter_checks_status ON scan_counter_checks (status, reported_us)",
        ],
    ],
)


@dataclass(frozen=True)
class ProfileSpec:
    """A profile as an admin gives it (empty values: the defaults)."""

    profile_id: str
    name_en: str
    name_de: str
    output: str = ""
    ocr_languages: tuple[str, ...] = ()
    destination: str = ""
    file_name_pattern: str = ""
    sidecar: str = ""
    price_per_page_cents: int = 0


@dataclass(frozen=True)
class ScanChoice:
    """A profile as the terminal's Scan tile shows it."""

    profile_id: str
    name_en: str
    name_de: str
    price_per_page_cents: int
    searchable: bool  # a searchable PDF/A (OCR)


@dataclass(frozen=True)
class ScanMenu:
    """What a session may pick, and what it has picked."""

    choices: tuple[ScanChoice, ...]
    chosen_id: str


@dataclass(frozen=True)
class ScanLogEntry:
    """One line of the scan log."""

    scan_id: str
    printer_id: str
    user: str | None
    profile_id: str
    status: str
    pages: int
    amount_cents: int
    destination: str | None
    error: str | None
    recorded_us: int


@dataclass(frozen=True)
class CounterCheck:
    """A session's MFP scan counter against the scan pages delivered for it.

    ``status``: ``pending`` (not compared yet), ``match``, ``mismatch``, or ``not_compared``
    (copies were made in the session and the counter is not one of scans sent only: many MFPs'
    scan counters also count copied originals). ``sent_only``: every report of the session read
    a counter of the scans sent.
    """

    session_id: str
    printer_id: str
    user: str
    status: str
    counter_pages: int
    delivered_pages: int
    failed_scans: int
    copy_pages: int
    sent_only: bool
    reported_us: int
    checked_us: int | None


def _profile(row: Mapping[str, Any]) -> ScanProfile:
    return ScanProfile(
        str(row["profile_id"]),
        str(row["name_en"]),
        str(row["name_de"]),
        output=OutputFormat(str(row["output"])),
        ocr_languages=tuple(language for language in str(row["ocr_languages"]).split(",") if language),
        destination=str(row["destination"]),
        file_name_pattern=str(row["file_name_pattern"]),
        sidecar=SidecarFormat(str(row["sidecar"])),
        price_per_page_cents=int(str(row["price_per_page_cents"])),
    )


class Scans:
    """The scan intake's view of the hub: registry, locator, meter and log in one place."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._directory: PrinterDirectory | None = None
        self.live_profiles: Mapping[str, ScanProfile] = _LiveProfiles(self)

    # -- printers and profiles (admin) ------------------------------------------------------------

    async def register_printer(
        self, printer_id: str, addresses: Iterable[str], smtp_login: str = "", smtp_password: str = ""
    ) -> RegisteredPrinter:
        """Register a printer from an admin's plain values (the password is hashed here)."""
        if bool(smtp_login) != bool(smtp_password):
            raise InvalidRequest("an SMTP login needs a password, and a password a login")
        try:
            printer = RegisteredPrinter(
                printer_id,
                frozenset(addresses),
                smtp_login or None,
                PrinterDirectory.hash_password(smtp_password) if smtp_password else None,
            )
        except ValueError as error:
            raise InvalidRequest(f"printer {printer_id!r}: {error}") from None
        if not printer.addresses and printer.smtp_login is None:
            raise InvalidRequest("a printer is known by an address or an SMTP login: give one")
        await self.add_printer(printer)
        return printer

    async def define_profile(self, spec: ProfileSpec) -> ScanProfile:
        """Add or replace a profile from an admin's plain values."""
        try:
            profile = ScanProfile(
                spec.profile_id,
                spec.name_en,
                spec.name_de,
                output=OutputFormat(spec.output or OutputFormat.PDF.value),
                ocr_languages=tuple(spec.ocr_languages) or ("deu", "eng"),
                destination=spec.destination or "email",
                file_name_pattern=spec.file_name_pattern or SCAN_TO_ME.file_name_pattern,
                sidecar=SidecarFormat(spec.sidecar or SidecarFormat.NONE.value),
                price_per_page_cents=spec.price_per_page_cents,
            )
        except ValueError as error:
            raise InvalidRequest(f"profile {spec.profile_id!r}: {error}") from None
        await self.save_profile(profile)
        return profile

    def built_in(self, profile_id: str) -> bool:
        """True for the profiles every hub has."""
        return profile_id in {profile.profile_id for profile in BUILT_IN_PROFILES}

    async def add_printer(self, printer: RegisteredPrinter) -> None:
        """Register (or replace) a printer that may send scans; it must be one of the hub's printers."""

        def add(tx: Tx) -> None:
            if tx.scalar("SELECT 1 FROM printers WHERE name = :n", {"n": printer.printer_id}) is None:
                raise NotFound(f"no printer named {printer.printer_id!r}")
            tx.execute("DELETE FROM scan_printers WHERE printer_id = :p", {"p": printer.printer_id})
            tx.execute(
                "INSERT INTO scan_printers (printer_id, addresses, smtp_login, password_hash)"
                " VALUES (:p, :a, :l, :h)",
                {
                    "p": printer.printer_id,
                    "a": ",".join(sorted(printer.addresses)),
                    "l": printer.smtp_login,
                    "h": printer.password_hash,
                },
            )

        await self._store.write(add)
        self._reload_directory()

    async def remove_printer(self, printer_id: str) -> None:
        """Stop taking scans from a printer."""

        def remove(tx: Tx) -> None:
            if not tx.execute(
                "DELETE FROM scan_printers WHERE printer_id = :p RETURNING printer_id", {"p": printer_id}
            ):
                raise NotFound(f"printer {printer_id!r} sends no scans")

        await self._store.write(remove)
        self._reload_directory()

    def printer_directory(self) -> PrinterDirectory:
        """The registered printers as the SMTP receiver looks them up; kept current by this
        object's changes (the scan intake runs in one hub process, the one admins reach)."""
        if self._directory is None:
            self._directory = PrinterDirectory(self.printers())
        return self._directory

    def _reload_directory(self) -> None:
        if self._directory is not None:
            self._directory.reload(self.printers())

    def printers(self) -> list[RegisteredPrinter]:
        """Every printer that may send scans."""
        rows = self._store.read(lambda tx: tx.execute("SELECT * FROM scan_printers ORDER BY printer_id"))
        return [
            RegisteredPrinter(
                str(row["printer_id"]),
                frozenset(address for address in str(row["addresses"]).split(",") if address),
                row["smtp_login"],
                row["password_hash"],
            )
            for row in rows
        ]

    async def save_profile(self, profile: ScanProfile) -> None:
        """Add or replace an admin's profile (a built-in profile's id is refused)."""
        if self.built_in(profile.profile_id):
            raise Refused(f"{profile.profile_id!r} is a built-in profile")

        def save(tx: Tx) -> None:
            tx.execute("DELETE FROM scan_profiles WHERE profile_id = :p", {"p": profile.profile_id})
            tx.execute(
                """INSERT INTO scan_profiles (profile_id, name_en, name_de, output, ocr_languages,
                       destination, file_name_pattern, sidecar, price_per_page_cents)
                   VALUES (:p, :en, :de, :o, :l, :d, :f, :s, :c)""",
                {
                    "p": profile.profile_id,
                    "en": profile.name_en,
                    "de": profile.name_de,
                    "o": profile.output.value,
                    "l": ",".join(profile.ocr_languages),
                    "d": profile.destination,
                    "f": profile.file_name_pattern,
                    "s": profile.sidecar.value,
                    "c": profile.price_per_page_cents,
                },
            )

        await self._store.write(save)

    async def remove_profile(self, profile_id: str) -> None:
        """Remove an admin's profile (sessions that picked it get the default)."""

        def remove(tx: Tx) -> None:
            if not tx.execute(
                "DELETE FROM scan_profiles WHERE profile_id = :p RETURNING profile_id", {"p": profile_id}
            ):
                raise NotFound(f"no scan profile {profile_id!r} of an admin")

        await self._store.write(remove)

    def profiles(self) -> dict[str, ScanProfile]:
        """The built-in profiles and the admins', by id."""
        rows = self._store.read(lambda tx: tx.execute("SELECT * FROM scan_profiles ORDER BY profile_id"))
        return {profile.profile_id: profile for profile in (*BUILT_IN_PROFILES, *map(_profile, rows))}

    # -- presence: who is at which printer (the SessionLocator) --------------------------------------

    def record_presence(self, tx: Tx, claims: SessionClaims) -> None:
        """At login: the session is at its terminal's printer (a terminal without one: nothing)."""
        try:
            printer = printer_of_terminal(tx, claims.terminal_id)
        except Refused:
            return
        tx.execute(
            "DELETE FROM scan_presence WHERE expires_us < :t", {"t": claims.issued_us - PRESENCE_KEPT_US}
        )
        tx.execute(
            """INSERT INTO scan_presence (session_id, printer_id, user_id, opened_us, expires_us)
               VALUES (:s, :p, :u, :o, :e)""",
            {
                "s": claims.session_id,
                "p": printer.name,
                "u": claims.user_id,
                "o": claims.issued_us,
                "e": claims.expires_us,
            },
        )

    def who_is_at(self, printer_id: str, at_time_us: int, grace_us: int) -> ScanSession | None:
        """The session open at the printer at that time, else the one closed last within the grace."""
        rows = self._store.read(
            lambda tx: tx.execute(
                """SELECT p.session_id, p.profile_id, p.opened_us, p.expires_us, e.ended_us,
                          u.username, u.email
                   FROM scan_presence p JOIN users u ON u.id = p.user_id
                   LEFT JOIN ended_sessions e ON e.session_id = p.session_id
                   WHERE p.printer_id = :p AND p.opened_us <= :t AND p.expires_us + :g >= :t
                     AND u.active = 1""",
                {"p": printer_id, "t": at_time_us, "g": grace_us},
            )
        )
        best: tuple[tuple[int, int], ScanSession] | None = None
        for row in rows:
            ended_us = min(int(row["expires_us"]), int(row["ended_us"] or row["expires_us"]))
            if ended_us + grace_us < at_time_us:
                continue
            # an open session beats a closed one; among open ones the latest login, else the latest end
            rank = (1, int(row["opened_us"])) if ended_us >= at_time_us else (0, ended_us)
            session = ScanSession(
                str(row["username"]),
                str(row["session_id"]),
                row["profile_id"],
                str(row["email"]) or None,
            )
            if best is None or rank > best[0]:
                best = (rank, session)
        return best[1] if best else None

    def menu(self, session_id: str) -> ScanMenu:
        """The profiles a session may pick and the one its scans get (the default "Scan to me"
        until one is picked); :class:`Refused` when the session is at no printer that scans."""
        row = self._store.read(
            lambda tx: tx.one("SELECT profile_id FROM scan_presence WHERE session_id = :s", {"s": session_id})
        )
        if row is None:
            raise Refused(NO_SCANNING)
        choices = tuple(
            ScanChoice(
                profile.profile_id,
                profile.name_en,
                profile.name_de,
                profile.price_per_page_cents,
                profile.output is OutputFormat.SEARCHABLE_PDF_A,
            )
            for profile in self.profiles().values()
        )
        return ScanMenu(choices, str(row["profile_id"] or SCAN_TO_ME.profile_id))

    async def choose(self, session_id: str, profile_id: str) -> None:
        """Apply a profile to the scans of a session (:class:`NotFound` for an unknown one)."""
        if profile_id not in self.profiles():
            raise NotFound(f"no scan profile {profile_id!r}")

        def choose(tx: Tx) -> None:
            changed = tx.execute(
                "UPDATE scan_presence SET profile_id = :f WHERE session_id = :s RETURNING session_id",
                {"f": profile_id, "s": session_id},
            )
            if not changed:
                raise Refused(NO_SCANNING)

        await self._store.write(choose)

    def user_for_address(self, address: str) -> str | None:
        """The one active user whose e-mail address this is (e-mail printing), else None."""
        rows = self._store.read(
            lambda tx: tx.execute(
                "SELECT username FROM users WHERE lower(email) = :a AND active = 1 LIMIT 2",
                {"a": address.strip().lower()},
            )
        )
        return str(rows[0]["username"]) if len(rows) == 1 and address.strip() else None

    def is_active_user(self, username: str) -> bool:
        """True when ``username`` is an active user (e-mail printing's guest user must be one)."""
        found = self._store.read(
            lambda tx: tx.scalar("SELECT 1 FROM users WHERE username = :u AND active = 1", {"u": username})
        )
        return found is not None

    # -- metering (the ScanMeter) ----------------------------------------------------------------

    def charge_scan(
        self, *, user: str, printer_id: str, scan_id: str, pages: int, amount_cents: int, idempotency_key: str
    ) -> None:
        """Charge a delivered scan once: a ledger transaction (kind ``scan``) under the key; the
        pages exist, so what the credit does not cover becomes arrears. A replay changes nothing."""
        now_us = self._clock.now_us()
        fingerprint = ledger.request_fingerprint(
            {"user": user, "printer": printer_id, "pages": pages, "amount_cents": amount_cents}
        )

        def charge(tx: Tx) -> None:
            user_id = tx.scalar("SELECT id FROM users WHERE username = :u", {"u": user})
            if user_id is None:
                raise NotFound(f"no user {user!r}")
            account_id, _, _ = charge_account(tx, int(user_id), "")
            claim = ledger.open_transaction(
                tx,
                kind="scan",
                recorded_us=now_us,
                idempotency=("scan", idempotency_key, fingerprint),
                user_id=int(user_id),
                description=f"scan {scan_id} at {printer_id}",
            )
            if claim.stored_response is not None:
                return
            unit = amount_cents // pages if pages else 0
            record_lines(
                tx, claim.transaction_id, [PricedLine("scan", "mono", "*", False, pages, unit, amount_cents)]
            )
            if amount_cents:
                post_charge(
                    tx, claim.transaction_id, int(user_id), account_id, amount_cents, now_us, performed=True
                )
            ledger.store_response(tx, claim.transaction_id, {"charged_cents": amount_cents})

        self._store.write_sync(charge)

    # -- the MFP's scan counter, cross-checked ------------------------------------------------------

    def record_scan_counter(self, tx: Tx, claims: SessionClaims, report: UsageReport) -> None:
        """In the transaction applying a copy session's report (once per report): add the MFP's
        scan counter difference to its session's check (a session may have several copy sessions;
        a report arriving after the check makes it pending again)."""
        assert report.scan_counter_pages is not None
        try:
            printer = printer_of_terminal(tx, claims.terminal_id)
        except Refused:
            return
        copies = sum(line.pages for line in report.lines if line.function == "copy")
        tx.execute(
            """INSERT INTO scan_counter_checks (session_id, printer_id, user_id, expires_us,
                   counter_pages, copy_pages, sent_only, reported_us)
               VALUES (:s, :p, :u, :e, :n, :c, :o, :t)
               ON CONFLICT (session_id) DO UPDATE SET
                   counter_pages = scan_counter_checks.counter_pages + excluded.counter_pages,
                   copy_pages = scan_counter_checks.copy_pages + excluded.copy_pages,
                   sent_only = scan_counter_checks.sent_only * excluded.sent_only,
                   reported_us = excluded.reported_us, status = 'pending', checked_us = NULL""",
            {
                "s": claims.session_id,
                "p": printer.name,
                "u": claims.user_id,
                "e": claims.expires_us,
                "n": report.scan_counter_pages,
                "c": copies,
                "o": int(report.scan_counter_sent_only),
                "t": self._clock.now_us(),
            },
        )

    async def check_scan_counters(self, grace_us: int, busy_sessions: set[str]) -> list[CounterCheck]:
        """Compare every pending session whose end (logout or expiry) is more than ``grace_us``
        ago and none of whose scans is still in progress; returns the checks made. A mismatch is
        logged (user, printer, pages; nothing secret) and kept for the admins; nothing is charged."""
        now_us = self._clock.now_us()

        def check(tx: Tx) -> list[CounterCheck]:
            rows = tx.execute(
                """SELECT c.*, e.ended_us, u.username FROM scan_counter_checks c
                   JOIN users u ON u.id = c.user_id
                   LEFT JOIN ended_sessions e ON e.session_id = c.session_id
                   WHERE c.status = 'pending' ORDER BY c.reported_us"""
            )
            done = []
            for row in rows:
                ended_us = min(int(row["expires_us"]), int(row["ended_us"] or row["expires_us"]))
                if ended_us + grace_us > now_us or row["session_id"] in busy_sessions:
                    continue
                done.append(_compare(tx, row, now_us))
            return done

        checks = await self._store.write(check)
        for found in checks:
            if found.status == "mismatch":
                log.warning(
                    "scan counter check: session of %s at %s: the MFP counted %d scanned page(s),"
                    " %d delivered, %d failed scan(s); nothing charged for the difference",
                    found.user,
                    found.printer_id,
                    found.counter_pages,
                    found.delivered_pages,
                    found.failed_scans,
                )
        return checks

    def counter_checks(self, limit: int = 100, mismatches_only: bool = False) -> list[CounterCheck]:
        """The latest sessions' scan counter checks, newest report first."""
        rows = self._store.read(
            lambda tx: tx.execute(
                """SELECT c.*, u.username FROM scan_counter_checks c JOIN users u ON u.id = c.user_id
                   WHERE :all = 1 OR c.status = 'mismatch'
                   ORDER BY c.reported_us DESC, c.session_id LIMIT :n""",
                {"all": 0 if mismatches_only else 1, "n": max(1, limit)},
            )
        )
        return [_counter_check(row) for row in rows]

    # -- the log ------------------------------------------------------------------------------------

    async def record_outcome(self, outcome: ScanOutcome) -> None:
        """Log what became of a scan (a scan recovered and finished again replaces its line); a
        session already compared is compared again (the scan finished after its check)."""

        def record(tx: Tx) -> None:
            tx.execute("DELETE FROM scan_log WHERE scan_id = :s", {"s": outcome.scan_id})
            tx.execute(
                """INSERT INTO scan_log (scan_id, printer_id, username, profile_id, status, pages,
                       amount_cents, destination, receipt, error, recorded_us, session_id)
                   VALUES (:s, :p, :u, :f, :st, :n, :a, :d, :r, :e, :t, :session)""",
                {
                    "s": outcome.scan_id,
                    "p": outcome.printer_id,
                    "u": outcome.user,
                    "f": outcome.profile_id,
                    "st": outcome.status,
                    "n": outcome.pages,
                    "a": outcome.amount_cents,
                    "d": outcome.destination,
                    "r": outcome.receipt,
                    "e": outcome.error,
                    "t": self._clock.now_us(),
                    "session": outcome.session_id,
                },
            )
            if outcome.session_id is not None:
                tx.execute(
                    "UPDATE scan_counter_checks SET status = 'pending', checked_us = NULL"
                    " WHERE session_id = :s AND status <> 'pending'",
                    {"s": outcome.session_id},
                )

        await self._store.write(record)

    def log(self, limit: int = 100) -> list[ScanLogEntry]:
        """The latest scans, newest first."""
        rows = self._store.read(
            lambda tx: tx.execute(
                "SELECT * FROM scan_log ORDER BY recorded_us DESC, scan_id LIMIT :n", {"n": max(1, limit)}
            )
        )
        return [
            ScanLogEntry(
                str(row["scan_id"]),
                str(row["printer_id"]),
                row["username"],
                str(row["profile_id"]),
                str(row["status"]),
                int(row["pages"]),
                int(row["amount_cents"]),
                row["destination"],
                row["error"],
                int(row["recorded_us"]),
            )
            for row in rows
        ]


def _compare(tx: Tx, row: Mapping[str, Any], now_us: int) -> CounterCheck:
    scans = tx.one(
        """SELECT COALESCE(SUM(CASE WHEN status = 'delivered' THEN pages ELSE 0 END), 0) AS pages,
                  COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed
           FROM scan_log WHERE session_id = :s AND printer_id = :p""",
        {"s": row["session_id"], "p": row["printer_id"]},
    )
    assert scans is not None
    delivered, failed = int(scans["pages"]), int(scans["failed"])
    if int(row["copy_pages"]) and not int(row["sent_only"]):
        status = "not_compared"
    elif delivered == int(row["counter_pages"]) and not failed:
        status = "match"
    else:
        status = "mismatch"
    tx.execute(
        """UPDATE scan_counter_checks SET status = :st, delivered_pages = :d, failed_scans = :f,
               checked_us = :t WHERE session_id = :s""",
        {"st": status, "d": delivered, "f": failed, "t": now_us, "s": row["session_id"]},
    )
    return _counter_check(
        {**row, "status": status, "delivered_pages": delivered, "failed_scans": failed, "checked_us": now_us}
    )


def _counter_check(row: Mapping[str, Any]) -> CounterCheck:
    return CounterCheck(
        str(row["session_id"]),
        str(row["printer_id"]),
        str(row["username"]),
        str(row["status"]),
        int(row["counter_pages"]),
        int(row["delivered_pages"]),
        int(row["failed_scans"]),
        int(row["copy_pages"]),
        bool(int(row["sent_only"])),
        int(row["reported_us"]),
        None if row["checked_us"] is None else int(row["checked_us"]),
    )


class _LiveProfiles(Mapping[str, ScanProfile]):
    """The profiles as the scan intake reads them: from the tables, at each scan."""

    def __init__(self, scans: Scans) -> None:
        self._scans = scans

    def __getitem__(self, profile_id: str) -> ScanProfile:
        return self._scans.profiles()[profile_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scans.profiles())

    def __len__(self) -> int:
        return len(self._scans.profiles())
