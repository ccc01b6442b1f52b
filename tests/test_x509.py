"""Chain and name verification: profiles, certificate makers, error mapping, trust stores."""

from __future__ import annotations

import _ssl
import datetime
import warnings
from pathlib import Path

import pytest
import trustme
from certs import CLIENT_AUTH, DAY, NOW, SERVER_AUTH, TestCA, openssl_chain, trustme_chain
from cryptography import x509
from cryptography.x509.verification import VerificationError
from ferrotls.errors import (
    BadCertificate,
    CertificateExpired,
    CertificateRequired,
    CertificateUnknown,
    DecodeError,
    UnknownCA,
    UnsupportedCertificate,
    UsageError,
)
from ferrotls.x509 import (
    ERROR_PATTERNS,
    DefaultVerifier,
    InsecureNoVerification,
    TrustStore,
    _map_error,
    parse_server_name,
    peercert_dict,
)

PROFILES = ["compatible", "webpki"]


def _now() -> datetime.datetime:
    """For openssl-made certificates, which start at the moment they are made (after NOW)."""
    return datetime.datetime.now(datetime.UTC)


@pytest.fixture(scope="session")
def root() -> TestCA:
    return TestCA()


def _verifier(
    root_cert: x509.Certificate, profile: str | None = None, *, check_hostname: bool = True
) -> DefaultVerifier:
    return DefaultVerifier(
        TrustStore.from_certificates([root_cert]),
        profile=profile,  # type: ignore[arg-type]
        check_hostname=check_hostname,
    )


# --------------------------------------------------------------------------- valid chains


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("kind", ["p256", "p384", "rsa2048", "ed25519"])
def test_builder_chain_verifies(root: TestCA, profile: str, kind: str) -> None:
    leaf = root.issue("example.com", key_kind=kind)
    res = _verifier(root.cert, profile).verify_server_chain(leaf.der_chain(), "example.com", NOW)
    assert res.leaf == leaf.cert
    assert res.path == (leaf.cert, root.cert)
    assert res.verified and res.server_name == "example.com"
    assert res.subject_alt_names == (("DNS", "example.com"),)


@pytest.mark.parametrize("profile", PROFILES)
def test_intermediate_chain(root: TestCA, profile: str) -> None:
    inter = root.intermediate()
    leaf = inter.issue("example.com")
    v = _verifier(root.cert, profile)
    assert v.verify_server_chain(leaf.der_chain(), "example.com", NOW).path == (
        leaf.cert,
        inter.cert,
        root.cert,
    )
    with pytest.raises(UnknownCA, match="no path to a trusted certificate authority"):
        v.verify_server_chain(leaf.der_chain()[:1], "example.com", NOW)


@pytest.mark.parametrize(
    ("names", "server_name"),
    [
        (("example.com",), "EXAMPLE.com"),
        (("example.com",), "example.com."),
        (("*.example.com",), "www.example.com"),
        (("127.0.0.1",), "127.0.0.1"),
        (("::1",), "::1"),
        (("::1",), "[::1]"),
        (("2001:db8::1",), "2001:DB8:0::1"),
    ],
)
def test_name_forms(root: TestCA, names: tuple[str, ...], server_name: str) -> None:
    leaf = root.issue(*names)
    _verifier(root.cert).verify_server_chain(leaf.der_chain(), server_name, NOW)


@pytest.mark.parametrize(
    ("names", "server_name"),
    [
        (("example.com",), "other.example"),
        (("*.example.com",), "a.b.example.com"),
        (("127.0.0.1",), "127.0.0.2"),
        (("example.com",), "127.0.0.1"),
        (("127.0.0.1",), "localhost"),
        (("::1",), "::2"),
    ],
)
@pytest.mark.parametrize("profile", PROFILES)
def test_name_mismatch_is_bad_certificate(
    root: TestCA, names: tuple[str, ...], server_name: str, profile: str
) -> None:
    leaf = root.issue(*names)
    with pytest.raises(BadCertificate, match=f"certificate is not valid for '{server_name}'"):
        _verifier(root.cert, profile).verify_server_chain(leaf.der_chain(), server_name, NOW)


