"""A private OpenLDAP ``slapd`` for directory-sync tests and benchmarks, stopped by PID.

One server holds two databases:

* ``dc=ad,dc=test``: an Active-Directory-like tree. A small schema (written here) gives the AD
  attributes the sync reads (``sAMAccountName``, ``userPrincipalName``, ``userAccountControl``,
  ``objectGUID``, ``department``, ``employeeID``) and the ``user``/``computer``/``group`` classes,
  with AD's own OIDs. ``extensionAttribute1`` is an octet string here (a string in AD), so tests
  can store bytes a strict server would refuse. ``memberOf`` comes from the memberof overlay
  (AD's OID as well).
* ``dc=openldap,dc=test``: OpenLDAP style, ``inetOrgPerson`` + ``posixAccount`` users,
  ``groupOfNames`` and ``posixGroup`` groups, ``entryUUID`` made by slapd.

Each database lets its service account (``cn=printgate,ou=service,<suffix>``) read everything but
passwords, refuses anonymous reads, and serves at most 500 entries per plain search: more need
the paged-results control, as on a real AD (1000 there). TLS comes from a test CA made with
``cryptography``; the same server listens on ``ldap://`` (StartTLS) and ``ldaps://``.

Bulk data goes in offline with ``slapadd`` (the overlay does not run then, so the generator
writes ``memberOf`` itself, as AD shows it: direct groups only); small per-test trees go in
online with ``ldapadd`` so the overlay maintains ``memberOf``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_tcp_port

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
STARTUP_TIMEOUT_S = 30.0
AD_SUFFIX = "dc=ad,dc=test"
OPENLDAP_SUFFIX = "dc=openldap,dc=test"
ADMIN_PASSWORD = "slapd-admin-secret"
SERVICE_PASSWORD = "svc-bind-secret"
PLAIN_SEARCH_LIMIT = 500
AD_DISABLED_BIT = 0x2
AD_NORMAL_ACCOUNT = 0x200

AD_SCHEMA = """\
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
    EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.2 NAME 'objectGUID'
    EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.35 NAME 'employeeID'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.423 NAME 'extensionAttribute1'
    EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.750 NAME 'groupType'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL
    MAY ( sAMAccountName $ userPrincipalName $ userAccountControl $ objectGUID $ department $
          employeeID $ mail $ displayName $ givenName $ extensionAttribute1 ) )
objectclass ( 1.2.840.113556.1.5.30 NAME 'computer' SUP user STRUCTURAL )
objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL
    MUST cn MAY ( member $ groupType $ sAMAccountName $ objectGUID $ description ) )
"""


# -- TLS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """A CA certificate (what clients trust) and the server's certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def _ca_certificate(
    key: ec.EllipticCurvePrivateKey, name: str, not_before: datetime.datetime, not_after: datetime.datetime
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def make_tls(directory: Path, name: str = "printgate test directory CA") -> TlsFiles:
    """A fresh CA and a server certificate for 127.0.0.1 and localhost signed by it.

    Also writes ``expired-ca.pem`` (the same CA key and name, validity ended yesterday) beside.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _ca_certificate(ca_key, name, now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    expired = _ca_certificate(
        ca_key, name, now - datetime.timedelta(days=60), now - datetime.timedelta(days=1)
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "expired-ca.pem").write_bytes(expired.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(files.key_file, server_key)
    return files


def make_other_ca(path: Path) -> Path:
    """A CA certificate that signed nothing the server has (the "wrong CA" case)."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    other = _ca_certificate(
        key, "some other CA", now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
    )
    path.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    return path


# -- data -----------------------------------------------------------------------------------


@dataclass
class SiteUser:
    """A person in a generated directory."""

    username: str
    full_name: str = ""
    email: str = ""
    department: str = ""
    badge: str = ""  # as the directory stores it (decimal in the AD tree of the tests)
    disabled: bool = False
    groups: list[str] = field(default_factory=list)  # direct groups, by cn
    password: str = ""
    guid: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class SiteGroup:
    """A group in a generated directory; ``groups`` are the groups (by cn) it is a member of."""

    name: str
    groups: list[str] = field(default_factory=list)
    posix: bool = False  # OpenLDAP tree only: a posixGroup with memberUid instead of groupOfNames
    guid: uuid.UUID = field(default_factory=uuid.uuid4)


