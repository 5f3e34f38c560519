"""Reading a source: users with their attributes decoded and checked, groups resolved, names mapped.

Every value is decoded as strict UTF-8, must be printable and fit its hub field; an entry with
any value that does not (odd encoding, oversized, several values where one is expected, a card
the conversion chain rejects, no usable id or username) is not used at all and reported as a
:class:`Problem`: the hub keeps what it had for it. Duplicated ids or usernames are reported for
every entry involved; none of them is used.

Group membership is direct (``memberOf`` of the user, or the ``member``/``memberUid`` values of
group objects) plus, when nesting is on, the groups those groups belong to: up to
``max_group_depth`` levels when computed here (cycles are harmless), or all levels when the
server evaluates AD's LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941).
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ldap.dn
import ldap.filter

from .config import AttributeMap, SourceConfig
from .connection import Connection, Entry
from .errors import DirectoryConfigError
from .model import CardNumber, DirectoryRead, DirectoryUser, Problem

IN_CHAIN = "1.2.840.113556.1.4.1941"
MAX_TEXT_CHARS = 256
MAX_USERNAME_CHARS = 64
MAX_CARD_VALUE_CHARS = 1024
MAX_CARDS_PER_USER = 16
MAX_PIN_CHARS = 32
_PLAIN_DN_BREAKERS = ("\\", '"', "+", ", ", " ,", "= ", " =", ";")


class EntryError(ValueError):
    """A value of one entry cannot be used (the message says which and why)."""

    stable_id = ""  # the entry's id, when it could be read


@functools.lru_cache(maxsize=65536)
def normalise_dn(dn: str) -> str:
    """A DN in one spelling for comparisons (case, spaces and escapes folded)."""
    if not any(breaker in dn for breaker in _PLAIN_DN_BREAKERS):
        return dn.lower()
    try:
        return str(ldap.dn.dn2str(ldap.dn.str2dn(dn))).lower()
    except ldap.DECODING_ERROR:
        return dn.lower()


def first_rdn_value(dn: str) -> str:
    """The value of a DN's first RDN (``cn=Staff,ou=x`` -> ``Staff``)."""
    try:
        return str(ldap.dn.str2dn(dn)[0][0][1])
    except (ldap.DECODING_ERROR, IndexError):
        return dn


def _text(name: str, raw: bytes, limit: int) -> str:
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EntryError(
            f"{name} is not UTF-8 (byte {error.start}: {raw[error.start : error.start + 1]!r})"
        ) from None
    if len(value) > limit:
        raise EntryError(f"{name} is {len(value)} characters long (at most {limit})")
    if not value.isprintable():
        raise EntryError(f"{name} holds control characters")
    return value.strip()


def _single(values: Mapping[str, list[bytes]], name: str, limit: int) -> str:
    if not name:
        return ""
    found = _values(values, name)
    if len(found) > 1:
        raise EntryError(f"{name} has {len(found)} values where one is expected")
    return _text(name, found[0], limit) if found else ""


def _values(values: Mapping[str, list[bytes]], name: str) -> list[bytes]:
    # attribute names come back as the server spells them: match without case
    direct = values.get(name)
    if direct is not None:
        return direct
    lowered = name.lower()
    return next((v for k, v in values.items() if k.lower() == lowered), [])


def stable_id(attributes: AttributeMap, values: Mapping[str, list[bytes]]) -> str:
    """The entry's stable id as text: an AD GUID in its usual spelling, or the value itself."""
    found = _values(values, attributes.id)
    if len(found) != 1:
        raise EntryError(f"{attributes.id} (the stable id) has {len(found)} values; exactly one is needed")
    raw = found[0]
    if attributes.id_format == "guid":
        if len(raw) != 16:
            raise EntryError(f"{attributes.id} is {len(raw)} bytes, a GUID is 16")
        # AD's spelling: the first three fields little-endian (as uuid.UUID(bytes_le=raw))
        text = (raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]).hex()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    text = _text(attributes.id, raw, 128)
    if not text:
        raise EntryError(f"{attributes.id} is empty")
    return text.lower()