def test_server_leaf_without_san(root: TestCA) -> None:
    leaf = root.issue(common_name="example.com")  # CN only: never matched
    for profile in PROFILES:
        with pytest.raises(BadCertificate, match="not valid for 'example.com'.*no subjectAltName"):
            _verifier(root.cert, profile).verify_server_chain(leaf.der_chain(), "example.com", NOW)


# --------------------------------------------------------------------------- trustme (the STYLE.md pitfall)


@pytest.mark.parametrize("key_type", [trustme.KeyType.ECDSA, trustme.KeyType.RSA])
@pytest.mark.parametrize("intermediate", [False, True])
def test_trustme_compatible_ok_webpki_rejects(
    key_type: trustme.KeyType, intermediate: bool
) -> None:
    ca, leaf = trustme_chain(
        "example.com", "10.0.0.1", key_type=key_type, intermediate=intermediate
    )
    trust = TrustStore.from_certificates([ca])
    assert DefaultVerifier(trust).profile == "compatible"
    DefaultVerifier(trust).verify_server_chain(leaf.der_chain(), "example.com", NOW)
    DefaultVerifier(trust).verify_server_chain(leaf.der_chain(), "10.0.0.1", NOW)
    DefaultVerifier(trust).verify_client_chain(
        leaf.der_chain(), NOW
    )  # trustme leaves carry clientAuth too
    # Measured with cryptography 50.0.2: the strict profile rejects trustme's critical SAN.
    with pytest.raises(
        BadCertificate, match="EE subjectAltName MUST NOT be critical when subject is nonempty"
    ):
        DefaultVerifier(trust, profile="webpki").verify_server_chain(
            leaf.der_chain(), "example.com", NOW
        )
    with pytest.raises(BadCertificate, match="not valid for 'other.example'"):
        DefaultVerifier(trust).verify_server_chain(leaf.der_chain(), "other.example", NOW)


def test_builder_critical_san_and_eku_same_as_trustme(root: TestCA) -> None:
    leaf = root.issue("example.com", san_critical=True, eku_critical=True)
    _verifier(root.cert, "compatible").verify_server_chain(leaf.der_chain(), "example.com", NOW)
    with pytest.raises(BadCertificate, match="MUST NOT be critical"):
        _verifier(root.cert, "webpki").verify_server_chain(leaf.der_chain(), "example.com", NOW)


# --------------------------------------------------------------------------- openssl CLI chains


@pytest.mark.parametrize("key_kind", ["p256", "rsa2048"])
@pytest.mark.parametrize("intermediate", [False, True])
def test_openssl_chain_compatible_ok_webpki_rejects(
    tmp_path: Path, key_kind: str, intermediate: bool
) -> None:
    oc = openssl_chain(
        tmp_path, "localhost", "127.0.0.1", key_kind=key_kind, intermediate=intermediate
    )
    trust = TrustStore.from_pem(cafile=oc.ca_pem)
    v = DefaultVerifier(trust)
    res = v.verify_server_chain(oc.der_chain(), "localhost", _now())
    assert len(res.path) == (3 if intermediate else 2)
    v.verify_server_chain(oc.der_chain(), "127.0.0.1", _now())
    v.verify_client_chain(oc.der_chain(), _now())
    # `openssl req -x509` puts no keyUsage on the CA; WebPKI requires it.
    with pytest.raises(
        BadCertificate, match="2.5.29.15: Certificate is missing required extension"
    ):
        DefaultVerifier(trust, profile="webpki").verify_server_chain(
            oc.der_chain(), "localhost", _now()
        )


def test_openssl_chain_without_eku(tmp_path: Path) -> None:
    oc = openssl_chain(tmp_path, "localhost", eku=None)
    DefaultVerifier(TrustStore.from_pem(cafile=oc.ca_pem)).verify_server_chain(
        oc.der_chain(), "localhost", _now()
    )


def test_openssl_chain_client_only_eku(tmp_path: Path) -> None:
    oc = openssl_chain(tmp_path, "localhost", eku="clientAuth")
    v = DefaultVerifier(TrustStore.from_pem(cafile=oc.ca_pem))
    with pytest.raises(UnsupportedCertificate, match="required EKU not found.*serverAuth"):
        v.verify_server_chain(oc.der_chain(), "localhost", _now())
    v.verify_client_chain(oc.der_chain(), _now())