def _value(name: str, value: str | bytes) -> str:
    """One LDIF line, base64 when the value is not safe as plain text (RFC 2849)."""
    raw = value if isinstance(value, bytes) else value.encode()
    safe = raw and raw[:1] not in (b" ", b":", b"<") and raw[-1:] != b" "
    if safe and all(0x20 <= b < 0x7F for b in raw):
        return f"{name}: {raw.decode()}"
    if not raw:
        return f"{name}:"
    return f"{name}:: {base64.b64encode(raw).decode()}"


def _entry(dn: str, attributes: Iterable[tuple[str, str | bytes]]) -> str:
    return "\n".join([_value("dn", dn), *(_value(k, v) for k, v in attributes)]) + "\n\n"


def ad_user_dn(base: str, username: str) -> str:
    """Where the AD-like tree keeps a user (``base`` is an OU or the suffix)."""
    return f"cn={username},ou=people,{base}"


def ad_group_dn(base: str, name: str) -> str:
    """Where the AD-like tree keeps a group."""
    return f"cn={name},ou=groups,{base}"


def ol_user_dn(base: str, username: str) -> str:
    """Where the OpenLDAP tree keeps a user."""
    return f"uid={username},ou=people,{base}"


def ol_group_dn(base: str, name: str) -> str:
    """Where the OpenLDAP tree keeps a group."""
    return f"cn={name},ou=groups,{base}"


def _containers(base: str, with_base: bool, with_containers: bool) -> Iterator[str]:
    if not with_containers:
        return
    if with_base:
        ou = base.split(",", 1)[0].split("=", 1)[1]
        yield _entry(base, [("objectClass", "organizationalUnit"), ("ou", ou)])
    for ou in ("people", "groups"):
        yield _entry(f"ou={ou},{base}", [("objectClass", "organizationalUnit"), ("ou", ou)])


def _members(
    users: Sequence[SiteUser], groups: Sequence[SiteGroup]
) -> dict[str, tuple[list[str], list[str]]]:
    """group cn -> (member usernames, member group cns)."""
    members: dict[str, tuple[list[str], list[str]]] = {g.name: ([], []) for g in groups}
    for user in users:
        for name in user.groups:
            members[name][0].append(user.username)
    for group in groups:
        for name in group.groups:
            members[name][1].append(group.name)
    return members


def ad_ldif(
    base: str,
    users: Sequence[SiteUser],
    groups: Sequence[SiteGroup],
    *,
    with_base: bool = False,
    with_containers: bool = True,
    with_member_of: bool = False,
) -> str:
    """LDIF of an AD-like tree under ``base``. ``with_member_of`` writes memberOf (for slapadd)."""
    members = _members(users, groups)
    parts = list(_containers(base, with_base, with_containers))
    for user in users:
        uac = AD_NORMAL_ACCOUNT | (AD_DISABLED_BIT if user.disabled else 0)
        attributes: list[tuple[str, str | bytes]] = [
            ("objectClass", "user"),
            ("cn", user.username),
            ("sn", user.full_name.split()[-1] if user.full_name else user.username),
            ("sAMAccountName", user.username),
            ("userPrincipalName", f"{user.username}@ad.test"),
            ("userAccountControl", str(uac)),
            ("objectGUID", user.guid.bytes_le),
        ]
        attributes += [("displayName", user.full_name)] if user.full_name else []
        attributes += [("mail", user.email)] if user.email else []
        attributes += [("department", user.department)] if user.department else []
        attributes += [("employeeID", user.badge)] if user.badge else []
        attributes += [("userPassword", user.password)] if user.password else []
        if with_member_of:
            attributes += [("memberOf", ad_group_dn(base, g)) for g in user.groups]
        parts.append(_entry(ad_user_dn(base, user.username), attributes))
    for group in groups:
        user_members, group_members = members[group.name]
        attributes = [
            ("objectClass", "group"),
            ("cn", group.name),
            ("sAMAccountName", group.name),
            ("groupType", "-2147483646"),
            ("objectGUID", group.guid.bytes_le),
        ]
        attributes += [("member", ad_user_dn(base, u)) for u in user_members]
        attributes += [("member", ad_group_dn(base, g)) for g in group_members]
        if with_member_of:
            attributes += [("memberOf", ad_group_dn(base, g)) for g in group.groups]
        parts.append(_entry(ad_group_dn(base, group.name), attributes))
    return "".join(parts)


