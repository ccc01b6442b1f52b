"""Certificates made at test time (nothing is vendored, nothing expires in the repo).

Three independent makers, so that the verifier is tested against more than one
encoder's idea of a "normal" certificate:

* :class:`TestCA` -- pure pyca/cryptography builders.  Every edge case the
  verifier must reject (expired, not yet valid, clientAuth-only EKU, wrong host,
  intermediate chains, unknown CA, v1 leaf) is made here.  Its default output is
  WebPKI-clean (non-critical SAN, AKI/SKI, critical KeyUsage on CAs).
* :func:`trustme_chain` -- trustme, which marks SAN/EKU critical on a leaf with a
  non-empty subject (fails cryptography's strict WebPKI profile; see STYLE.md).
* :func:`openssl_chain` -- ``openssl req`` / ``openssl x509`` subprocesses into a
  tmp directory, the way people make private CAs by hand (the CA has no KeyUsage).

Key generation is the slow part (RSA especially), so :func:`key` caches one key
per kind for the whole session.  Keys are immutable objects; sharing is safe.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ferrotls.sign import SigningKey

__all__ = [
    "CLIENT_AUTH",
    "KEY_KINDS",
    "NOW",
    "SERVER_AUTH",
    "Issued",
    "OpenSSLChain",
    "TestCA",
    "key",
    "openssl_chain",
    "trustme_chain",
]

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

#: A fixed "now" for builders; tests pass the same instant to the verifier.
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)

PrivateKey = SigningKey

KEY_KINDS = ("rsa2048", "p256", "p384", "p521", "ed25519", "ed448")

_CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}


def key(kind: str = "p256", index: int = 0) -> PrivateKey:
    """One cached private key per (kind, index): "rsa2048", "rsa3072", "p256", ..., "ed448"."""
    return _key(kind, index)


@functools.cache
def _key(kind: str, index: int) -> PrivateKey:
    # ``index`` is only part of the cache key: it lets a test ask for a *different* key of a kind.
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind in _CURVES:
        return ec.generate_private_key(_CURVES[kind])
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(f"unknown key kind {kind!r}")


def _sig_hash(k: PrivateKey) -> hashes.HashAlgorithm | None:
    return (
        None
        if isinstance(k, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ferrotls tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _general_name(n: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(n))
    except ValueError:
        return x509.DNSName(n)


@dataclass
class Issued:
    """A leaf (or intermediate) certificate with its key and the chain to send."""

    cert: x509.Certificate
    key: PrivateKey
    intermediates: list[x509.Certificate] = field(default_factory=list)

    @property
    def chain(self) -> list[x509.Certificate]:
        """Leaf first, then intermediates (not the root), as in a TLS Certificate message."""
        return [self.cert, *self.intermediates]

    def der_chain(self) -> list[bytes]:
        return [c.public_bytes(serialization.Encoding.DER) for c in self.chain]

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def key_pem(self, password: bytes | None = None) -> bytes:
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
        )


class TestCA:
    """A CA built with cryptography's CertificateBuilder (root or intermediate)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        name: str = "ferrotls test root",
        *,
        key_kind: str = "p256",
        key_index: int = 0,
        parent: TestCA | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        path_length: int | None = None,
        key_usage: bool = True,
    ) -> None:
        self.key = key(key_kind, key_index)
        self.parent = parent
        subject = _name(name)
        issuer_name = parent.cert.subject if parent else subject
        signer = parent.key if parent else self.key
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - 30 * DAY)
            .not_valid_after(not_after or NOW + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
        )
        if key_usage:
            b = b.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        if parent:
            b = b.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()),
                critical=False,
            )
        self.cert: x509.Certificate = b.sign(signer, _sig_hash(signer))  # type: ignore[arg-type]

    @property
    def intermediates(self) -> list[x509.Certificate]:
        """This CA's certificate and its parents' up to (not including) the root."""
        if self.parent is None:
            return []
        return [self.cert, *self.parent.intermediates]

    def intermediate(self, name: str = "ferrotls test intermediate", **kw: Any) -> TestCA:
        return TestCA(name, parent=self, **kw)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        *names: str,
        key_kind: str = "p256",
        key_index: int = 0,
        common_name: str | None = None,
        eku: Sequence[x509.ObjectIdentifier] | None = (SERVER_AUTH, CLIENT_AUTH),
        eku_critical: bool = False,
        san_critical: bool = False,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
    ) -> Issued:
        """Issue a leaf for DNS names and/or IP literals in ``names``."""
        k = key(key_kind, key_index)
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name or (names[0] if names else "client")))
            .issuer_name(self.cert.subject)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - DAY)
            .not_valid_after(not_after or NOW + 90 * DAY)
        )
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
            critical=False,
        )
        if names:
            b = b.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names]),
                critical=san_critical,
            )
        if eku is not None:
            b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
        for ext, crit in extra:
            b = b.add_extension(ext, critical=crit)
        cert = b.sign(self.key, _sig_hash(self.key))  # type: ignore[arg-type]
        return Issued(cert, k, self.intermediates)