def test_openssl_v1_leaf_is_unsupported(tmp_path: Path) -> None:
    oc = openssl_chain(tmp_path, "localhost", v1_leaf=True)
    with pytest.raises(UnsupportedCertificate, match="X509v3"):
        DefaultVerifier(TrustStore.from_pem(cafile=oc.ca_pem)).verify_server_chain(
            oc.der_chain(), "localhost", _now()
        )


# --------------------------------------------------------------------------- failures -> exact error classes


@pytest.mark.parametrize("profile", PROFILES)
def test_expired_and_not_yet_valid(root: TestCA, profile: str) -> None:
    v = _verifier(root.cert, profile)
    expired = root.issue("example.com", not_before=NOW - 100 * DAY, not_after=NOW - DAY)
    with pytest.raises(CertificateExpired, match="certificate expired at"):
        v.verify_server_chain(expired.der_chain(), "example.com", NOW)
    future = root.issue("example.com", not_before=NOW + DAY, not_after=NOW + 100 * DAY)
    with pytest.raises(CertificateExpired, match="not valid before"):
        v.verify_server_chain(future.der_chain(), "example.com", NOW)
    # ...and the same certificates are fine at a time inside their validity
    v.verify_server_chain(expired.der_chain(), "example.com", NOW - 20 * DAY)
    v.verify_client_chain(future.der_chain(), NOW + 50 * DAY)


