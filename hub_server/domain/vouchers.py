"""Vouchers: batches of single-use codes worth a fixed amount, redeemed into a user's credit.

Codes
    The format (alphabet, length, check symbol) is :mod:`printgate.voucher_code`, shared with the
    kiosk. A code with a wrong length, a foreign symbol or a bad check symbol is refused before the
    database is asked and does not count as a guess.

At rest
    The hub keeps ``HMAC-SHA256(key, code)`` to find a code and the code sealed with AES-GCM
    (both keys derived from the hub secret, which lives outside the database). A copy of the
    database alone reveals no code. The sealed copy exists so an admin can export a batch again
    later (a lost print run); the codes are also shown once, in the answer that creates them.

Redemption
    Single use: the voucher row is updated only while unredeemed, and its transaction is claimed
    with the idempotency key ``("voucher", voucher id)`` whose fingerprint is the user. The user
    who redeemed a code gets the first answer again (a retry after a lost reply); anybody else is
    refused. Money comes from ``system:vouchers`` and settles the user's arrears first.

Rate limit
    An unknown (well-formed) code counts one failure against the user (``voucher:user:<id>``) and
    the kiosk or terminal (``voucher:terminal:<id>``) in the ``auth_failures`` table; after
    ``voucher_max_failed_attempts`` that identity is locked for ``voucher_lockout_s``. A locked
    identity cannot redeem at all, even a good code. A successful redemption clears the user's
    count (not the kiosk's). Admin redemptions are not limited; an admin can lift a lockout early.

:class:`Vouchers` is the domain object the services call.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from printgate import voucher_code

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.domain import account_names, ledger, validation
from hub_server.domain.accounts import money_state
from hub_server.domain.devices import require_terminal
from hub_server.domain.kiosk import require_prepaid_user
from hub_server.domain.lockout import Limits, clear, record_voucher_failure, refuse_if_locked
from hub_server.domain.store import Store
from hub_server.domain.users import UserRef, resolve_user
from hub_server.errors import IdempotencyConflict, InvalidRequest, InvariantViolation, NotFound, Refused
from hub_server.storage import Tx

MAX_BATCH = 10_000
MAX_LABEL_CHARS = 128
_NONCE_BYTES = 12


class MalformedVoucher(InvalidRequest):
    """A code that cannot be a voucher (length, symbols, check symbol): not a guess."""


class VoucherNotRecognised(NotFound):
    """A well-formed code that no voucher has: a guess, counted against the caller."""


def normalise(text: str) -> str:
    """The canonical form of a typed code, or :class:`MalformedVoucher`."""
    try:
        return voucher_code.normalise(text)
    except voucher_code.MalformedCode as exc:
        raise MalformedVoucher(str(exc)) from None


class VoucherKeys:
    """The lookup and sealing keys, derived from the hub secret."""

    def __init__(self, secret: bytes) -> None:
        self._lookup_key = hmac.new(secret, b"voucher-lookup", hashlib.sha256).digest()
        self._aead = AESGCM(hmac.new(secret, b"voucher-seal", hashlib.sha256).digest())

    def lookup(self, code: str) -> str:
        """The keyed hash a code is found by."""
        return hmac.new(self._lookup_key, code.encode(), hashlib.sha256).hexdigest()

    def seal(self, code: str, batch_id: int) -> bytes:
        """The code encrypted, bound to its batch."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, code.encode(), f"voucher-batch:{batch_id}".encode())

    def unseal(self, sealed: bytes, batch_id: int) -> str:
        """The code back from :meth:`seal` (raises InvariantViolation for a tampered row)."""
        try:
            plain = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], f"voucher-batch:{batch_id}".encode()
            )
        except InvalidTag as error:
            raise InvariantViolation(f"a sealed voucher code of batch {batch_id} does not open") from error
        return plain.decode()


# -- batches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """A voucher batch and how much of it is used."""

    id: int
    label: str
    prefix: str
    value_cents: int
    count: int
    redeemed: int
    created_us: int
    expires_us: int


