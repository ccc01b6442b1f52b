"""Throw-away certificates for the demo, the benches and ``ferrotls server`` without ``--cert``.

Made with cryptography's X.509 builder (trustme is only a test dependency).

``make_test_pki(names)`` returns a fresh ECDSA P-256 CA and a leaf for ``names``
(DNS names or IP literals), valid for a day.  Never use these for anything
but local testing: the keys live only in memory.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..config import CertifiedKey
from ..x509 import DefaultVerifier, TrustStore

__all__ = ["TestPKI", "make_test_pki"]


@dataclass(frozen=True)
class TestPKI:
    """A CA certificate (to trust) and a server CertifiedKey issued by it."""

    ca_certificate: x509.Certificate
    server: CertifiedKey

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate, PEM: what a client must trust."""
        return self.ca_certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def chain_pem(self) -> bytes:
        """The server's certificate chain, PEM, leaf first."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.server.chain)

    @property
    def key_pem(self) -> bytes:
        """The server's private key, unencrypted PKCS#8 PEM."""
        pem: bytes = self.server.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return pem

    def server_pem(self) -> tuple[bytes, bytes]:
        """(private key PEM, certificate chain PEM) of the server, for tools that want files."""
        return self.key_pem, self.chain_pem

    def verifier(self) -> DefaultVerifier:
        """A ferrotls certificate verifier that trusts this CA and nothing else."""
        return DefaultVerifier(TrustStore.from_pem(cadata=self.ca_pem))

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the server's leaf certificate, colon-separated hex."""
        digest = self.server.chain[0].fingerprint(hashes.SHA256())
        return ":".join(f"{b:02X}" for b in digest)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _leaf_key(kind: str) -> Any:
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key kind {kind!r}: 'p256', 'rsa2048' or 'ed25519'")


def make_test_pki(
    names: Sequence[str] = ("localhost", "127.0.0.1"), key_kind: str = "p256"
) -> TestPKI:
    """A one-day ECDSA P-256 CA and a server certificate for ``names``.

    ``key_kind`` picks the leaf's key: "p256" (default), "rsa2048" or "ed25519".
    """
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ferrotls throw-away CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = _leaf_key(key_kind)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return TestPKI(ca, CertifiedKey([leaf], leaf_key))
