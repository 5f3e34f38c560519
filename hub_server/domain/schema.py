"""The core component's tables: directory, money, quotas, authentication state, kiosks and
vouchers, held print jobs. Migrations in SQL that SQLite and PostgreSQL both accept, applied and
recorded by :mod:`hub_server.storage.migrations` (``{id}``: the engine's auto-increment primary
key, ``{blob}``: its byte-string type). Numbers 1 to 3 are the migrations databases made before
components recorded in ``schema_migrations``; their text must never change.

Units are in column names: ``*_cents`` (integer minor units), ``*_us`` (microseconds since the
Unix epoch, hub clock). Booleans are integers 0/1 on both engines.
"""

from __future__ import annotations

from hub_server.storage import Component, SchemaError, Tx

# Migration 1 gives every function x colour x sides of that day a zero ``default``/``*`` price,
# so a usage line is never silently unpriced. Spelt out here, not taken from the price list's
# constants: a migration that has run must not change when the constants do.
_DEFAULT_PRICES = [
    "INSERT INTO prices (printer_group, function, color, paper_size, duplex, price_cents_per_page)"
    f" VALUES ('default', '{function}', '{color}', '*', {duplex}, 0)"
    for function in ("print", "copy", "scan", "fax")
    for color in ("mono", "color")
    for duplex in (0, 1)
]
MIGRATIONS: list[list[str]] = [
    # 1: directory, money, quotas, authentication state
    [
        """CREATE TABLE user_groups (
            id {id},
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('group', 'department'))
        )""",
        """CREATE TABLE roles (
            name TEXT PRIMARY KEY,
            requires_card_pin INTEGER NOT NULL DEFAULT 0,
            allowed_functions TEXT NOT NULL,
            color_allowed INTEGER NOT NULL DEFAULT 1,
            project_required INTEGER NOT NULL DEFAULT 0
        )""",
        "INSERT INTO roles (name, allowed_functions) VALUES ('user', 'print,copy,scan,fax')",
        """CREATE TABLE users (
            id {id},
            username TEXT NOT NULL UNIQUE,
            full_name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            department_id BIGINT REFERENCES user_groups(id),
            active INTEGER NOT NULL DEFAULT 1,
            billing TEXT NOT NULL DEFAULT 'prepaid' CHECK (billing IN ('prepaid', 'department')),
            password_hash TEXT,
            pin_hash TEXT,
            pin_lookup TEXT UNIQUE,
            created_us BIGINT NOT NULL
        )""",
        """CREATE TABLE user_roles (
            user_id BIGINT NOT NULL REFERENCES users(id),
            role_name TEXT NOT NULL REFERENCES roles(name),
            PRIMARY KEY (user_id, role_name)
        )""",
        """CREATE TABLE group_members (
            group_id BIGINT NOT NULL REFERENCES user_groups(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            PRIMARY KEY (group_id, user_id)
        )""",
        "CREATE INDEX group_members_user ON group_members (user_id)",
        """CREATE TABLE cards (
            id {id},
            user_id BIGINT NOT NULL REFERENCES users(id),
            number TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            created_us BIGINT NOT NULL
        )""",
        "CREATE INDEX cards_user ON cards (user_id)",
        """CREATE TABLE accounts (
            id {id},
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('prepaid', 'postpaid', 'system', 'arrears')),
            owner_user_id BIGINT REFERENCES users(id),
            owner_group_id BIGINT REFERENCES user_groups(id),
            balance_cents BIGINT NOT NULL DEFAULT 0,
            credit_limit_cents BIGINT NOT NULL DEFAULT 0 CHECK (credit_limit_cents >= 0),
            created_us BIGINT NOT NULL,
            CHECK (kind <> 'prepaid' OR balance_cents >= -credit_limit_cents),
            CHECK (kind <> 'arrears' OR balance_cents <= 0)
        )""",
        "CREATE INDEX accounts_owner_user ON accounts (owner_user_id)",
        """CREATE TABLE projects (
            id {id},
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            all_users INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            account_id BIGINT NOT NULL REFERENCES accounts(id)
        )""",
        """CREATE TABLE project_groups (
            project_id BIGINT NOT NULL REFERENCES projects(id),
            group_id BIGINT NOT NULL REFERENCES user_groups(id),
            PRIMARY KEY (project_id, group_id)
        )""",
        """CREATE TABLE printers (
            id {id},
            name TEXT NOT NULL UNIQUE,
            address TEXT NOT NULL DEFAULT '',
            transport TEXT NOT NULL DEFAULT 'raw9100' CHECK (transport IN ('raw9100', 'lpd', 'ipp')),
            vendor_profile TEXT NOT NULL DEFAULT 'generic',
            printer_group TEXT NOT NULL DEFAULT 'default',
            location TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE terminals (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('terminal', 'kiosk')),
            printer_id BIGINT REFERENCES printers(id),
            location TEXT NOT NULL DEFAULT '',
            key_sha256 TEXT NOT NULL UNIQUE,
            active INTEGER NOT NULL DEFAULT 1,
            created_us BIGINT NOT NULL
        )""",
        """CREATE TABLE prices (
            printer_group TEXT NOT NULL,
            function TEXT NOT NULL,
            color TEXT NOT NULL,
            paper_size TEXT NOT NULL,
            duplex INTEGER NOT NULL,
            price_cents_per_page BIGINT NOT NULL CHECK (price_cents_per_page >= 0),
            PRIMARY KEY (printer_group, function, color, paper_size, duplex)
        )""",
        *_DEFAULT_PRICES,
        """CREATE TABLE transactions (
            id {id},
            kind TEXT NOT NULL,
            idempotency_scope TEXT,
            idempotency_key TEXT,
            request_sha256 TEXT,
            response {blob},
            user_id BIGINT REFERENCES users(id),
            terminal_id TEXT,
            project_id BIGINT REFERENCES projects(id),
            description TEXT NOT NULL DEFAULT '',
            occurred_us BIGINT,
            recorded_us BIGINT NOT NULL,
            UNIQUE (idempotency_scope, idempotency_key)
        )""",
        """CREATE TABLE entries (
            id {id},
            transaction_id BIGINT NOT NULL REFERENCES transactions(id),
            account_id BIGINT NOT NULL REFERENCES accounts(id),
            amount_cents BIGINT NOT NULL,
            balance_after_cents BIGINT NOT NULL
        )""",
        "CREATE INDEX entries_account ON entries (account_id, id)",
        "CREATE INDEX entries_transaction ON entries (transaction_id)",
        """CREATE TABLE usage_lines (
            transaction_id BIGINT NOT NULL REFERENCES transactions(id),
            function TEXT NOT NULL,
            color TEXT NOT NULL,
            paper_size TEXT NOT NULL,
            duplex INTEGER NOT NULL,
            pages BIGINT NOT NULL CHECK (pages >= 0),
            unit_price_cents BIGINT NOT NULL,
            amount_cents BIGINT NOT NULL
        )""",
        "CREATE INDEX usage_lines_transaction ON usage_lines (transaction_id)",
        """CREATE TABLE quota_rules (
            id {id},
            name TEXT NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('everyone', 'group', 'user')),
            group_id BIGINT REFERENCES user_groups(id),
            user_id BIGINT REFERENCES users(id),
            period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
            unit TEXT NOT NULL CHECK (unit IN ('pages', 'cents')),
            color_scope TEXT NOT NULL CHECK (color_scope IN ('any', 'mono', 'color')),
            limit_value BIGINT NOT NULL CHECK (limit_value >= 0),
            action TEXT NOT NULL CHECK (action IN ('block', 'warn'))
        )""",
        """CREATE TABLE quota_usage (
            rule_id BIGINT NOT NULL REFERENCES quota_rules(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            period_start TEXT NOT NULL,
            used BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (rule_id, user_id, period_start)
        )""",
        """CREATE TABLE auth_failures (
            identity TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until_us BIGINT NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE ended_sessions (
            session_id TEXT PRIMARY KEY,
            ended_us BIGINT NOT NULL
        )""",
        """CREATE TABLE admin_tokens (
            id {id},
            token_sha256 TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            created_us BIGINT NOT NULL
        )""",
    ],
    # 2: recharge kiosks (recharges, credited cash events, cash-box emptyings) and vouchers
    [
        """CREATE TABLE recharges (
            id {id},
            kiosk_id TEXT NOT NULL REFERENCES terminals(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            opened_us BIGINT NOT NULL,
            closed_us BIGINT
        )""",
        """CREATE TABLE cashbox_emptyings (
            id {id},
            kiosk_id TEXT NOT NULL REFERENCES terminals(id),
            transaction_id BIGINT NOT NULL UNIQUE REFERENCES transactions(id),
            expected_cents BIGINT NOT NULL,
            counted_cents BIGINT NOT NULL,
            emptied_us BIGINT NOT NULL
        )""",
        """CREATE TABLE cash_events (
            transaction_id BIGINT PRIMARY KEY REFERENCES transactions(id),
            recharge_id BIGINT NOT NULL REFERENCES recharges(id),
            kiosk_id TEXT NOT NULL REFERENCES terminals(id),
            device_kind TEXT NOT NULL CHECK (device_kind IN ('coin', 'note')),
            value_cents BIGINT NOT NULL CHECK (value_cents > 0),
            denomination TEXT NOT NULL DEFAULT '',
            emptying_id BIGINT REFERENCES cashbox_emptyings(id)
        )""",
        "CREATE INDEX cash_events_recharge ON cash_events (recharge_id, transaction_id)",
        "CREATE INDEX cash_events_kiosk ON cash_events (kiosk_id, emptying_id)",
        """CREATE TABLE cashbox_counts (
            emptying_id BIGINT NOT NULL REFERENCES cashbox_emptyings(id),
            device_kind TEXT NOT NULL CHECK (device_kind IN ('coin', 'note')),
            value_cents BIGINT NOT NULL,
            expected_count BIGINT NOT NULL,
            counted_count BIGINT NOT NULL,
            PRIMARY KEY (emptying_id, device_kind, value_cents)
        )""",
        """CREATE TABLE voucher_batches (
            id {id},
            label TEXT NOT NULL DEFAULT '',
            prefix TEXT NOT NULL DEFAULT '',
            value_cents BIGINT NOT NULL CHECK (value_cents > 0),
            voucher_count INTEGER NOT NULL,
            created_us BIGINT NOT NULL,
            expires_us BIGINT NOT NULL
        )""",
        """CREATE TABLE vouchers (
            id {id},
            batch_id BIGINT NOT NULL REFERENCES voucher_batches(id),
            lookup_hmac TEXT NOT NULL UNIQUE,
            sealed_code {blob} NOT NULL,
            redeemed_us BIGINT,
            redeemed_by BIGINT REFERENCES users(id),
            transaction_id BIGINT REFERENCES transactions(id)
        )""",
        "CREATE INDEX vouchers_batch ON vouchers (batch_id, id)",
    ],
    # 3: held print jobs (pull printing), their release attempts, and delegations
    [
        """CREATE TABLE print_jobs (
            id {id},
            owner_user_id BIGINT REFERENCES users(id),
            submitted_by TEXT NOT NULL,
            job_name TEXT NOT NULL,
            document_format TEXT NOT NULL,
            queue TEXT NOT NULL,
            source TEXT NOT NULL,
            created_us BIGINT NOT NULL,
            expires_us BIGINT NOT NULL,
            state TEXT NOT NULL
                CHECK (state IN ('held', 'releasing', 'printed', 'canceled', 'expired', 'aborted')),
            ipp_state INTEGER NOT NULL,
            state_reasons TEXT NOT NULL DEFAULT '',
            copies INTEGER NOT NULL DEFAULT 1,
            sides TEXT NOT NULL DEFAULT 'one-sided',
            color_mode TEXT NOT NULL DEFAULT 'auto',
            media TEXT,
            spool_id TEXT,
            size_bytes BIGINT NOT NULL DEFAULT 0,
            analysis TEXT,
            thumbnail_png {blob},
            page_count INTEGER,
            color_pages INTEGER,
            paper_size TEXT,
            doc_copies INTEGER,
            doc_duplex INTEGER,
            doc_grayscale INTEGER,
            completed_us BIGINT
        )""",
        "CREATE INDEX print_jobs_owner ON print_jobs (owner_user_id, state, id)",
        "CREATE INDEX print_jobs_state ON print_jobs (state, expires_us)",
        """CREATE TABLE print_releases (
            id {id},
            job_id BIGINT NOT NULL REFERENCES print_jobs(id),
            release_key TEXT NOT NULL,
            user_id BIGINT NOT NULL REFERENCES users(id),
            charged_user_id BIGINT NOT NULL REFERENCES users(id),
            terminal_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('releasing', 'sent', 'printed', 'failed')),
            from_state TEXT NOT NULL,
            plan TEXT NOT NULL,
            reservation_tx BIGINT REFERENCES transactions(id),
            settle_tx BIGINT REFERENCES transactions(id),
            pages_printed BIGINT,
            pages_reported INTEGER NOT NULL DEFAULT 0,
            charged_cents BIGINT,
            message TEXT NOT NULL DEFAULT '',
            created_us BIGINT NOT NULL,
            sent_us BIGINT,
            finished_us BIGINT
        )""",
        "CREATE INDEX print_releases_job ON print_releases (job_id, release_key)",
        "CREATE INDEX print_releases_state ON print_releases (state)",
        """CREATE TABLE job_delegations (
            id {id},
            owner_user_id BIGINT NOT NULL REFERENCES users(id),
            delegate_user_id BIGINT REFERENCES users(id),
            delegate_group_id BIGINT REFERENCES user_groups(id),
            created_us BIGINT NOT NULL,
            CHECK ((delegate_user_id IS NULL) <> (delegate_group_id IS NULL))
        )""",
        """CREATE UNIQUE INDEX job_delegations_user ON job_delegations (owner_user_id, delegate_user_id)
            WHERE delegate_user_id IS NOT NULL""",
        """CREATE UNIQUE INDEX job_delegations_group ON job_delegations (owner_user_id, delegate_group_id)
            WHERE delegate_group_id IS NOT NULL""",
        "CREATE INDEX job_delegations_delegate ON job_delegations (delegate_user_id)",
    ],
    # 4: indexes for the web console and reports: user search as you type (prefix ranges on the
    # folded name, full name and e-mail), the books by kind and period, a user's transactions
    # newest first, held jobs by the time they arrived
    [
        "CREATE INDEX users_search_username ON users (LOWER(username))",
        "CREATE INDEX users_search_full_name ON users (LOWER(full_name))",
        "CREATE INDEX users_search_email ON users (LOWER(email))",
        "CREATE INDEX transactions_kind_recorded ON transactions (kind, recorded_us)",
        "CREATE INDEX transactions_user ON transactions (user_id, id)",
        "CREATE INDEX print_jobs_created ON print_jobs (created_us)",
    ],
    # 5: hardening (issue 19): whether a job's owner authenticated or only claimed the name;
    # login attempts reserved before the password work (``login_guards``, the login lockout's
    # state; ``auth_failures`` keeps the voucher lockout's); usernames unique whatever their case
    # (refused while case twins exist: see check_username_twins)
    [
        "ALTER TABLE print_jobs ADD COLUMN owner_verified INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE login_guards (
            identity TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            pending INTEGER NOT NULL DEFAULT 0,
            pending_since_us BIGINT NOT NULL DEFAULT 0,
            last_failure_us BIGINT NOT NULL DEFAULT 0,
            blocked_until_us BIGINT NOT NULL DEFAULT 0,
            failures_total BIGINT NOT NULL DEFAULT 0,
            lockouts_total BIGINT NOT NULL DEFAULT 0,
            CHECK (failures >= 0 AND pending >= 0)
        )""",
        """INSERT INTO login_guards (identity, failures, last_failure_us, blocked_until_us, failures_total)
            SELECT identity, failures, locked_until_us, locked_until_us, failures FROM auth_failures
            WHERE identity LIKE 'user:%' OR identity LIKE 'terminal:%'""",
        "DELETE FROM auth_failures WHERE identity LIKE 'user:%' OR identity LIKE 'terminal:%'",
        "CREATE UNIQUE INDEX users_username_folded ON users (LOWER(username))",
        "DROP INDEX users_search_username",  # the unique folded index serves the search as well
    ],
    # 6: the release crash window. An attempt is *prepared* ('releasing', sending_us NULL: the
    # reservation is durable, nothing sent), *sending* ('releasing', sending_us set: what the
    # printer said just before the first byte is recorded, so that after a crash it can be asked
    # what became of the job), 'sent', then charged ('printed') or 'failed'.
    [
        "ALTER TABLE print_releases ADD COLUMN printer_id BIGINT",
        "ALTER TABLE print_releases ADD COLUMN transport TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE print_releases ADD COLUMN sending_us BIGINT",
        "ALTER TABLE print_releases ADD COLUMN printer_job_id BIGINT",
        "ALTER TABLE print_releases ADD COLUMN page_count_before BIGINT",
        "ALTER TABLE print_jobs ADD COLUMN may_have_printed INTEGER NOT NULL DEFAULT 0",
    ],
    # 7: favourite jobs (kept for reprint until their owner unstars them), and one job passed on
    # to a colleague by its owner at a terminal (job_delegations above are for all of an owner's jobs)
    [
        "ALTER TABLE print_jobs ADD COLUMN favourite_us BIGINT",
        """CREATE TABLE job_delegates (
            job_id BIGINT NOT NULL REFERENCES print_jobs(id),
            user_id BIGINT NOT NULL REFERENCES users(id),
            delegated_by BIGINT NOT NULL REFERENCES users(id),
            created_us BIGINT NOT NULL,
            PRIMARY KEY (job_id, user_id)
        )""",
        "CREATE INDEX job_delegates_user ON job_delegates (user_id, job_id)",
    ],
]

RENAME_HINT = (
    "printgate hub --config hub.toml --rename-user OLD NEW (renames one user and their accounts;"
    " the hub stays stopped)"
)


def username_twins(tx: Tx) -> list[list[str]]:
    """Users whose usernames differ only in case, as groups of ``"name" (id N)`` strings."""
    rows = tx.execute(
        """SELECT u.id, u.username FROM users u
           WHERE LOWER(u.username) IN
               (SELECT LOWER(username) FROM users GROUP BY LOWER(username) HAVING COUNT(*) > 1)
           ORDER BY LOWER(u.username), u.id"""
    )
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(str(row["username"]).lower(), []).append(f"{row['username']!r} (id {row['id']})")
    return list(groups.values())


def check_username_twins(tx: Tx) -> None:
    """Before migration 5: refuse (nothing changed) while usernames differ only in case.

    Which of two such users a print job, a login or a CSV row meant cannot be decided by the
    hub, and each may hold money: an operator renames all but one of each group first.
    """
    twins = username_twins(tx)
    if twins:
        listed = "; ".join(" and ".join(group) for group in twins)
        raise SchemaError(
            f"usernames must be unique regardless of case, but {len(twins)} group(s) differ only in"
            f" case: {listed}. Rename all but one of each group with: {RENAME_HINT}"
        )


CORE = Component("core", MIGRATIONS, checks={5: check_username_twins})