def _iso(microseconds: int) -> str:
    return datetime.fromtimestamp(microseconds / 1_000_000, UTC).isoformat().replace("+00:00", "Z")


def create_batch(
    tx: Tx,
    keys: VoucherKeys,
    *,
    value_cents: int,
    count: int,
    expires_us: int,
    prefix: str,
    label: str,
    now_us: int,
) -> tuple[Batch, list[str]]:
    """Create ``count`` vouchers; return the batch and the codes (canonical form)."""
    prefix = prefix.upper()
    if len(prefix) > voucher_code.MAX_PREFIX_SYMBOLS or not set(prefix) <= set(voucher_code.ALPHABET):
        raise InvalidRequest(
            f"prefix: up to {voucher_code.MAX_PREFIX_SYMBOLS} characters of {voucher_code.ALPHABET}"
        )
    validation.amount(value_cents, "a voucher's value", low=1)
    if not 1 <= count <= MAX_BATCH:
        raise InvalidRequest(f"a batch has 1..{MAX_BATCH} vouchers")
    if expires_us <= now_us:
        raise InvalidRequest("the expiry must be in the future")
    if len(label) > MAX_LABEL_CHARS:
        raise InvalidRequest(f"label longer than {MAX_LABEL_CHARS} characters")
    row = tx.one(
        """INSERT INTO voucher_batches (label, prefix, value_cents, voucher_count, created_us, expires_us)
           VALUES (:l, :p, :v, :c, :now, :x) RETURNING id""",
        {"l": label, "p": prefix, "v": value_cents, "c": count, "now": now_us, "x": expires_us},
    )
    assert row is not None
    batch_id = int(row["id"])
    codes: list[str] = []
    while len(codes) < count:
        code = voucher_code.new_code(prefix)
        inserted = tx.one(
            """INSERT INTO vouchers (batch_id, lookup_hmac, sealed_code) VALUES (:b, :h, :s)
               ON CONFLICT (lookup_hmac) DO NOTHING RETURNING id""",
            {"b": batch_id, "h": keys.lookup(code), "s": keys.seal(code, batch_id)},
        )
        if inserted is not None:  # a collision (2**-65 per pair) just draws again
            codes.append(code)
    return get_batch(tx, batch_id), codes


def _batches(tx: Tx, where: str, params: dict[str, int]) -> list[Batch]:
    rows = tx.execute(
        f"""SELECT b.*, (SELECT COUNT(*) FROM vouchers v
                         WHERE v.batch_id = b.id AND v.redeemed_us IS NOT NULL) AS redeemed
            FROM voucher_batches b {where} ORDER BY b.id""",
        params,
    )
    return [
        Batch(
            id=int(r["id"]),
            label=r["label"],
            prefix=r["prefix"],
            value_cents=int(r["value_cents"]),
            count=int(r["voucher_count"]),
            redeemed=int(r["redeemed"]),
            created_us=int(r["created_us"]),
            expires_us=int(r["expires_us"]),
        )
        for r in rows
    ]


def get_batch(tx: Tx, batch_id: int) -> Batch:
    """One batch."""
    found = _batches(tx, "WHERE b.id = :b", {"b": batch_id})
    if not found:
        raise NotFound(f"no voucher batch {batch_id}")
    return found[0]


def list_batches(tx: Tx) -> list[Batch]:
    """Every batch, oldest first."""
    return _batches(tx, "", {})


def batch_csv(batch: Batch, codes: list[tuple[str, str]]) -> str:
    """CSV of ``(code, state)`` pairs: code,value_cents,expires_at,state."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "value_cents", "expires_at", "state"])
    for code, state in codes:
        writer.writerow([voucher_code.format_code(code), batch.value_cents, _iso(batch.expires_us), state])
    return out.getvalue()


def export_batch(tx: Tx, keys: VoucherKeys, batch_id: int, include_redeemed: bool, now_us: int) -> str:
    """A batch's codes unsealed, as CSV (only unredeemed ones unless ``include_redeemed``)."""
    batch = get_batch(tx, batch_id)
    rows = tx.execute(
        "SELECT sealed_code, redeemed_us FROM vouchers WHERE batch_id = :b ORDER BY id", {"b": batch_id}
    )
    expired = batch.expires_us <= now_us
    codes = [
        (
            keys.unseal(bytes(row["sealed_code"]), batch_id),
            "redeemed" if row["redeemed_us"] is not None else "expired" if expired else "open",
        )
        for row in rows
        if include_redeemed or row["redeemed_us"] is None
    ]
    return batch_csv(batch, codes)


