"""CertificateVerify signatures (RFC 8446 section 4.4.3) via pyca/cryptography.

Every property of a :class:`~ferrotls.suites.SignatureScheme` -- key type, curve,
hash, padding and whether TLS 1.3 allows it in CertificateVerify -- is one row of
:data:`SCHEMES`; the functions below only look rows up.

Binding rules (RFC 8446 section 4.2.3), all enforced by :func:`verify`:

* ``ecdsa_secpXXXrY_shaZ`` is bound to its curve: a P-256 key can only use
  ``ecdsa_secp256r1_sha256``.
* ``rsa_pss_rsae_*`` needs an RSA key whose certificate carries the
  rsaEncryption SPKI OID; ``rsa_pss_pss_*`` needs the RSASSA-PSS SPKI OID.
  pyca/cryptography loads RSASSA-PSS keys as plain RSA keys, so the distinction
  is only visible on a certificate: pass the certificate (not the bare key) to
  :func:`verify`, and pass ``certificate=`` to :func:`schemes_for_key` /
  :func:`choose_scheme` to sign with ``rsa_pss_pss_*``.  A bare RSA public key
  is treated as rsaEncryption.
* PSS uses MGF1 with the same hash and salt length = hash length.
* RSASSA-PKCS1-v1_5 and SHA-1 schemes are never accepted in CertificateVerify;
  they may only appear in ``signature_algorithms_cert``
  (:data:`SIGNATURE_ALGORITHMS_CERT`).

TLS 1.2 (``tls12=True``; RFC 5246 section 7.4.1.4.1, RFC 8422 section 5.10):
the ServerKeyExchange and CertificateVerify signatures may also use
RSASSA-PKCS1-v1_5 with SHA-256/384/512, and ``ecdsa_*`` names a hash only, not
a curve (any curve's key may sign with ecdsa_secp256r1_sha256).  SHA-1 stays
refused.

Errors: a signature that does not verify raises :class:`DecryptError`; a scheme
that is not allowed, was not offered, or does not fit the key raises
:class:`IllegalParameter`.  Local misuse (signing with a key that cannot make
the scheme, unloadable key files) raises :class:`UsageError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import PublicKeyAlgorithmOID

from .errors import DecryptError, HandshakeFailure, IllegalParameter, UsageError
from .suites import SignatureScheme

__all__ = [
    "CERTIFICATE_VERIFY_SCHEMES",
    "SCHEMES",
    "SIGNATURE_ALGORITHMS_CERT",
    "TLS12_SCHEMES",
    "SchemeInfo",
    "SigningKey",
    "VerifyingKey",
    "certificate_verify_message",
    "choose_scheme",
    "pick_scheme",
    "sign_with_fitting_scheme",
    "key_matches_certificate",
    "load_certificate_chain",
    "load_private_key",
    "schemes_for_key",
    "sign",
    "verify",
]

SigningKey: TypeAlias = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)
VerifyingKey: TypeAlias = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
KeyKind: TypeAlias = Literal["rsa", "ec", "ed25519", "ed448"]
RsaSpki: TypeAlias = Literal["rsae", "pss"]

_KIND_OF_PUBLIC: dict[type, KeyKind] = {
    rsa.RSAPublicKey: "rsa",
    ec.EllipticCurvePublicKey: "ec",
    ed25519.Ed25519PublicKey: "ed25519",
    ed448.Ed448PublicKey: "ed448",
}

#: SPKI algorithm OID on a certificate -> which rsa_pss_* family it binds to.
_RSA_SPKI: dict[x509.ObjectIdentifier, RsaSpki] = {
    PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5: "rsae",
    PublicKeyAlgorithmOID.RSASSA_PSS: "pss",
}


@dataclass(frozen=True, slots=True)
class SchemeInfo:
    """One row: what a signature scheme means and where TLS 1.3 allows it."""

    scheme: SignatureScheme
    kind: KeyKind
    hash: type[hashes.HashAlgorithm] | None  # None: EdDSA hashes internally
    padding: Literal["pss", "pkcs1"] | None = None  # RSA only
    curve: type[ec.EllipticCurve] | None = None  # ECDSA in TLS 1.3 only
    rsa_spki: RsaSpki | None = None  # rsa_pss_rsae_* vs rsa_pss_pss_*
    certificate_verify: bool = True  # allowed in a TLS 1.3 CertificateVerify
    tls12: bool = True  # allowed in a TLS 1.2 ServerKeyExchange / CertificateVerify


_S = SignatureScheme
SCHEMES: dict[int, SchemeInfo] = {
    row.scheme: row
    for row in (
        # In preference order within each key kind (schemes_for_key keeps this order).
        SchemeInfo(_S.ECDSA_SECP256R1_SHA256, "ec", hashes.SHA256, curve=ec.SECP256R1),
        SchemeInfo(_S.ECDSA_SECP384R1_SHA384, "ec", hashes.SHA384, curve=ec.SECP384R1),
        SchemeInfo(_S.ECDSA_SECP521R1_SHA512, "ec", hashes.SHA512, curve=ec.SECP521R1),
        SchemeInfo(_S.ED25519, "ed25519", None),
        SchemeInfo(_S.ED448, "ed448", None),
        SchemeInfo(_S.RSA_PSS_RSAE_SHA256, "rsa", hashes.SHA256, "pss", rsa_spki="rsae"),
        SchemeInfo(_S.RSA_PSS_RSAE_SHA384, "rsa", hashes.SHA384, "pss", rsa_spki="rsae"),
        SchemeInfo(_S.RSA_PSS_RSAE_SHA512, "rsa", hashes.SHA512, "pss", rsa_spki="rsae"),
        SchemeInfo(_S.RSA_PSS_PSS_SHA256, "rsa", hashes.SHA256, "pss", rsa_spki="pss"),
        SchemeInfo(_S.RSA_PSS_PSS_SHA384, "rsa", hashes.SHA384, "pss", rsa_spki="pss"),
        SchemeInfo(_S.RSA_PSS_PSS_SHA512, "rsa", hashes.SHA512, "pss", rsa_spki="pss"),
        # Certificates only (signature_algorithms_cert), never CertificateVerify.
        SchemeInfo(_S.RSA_PKCS1_SHA256, "rsa", hashes.SHA256, "pkcs1", certificate_verify=False),
        SchemeInfo(_S.RSA_PKCS1_SHA384, "rsa", hashes.SHA384, "pkcs1", certificate_verify=False),
        SchemeInfo(_S.RSA_PKCS1_SHA512, "rsa", hashes.SHA512, "pkcs1", certificate_verify=False),
        SchemeInfo(_S.RSA_PKCS1_SHA1, "rsa", hashes.SHA1, "pkcs1", certificate_verify=False, tls12=False),
        SchemeInfo(_S.ECDSA_SHA1, "ec", hashes.SHA1, certificate_verify=False, tls12=False),
    )
}

#: What we offer in signature_algorithms and accept in CertificateVerify, in preference order.
CERTIFICATE_VERIFY_SCHEMES: tuple[SignatureScheme, ...] = tuple(
    r.scheme for r in SCHEMES.values() if r.certificate_verify
)

#: What a TLS 1.2 handshake may sign with (ServerKeyExchange, CertificateVerify).
TLS12_SCHEMES: tuple[SignatureScheme, ...] = tuple(r.scheme for r in SCHEMES.values() if r.tls12)


def _allowed(row: SchemeInfo | None, tls12: bool) -> bool:
    return row is not None and (row.tls12 if tls12 else row.certificate_verify)

#: What we offer in signature_algorithms_cert: the signatures on certificates that
#: cryptography.x509.verification accepts.  It rejects SHA-1 and EdDSA-signed
#: certificates (an Ed25519 *leaf key* is fine; an Ed25519 *CA* is not), so those
#: are not offered.
SIGNATURE_ALGORITHMS_CERT: tuple[SignatureScheme, ...] = (
    _S.ECDSA_SECP256R1_SHA256,
    _S.ECDSA_SECP384R1_SHA384,
    _S.ECDSA_SECP521R1_SHA512,
    _S.RSA_PSS_RSAE_SHA256,
    _S.RSA_PSS_RSAE_SHA384,
    _S.RSA_PSS_RSAE_SHA512,
    _S.RSA_PSS_PSS_SHA256,
    _S.RSA_PSS_PSS_SHA384,
    _S.RSA_PSS_PSS_SHA512,
    _S.RSA_PKCS1_SHA256,
    _S.RSA_PKCS1_SHA384,
    _S.RSA_PKCS1_SHA512,
)

_CONTEXT: dict[bool, bytes] = {
    True: b"TLS 1.3, server CertificateVerify",
    False: b"TLS 1.3, client CertificateVerify",
}


def certificate_verify_message(transcript_hash: bytes, *, server: bool) -> bytes:
    """The bytes that CertificateVerify signs (RFC 8446 section 4.4.3):
    64 spaces, the context string, a zero byte, then the transcript hash."""
    return b"\x20" * 64 + _CONTEXT[server] + b"\x00" + bytes(transcript_hash)


def _scheme_name(scheme: int) -> str:
    try:
        return SignatureScheme(scheme).name.lower()
    except ValueError:
        return f"0x{scheme:04x}"


def _kind(public_key: object) -> KeyKind | None:
    for cls, kind in _KIND_OF_PUBLIC.items():
        if isinstance(public_key, cls):
            return kind
    return None


def _fits(row: SchemeInfo, public_key: object, spki: RsaSpki | None, tls12: bool = False) -> str | None:
    """None if ``row`` can be used with this key, else the reason why not."""
    kind = _kind(public_key)
    if kind != row.kind:
        return f"{_scheme_name(row.scheme)} needs an {row.kind} key, not {kind or type(public_key).__name__}"
    if (
        not tls12
        and row.curve is not None
        and isinstance(public_key, ec.EllipticCurvePublicKey)
        and not isinstance(public_key.curve, row.curve)
    ):
        return f"{_scheme_name(row.scheme)} is bound to {row.curve.name}, the key is on {public_key.curve.name}"
    if row.rsa_spki is not None and row.rsa_spki != (spki or "rsae"):
        oid = "RSASSA-PSS" if row.rsa_spki == "pss" else "rsaEncryption"
        return f"{_scheme_name(row.scheme)} needs a certificate with the {oid} public key OID"
    return None


def _rsa_spki_of(cert: x509.Certificate | None) -> RsaSpki | None:
    return None if cert is None else _RSA_SPKI.get(cert.public_key_algorithm_oid)


def schemes_for_key(
    private_key: SigningKey, *, certificate: x509.Certificate | None = None, tls12: bool = False
) -> list[SignatureScheme]:
    """The CertificateVerify schemes ``private_key`` can sign with, in preference order.

    ECDSA keys get the one scheme of their curve (none for other curves); RSA keys get
    ``rsa_pss_rsae_*``, or ``rsa_pss_pss_*`` if ``certificate`` has the RSASSA-PSS OID.
    With ``tls12``: the TLS 1.2 schemes (every ECDSA hash, PKCS#1 v1.5 after PSS).
    """
    public = private_key.public_key()
    spki = _rsa_spki_of(certificate)
    kind = _kind(public)
    return [
        row.scheme
        for row in SCHEMES.values()
        if _allowed(row, tls12) and row.kind == kind and _fits(row, public, spki, tls12) is None
    ]


def choose_scheme(
    private_key: SigningKey,
    peer_offered: Sequence[int],
    *,
    certificate: x509.Certificate | None = None,
) -> SignatureScheme:
    """Our most preferred scheme that the peer offered; HandshakeFailure if there is none."""
    return pick_scheme(schemes_for_key(private_key, certificate=certificate), peer_offered)


def pick_scheme(ours: Sequence[SignatureScheme], peer_offered: Sequence[int]) -> SignatureScheme:
    """The first of ``ours`` that the peer offered; HandshakeFailure if there is none."""
    offered = set(peer_offered)
    for scheme in ours:
        if scheme in offered:
            return scheme
    raise HandshakeFailure(
        "no signature scheme in common: our key can sign with "
        f"[{', '.join(_scheme_name(s) for s in ours) or 'nothing'}], peer offered "
        f"[{', '.join(_scheme_name(s) for s in peer_offered)}]"
    )


def _pss(h: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)


def sign(
    private_key: SigningKey,
    scheme: int,
    message: bytes,
    *,
    certificate: x509.Certificate | None = None,
    tls12: bool = False,
) -> bytes:
    """Sign ``message`` (normally :func:`certificate_verify_message`) with ``scheme``.

    UsageError if the scheme is not a TLS 1.3 CertificateVerify scheme (with
    ``tls12``: a TLS 1.2 one) or does not fit the key.
    """
    row = SCHEMES.get(scheme)
    if row is None or not _allowed(row, tls12):
        version = "TLS 1.2 signature" if tls12 else "TLS 1.3 CertificateVerify"
        raise UsageError(f"{_scheme_name(scheme)} cannot be used in a {version}")
    why = _fits(row, private_key.public_key(), _rsa_spki_of(certificate), tls12)
    if why is not None:
        raise UsageError(why)
    return _sign_row(private_key, row, message)


def sign_with_fitting_scheme(private_key: SigningKey, scheme: int, message: bytes) -> bytes:
    """:func:`sign` for a scheme already known to fit the key (one of
    :func:`schemes_for_key`'s answers for it): no per-call key inspection."""
    return _sign_row(private_key, SCHEMES[scheme], message)


def _sign_row(private_key: SigningKey, row: SchemeInfo, message: bytes) -> bytes:
    data = bytes(message)
    if isinstance(private_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return private_key.sign(data)
    assert row.hash is not None
    h = row.hash()
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15() if row.padding == "pkcs1" else _pss(h), h)
    return private_key.sign(data, ec.ECDSA(h))


def verify(
    public_key_or_cert: VerifyingKey | x509.Certificate,
    scheme: int,
    signature: bytes,
    message: bytes,
    *,
    offered: Sequence[int] | None = None,
    tls12: bool = False,
) -> None:
    """Check a peer's CertificateVerify signature (``tls12``: a TLS 1.2
    ServerKeyExchange or CertificateVerify signature).

    IllegalParameter if ``scheme`` is not allowed in a TLS 1.3 CertificateVerify, is not in
    ``offered`` (what we sent in signature_algorithms, when given), or does not fit the key
    (type, ECDSA curve, rsaEncryption vs RSASSA-PSS certificate); DecryptError if the
    signature does not verify.
    """
    row = SCHEMES.get(scheme)
    if row is None or not _allowed(row, tls12):
        version = "TLS 1.2 signature" if tls12 else "TLS 1.3 CertificateVerify"
        raise IllegalParameter(f"signature scheme {_scheme_name(scheme)} is not allowed in a {version}")
    if offered is not None and scheme not in offered:
        raise IllegalParameter(f"peer signed with {_scheme_name(scheme)}, which we did not offer")
    cert = public_key_or_cert if isinstance(public_key_or_cert, x509.Certificate) else None
    try:
        public = cert.public_key() if cert is not None else public_key_or_cert
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise IllegalParameter(f"cannot use the certificate's public key: {exc}") from None
    why = _fits(row, public, _rsa_spki_of(cert), tls12)
    if why is not None:
        raise IllegalParameter(why)
    data, sig = bytes(message), bytes(signature)
    try:
        if isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public.verify(sig, data)
        else:
            assert row.hash is not None
            h = row.hash()
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(sig, data, padding.PKCS1v15() if row.padding == "pkcs1" else _pss(h), h)
            elif isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(sig, data, ec.ECDSA(h))
    except InvalidSignature:
        raise DecryptError("CertificateVerify signature does not verify") from None


# --------------------------------------------------------------------------- loading

Source: TypeAlias = str | bytes | os.PathLike[str]


def _read(source: Source) -> tuple[bytes, str]:
    """(data, description).  bytes are data; str is PEM text if it has a PEM header, else a path."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "data"
    if isinstance(source, str) and "-----BEGIN" in source:
        return source.encode("ascii"), "PEM text"
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def load_private_key(pem_or_path: Source, password: str | bytes | None = None) -> SigningKey:
    """Load an RSA, ECDSA, Ed25519 or Ed448 private key from PEM or DER data, PEM text or a path."""
    data, where = _read(pem_or_path)
    pw = password.encode() if isinstance(password, str) else password
    loader = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    try:
        key = loader(data, pw)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"cannot load private key from {where}: {exc}") from None
    if not isinstance(
        key,
        rsa.RSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | ed448.Ed448PrivateKey,
    ):
        raise UsageError(
            f"{type(key).__name__} from {where} cannot sign a TLS 1.3 CertificateVerify"
        )
    return key


def _load_certs(data: bytes, where: str) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise UsageError(f"cannot load certificates from {where}: {exc}") from None


def load_certificate_chain(
    pem_or_path_or_list: Source | Sequence[x509.Certificate | bytes],
) -> list[x509.Certificate]:
    """Load a chain, leaf first: PEM data (one or more certificates), one DER certificate,
    PEM text, a path, or a list of Certificates / DER or PEM bytes."""
    if isinstance(pem_or_path_or_list, list | tuple):
        out: list[x509.Certificate] = []
        for item in pem_or_path_or_list:
            out.extend(
                [item]
                if isinstance(item, x509.Certificate)
                else _load_certs(bytes(item), "list item")
            )
    else:
        out = _load_certs(*_read(pem_or_path_or_list))  # type: ignore[arg-type]
    if not out:
        raise UsageError("certificate chain is empty")
    return out


def key_matches_certificate(private_key: SigningKey, certificate: x509.Certificate) -> bool:
    """True if ``certificate`` carries the public half of ``private_key`` (a config sanity check)."""
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        cert_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False
    return bool(private_key.public_key().public_bytes(*fmt) == cert_key.public_bytes(*fmt))