@pytest.mark.parametrize("profile", PROFILES)
def test_expired_ca(profile: str) -> None:
    old_root = TestCA("old root", key_index=2, not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    leaf = old_root.issue("example.com")
    with pytest.raises(CertificateExpired, match="CA certificate in the chain"):
        _verifier(old_root.cert, profile).verify_server_chain(leaf.der_chain(), "example.com", NOW)
    root = TestCA("root", key_index=3)
    inter = root.intermediate(not_after=NOW - DAY, key_index=4)
    with pytest.raises(CertificateExpired):
        _verifier(root.cert, profile).verify_server_chain(
            inter.issue("example.com").der_chain(), "example.com", NOW
        )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("eku_critical", [False, True])
def test_wrong_eku(root: TestCA, profile: str, eku_critical: bool) -> None:
    if profile == "webpki" and eku_critical:
        pytest.skip("webpki rejects a critical EKU before looking at it")
    v = _verifier(root.cert, profile)
    client_only = root.issue("example.com", eku=[CLIENT_AUTH], eku_critical=eku_critical)
    with pytest.raises(UnsupportedCertificate, match="required EKU not found"):
        v.verify_server_chain(client_only.der_chain(), "example.com", NOW)
    v.verify_client_chain(client_only.der_chain(), NOW)
    server_only = root.issue("example.com", eku=[SERVER_AUTH], eku_critical=eku_critical)
    with pytest.raises(UnsupportedCertificate, match="required EKU not found"):
        v.verify_client_chain(server_only.der_chain(), NOW)
    no_eku = root.issue("example.com", eku=None)
    v.verify_server_chain(no_eku.der_chain(), "example.com", NOW)
    v.verify_client_chain(no_eku.der_chain(), NOW)


@pytest.mark.parametrize("profile", PROFILES)
def test_unknown_ca(root: TestCA, profile: str) -> None:
    stranger = TestCA("stranger", key_index=5)
    leaf = stranger.issue("example.com")
    with pytest.raises(UnknownCA, match="no path"):
        _verifier(root.cert, profile).verify_server_chain(leaf.der_chain(), "example.com", NOW)
    with pytest.raises(UnknownCA):
        _verifier(root.cert, profile).verify_client_chain(leaf.der_chain(), NOW)


@pytest.mark.parametrize("profile", PROFILES)
def test_forged_issuer_same_name(root: TestCA, profile: str) -> None:
    impostor = TestCA("ferrotls test root", key_index=6)  # same subject, different key
    with pytest.raises(BadCertificate, match="signature does not match"):
        _verifier(root.cert, profile).verify_server_chain(
            impostor.issue("example.com").der_chain(), "example.com", NOW
        )


@pytest.mark.parametrize("profile", PROFILES)
def test_path_length_still_enforced(profile: str) -> None:
    root = TestCA("pathlen root", key_index=7, path_length=0)
    leaf = root.intermediate(key_index=8).issue("example.com")
    with pytest.raises((UnknownCA, BadCertificate)):
        _verifier(root.cert, profile).verify_server_chain(leaf.der_chain(), "example.com", NOW)


def test_key_usage_without_digital_signature(root: TestCA) -> None:
    ku = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    leaf = root.issue("example.com", extra=[(ku, True)])
    for profile in PROFILES:
        with pytest.raises(UnsupportedCertificate, match="digitalSignature"):
            _verifier(root.cert, profile).verify_server_chain(leaf.der_chain(), "example.com", NOW)


def test_ed25519_ca_is_unsupported() -> None:
    ed_root = TestCA("ed root", key_kind="ed25519")
    with pytest.raises(UnsupportedCertificate, match="Forbidden public key algorithm"):
        _verifier(ed_root.cert).verify_server_chain(
            ed_root.issue("example.com").der_chain(), "example.com", NOW
        )


@pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x00", b"not DER at all"])
def test_malformed_der_is_bad_certificate(root: TestCA, garbage: bytes) -> None:
    leaf = root.intermediate().issue("example.com")
    v = _verifier(root.cert)
    with pytest.raises(BadCertificate, match="certificate 0 in the chain is not valid DER"):
        v.verify_server_chain([garbage], "example.com", NOW)
    with pytest.raises(BadCertificate, match="certificate 1 in the chain"):
        v.verify_server_chain([leaf.der_chain()[0], garbage], "example.com", NOW)
    with pytest.raises(BadCertificate):
        v.verify_client_chain([garbage], NOW)
    with pytest.raises(BadCertificate):
        with pytest.warns(UserWarning):
            insecure = InsecureNoVerification()
        insecure.verify_server_chain([garbage], None, NOW)


def test_empty_chains(root: TestCA) -> None:
    v = _verifier(root.cert)
    with pytest.raises(DecodeError, match="empty Certificate"):  # RFC 8446 section 4.4.2.4
        v.verify_server_chain([], "example.com", NOW)
    with pytest.raises(CertificateRequired):
        v.verify_client_chain([], NOW)


# --------------------------------------------------------------------------- check_hostname and client chains


def test_check_hostname(root: TestCA) -> None:
    leaf = root.issue("example.com")
    # server_name=None means "no name to check": the connection enforces that a
    # hostname is given when its config's check_hostname is on.
    assert _verifier(root.cert).verify_server_chain(leaf.der_chain(), None, NOW).verified
    lax = _verifier(root.cert, check_hostname=False)
    assert lax.verify_server_chain(leaf.der_chain(), None, NOW).verified
    assert lax.verify_server_chain(
        leaf.der_chain(), "other.example", NOW
    ).verified  # like ssl: name ignored
    wildcard = root.issue("*.example.com", "10.1.2.3")
    lax.verify_server_chain(wildcard.der_chain(), None, NOW)
    # everything but the name is still checked
    with pytest.raises(UnknownCA):
        lax.verify_server_chain(
            TestCA("x", key_index=9).issue("example.com").der_chain(), None, NOW
        )
    with pytest.raises(UnsupportedCertificate):
        lax.verify_server_chain(root.issue("example.com", eku=[CLIENT_AUTH]).der_chain(), None, NOW)
    with pytest.raises(CertificateExpired):
        lax.verify_server_chain(leaf.der_chain(), None, NOW + 365 * DAY)


def test_client_chain_without_san(root: TestCA) -> None:
    leaf = root.issue(eku=[CLIENT_AUTH])  # CN=client, no SAN: common for mTLS
    res = _verifier(root.cert, "compatible").verify_client_chain(leaf.der_chain(), NOW)
    assert res.path == (leaf.cert, root.cert) and res.server_name is None
    assert res.subject == "CN=client,O=ferrotls tests"
    with pytest.raises(BadCertificate, match="2.5.29.17"):
        _verifier(root.cert, "webpki").verify_client_chain(leaf.der_chain(), NOW)


def test_unknown_profile(root: TestCA) -> None:
    with pytest.raises(UsageError, match="unknown verification profile"):
        _verifier(root.cert, "lenient")


@pytest.mark.parametrize("bad", ["", "a b.com", "user@host", "xn--é.com", "."])
def test_parse_server_name_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_server_name(bad)


# --------------------------------------------------------------------------- error table


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            (
                "validation failed: leaf certificate has no matching subjectAltName (encountered processing "
                "<Certificate(subject=<Name(CN=x)>, ...)>)"
            ),
            BadCertificate,
        ),
        ("validation failed: cert is not valid at validation time", CertificateExpired),
        (
            "validation failed: candidates exhausted: cert is not valid at validation time",
            CertificateExpired,
        ),
        ("validation failed: required EKU not found", UnsupportedCertificate),
        (
            "validation failed: Python extension validator failed: ValueError: required EKU not found: x",
            UnsupportedCertificate,
        ),
        (
            "validation failed: candidates exhausted: Forbidden public key algorithm: Ed25519",
            UnsupportedCertificate,
        ),
        ("validation failed: certificate must be an X509v3 certificate", UnsupportedCertificate),
        ("validation failed: candidates exhausted: signature does not match", BadCertificate),
        (
            (
                "validation failed: candidates exhausted: invalid extension: 2.5.29.15: Certificate is missing "
                "required extension"
            ),
            BadCertificate,
        ),
        (
            "validation failed: candidates exhausted: all candidates exhausted with no interior errors",
            UnknownCA,
        ),
        ("validation failed: something new in cryptography 51", CertificateUnknown),
    ],
)
def test_error_table(root: TestCA, message: str, expected: type[Exception]) -> None:
    err = _map_error(VerificationError(message), root.cert, "example.com", "compatible", NOW)
    assert type(err) is expected
    assert "ferrotls test root" in str(err)  # names the subject
    assert len(ERROR_PATTERNS) >= 6


