"""Tokens, enrollment, renewal and revocation against both storage backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from printgate.enrollment_token import EnrollmentToken, parse_token

from hub_server.clock import FakeClock
from hub_server.pki import (
    AttemptLimiter,
    CertificateRevoked,
    DeviceIdentity,
    EnrollmentDenied,
    ForeignIdentity,
    HubPki,
    InvalidEnrollment,
    MalformedCsr,
    PkiConfig,
    TokenRefused,
    TooManyAttempts,
    WeakKey,
)
from hub_server.pki.peer import PeerCertificate
from hub_server.storage import Database
from tests.hub_server.pki.rig import TOKEN_KEY, csr_pem

PEER = "ipv4:127.0.0.1:40000"


@pytest.fixture
def pki(db: Database, tmp_path: Path, clock: FakeClock) -> HubPki:
    return HubPki(PkiConfig(directory=tmp_path / "pki"), db, clock, TOKEN_KEY)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


async def token(pki: HubPki, kind: str = "terminal", **options) -> str:
    made, _ = await pki.enroller.create_token(kind, ["127.0.0.1:1"], **options)  # type: ignore[arg-type]
    return str(made)


def certificate_count(db: Database) -> int:
    return int(db.read(lambda tx: tx.scalar("SELECT COUNT(*) AS n FROM pki_certificates")))


def peer_of(issued) -> PeerCertificate:
    return PeerCertificate(issued.identity, issued.serial, 0, issued.not_after_us, issued.certificate)


async def test_enrollment_issues_an_identity_the_hub_chose(
    pki: HubPki, db: Database, clock: FakeClock
) -> None:
    text = await token(pki, device_id="copier-3f", printer="floor2")
    enrolled: list[tuple[DeviceIdentity, str]] = []
    pki.enroller._on_enrolled = lambda tx, identity, printer: enrolled.append((identity, printer))
    key = new_key()
    issued = await pki.enroller.enroll(text, "terminal", csr_pem(key), PEER)
    certificate = issued.certificate
    assert issued.identity == DeviceIdentity("terminal", "copier-3f")
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "copier-3f"
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:printgate:terminal:copier-3f"]
    assert certificate.public_key() == key.public_key()
    assert certificate.issuer == pki.material.authority.certificate.subject
    life_s = (certificate.not_valid_after_utc - certificate.not_valid_before_utc).total_seconds()
    assert life_s == 30 * 86_400 + 300
    assert enrolled == [(DeviceIdentity("terminal", "copier-3f"), "floor2")]
    assert certificate_count(db) == 1


async def test_an_unbound_token_gets_a_hub_made_id(pki: HubPki) -> None:
    issued = await pki.enroller.enroll(await token(pki, "kiosk"), "kiosk", csr_pem(new_key()), PEER)
    assert issued.identity.kind == "kiosk" and issued.identity.device_id.startswith("kiosk-")


async def test_a_single_use_token_is_refused_the_second_time(pki: HubPki, db: Database) -> None:
    text = await token(pki)
    await pki.enroller.enroll(text, "terminal", csr_pem(new_key()), PEER)
    with pytest.raises(TokenRefused, match="used"):
        await pki.enroller.enroll(text, "terminal", csr_pem(new_key()), PEER)
    assert certificate_count(db) == 1


async def test_a_retry_with_the_same_key_gets_the_same_certificate(pki: HubPki, db: Database, clock) -> None:
    text, key = await token(pki), new_key()
    first = await pki.enroller.enroll(text, "terminal", csr_pem(key), PEER)
    clock.advance(60)
    again = await pki.enroller.enroll(text, "terminal", csr_pem(key), PEER)
    assert again.certificate == first.certificate
    assert certificate_count(db) == 1
    clock.advance(601)  # past the retry window the token is simply used
    with pytest.raises(TokenRefused):
        await pki.enroller.enroll(text, "terminal", csr_pem(key), PEER)


async def test_two_devices_racing_for_one_token_enroll_one(pki: HubPki, db: Database) -> None:
    text = await token(pki)
    results = await asyncio.gather(
        *(pki.enroller.enroll(text, "terminal", csr_pem(new_key()), PEER) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, TokenRefused) for r in results if isinstance(r, BaseException))
    assert certificate_count(db) == 1


async def test_a_multi_use_token_enrolls_that_many(pki: HubPki, db: Database) -> None:
    text = await token(pki, "kiosk", uses=3)
    ids = {
        (await pki.enroller.enroll(text, "kiosk", csr_pem(new_key()), PEER)).identity.device_id
        for _ in range(3)
    }
    assert len(ids) == 3
    with pytest.raises(TokenRefused, match="used"):
        await pki.enroller.enroll(text, "kiosk", csr_pem(new_key()), PEER)
    assert [t.state(0) for t in pki.enroller.list_tokens()] == ["used"]


async def test_expired_and_revoked_tokens_are_refused(pki: HubPki, db: Database, clock: FakeClock) -> None:
    expiring = await token(pki, expires_s=3600)
    revoked = await token(pki)
    assert await pki.enroller.revoke_token(revoked.split("-")[1])
    clock.advance(3600)
    with pytest.raises(TokenRefused, match="expired"):
        await pki.enroller.enroll(expiring, "terminal", csr_pem(new_key()), PEER)
    with pytest.raises(TokenRefused, match="revoked"):
        await pki.enroller.enroll(revoked, "terminal", csr_pem(new_key()), PEER)
    states = sorted(t.state(clock.now_us()) for t in pki.enroller.list_tokens())
    assert states == ["expired", "revoked"]
    assert certificate_count(db) == 0


async def test_wrong_secret_wrong_kind_and_another_hubs_token(pki: HubPki, db: Database) -> None:
    text = await token(pki, "kiosk")
    real = parse_token(text)
    guessed = EnrollmentToken(real.token_id, "0" * 32, real.anchor_sha256, real.addresses)
    with pytest.raises(TokenRefused, match="not recognised"):
        await pki.enroller.enroll(str(guessed), "kiosk", csr_pem(new_key()), PEER)
    with pytest.raises(EnrollmentDenied, match="for a kiosk, not a terminal"):
        await pki.enroller.enroll(text, "terminal", csr_pem(new_key()), PEER)
    elsewhere = EnrollmentToken(real.token_id, real.secret, "0" * 64, real.addresses)
    with pytest.raises(TokenRefused, match="another hub CA"):
        await pki.enroller.enroll(str(elsewhere), "kiosk", csr_pem(new_key()), PEER)
    with pytest.raises(InvalidEnrollment, match="damaged"):
        await pki.enroller.enroll(text[:-3] + "999", "kiosk", csr_pem(new_key()), PEER)
    assert certificate_count(db) == 0
    assert pki.enroller.list_tokens()[0].uses_count == 0


async def test_the_database_holds_no_secret(pki: HubPki, db: Database) -> None:
    text = await token(pki)
    secret = text.split("-")[2]
    rows = db.read(lambda tx: tx.execute("SELECT * FROM pki_tokens"))
    assert secret not in repr(rows)
    assert len(rows[0]["secret_hmac"]) == 64


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        (rsa.generate_private_key(65537, 1024), WeakKey, "RSA key of 1024 bits"),
        (ec.generate_private_key(ec.SECP256K1()), WeakKey, "secp256k1 is not accepted"),
        (ed25519.Ed25519PrivateKey.generate(), WeakKey, "Ed25519PublicKey keys are not accepted"),
    ],
)
async def test_weak_keys_are_refused(pki: HubPki, db: Database, key, error, message: str) -> None:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    from cryptography.hazmat.primitives import hashes, serialization

    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    pem = builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)
    text = await token(pki)
    with pytest.raises(error, match=message):
        await pki.enroller.enroll(text, "terminal", pem, PEER)
    assert certificate_count(db) == 0


async def test_a_csr_with_a_bad_signature_or_garbage_is_refused(pki: HubPki, db: Database) -> None:
    text = await token(pki)
    pem = csr_pem(new_key())
    from cryptography.hazmat.primitives import serialization

    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature
    import base64

    tampered = "-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)).decode()
    tampered += "-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(MalformedCsr, match=r"signature does not verify|not a PEM"):
        await pki.enroller.enroll(text, "terminal", tampered, PEER)
    with pytest.raises(MalformedCsr, match="not a PEM"):
        await pki.enroller.enroll(text, "terminal", "hello", PEER)
    with pytest.raises(MalformedCsr, match="larger than"):
        await pki.enroller.enroll(text, "terminal", "x" * 20_000, PEER)
    assert certificate_count(db) == 0


@pytest.mark.parametrize(
    ("subject", "extensions", "message"),
    [
        (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other-device")]), (), "CSR subject names"),
        (
            None,
            (x509.SubjectAlternativeName([x509.UniformResourceIdentifier("urn:printgate:kiosk:other")]),),
            "alternative names",
        ),
        (None, (x509.BasicConstraints(ca=True, path_length=None),), "CSR asks to be a CA"),
    ],
)
async def test_a_csr_naming_a_foreign_identity_is_refused(
    pki: HubPki, db: Database, subject, extensions, message
):
    text = await token(pki, device_id="t1")
    with pytest.raises(ForeignIdentity, match=message):
        await pki.enroller.enroll(text, "terminal", csr_pem(new_key(), subject, extensions), PEER)
    assert certificate_count(db) == 0
    own = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t1")])
    assert (
        await pki.enroller.enroll(text, "terminal", csr_pem(new_key(), own), PEER)
    ).identity.device_id == "t1"


async def test_attempts_are_rate_limited(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    moments = [0.0]
    limiter = AttemptLimiter(burst=3, per_minute=6, monotonic=lambda: moments[0])
    pki = HubPki(PkiConfig(directory=tmp_path / "pki"), db, clock, TOKEN_KEY, limiter=limiter)
    for _ in range(3):
        with pytest.raises(InvalidEnrollment):
            await pki.enroller.enroll("pge1-garbage", "terminal", "", PEER)
    with pytest.raises(TooManyAttempts, match="try again in 10 s"):
        await pki.enroller.enroll("pge1-garbage", "terminal", "", PEER)
    moments[0] += 10.0
    with pytest.raises(InvalidEnrollment):
        await pki.enroller.enroll("pge1-garbage", "terminal", "", "ipv4:127.0.0.1:1")


async def test_renewal_keeps_the_identity_and_is_idempotent(
    pki: HubPki, db: Database, clock: FakeClock
) -> None:
    first = await pki.enroller.enroll(await token(pki, device_id="t7"), "terminal", csr_pem(new_key()), PEER)
    clock.advance(20 * 86_400)
    key = new_key()
    renewed = await pki.enroller.renew(peer_of(first), csr_pem(key))
    assert renewed.identity == first.identity and renewed.serial != first.serial
    assert renewed.certificate.public_key() == key.public_key()
    assert (await pki.enroller.renew(peer_of(first), csr_pem(key))).serial == renewed.serial
    assert certificate_count(db) == 2
    with pytest.raises(ForeignIdentity):
        other = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t8")])
        await pki.enroller.renew(peer_of(first), csr_pem(new_key(), other))


async def test_a_revoked_device_cannot_renew_nor_use_an_older_token(pki: HubPki, db: Database, clock) -> None:
    spare = await token(pki, device_id="t9")
    first = await pki.enroller.enroll(await token(pki, device_id="t9"), "terminal", csr_pem(new_key()), PEER)
    clock.advance(1)
    assert await pki.revoke_device("t9", "stolen") == 1
    assert pki.revocations.is_revoked(first.serial)
    with pytest.raises(CertificateRevoked):
        await pki.enroller.renew(peer_of(first), csr_pem(new_key()))
    with pytest.raises(EnrollmentDenied, match="revoked after this token was made"):
        await pki.enroller.enroll(spare, "terminal", csr_pem(new_key()), PEER)
    clock.advance(1)
    again = await pki.enroller.enroll(await token(pki, device_id="t9"), "terminal", csr_pem(new_key()), PEER)
    assert not pki.revocations.is_revoked(again.serial)
    assert await pki.revoke_device("nobody") is None


async def test_revocation_by_serial_and_the_crl(pki: HubPki, db: Database) -> None:
    issued = await pki.enroller.enroll(await token(pki), "terminal", csr_pem(new_key()), PEER)
    version = pki.revocations.version
    assert await pki.revoke_certificate(issued.serial.upper(), "key leaked")
    assert pki.revocations.is_revoked(issued.serial) and pki.revocations.version == version + 1
    assert not await pki.revoke_certificate("abcdef")
    crl = x509.load_pem_x509_crl(pki.revocation_list_pem())
    assert [entry.serial_number for entry in crl] == [issued.certificate.serial_number]
    assert crl.is_signature_valid(pki.material.authority.certificate.public_key())  # type: ignore[arg-type]


async def test_another_replicas_revocation_reaches_this_cache(
    db: Database, database_url: str, tmp_path, clock
):
    from hub_server.storage import open_database

    replica_a = HubPki(PkiConfig(directory=tmp_path / "pki"), db, clock, TOKEN_KEY)
    other_db = open_database(database_url)
    try:
        replica_b = HubPki(
            PkiConfig(directory=tmp_path / "pki"), other_db, clock, TOKEN_KEY, poll_interval_s=0.05
        )
        issued = await replica_a.enroller.enroll(await token(replica_a), "terminal", csr_pem(new_key()), PEER)
        await replica_b.start()
        try:
            assert not replica_b.revocations.is_revoked(issued.serial)
            await replica_a.revoke_device(issued.identity.device_id)
            await asyncio.wait_for(replica_b.revocations.wait_revoked(issued.serial), timeout=30)
            assert replica_b.revocations.is_revoked(issued.serial)
        finally:
            await replica_b.stop()
    finally:
        other_db.close()


def test_the_pki_component_migrates_once(tmp_path: Path) -> None:
    from hub_server.pki import COMPONENT
    from hub_server.storage import open_database

    url = f"sqlite:///{tmp_path / 'alone.db'}"
    for _ in range(2):
        database = open_database(url, [COMPONENT])
        try:
            versions = database.read(
                lambda tx: [
                    (r["component"], r["number"]) for r in tx.execute("SELECT * FROM schema_versions")
                ]
            )
            value = database.read(
                lambda tx: tx.scalar("SELECT value FROM pki_state WHERE name = 'revocation_version'")
            )
        finally:
            database.close()
        assert (versions, value) == ([("pki", 1)], 0)