def openldap_ldif(
    base: str,
    users: Sequence[SiteUser],
    groups: Sequence[SiteGroup],
    *,
    with_base: bool = False,
    with_containers: bool = True,
) -> str:
    """LDIF of an OpenLDAP-style tree under ``base`` (badge in ``employeeNumber``)."""
    members = _members(users, groups)
    parts = list(_containers(base, with_base, with_containers))
    for number, user in enumerate(users, 10_000):
        attributes: list[tuple[str, str | bytes]] = [
            ("objectClass", "inetOrgPerson"),
            ("objectClass", "posixAccount"),
            ("uid", user.username),
            ("cn", user.full_name or user.username),
            ("sn", user.full_name.split()[-1] if user.full_name else user.username),
            ("uidNumber", str(number)),
            ("gidNumber", "100"),
            ("homeDirectory", f"/home/{user.username}"),
        ]
        attributes += [("mail", user.email)] if user.email else []
        attributes += [("departmentNumber", user.department)] if user.department else []
        attributes += [("employeeNumber", user.badge)] if user.badge else []
        attributes += [("employeeType", "disabled")] if user.disabled else []
        attributes += [("userPassword", user.password)] if user.password else []
        parts.append(_entry(ol_user_dn(base, user.username), attributes))
    for number, group in enumerate(groups, 5000):
        user_members, group_members = members[group.name]
        if group.posix:
            attributes = [("objectClass", "posixGroup"), ("cn", group.name), ("gidNumber", str(number))]
            attributes += [("memberUid", u) for u in user_members]
        else:
            attributes = [("objectClass", "groupOfNames"), ("cn", group.name)]
            member_dns = [ol_user_dn(base, u) for u in user_members]
            member_dns += [ol_group_dn(base, g) for g in group_members]
            # groupOfNames must have a member: an empty group names itself, as admins do
            attributes += [("member", dn) for dn in member_dns or [ol_group_dn(base, group.name)]]
        parts.append(_entry(ol_group_dn(base, group.name), attributes))
    return "".join(parts)


def _suffix_entries(suffix: str) -> str:
    dc = suffix.split(",", 1)[0].split("=", 1)[1]
    return (
        _entry(suffix, [("objectClass", "dcObject"), ("objectClass", "organization"), ("dc", dc), ("o", dc)])
        + _entry(f"ou=service,{suffix}", [("objectClass", "organizationalUnit"), ("ou", "service")])
        + _entry(
            service_dn(suffix),
            [
                ("objectClass", "organizationalRole"),
                ("objectClass", "simpleSecurityObject"),
                ("cn", "printgate"),
                ("userPassword", SERVICE_PASSWORD),
            ],
        )
    )


def service_dn(suffix: str) -> str:
    """The DN the sync binds as."""
    return f"cn=printgate,ou=service,{suffix}"


# -- the server -----------------------------------------------------------------------------


def _database_config(suffix: str, directory: Path, ad_like: bool) -> str:
    admin = f"cn=admin,{suffix}"
    indexes = (
        "index sAMAccountName,cn eq\nindex member,memberOf eq\n"
        if ad_like
        else "index uid,cn eq\nindex member,memberUid eq\n"
    )
    overlay = (
        "overlay memberof\nmemberof-group-oc group\nmemberof-member-ad member\n"
        "memberof-memberof-ad memberOf\nmemberof-refint true\n"
        if ad_like
        else ""
    )
    return f"""
database mdb
suffix "{suffix}"
rootdn "{admin}"
rootpw {ADMIN_PASSWORD}
directory {directory}
maxsize 4294967296
index objectClass eq
index entryUUID eq
{indexes}
limits users size.soft={PLAIN_SEARCH_LIMIT} size.hard={PLAIN_SEARCH_LIMIT} size.pr=1000 size.prtotal=unlimited
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by users read
    by * none
{overlay}"""