def is_disabled(attributes: AttributeMap, values: Mapping[str, list[bytes]]) -> bool:
    """True when the entry says the account is disabled (``disabled`` + ``disabled_when``)."""
    if not attributes.disabled:
        return False
    found = _values(values, attributes.disabled)
    rule, _, argument = attributes.disabled_when.partition(":")
    if rule == "present":
        return bool(found)
    if not found:
        return False
    text = _text(attributes.disabled, found[0], 64)
    if rule == "mask":
        try:
            return bool(int(text) & int(argument))
        except ValueError:
            raise EntryError(f"{attributes.disabled} is not a number: {text[:20]!r}") from None
    return text.lower() == argument.lower()


@dataclass(frozen=True)
class GroupInfo:
    """A directory group as the reader needs it."""

    dn: str  # normalised
    name: str  # printgate group name
    parents: frozenset[str]  # normalised DNs of the groups it is a direct member of


class GroupResolver:
    """Direct and nested membership over the groups read from a source."""

    def __init__(self, source: SourceConfig, max_depth: int) -> None:
        self.source = source
        self.max_depth = max_depth
        self.groups: dict[str, GroupInfo] = {}
        self.member_dns: dict[str, set[str]] = {}  # group -> member DNs that are not groups
        self.member_uids: dict[str, set[str]] = {}  # group -> usernames (posixGroup)
        self.warnings: list[str] = []
        self._closure: dict[str, frozenset[str]] = {}

    def load(self, entries: Iterable[Entry]) -> None:
        """Read group entries (with name, members and memberOf as configured)."""
        attributes = self.source.attributes
        raw_parents: dict[str, set[str]] = {}
        members: dict[str, list[str]] = {}
        for dn, values in entries:
            key = normalise_dn(dn)
            try:
                cn = _single(values, attributes.group_name, MAX_TEXT_CHARS) or first_rdn_value(dn)
            except EntryError as error:
                self.warnings.append(f"group {dn}: {error}; group ignored")
                continue
            name = self._mapped(self.source.group_map, key, cn) or cn
            self.groups[key] = GroupInfo(key, name, frozenset())
            raw_parents[key] = {
                normalise_dn(v.decode("utf-8", "replace")) for v in _values(values, attributes.member_of)
            }
            members[key] = [v.decode("utf-8", "replace") for v in _values(values, attributes.member)]
            if attributes.member_uid:
                self.member_uids[key] = {
                    v.decode("utf-8", "replace").strip().lower()
                    for v in _values(values, attributes.member_uid)
                }
        # a group's parents: its own memberOf, and every read group listing it as a member
        for key, member_list in members.items():
            plain: set[str] = set()
            for member in member_list:
                member_key = normalise_dn(member)
                if member_key in self.groups:
                    if member_key != key:
                        raw_parents[member_key].add(key)
                else:
                    plain.add(member_key)
            self.member_dns[key] = plain
        for key, parents in raw_parents.items():
            info = self.groups[key]
            self.groups[key] = GroupInfo(
                key, info.name, frozenset(p for p in parents if p in self.groups and p != key)
            )
        self._index_members()

    @staticmethod
    def _mapped(table: Mapping[str, str], dn_key: str, cn: str) -> str:
        """A map lookup by DN (any spelling) or by cn (without case)."""
        if not table:
            return ""
        for key, value in table.items():
            if ("=" in key and normalise_dn(key) == dn_key) or key.lower() == cn.lower():
                return value
        return ""

    def closure(self, group: str) -> frozenset[str]:
        """``group`` and the groups above it, up to ``max_depth`` levels (memoised)."""
        cached = self._closure.get(group)
        if cached is not None:
            return cached
        seen = {group}
        frontier = {group}
        for _ in range(self.max_depth):
            frontier = {p for g in frontier for p in self.groups[g].parents} - seen
            if not frontier:
                break
            seen |= frontier
        else:
            deeper = {p for g in frontier for p in self.groups[g].parents} - seen
            if deeper:
                self.warnings.append(
                    f"group {group} is nested more than max_group_depth={self.max_depth} levels deep; "
                    f"{len(deeper)} group(s) above that are not applied"
                )
        result = frozenset(seen)
        self._closure[group] = result
        return result

    def direct_groups(self, dn_key: str, username: str, member_of: Iterable[str]) -> set[str]:
        """The groups a user is directly in, by whichever membership the source uses."""
        if self.source.membership == "memberOf":
            return {g for g in (normalise_dn(v) for v in member_of) if g in self.groups}
        return self._by_member.get(dn_key, set()) | self._by_uid.get(username.lower(), set())

    def _index_members(self) -> None:
        """Invert group -> members once, so each user's lookup is a dictionary hit."""
        self._by_member: dict[str, set[str]] = {}
        for group, dns in self.member_dns.items():
            for dn in dns:
                self._by_member.setdefault(dn, set()).add(group)
        self._by_uid: dict[str, set[str]] = {}
        for group, uids in self.member_uids.items():
            for uid in uids:
                self._by_uid.setdefault(uid, set()).add(group)