# --------------------------------------------------------------------------- trust stores


def test_trust_store_sources(tmp_path: Path, root: TestCA) -> None:
    other = TestCA("other root", key_index=10)
    pem = root.pem()
    (tmp_path / "ca.pem").write_bytes(pem)
    d = tmp_path / "capath"
    d.mkdir()
    (d / "a.pem").write_bytes(pem)
    (d / "b.pem").write_bytes(other.pem())
    (d / "README").write_text("not a certificate")
    from cryptography.hazmat.primitives import serialization

    der = root.cert.public_bytes(serialization.Encoding.DER)
    assert TrustStore.from_pem(cafile=tmp_path / "ca.pem").certificates == (root.cert,)
    assert set(TrustStore.from_pem(capath=d).certificates) == {root.cert, other.cert}
    assert TrustStore.from_pem(cadata=pem.decode()).certificates == (root.cert,)
    assert TrustStore.from_pem(cadata=der).certificates == (root.cert,)
    assert TrustStore.from_certificates([der, pem, root.cert]).certificates == (
        root.cert,
    )  # deduplicated
    both = TrustStore.from_pem(cafile=tmp_path / "ca.pem", cadata=other.pem())
    assert both.default_profile == "compatible" and len(both.certificates) == 2
    with pytest.raises(UsageError):
        TrustStore.from_pem()
    with pytest.raises(UsageError):
        TrustStore.from_pem(cafile=tmp_path / "missing.pem")
    with pytest.raises(UsageError, match="no trust anchors"):
        TrustStore.from_pem(cadata="no certificates here -----BEGIN nothing")
    with pytest.raises(UsageError):
        TrustStore.from_pem(cadata=b"\x30\x03garbage")


def test_system_trust_store() -> None:
    try:
        trust = TrustStore.system()
    except UsageError:
        pytest.skip("no system CA bundle and certifi is not installed")
    assert trust.default_profile == "webpki"
    assert DefaultVerifier(trust).profile == "webpki"
    assert len(trust.certificates) > 10


# --------------------------------------------------------------------------- insecure verifier, peercert