class SlapdServer:
    """A private slapd on two free loopback ports (``ldap://`` and ``ldaps://``)."""

    def __init__(self, directory: Path, tls: TlsFiles | None = None) -> None:
        self.directory = directory
        self.tls = tls or make_tls(directory / "tls")
        self.port = free_tcp_port()
        self.tls_port = free_tcp_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.config_file = directory / "slapd.conf"

    @property
    def ldap_url(self) -> str:
        """Plain LDAP (StartTLS available)."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        """LDAP over TLS from the first byte."""
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def configure(self, ad_data_dir: Path | None = None, openldap_data_dir: Path | None = None) -> None:
        """Write schema and config; databases live under ``directory`` unless given (a cache)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        schema = self.directory / "adlike.schema"
        schema.write_text(AD_SCHEMA)
        self.ad_data = ad_data_dir or self.directory / "ad"
        self.openldap_data = openldap_data_dir or self.directory / "openldap"
        for path in (self.ad_data, self.openldap_data):
            path.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            f"""# generated for the printgate tests
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include {schema}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {self.directory / "slapd.pid"}
argsfile {self.directory / "slapd.args"}
TLSCACertificateFile {self.tls.ca_file}
TLSCertificateFile {self.tls.cert_file}
TLSCertificateKeyFile {self.tls.key_file}
sizelimit {PLAIN_SEARCH_LIMIT}
{_database_config(AD_SUFFIX, self.ad_data, ad_like=True)}
{_database_config(OPENLDAP_SUFFIX, self.openldap_data, ad_like=False)}
"""
        )

    def has_data(self, data_dir: Path) -> bool:
        """True when an mdb database already exists in ``data_dir``."""
        return (data_dir / "data.mdb").exists()

    def load_offline(self, suffix: str, ldif: str) -> None:
        """Bulk-load LDIF with slapadd (server stopped; quick mode, no overlays)."""
        source = self.directory / f"load-{hashlib.sha256(suffix.encode()).hexdigest()[:8]}.ldif"
        source.write_text(ldif)
        result = subprocess.run(
            [SLAPADD, "-q", "-f", str(self.config_file), "-b", suffix, "-l", str(source)],
            capture_output=True,
            text=True,
        )
        source.unlink()
        if result.returncode != 0:
            raise RuntimeError(f"slapadd failed: {result.stderr[-2000:]}")

    def seed(self) -> None:
        """The suffix entries and service accounts of both databases (offline)."""
        for suffix in (AD_SUFFIX, OPENLDAP_SUFFIX):
            self.load_offline(suffix, _suffix_entries(suffix))

    def start(self) -> None:
        """Start slapd in the foreground (as a child we can stop by PID) and wait until it answers."""
        log = open(self.directory / "slapd.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                SLAPD,
                "-d",
                "0",
                "-f",
                str(self.config_file),
                "-h",
                f"{self.ldap_url}/ {self.ldaps_url}/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            probe = subprocess.run(
                ["ldapsearch", "-x", "-H", self.ldap_url, "-s", "base", "-b", "", "namingContexts"],
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.directory / "slapd.log").read_text()[-2000:])
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM by PID (slapd syncs and closes its databases), then wait."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _tool(self, tool: str, suffix: str, text: str, *extra: str) -> None:
        result = subprocess.run(
            [tool, "-x", "-H", self.ldap_url, "-D", f"cn=admin,{suffix}", "-w", ADMIN_PASSWORD, *extra],
            input=text.encode(),
            capture_output=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr.decode(errors='replace')[-2000:]}")

    def add(self, suffix: str, ldif: str) -> None:
        """Add entries online (overlays run): ``ldapadd``."""
        self._tool("ldapmodify", suffix, ldif, "-a")

    def modify(self, suffix: str, ldif: str) -> None:
        """Apply an LDIF change record (``changetype: modify``/``delete``/``modrdn``) online."""
        self._tool("ldapmodify", suffix, ldif)

    def delete(self, suffix: str, *dns: str) -> None:
        """Delete entries online."""
        self._tool("ldapdelete", suffix, "\n".join(dns) + "\n")


def cleanup(directory: Path) -> None:
    """Remove a server's directory (after :meth:`SlapdServer.stop`)."""
    shutil.rmtree(directory, ignore_errors=True)