# -- redemption ---------------------------------------------------------------------------------


WEB_PORTAL = "web-portal"  # where a user redeems a code in the user portal


@dataclass(frozen=True)
class Redemption:
    """Who redeems which (normalised) code, and where. ``terminal_id`` None: by an admin."""

    code: str
    user_id: int
    terminal_id: str | None

    def identities(self) -> list[str]:
        """The lockout identities a failed guess counts against (none for an admin)."""
        if self.terminal_id is None:
            return []
        if self.terminal_id == WEB_PORTAL:  # everyone's portal: only the user's guesses count
            return [user_identity(self.user_id)]
        return [user_identity(self.user_id), terminal_identity(self.terminal_id)]


def user_identity(user_id: int) -> str:
    """The lockout identity of a user's voucher guesses."""
    return f"voucher:user:{user_id}"


def terminal_identity(terminal_id: str) -> str:
    """The lockout identity of the voucher guesses made at a kiosk or terminal."""
    return f"voucher:terminal:{terminal_id}"


@dataclass(frozen=True)
class Redeemed:
    """The answer to a redemption (stored, and returned to the same user's retry)."""

    transaction_id: int
    credited_cents: int
    balance_cents: int
    arrears_cents: int
    batch_id: int
    recorded_us: int
    already_applied: bool = False


def redeem(
    tx: Tx, keys: VoucherKeys, redemption: Redemption, limits: Limits, now_us: int
) -> Redeemed | VoucherNotRecognised:
    """Redeem a code inside the caller's write transaction.

    An unknown code is *returned* (not raised) so that the caller's transaction commits the
    failure it recorded; the caller raises it afterwards. Every other refusal is raised.
    """
    for identity in redemption.identities():
        refuse_if_locked(tx, identity, now_us)
    require_prepaid_user(tx, redemption.user_id)
    row = tx.one(
        """SELECT v.id, v.batch_id, v.redeemed_by, b.value_cents, b.expires_us
           FROM vouchers v JOIN voucher_batches b ON b.id = v.batch_id WHERE v.lookup_hmac = :h""",
        {"h": keys.lookup(redemption.code)},
    )
    if row is None:
        for identity in redemption.identities():
            record_voucher_failure(tx, identity, limits, now_us)
        return VoucherNotRecognised("voucher code not recognised")
    if row["redeemed_by"] is not None and int(row["redeemed_by"]) != redemption.user_id:
        raise Refused("this voucher has already been redeemed")
    try:
        claim = ledger.open_transaction(
            tx,
            kind="voucher",
            recorded_us=now_us,
            idempotency=("voucher", str(row["id"]), ledger.request_fingerprint({"user": redemption.user_id})),
            user_id=redemption.user_id,
            terminal_id=redemption.terminal_id,
            description=f"voucher of batch {row['batch_id']}",
        )
    except IdempotencyConflict:  # another user's redemption committed while we looked
        raise Refused("this voucher has already been redeemed") from None
    if claim.stored_response is not None:
        return Redeemed(**claim.stored_response, already_applied=True)
    if int(row["expires_us"]) <= now_us:
        raise Refused("this voucher has expired")
    taken = tx.one(
        """UPDATE vouchers SET redeemed_us = :now, redeemed_by = :u, transaction_id = :t
           WHERE id = :v AND redeemed_us IS NULL RETURNING id""",
        {"now": now_us, "u": redemption.user_id, "t": claim.transaction_id, "v": row["id"]},
    )
    if taken is None:
        raise Refused("this voucher has already been redeemed")
    source = ledger.create_account(tx, account_names.VOUCHERS, "system", now_us)
    value = int(row["value_cents"])
    ledger.credit_prepaid(tx, claim.transaction_id, redemption.user_id, value, source, now_us)
    balance, arrears = money_state(tx, redemption.user_id)
    result = Redeemed(claim.transaction_id, value, balance, arrears, int(row["batch_id"]), now_us)
    stored = asdict(result)
    stored.pop("already_applied")
    ledger.store_response(tx, claim.transaction_id, stored)
    clear(tx, user_identity(redemption.user_id))
    return result


