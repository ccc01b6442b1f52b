"""CertificateVerify signatures: tables, round trips, bindings, tampering, loading.

The openssl CLI is the independent oracle for padding/salt/encoding details.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from certs import TestCA, key
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from ferrotls.errors import DecryptError, HandshakeFailure, IllegalParameter, UsageError
from ferrotls.sign import (
    CERTIFICATE_VERIFY_SCHEMES,
    SCHEMES,
    SIGNATURE_ALGORITHMS_CERT,
    certificate_verify_message,
    choose_scheme,
    key_matches_certificate,
    load_certificate_chain,
    load_private_key,
    schemes_for_key,
    sign,
    verify,
)
from ferrotls.suites import SignatureScheme as S
from hypothesis import given, settings
from hypothesis import strategies as st

MSG = certificate_verify_message(hashlib.sha256(b"transcript").digest(), server=True)

#: (scheme, key kind) for every CertificateVerify scheme; rsa_pss_pss_* need a PSS certificate.
ROUND_TRIPS = [
    (S.ECDSA_SECP256R1_SHA256, "p256"),
    (S.ECDSA_SECP384R1_SHA384, "p384"),
    (S.ECDSA_SECP521R1_SHA512, "p521"),
    (S.RSA_PSS_RSAE_SHA256, "rsa2048"),
    (S.RSA_PSS_RSAE_SHA384, "rsa2048"),
    (S.RSA_PSS_RSAE_SHA512, "rsa2048"),
    (S.ED25519, "ed25519"),
    (S.ED448, "ed448"),
]
PSS_SCHEMES = [S.RSA_PSS_PSS_SHA256, S.RSA_PSS_PSS_SHA384, S.RSA_PSS_PSS_SHA512]


@pytest.fixture(scope="session")
def pss_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[x509.Certificate, Path]:
    """An RSASSA-PSS (id-RSASSA-PSS SPKI) self-signed certificate and key file, made by openssl."""
    d = tmp_path_factory.mktemp("pss")
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA-PSS",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "pss.key",
        ],
        cwd=d,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-key",
            "pss.key",
            "-subj",
            "/CN=pss",
            "-days",
            "2",
            "-out",
            "pss.pem",
        ],
        cwd=d,
        check=True,
        capture_output=True,
    )
    return x509.load_pem_x509_certificate((d / "pss.pem").read_bytes()), d / "pss.key"


def _cert_for(kind: str) -> x509.Certificate:
    return TestCA().issue("example.com", key_kind=kind).cert


# --------------------------------------------------------------------------- message


@pytest.mark.parametrize("server", [True, False])
@pytest.mark.parametrize("hlen", [32, 48])
def test_certificate_verify_message_layout(server: bool, hlen: int) -> None:
    h = bytes(range(hlen))
    side = "server" if server else "client"
    expected = (
        bytes.fromhex("20" * 64)
        + f"TLS 1.3, {side} CertificateVerify".encode("ascii")
        + b"\x00"
        + h
    )
    assert certificate_verify_message(h, server=server) == expected
    assert len(expected) == 64 + 33 + 1 + hlen


def test_server_and_client_messages_differ() -> None:
    h = b"\x01" * 32
    assert certificate_verify_message(h, server=True) != certificate_verify_message(h, server=False)


# --------------------------------------------------------------------------- tables


def test_table_covers_every_scheme() -> None:
    assert set(SCHEMES) == set(S)


def test_pkcs1_and_sha1_only_for_certificates() -> None:
    forbidden = {
        S.RSA_PKCS1_SHA256,
        S.RSA_PKCS1_SHA384,
        S.RSA_PKCS1_SHA512,
        S.RSA_PKCS1_SHA1,
        S.ECDSA_SHA1,
    }
    assert not forbidden & set(CERTIFICATE_VERIFY_SCHEMES)
    assert {S.RSA_PKCS1_SHA256, S.RSA_PKCS1_SHA384, S.RSA_PKCS1_SHA512} <= set(
        SIGNATURE_ALGORITHMS_CERT
    )
    assert S.RSA_PKCS1_SHA1 not in SIGNATURE_ALGORITHMS_CERT


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("p256", [S.ECDSA_SECP256R1_SHA256]),
        ("p384", [S.ECDSA_SECP384R1_SHA384]),
        ("p521", [S.ECDSA_SECP521R1_SHA512]),
        ("rsa2048", [S.RSA_PSS_RSAE_SHA256, S.RSA_PSS_RSAE_SHA384, S.RSA_PSS_RSAE_SHA512]),
        ("ed25519", [S.ED25519]),
        ("ed448", [S.ED448]),
    ],
)
def test_schemes_for_key(kind: str, expected: list[S]) -> None:
    assert schemes_for_key(key(kind)) == expected


def test_schemes_for_pss_certificate(pss_cert: tuple[x509.Certificate, Path]) -> None:
    cert, key_path = pss_cert
    assert schemes_for_key(load_private_key(key_path), certificate=cert) == PSS_SCHEMES


def test_unsupported_curve_has_no_scheme() -> None:
    k = ec.generate_private_key(ec.SECP256K1())
    assert schemes_for_key(k) == []
    with pytest.raises(HandshakeFailure, match="no signature scheme in common"):
        choose_scheme(k, list(CERTIFICATE_VERIFY_SCHEMES))


def test_choose_scheme() -> None:
    rsa_key = key("rsa2048")
    assert (
        choose_scheme(rsa_key, [S.RSA_PSS_RSAE_SHA512, S.RSA_PSS_RSAE_SHA256])
        == S.RSA_PSS_RSAE_SHA256
    )
    assert choose_scheme(rsa_key, [0xFAFA, S.RSA_PSS_RSAE_SHA384]) == S.RSA_PSS_RSAE_SHA384
    with pytest.raises(HandshakeFailure):
        choose_scheme(rsa_key, [S.RSA_PKCS1_SHA256, S.ECDSA_SECP256R1_SHA256])
    with pytest.raises(HandshakeFailure):
        choose_scheme(key("p256"), [S.ECDSA_SECP384R1_SHA384])


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(("scheme", "kind"), ROUND_TRIPS, ids=[s.name for s, _ in ROUND_TRIPS])
def test_round_trip(scheme: S, kind: str) -> None:
    k = key(kind)
    sig = sign(k, scheme, MSG)
    verify(k.public_key(), scheme, sig, MSG)
    verify(_cert_for(kind), scheme, sig, MSG)
    with pytest.raises(DecryptError, match="CertificateVerify signature does not verify"):
        verify(k.public_key(), scheme, sig, MSG[:-1] + b"\x00")
    bad = bytearray(sig)
    bad[len(bad) // 2] ^= 0x01
    with pytest.raises(DecryptError):
        verify(k.public_key(), scheme, bytes(bad), MSG)


@pytest.mark.parametrize("scheme", PSS_SCHEMES, ids=[s.name for s in PSS_SCHEMES])
def test_round_trip_rsa_pss_pss(scheme: S, pss_cert: tuple[x509.Certificate, Path]) -> None:
    cert, key_path = pss_cert
    k = load_private_key(key_path)
    sig = sign(k, scheme, MSG, certificate=cert)
    verify(cert, scheme, sig, MSG)
    with pytest.raises(DecryptError):
        verify(cert, scheme, sig[:-1] + bytes([sig[-1] ^ 1]), MSG)
    # the same key behind an rsaEncryption identity must use rsae, and vice versa
    with pytest.raises(IllegalParameter, match="RSASSA-PSS"):
        verify(k.public_key(), scheme, sig, MSG)
    with pytest.raises(IllegalParameter, match="rsaEncryption"):
        verify(cert, S.RSA_PSS_RSAE_SHA256, sig, MSG)
    with pytest.raises(UsageError):
        sign(k, scheme, MSG)  # no certificate: treated as rsaEncryption


@pytest.mark.parametrize("bad_sig", [b"", b"\x00", b"\x30\x00", b"\xff" * 600])
@pytest.mark.parametrize(("scheme", "kind"), ROUND_TRIPS, ids=[s.name for s, _ in ROUND_TRIPS])
def test_garbage_signature_is_decrypt_error(scheme: S, kind: str, bad_sig: bytes) -> None:
    with pytest.raises(DecryptError):
        verify(key(kind).public_key(), scheme, bad_sig, MSG)


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["p256", "ed25519"]))
def test_round_trip_any_message(message: bytes, kind: str) -> None:
    k = key(kind)
    scheme = schemes_for_key(k)[0]
    verify(k.public_key(), scheme, sign(k, scheme, message), message)


# --------------------------------------------------------------------------- bindings and forbidden schemes


@pytest.mark.parametrize(
    ("scheme", "kind", "match"),
    [
        (S.ECDSA_SECP384R1_SHA384, "p256", "bound to secp384r1"),
        (S.ECDSA_SECP256R1_SHA256, "p384", "bound to secp256r1"),
        (S.ECDSA_SECP256R1_SHA256, "rsa2048", "needs an ec key"),
        (S.RSA_PSS_RSAE_SHA256, "p256", "needs an rsa key"),
        (S.ED25519, "ed448", "needs an ed25519 key"),
        (S.ED448, "ed25519", "needs an ed448 key"),
        (S.RSA_PSS_PSS_SHA256, "rsa2048", "RSASSA-PSS"),
    ],
)
def test_scheme_key_mismatch_is_illegal_parameter(scheme: S, kind: str, match: str) -> None:
    other = dict(ROUND_TRIPS)
    real_scheme = next(s for s, k in ROUND_TRIPS if k == kind)
    sig = sign(key(kind), real_scheme, MSG)
    del other
    with pytest.raises(IllegalParameter, match=match):
        verify(key(kind).public_key(), scheme, sig, MSG)
    with pytest.raises(IllegalParameter, match=match):
        verify(_cert_for(kind), scheme, sig, MSG)
    with pytest.raises(UsageError):
        sign(key(kind), scheme, MSG)


@pytest.mark.parametrize(
    "scheme", [S.RSA_PKCS1_SHA256, S.RSA_PKCS1_SHA384, S.RSA_PKCS1_SHA512, S.RSA_PKCS1_SHA1]
)
def test_pkcs1_rejected_in_certificate_verify(scheme: S) -> None:
    rsa_key = key("rsa2048")
    assert isinstance(rsa_key, rsa.RSAPrivateKey)
    h = SCHEMES[scheme].hash
    assert h is not None
    genuine = rsa_key.sign(MSG, padding.PKCS1v15(), h())
    with pytest.raises(IllegalParameter, match="not allowed in a TLS 1.3 CertificateVerify"):
        verify(rsa_key.public_key(), scheme, genuine, MSG)
    with pytest.raises(UsageError):
        sign(rsa_key, scheme, MSG)


def test_ecdsa_sha1_and_unknown_schemes_rejected() -> None:
    k = key("p256")
    assert isinstance(k, ec.EllipticCurvePrivateKey)
    sig = k.sign(MSG, ec.ECDSA(hashes.SHA1()))
    with pytest.raises(IllegalParameter):
        verify(k.public_key(), S.ECDSA_SHA1, sig, MSG)
    with pytest.raises(IllegalParameter, match="0x1234"):
        verify(k.public_key(), 0x1234, sig, MSG)


def test_scheme_not_offered() -> None:
    k = key("p256")
    sig = sign(k, S.ECDSA_SECP256R1_SHA256, MSG)
    verify(k.public_key(), S.ECDSA_SECP256R1_SHA256, sig, MSG, offered=[S.ECDSA_SECP256R1_SHA256])
    with pytest.raises(IllegalParameter, match="did not offer"):
        verify(k.public_key(), S.ECDSA_SECP256R1_SHA256, sig, MSG, offered=[S.ED25519])


# --------------------------------------------------------------------------- openssl as an independent oracle

_OPENSSL_DGST = {
    S.RSA_PSS_RSAE_SHA256: [
        "-sha256",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:32",
    ],
    S.RSA_PSS_RSAE_SHA512: [
        "-sha512",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:64",
    ],
    S.ECDSA_SECP384R1_SHA384: ["-sha384"],
}


@pytest.mark.parametrize("scheme", list(_OPENSSL_DGST), ids=[s.name for s in _OPENSSL_DGST])
def test_openssl_agrees(scheme: S, tmp_path: Path) -> None:
    kind = dict(ROUND_TRIPS)[scheme]
    k = key(kind)
    (tmp_path / "key.pem").write_bytes(
        k.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "pub.pem").write_bytes(
        k.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "msg").write_bytes(MSG)
    # ours -> openssl
    (tmp_path / "sig").write_bytes(sign(k, scheme, MSG))
    subprocess.run(
        [
            "openssl",
            "dgst",
            *_OPENSSL_DGST[scheme],
            "-verify",
            "pub.pem",
            "-signature",
            "sig",
            "msg",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    # openssl -> ours
    subprocess.run(
        ["openssl", "dgst", *_OPENSSL_DGST[scheme], "-sign", "key.pem", "-out", "osig", "msg"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    verify(k.public_key(), scheme, (tmp_path / "osig").read_bytes(), MSG)


def test_openssl_ed25519(tmp_path: Path) -> None:
    k = key("ed25519")
    (tmp_path / "pub.pem").write_bytes(
        k.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "msg").write_bytes(MSG)
    (tmp_path / "sig").write_bytes(sign(k, S.ED25519, MSG))
    subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-rawin",
            "-in",
            "msg",
            "-sigfile",
            "sig",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )


def test_pss_salt_must_equal_hash_length() -> None:
    k = key("rsa2048")
    assert isinstance(k, rsa.RSAPrivateKey)
    h = hashes.SHA256()
    short_salt = k.sign(MSG, padding.PSS(padding.MGF1(h), 20), h)
    with pytest.raises(DecryptError):
        verify(k.public_key(), S.RSA_PSS_RSAE_SHA256, short_salt, MSG)


# --------------------------------------------------------------------------- loading


def test_load_private_key_forms(tmp_path: Path) -> None:
    k = key("p256")
    assert isinstance(k, ec.EllipticCurvePrivateKey)
    pem = k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der = k.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    enc = k.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    (tmp_path / "k.pem").write_bytes(pem)
    (tmp_path / "enc.pem").write_bytes(enc)
    pub = k.public_key().public_numbers()
    sources: list[tuple[str | bytes | Path, str | bytes | None]] = [
        (pem, None),
        (der, None),
        (pem.decode(), None),
        (str(tmp_path / "k.pem"), None),
        (tmp_path / "k.pem", None),
        (tmp_path / "enc.pem", "secret"),
        (enc, b"secret"),
    ]
    for src, pw in sources:
        loaded = load_private_key(src, pw)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        assert loaded.public_key().public_numbers() == pub
    with pytest.raises(UsageError, match="cannot load private key"):
        load_private_key(enc, "wrong")
    with pytest.raises(UsageError, match="cannot read"):
        load_private_key(tmp_path / "missing.pem")
    xk = x25519.X25519PrivateKey.generate()
    with pytest.raises(UsageError, match="cannot sign"):
        load_private_key(
            xk.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def test_load_certificate_chain_forms(tmp_path: Path) -> None:
    issued = TestCA().intermediate().issue("example.com")
    pem = issued.chain_pem()
    (tmp_path / "chain.pem").write_bytes(pem)
    ders = issued.der_chain()
    sources: list[str | bytes | Path | list[bytes] | list[x509.Certificate]] = [
        pem,
        pem.decode(),
        str(tmp_path / "chain.pem"),
        tmp_path / "chain.pem",
        ders,
        issued.chain,
        [pem],
    ]
    for src in sources:
        assert load_certificate_chain(src) == issued.chain
    assert load_certificate_chain(ders[0]) == [issued.cert]
    with pytest.raises(UsageError):
        load_certificate_chain(b"not a certificate")
    with pytest.raises(UsageError, match="empty"):
        load_certificate_chain([])


def test_key_matches_certificate() -> None:
    issued = TestCA().issue("example.com", key_kind="p256")
    assert key_matches_certificate(key("p256"), issued.cert)
    assert not key_matches_certificate(key("p256", 1), issued.cert)
    assert not key_matches_certificate(key("ed25519"), issued.cert)