def test_insecure_no_verification(root: TestCA) -> None:
    with pytest.warns(UserWarning, match="man-in-the-middle"):
        insecure = InsecureNoVerification()
    stranger = TestCA("stranger", key_index=5).issue(
        "example.com", not_after=NOW - DAY, not_before=NOW - 9 * DAY, eku=[CLIENT_AUTH]
    )
    res = insecure.verify_server_chain(stranger.der_chain(), "other.example", NOW)
    assert res.leaf == stranger.cert and not res.verified
    assert insecure.verify_client_chain(stranger.der_chain(), NOW).leaf == stranger.cert
    with pytest.raises(DecodeError):
        insecure.verify_server_chain([], None, NOW)
    with pytest.raises(CertificateRequired):
        insecure.verify_client_chain([], NOW)


def test_peercert_matches_ssl_module(tmp_path: Path, root: TestCA) -> None:
    from cryptography.hazmat.primitives import serialization

    leaf = root.issue("example.com", "192.0.2.7", "2001:db8::7")
    path = tmp_path / "leaf.pem"
    path.write_bytes(leaf.cert.public_bytes(serialization.Encoding.PEM))
    expected = _ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]  # ssl getpeercert() decoder
    ours = peercert_dict(leaf.cert)
    for k in ("subject", "issuer", "version", "serialNumber", "notBefore", "notAfter"):
        assert ours[k] == expected[k], k
    # ssl prints IPv6 SANs in its own uncompressed form; compare the DNS and IPv4 entries
    assert ours["subjectAltName"][:2] == expected["subjectAltName"][:2]


def test_no_warnings_from_verification(root: TestCA) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _verifier(root.cert).verify_server_chain(
            root.issue("example.com").der_chain(), "example.com", NOW
        )


# --------------------------------------------------------------------------- verification cache


def test_verification_cache_serves_the_same_chain_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    from certs import TestCA
    from cryptography.hazmat.primitives.serialization import Encoding
    from ferrotls.errors import BadCertificate, CertificateExpired
    from ferrotls.x509 import DefaultVerifier, TrustStore

    ca = TestCA("cache CA", key_index=61)
    leaf = ca.issue("cache.test", key_kind="p256", key_index=62)
    chain = [c.public_bytes(Encoding.DER) for c in leaf.chain]
    verifier = DefaultVerifier(TrustStore.from_certificates([ca.cert]))
    calls = []
    real = verifier._verify_server_chain

    def counting(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(verifier, "_verify_server_chain", counting)
    now = datetime.datetime.now(datetime.timezone.utc)
    first = verifier.verify_server_chain(chain, "cache.test", now)
    again = verifier.verify_server_chain(list(chain), "cache.test", now + datetime.timedelta(seconds=5))
    assert again is first and len(calls) == 1
    with pytest.raises(BadCertificate):  # another name is verified afresh (and fails)
        verifier.verify_server_chain(chain, "other.test", now)
    assert len(calls) == 2
    late = leaf.cert.not_valid_after_utc + datetime.timedelta(days=1)
    with pytest.raises(CertificateExpired):  # the entry ends with the certificate
        verifier.verify_server_chain(chain, "cache.test", late)
    assert len(calls) == 3
    off = DefaultVerifier(TrustStore.from_certificates([ca.cert]), cache_size=0)
    assert off.verify_server_chain(chain, "cache.test", now) is not off.verify_server_chain(chain, "cache.test", now)


def test_verification_cache_is_bounded() -> None:
    import datetime

    from certs import TestCA
    from cryptography.hazmat.primitives.serialization import Encoding
    from ferrotls.x509 import DefaultVerifier, TrustStore

    ca = TestCA("cache CA", key_index=61)
    verifier = DefaultVerifier(TrustStore.from_certificates([ca.cert]), cache_size=3)
    now = datetime.datetime.now(datetime.timezone.utc)
    for i in range(6):
        leaf = ca.issue(f"h{i}.test", key_kind="p256", key_index=62)
        verifier.verify_server_chain([c.public_bytes(Encoding.DER) for c in leaf.chain], f"h{i}.test", now)
    assert len(verifier._cache) == 3
