"""Checks on certificate signing requests: well-formed, self-signed, a strong key, and naming
nobody but the identity the hub is about to give."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from hub_server.pki.errors import ForeignIdentity, MalformedCsr
from hub_server.pki.identity import DeviceIdentity
from hub_server.pki.keys import check_key_policy

__all__ = ["MAX_CSR_BYTES", "check_csr_names", "load_csr"]

MAX_CSR_BYTES = 16 * 1024


def load_csr(pem: str | bytes) -> x509.CertificateSigningRequest:
    """A PEM CSR whose self-signature verifies (proof the sender holds the key) and whose key
    the policy accepts; :class:`MalformedCsr` or :class:`WeakKey` otherwise."""
    data = pem.encode() if isinstance(pem, str) else pem
    if len(data) > MAX_CSR_BYTES:
        raise MalformedCsr(f"CSR larger than {MAX_CSR_BYTES} bytes")
    try:
        csr = x509.load_pem_x509_csr(data)
        public_key = csr.public_key()
        signature_valid = csr.is_signature_valid
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType) as error:
        raise MalformedCsr(f"not a PEM certificate signing request: {str(error)[:120]}") from None
    check_key_policy(public_key)
    if not signature_valid:
        raise MalformedCsr("CSR signature does not verify (the sender does not hold its key)")
    return csr


def check_csr_names(csr: x509.CertificateSigningRequest, identity: DeviceIdentity | None) -> None:
    """Refuse a CSR that names anyone: its subject may be empty or name exactly the device being
    issued (CN, optionally OU); an alternative name may only be the device's own URI; it may not
    ask to be a CA. ``identity`` None means the hub has not named the device yet."""
    for attribute in csr.subject:
        allowed = identity is not None and (
            (attribute.oid == NameOID.COMMON_NAME and attribute.value == identity.device_id)
            or (attribute.oid == NameOID.ORGANIZATIONAL_UNIT_NAME and attribute.value == identity.kind)
        )
        if not allowed:
            raise ForeignIdentity(f"CSR subject names {csr.subject.rfc4514_string()[:120]!r}: leave it empty")
    for extension in csr.extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            uris = value.get_values_for_type(x509.UniformResourceIdentifier)
            if identity is None or len(value) != 1 or uris != [identity.uri]:
                raise ForeignIdentity("CSR asks for alternative names: leave them out")
        elif isinstance(value, x509.BasicConstraints) and value.ca:
            raise ForeignIdentity("CSR asks to be a CA")
