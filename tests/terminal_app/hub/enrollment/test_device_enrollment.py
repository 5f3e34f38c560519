"""The device side against a real hub PKI on loopback: enroll, store, renew, and refuse to talk
to a hub that does not match the token (wrong CA, man in the middle)."""

from __future__ import annotations

import datetime
import stat
import time
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from printgate.enrollment_token import EnrollmentToken, parse_token
from printgate.v1 import enrollment_pb2, enrollment_pb2_grpc

from hub_server.clock import FakeClock
from hub_server.pki import COMPONENT, PkiConfig
from hub_server.storage import open_database
from terminal_app.errors import EnrollmentRefused, HubNotTrusted, ReenrollRequired, TokenInvalid
from terminal_app.hub.enrollment import CredentialState, DeviceEnrollment
from tests.hub_server.pki.rig import SERVER_OPTIONS, running_pki


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now_us=time.time_ns() // 1000)


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(f"sqlite:///{tmp_path / 'hub.db'}", [COMPONENT])
    yield database
    database.close()


def certificates(db) -> int:
    return int(db.read(lambda tx: tx.scalar("SELECT COUNT(*) AS n FROM pki_certificates")))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_enroll_stores_credentials_that_the_hub_accepts(db, tmp_path: Path, clock) -> None:
    async with running_pki(db, tmp_path / "hub", clock) as rig:
        device = DeviceEnrollment(tmp_path / "state", "terminal")
        assert device.state() is CredentialState.UNENROLLED
        credentials = await device.enroll(await rig.token(device_id="t-100"))
        assert credentials.device_id == "t-100" and credentials.kind == "terminal"
        assert device.state() is CredentialState.VALID
        assert mode(tmp_path / "state") == 0o700 and mode(credentials.key_path) == 0o600
        assert mode(credentials.certificate_path) == 0o644
        assert not (tmp_path / "state" / "pending.key").exists()
        assert credentials.anchor_path.read_bytes() == rig.anchor_pem
        assert credentials.endpoints == (rig.enrollment_address,)
        _, key, chain = credentials.channel_material()
        seen = await rig.check_health(key, chain)
        assert seen["device-id"] == "t-100"


async def test_renewal_at_two_thirds_replaces_the_credentials(db, tmp_path: Path, clock) -> None:
    config = PkiConfig(directory=tmp_path / "hub", device_endpoints=())
    async with running_pki(db, tmp_path / "hub", clock, config=config) as rig:
        moments = [datetime.datetime.now(datetime.UTC)]
        device = DeviceEnrollment(tmp_path / "state", "kiosk", now=lambda: moments[0])
        first = await device.enroll(await rig.token("kiosk"))
        # The device dials the device listener from now on.
        import json

        meta = json.loads((first.directory / "device.json").read_text())
        meta["endpoints"] = [rig.device_address]
        (first.directory / "device.json").write_text(json.dumps(meta))
        assert await device.renew_if_due() is None
        moments[0] += datetime.timedelta(days=21)
        assert device.state() is CredentialState.RENEW_DUE
        renewed = await device.renew_if_due()
        assert renewed is not None and renewed.device_id == first.device_id
        assert renewed.certificate.serial_number != first.certificate.serial_number
        assert renewed.certificate.public_key() != first.certificate.public_key()
        assert not first.directory.exists() and sorted(
            p.name for p in (tmp_path / "state").glob("gen-*")
        ) == [renewed.directory.name]
        moments[0] += datetime.timedelta(days=60)
        assert device.state() is CredentialState.EXPIRED
        with pytest.raises(ReenrollRequired, match=r"expired at .*enroll again with a new token"):
            await device.renew_if_due()


async def test_a_retry_after_a_lost_answer_gets_the_same_certificate(db, tmp_path: Path, clock) -> None:
    async with running_pki(db, tmp_path / "hub", clock) as rig:
        text = await rig.token()
        device = DeviceEnrollment(tmp_path / "state", "terminal")
        # The first attempt reached the hub but its answer was lost: only the pending key remains.
        key = device.store.pending_key()
        from tests.hub_server.pki.rig import csr_pem

        lost = await rig.pki.enroller.enroll(text, "terminal", csr_pem(key), "ipv4:127.0.0.1:1")
        credentials = await device.enroll(text)
        assert credentials.certificate.serial_number == lost.certificate.serial_number
        assert certificates(db) == 1


async def test_a_malformed_token_is_refused_before_any_connection(tmp_path: Path) -> None:
    device = DeviceEnrollment(tmp_path / "state", "terminal")
    with pytest.raises(TokenInvalid, match="damaged"):
        await device.enroll(str(EnrollmentToken.new("a" * 64, ["127.0.0.1:1"]))[:-12] + "0000@127.0.0.1:1")
    assert not (tmp_path / "state").exists()