@dataclass(frozen=True)
class BatchCreated:
    """A new batch, its codes (canonical form; shown only now) and the same as CSV."""

    batch: Batch
    codes: list[str]
    csv: str


class Vouchers:
    """Voucher batches for admins; redemption at kiosks and terminals, and by admins."""

    def __init__(self, store: Store, config: HubConfig, clock: Clock, secret: bytes) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._keys = VoucherKeys(secret)

    async def create_batch(
        self, *, value_cents: int, count: int, expires_us: int, prefix: str, label: str
    ) -> BatchCreated:
        """Create ``count`` vouchers worth ``value_cents`` each."""
        now_us = self._clock.now_us()
        batch, codes = await self._store.write(
            lambda tx: create_batch(
                tx,
                self._keys,
                value_cents=value_cents,
                count=count,
                expires_us=expires_us,
                prefix=prefix,
                label=label,
                now_us=now_us,
            )
        )
        return BatchCreated(batch, codes, batch_csv(batch, [(code, "open") for code in codes]))

    def batches(self) -> list[Batch]:
        """Every batch."""
        return self._store.read(list_batches)

    def export(self, batch_id: int, include_redeemed: bool) -> tuple[Batch, str]:
        """A batch and its codes as CSV (only unredeemed ones unless ``include_redeemed``)."""
        now_us = self._clock.now_us()

        def export(tx: Tx) -> tuple[Batch, str]:
            text = export_batch(tx, self._keys, batch_id, include_redeemed, now_us)
            return get_batch(tx, batch_id), text

        return self._store.read(export)

    async def redeem(self, code: str, user_id: int, terminal_id: str) -> Redeemed:
        """Redeem a typed code for the user at a kiosk or terminal (guesses count against both)."""
        return await self._redeem(Redemption(normalise(code), user_id, terminal_id))

    async def redeem_on_web(self, code: str, user_id: int) -> Redeemed:
        """Redeem a code a user typed in the portal (their guesses count against them)."""
        return await self._redeem(Redemption(normalise(code), user_id, WEB_PORTAL))

    async def redeem_for_user(self, code: str, user: UserRef) -> Redeemed:
        """Redeem a code for a user (an admin: not rate-limited)."""
        user_id = self._store.read(lambda tx: resolve_user(tx, user))
        return await self._redeem(Redemption(normalise(code), user_id, None))

    async def _redeem(self, redemption: Redemption) -> Redeemed:
        auth = self._config.auth
        limits, now_us = (
            Limits(auth.voucher_max_failed_attempts, auth.voucher_lockout_s),
            self._clock.now_us(),
        )
        result = await self._store.write(lambda tx: redeem(tx, self._keys, redemption, limits, now_us))
        if isinstance(result, VoucherNotRecognised):
            raise result  # raised only now: the failure it counted is committed
        return result

    async def unlock_user(self, user: UserRef) -> None:
        """Lift a user's voucher lockout."""
        await self._store.write(lambda tx: clear(tx, user_identity(resolve_user(tx, user))))

    async def unlock_terminal(self, terminal_id: str) -> None:
        """Lift a kiosk's or terminal's voucher lockout."""

        def unlock(tx: Tx) -> None:
            require_terminal(tx, terminal_id)
            clear(tx, terminal_identity(terminal_id))

        await self._store.write(unlock)