@dataclass(frozen=True)
class _Decoded:
    """What a user entry says by itself (groups aside), decoded and checked."""

    stable_id: str
    username: str
    full_name: str
    email: str
    department: str
    cards: tuple[str, ...]
    pin: str
    enabled: bool
    member_of: tuple[str, ...]


class EntryCache:
    """Decoded entries by their exact bytes, kept between runs of one source.

    An unchanged entry then costs a dictionary lookup instead of decoding, checking and card
    conversion; any changed byte misses. Group resolution is never cached across runs (a group
    may change without its members' entries changing).
    """

    def __init__(self) -> None:
        self.entries: dict[tuple[str, bytes], _Decoded | EntryError] = {}


def nested_mode(source: SourceConfig, connection: Connection) -> str:
    """How nesting is resolved for this read: in_chain, computed or off."""
    mode = source.nested_groups
    if mode == "in_chain" and not connection.info.active_directory:
        raise DirectoryConfigError(
            f"source {source.name!r}: nested_groups = 'in_chain' needs Active Directory "
            f"(1.2.840.113556.1.4.1941); {connection.url} does not announce it: use 'computed'"
        )
    if mode == "auto":
        in_chain = connection.info.active_directory and source.membership == "memberOf"
        return "in_chain" if in_chain else "computed"
    return mode


def in_chain_filter(user_filter: str, group_dn: str) -> str:
    """Users of ``user_filter`` in ``group_dn`` at any depth, evaluated by an AD server."""
    return f"(&{user_filter}(memberOf:{IN_CHAIN}:={ldap.filter.escape_filter_chars(group_dn)}))"


def _search_all(
    connection: Connection, bases: Iterable[str], filter_text: str, attributes: list[str]
) -> Iterable[Entry]:
    for base in bases:
        yield from connection.search(base, filter_text, attributes)


def read_source(
    connection: Connection, source: SourceConfig, card_number: CardNumber, cache: EntryCache | None = None
) -> DirectoryRead:
    """Read every user and group of ``source`` over ``connection`` and map them to hub terms."""
    cache = cache or EntryCache()
    attributes = source.attributes
    mode = nested_mode(source, connection)
    read = DirectoryRead(source=source.name, server=connection.url, nested_mode=mode)
    resolver = GroupResolver(source, source.max_group_depth if mode == "computed" else 0)
    group_attributes = [attributes.group_name, attributes.member_of]
    if source.membership == "member":
        group_attributes += [attributes.member, attributes.member_uid]
    resolver.load(
        _search_all(connection, source.group_bases, source.group_filter, [a for a in group_attributes if a])
    )
    read.groups_read = len(resolver.groups)
    in_chain: dict[str, set[str]] = {}
    if mode == "in_chain":
        for group in resolver.groups:
            for _, values in _search_all(
                connection, source.user_base_dns, in_chain_filter(source.user_filter, group), [attributes.id]
            ):
                try:
                    in_chain.setdefault(stable_id(attributes, values), set()).add(group)
                except EntryError:
                    continue
    mapping = _GroupMapping(source, resolver)
    fresh: dict[tuple[str, bytes], _Decoded | EntryError] = {}
    users: list[tuple[DirectoryUser, str]] = []
    for dn, values in _search_all(
        connection, source.user_base_dns, source.user_filter, attributes.user_attributes()
    ):
        # the entry's exact bytes (attribute order as the server sends it: another order only misses)
        key = (dn, hashlib.blake2b(repr(values).encode(), digest_size=16).digest())
        decoded = cache.entries.get(key)
        if decoded is None:
            decoded = _decode(attributes, values, card_number)
        fresh[key] = decoded
        if isinstance(decoded, EntryError):
            read.problems.append(Problem(dn, f"{decoded}; entry not used", decoded.stable_id))
            continue
        if mode == "in_chain":
            groups = frozenset(
                resolver.direct_groups("", "", decoded.member_of) | in_chain.get(decoded.stable_id, set())
            )
        else:
            dn_key = normalise_dn(dn) if source.membership == "member" else ""
            groups = frozenset(resolver.direct_groups(dn_key, decoded.username, decoded.member_of))
        names, roles, mapped_department = mapping.resolve(groups)
        users.append(
            (
                DirectoryUser(
                    stable_id=decoded.stable_id,
                    dn=dn,
                    username=decoded.username,
                    full_name=decoded.full_name,
                    email=decoded.email,
                    department=decoded.department or mapped_department,
                    cards=decoded.cards,
                    pin=decoded.pin,
                    enabled=decoded.enabled,
                    groups=names,
                    roles=roles,
                ),
                dn,
            )
        )
    cache.entries = fresh
    read.users = _without_duplicates(users, read.problems)
    read.warnings.extend(resolver.warnings)
    return read