async def test_a_token_for_the_other_kind_is_refused(db, tmp_path: Path, clock) -> None:
    async with running_pki(db, tmp_path / "hub", clock) as rig:
        device = DeviceEnrollment(tmp_path / "state", "terminal")
        with pytest.raises(EnrollmentRefused, match=r"PERMISSION_DENIED.*for a kiosk, not a terminal"):
            await device.enroll(await rig.token("kiosk"))
        assert device.state() is CredentialState.UNENROLLED and certificates(db) == 0


async def test_a_fingerprint_mismatch_stops_before_the_csr_is_sent(db, tmp_path: Path, clock) -> None:
    async with running_pki(db, tmp_path / "hub", clock) as rig:
        real = parse_token(await rig.token())
        wrong = EnrollmentToken(real.token_id, real.secret, "b" * 64, real.addresses)
        device = DeviceEnrollment(tmp_path / "state", "terminal")
        with pytest.raises(HubNotTrusted, match=r"not .* as the token says: not sending anything"):
            await device.enroll(str(wrong))
        assert certificates(db) == 0 and rig.pki.enroller.list_tokens()[0].uses_count == 0


class Eavesdropper(enrollment_pb2_grpc.EnrollmentServiceServicer):
    """A man in the middle with his own CA: relays GetCaCertificate from the real hub (or
    answers his own CA), and records every Enroll that reaches him."""

    def __init__(self, hub_address: str, hub_anchor: bytes, own_bundle: bytes | None) -> None:
        self.hub_address, self.hub_anchor, self.own_bundle = hub_address, hub_anchor, own_bundle
        self.enrolls: list[str] = []

    async def GetCaCertificate(self, request, context):
        if self.own_bundle is not None:
            return enrollment_pb2.GetCaCertificateResponse(trust_bundle_pem=self.own_bundle.decode())
        credentials = grpc.ssl_channel_credentials(self.hub_anchor)
        async with grpc.aio.secure_channel(self.hub_address, credentials) as channel:
            return await enrollment_pb2_grpc.EnrollmentServiceStub(channel).GetCaCertificate(request)

    async def Enroll(self, request, context):
        self.enrolls.append(request.token)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "gone")


@pytest.mark.parametrize("relays_real_ca", [True, False], ids=["relays-real-ca", "answers-own-ca"])
async def test_a_man_in_the_middle_gets_nothing(db, tmp_path: Path, clock, relays_real_ca: bool) -> None:
    from hub_server.pki.material import PkiConfig as Config
    from hub_server.pki.tls import ServerTls

    async with running_pki(db, tmp_path / "hub", clock) as rig:
        attacker = ServerTls(Config(directory=tmp_path / "attacker"), clock)
        own = None if relays_real_ca else attacker.material.trust_bundle_pem()
        eavesdropper = Eavesdropper(rig.enrollment_address, rig.anchor_pem, own)
        server = grpc.aio.server(options=SERVER_OPTIONS)
        enrollment_pb2_grpc.add_EnrollmentServiceServicer_to_server(eavesdropper, server)
        port = server.add_secure_port("127.0.0.1:0", attacker.credentials(require_client_auth=False))
        await server.start()
        try:
            real = parse_token(await rig.token())
            # The device was given the real token, but the network sends it to the attacker.
            diverted = EnrollmentToken(real.token_id, real.secret, real.anchor_sha256, (f"127.0.0.1:{port}",))
            device = DeviceEnrollment(tmp_path / "state", "terminal")
            message = "man in the middle" if relays_real_ca else "as the token says"
            with pytest.raises(HubNotTrusted, match=message):
                await device.enroll(str(diverted))
        finally:
            await server.stop(0)
        assert eavesdropper.enrolls == [] and certificates(db) == 0
        assert not (tmp_path / "state" / "pending.key").exists()


def test_renewal_state_boundaries(tmp_path: Path) -> None:
    from terminal_app.hub.enrollment.state import Credentials

    begin = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = _certificate(begin, begin + datetime.timedelta(days=30))
    credentials = Credentials(tmp_path, "t", "terminal", ("h:1",), certificate)
    assert credentials.state(begin + datetime.timedelta(days=19, hours=23)) is CredentialState.VALID
    assert credentials.state(begin + datetime.timedelta(days=20)) is CredentialState.RENEW_DUE
    assert credentials.state(begin + datetime.timedelta(days=30)) is CredentialState.EXPIRED
    assert credentials.state(begin - datetime.timedelta(seconds=1)) is CredentialState.EXPIRED


def _certificate(begin: datetime.datetime, end: datetime.datetime) -> x509.Certificate:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "t")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(begin)
        .not_valid_after(end)
        .sign(key, hashes.SHA256())
    )