# --------------------------------------------------------------------------- trustme


def trustme_chain(
    *names: str, key_type: trustme.KeyType = trustme.KeyType.ECDSA, intermediate: bool = False
) -> tuple[x509.Certificate, Issued]:
    """(root certificate, leaf) made by trustme; ``intermediate`` adds one intermediate CA."""
    ca = trustme.CA(key_type=key_type)
    issuer = ca.create_child_ca(key_type=key_type) if intermediate else ca
    lc = issuer.issue_cert(*names, key_type=key_type)
    pems = [x509.load_pem_x509_certificate(b.bytes()) for b in lc.cert_chain_pems]
    leaf_key = serialization.load_pem_private_key(lc.private_key_pem.bytes(), None)
    root = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    return root, Issued(pems[0], leaf_key, pems[1:])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- openssl CLI


@dataclass
class OpenSSLChain:
    ca_pem: Path
    leaf_pem: Path
    leaf_key: Path
    chain_pem: Path  # leaf + intermediate (if any)

    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.ca_pem.read_bytes())

    def der_chain(self) -> list[bytes]:
        certs = x509.load_pem_x509_certificates(self.chain_pem.read_bytes())
        return [c.public_bytes(serialization.Encoding.DER) for c in certs]


def _run(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


_OPENSSL_KEYS = {
    "p256": ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
    "p384": ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"),
    "rsa2048": ("-newkey", "rsa:2048"),
    "ed25519": ("-newkey", "ed25519"),
}


def openssl_chain(
    tmp: Path,
    *names: str,
    key_kind: str = "p256",
    eku: str | None = "serverAuth,clientAuth",
    intermediate: bool = False,
    v1_leaf: bool = False,
) -> OpenSSLChain:
    """A CA (``openssl req -x509``, default v3_ca extensions: no keyUsage) and a leaf signed with
    ``openssl x509 -req -extfile`` carrying subjectAltName (and extendedKeyUsage if ``eku``)."""
    tmp.mkdir(parents=True, exist_ok=True)
    kopt = _OPENSSL_KEYS[key_kind]
    _run(
        "req",
        "-x509",
        *kopt,
        "-nodes",
        "-subj",
        "/CN=ferrotls openssl CA",
        "-days",
        "30",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        cwd=tmp,
    )
    issuer = "ca"
    if intermediate:
        (tmp / "int.cnf").write_text(
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        )
        _run(
            "req",
            "-new",
            *kopt,
            "-nodes",
            "-subj",
            "/CN=ferrotls openssl intermediate",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            cwd=tmp,
        )
        _run(
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "int.cnf",
            "-out",
            "int.pem",
            cwd=tmp,
        )
        issuer = "int"
    san = ",".join(("IP:" if _is_ip(n) else "DNS:") + n for n in names)
    ext_lines = [f"subjectAltName={san}"] if names else []
    if eku:
        ext_lines.append(f"extendedKeyUsage={eku}")
    (tmp / "leaf.cnf").write_text("\n".join(ext_lines) + "\n")
    _run(
        "req",
        "-new",
        *kopt,
        "-nodes",
        "-subj",
        f"/CN={names[0] if names else 'client'}",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        cwd=tmp,
    )
    extfile = () if v1_leaf else ("-extfile", "leaf.cnf")
    _run(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        f"{issuer}.pem",
        "-CAkey",
        f"{issuer}.key",
        "-CAcreateserial",
        "-days",
        "30",
        *extfile,
        "-out",
        "leaf.pem",
        cwd=tmp,
    )
    chain = (tmp / "leaf.pem").read_bytes() + (
        (tmp / "int.pem").read_bytes() if intermediate else b""
    )
    (tmp / "chain.pem").write_bytes(chain)
    return OpenSSLChain(tmp / "ca.pem", tmp / "leaf.pem", tmp / "leaf.key", tmp / "chain.pem")


def _is_ip(n: str) -> bool:
    try:
        ipaddress.ip_address(n)
    except ValueError:
        return False
    return True