class _GroupMapping:
    """Direct groups -> (printgate groups, roles, department from department_map), memoised per set."""

    def __init__(self, source: SourceConfig, resolver: GroupResolver) -> None:
        self.source = source
        self.resolver = resolver
        self._memo: dict[frozenset[str], tuple[tuple[str, ...], tuple[str, ...], str]] = {}

    def resolve(self, direct: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
        found = self._memo.get(direct)
        if found is not None:
            return found
        resolver = self.resolver
        groups: set[str] = set(direct)
        if resolver.max_depth:
            for group in direct:
                groups |= resolver.closure(group)
        cns = {g: first_rdn_value(g) for g in groups}
        roles = {r for g in groups if (r := GroupResolver._mapped(self.source.role_map, g, cns[g]))}
        departments = sorted(
            d for g in groups if (d := GroupResolver._mapped(self.source.department_map, g, cns[g]))
        )
        found = (
            tuple(sorted({resolver.groups[g].name for g in groups})),
            tuple(sorted(roles)),
            departments[0] if departments else "",
        )
        self._memo[direct] = found
        return found


def _decode(
    attributes: AttributeMap, values: Mapping[str, list[bytes]], card_number: CardNumber
) -> _Decoded | EntryError:
    identifier = ""
    try:
        identifier = stable_id(attributes, values)
        username = _single(values, attributes.username, MAX_USERNAME_CHARS * 4)
        if not username:
            raise EntryError(f"{attributes.username} (the username) is missing")
        return _Decoded(
            stable_id=identifier,
            username=username,
            full_name=_single(values, attributes.full_name, MAX_TEXT_CHARS),
            email=_single(values, attributes.email, MAX_TEXT_CHARS),
            department=_single(values, attributes.department, MAX_TEXT_CHARS),
            cards=_cards(attributes, values, card_number),
            pin=_single(values, attributes.pin, MAX_PIN_CHARS),
            enabled=not is_disabled(attributes, values),
            member_of=tuple(v.decode("utf-8", "replace") for v in _values(values, attributes.member_of)),
        )
    except EntryError as error:
        error.stable_id = identifier
        return error


def _cards(
    attributes: AttributeMap, values: Mapping[str, list[bytes]], card_number: CardNumber
) -> tuple[str, ...]:
    numbers: set[str] = set()
    for name in attributes.cards:
        for raw in _values(values, name):
            text = _text(name, raw, MAX_CARD_VALUE_CHARS)
            if not text:
                continue
            try:
                numbers.add(card_number(text))
            except ValueError as error:
                raise EntryError(f"{name} {text[:40]!r} is no card number: {error}") from None
    if len(numbers) > MAX_CARDS_PER_USER:
        raise EntryError(f"{len(numbers)} card numbers (at most {MAX_CARDS_PER_USER})")
    return tuple(sorted(numbers))


def _without_duplicates(
    users: list[tuple[DirectoryUser, str]], problems: list[Problem]
) -> list[DirectoryUser]:
    """Drop every entry whose id or username (without case) another entry has too, reporting each."""
    ids = Counter(user.stable_id for user, _ in users)
    names = Counter(user.username.lower() for user, _ in users)
    kept: list[DirectoryUser] = []
    for user, dn in users:
        if ids[user.stable_id] > 1:
            problems.append(
                Problem(
                    dn,
                    f"id {user.stable_id} is shared by {ids[user.stable_id]} entries; none used",
                    user.stable_id,
                )
            )
        elif names[user.username.lower()] > 1:
            problems.append(
                Problem(
                    dn,
                    f"username {user.username!r} is used by {names[user.username.lower()]} entries; "
                    "none used",
                    user.stable_id,
                )
            )
        else:
            kept.append(user)
    return kept
