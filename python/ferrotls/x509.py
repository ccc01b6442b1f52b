"""Certificate chain and peer-name verification.

Path building, signature checks, validity periods, name constraints and
hostname matching are all done by :mod:`cryptography.x509.verification` (the
Rust ``cryptography-x509-verification`` crate).  This module only chooses the
trust anchors and the extension policy, and maps failures to TLS alerts.
Nothing here walks a chain or parses ASN.1 by hand.

Profiles
--------
``"webpki"``
    cryptography's defaults: the CA/Browser Forum profile.  For public roots.
    Rejects, among others, a critical subjectAltName on a leaf with a non-empty
    subject, a critical extendedKeyUsage, and a CA without keyUsage.
``"compatible"``
    For private CAs.  Starts from the WebPKI defaults and relaxes only criticality
    and presence, so that certificates made by trustme and by the ``openssl`` CLI
    (which the ``ssl`` module accepts) verify:

    * leaf subjectAltName: criticality AGNOSTIC (still required for servers --
      the hostname check needs it; optional for client certificates);
    * leaf keyUsage / basicConstraints: AGNOSTIC, still must not assert
      keyCertSign / cA;
    * leaf extendedKeyUsage: AGNOSTIC, but when present it must still contain
      serverAuth (server chains) or clientAuth (client chains);
    * CA keyUsage: may be absent (``openssl req -x509`` omits it); when present it
      must assert keyCertSign;
    * CA basicConstraints: AGNOSTIC criticality, cA must be asserted (pathLen is
      still enforced by cryptography's path builder).

    Signature algorithms, key sizes, validity, hostname matching and path
    building are exactly as strict as ``"webpki"``.

Which profile is the default: ``TrustStore.system()`` -> ``"webpki"``; a trust
store the user builds (``from_pem``/``from_certificates``) -> ``"compatible"``.
``DefaultVerifier(trust, profile=...)`` overrides either.

Independently of the profile, a leaf with a keyUsage extension must assert
digitalSignature (RFC 8446 section 4.4.2.2) -- it signs CertificateVerify.

Errors (:data:`ERROR_PATTERNS`, first match wins; the message includes the
verifier's reason and the leaf subject)::

    no/unmatched subjectAltName for the server name  -> BadCertificate
    not valid at validation time (leaf or any CA)    -> CertificateExpired
    required EKU not found                           -> UnsupportedCertificate
    forbidden key / signature algorithm, RSA too
    small, not an X509v3 certificate                 -> UnsupportedCertificate
    a CA's signature does not match                  -> BadCertificate
    an extension violates the profile                -> BadCertificate
    no path to a trust anchor (candidates exhausted) -> UnknownCA
    anything else                                    -> CertificateUnknown

Before verification: an empty server chain is a DecodeError (RFC 8446 section
4.4.2.4 mandates decode_error); an empty client chain is CertificateRequired
(call ``verify_client_chain`` only when a certificate is required or was sent);
DER that is not a certificate is BadCertificate (the Certificate message itself
decoded fine; its opaque cert_data is corrupt, which is what bad_certificate means).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import threading
from collections import OrderedDict
import os
import re
import ssl
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    Subject,
    VerificationError,
)

from .errors import (
    BadCertificate,
    CertificateExpired,
    CertificateRequired,
    CertificateUnknown,
    DecodeError,
    ProtocolError,
    UnknownCA,
    UnsupportedCertificate,
    UsageError,
)

__all__ = [
    "ERROR_PATTERNS",
    "PROFILES",
    "CertificateVerifier",
    "DefaultVerifier",
    "InsecureNoVerification",
    "Profile",
    "TrustStore",
    "VerifiedChain",
    "VerificationCache",
    "parse_chain",
    "parse_server_name",
    "peercert_dict",
]

Profile: TypeAlias = Literal["webpki", "compatible"]
PROFILES: tuple[Profile, ...] = ("webpki", "compatible")
Role: TypeAlias = Literal["server", "client"]


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """The outcome of a successful verification.

    ``leaf`` is the peer's certificate (its public key checks CertificateVerify);
    ``path`` is the chain cryptography built, leaf first, ending at the trust anchor
    (for :class:`InsecureNoVerification`: just the certificates received, and
    ``verified`` is False).  ``peercert`` is an ``ssl.SSLSocket.getpeercert()``-style dict.
    """

    leaf: x509.Certificate
    path: tuple[x509.Certificate, ...]
    verified: bool = True
    server_name: str | None = None

    @property
    def peercert(self) -> dict[str, Any]:
        """The leaf as an ``ssl``-style ``getpeercert()`` dict (built on demand)."""
        return peercert_dict(self.leaf)

    @property
    def leaf_der(self) -> bytes:
        return self.leaf.public_bytes(serialization.Encoding.DER)

    @property
    def subject(self) -> str:
        return self.leaf.subject.rfc4514_string()

    @property
    def subject_alt_names(self) -> tuple[tuple[str, str], ...]:
        san: tuple[tuple[str, str], ...] = self.peercert.get("subjectAltName", ())
        return san


class CertificateVerifier(Protocol):
    """What the handshake calls.  ``chain`` is DER, leaf first, as received in Certificate.

    A verifier may also define ``binding() -> bytes``, a stable digest of its trust
    anchors and policy (see :func:`verifier_binding`); resumed sessions that carry a
    client identity are bound to it.
    """

    def verify_server_chain(
        self, chain: Sequence[bytes], server_name: str | None, now: datetime.datetime
    ) -> VerifiedChain: ...

    def verify_client_chain(
        self, chain: Sequence[bytes], now: datetime.datetime
    ) -> VerifiedChain: ...


# --------------------------------------------------------------------------- getpeercert-style summary

_NAME_LABELS: dict[x509.ObjectIdentifier, str] = {
    NameOID.COMMON_NAME: "commonName",
    NameOID.COUNTRY_NAME: "countryName",
    NameOID.LOCALITY_NAME: "localityName",
    NameOID.STATE_OR_PROVINCE_NAME: "stateOrProvinceName",
    NameOID.ORGANIZATION_NAME: "organizationName",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "organizationalUnitName",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "domainComponent",
}

_SAN_LABELS: dict[type, Callable[[Any], tuple[str, str]]] = {
    x509.DNSName: lambda g: ("DNS", g.value),
    x509.IPAddress: lambda g: ("IP Address", str(g.value)),
    x509.RFC822Name: lambda g: ("email", g.value),
    x509.UniformResourceIdentifier: lambda g: ("URI", g.value),
    x509.DirectoryName: lambda g: ("DirName", g.value.rfc4514_string()),
    x509.RegisteredID: lambda g: ("Registered ID", g.value.dotted_string),
}


def _name_tuple(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        tuple((_NAME_LABELS.get(a.oid, a.oid.dotted_string), str(a.value)) for a in rdn)
        for rdn in name.rdns
    )


def _ssl_time(t: datetime.datetime) -> str:
    return f"{t:%b} {t.day:2d} {t:%H:%M:%S %Y} GMT"


def _serial_hex(serial: int) -> str:
    """Upper-case hex padded to whole bytes, as the ssl module prints it."""
    digits = f"{serial:X}"
    return digits.zfill(len(digits) + len(digits) % 2)


def peercert_dict(cert: x509.Certificate) -> dict[str, Any]:
    """A dict shaped like ``ssl.SSLSocket.getpeercert()`` for display and logging."""
    out: dict[str, Any] = {
        "subject": _name_tuple(cert.subject),
        "issuer": _name_tuple(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": _serial_hex(cert.serial_number),
        "notBefore": _ssl_time(cert.not_valid_before_utc),
        "notAfter": _ssl_time(cert.not_valid_after_utc),
    }
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return out
    out["subjectAltName"] = tuple(
        _SAN_LABELS.get(type(g), lambda g: ("othername", "<unsupported>"))(g) for g in san
    )
    return out


# --------------------------------------------------------------------------- error mapping

#: (regex on cryptography's VerificationError message, ferrotls error, what we say).
#: First match wins, so specific reasons come before "candidates exhausted", which
#: cryptography prefixes to whatever stopped the last candidate path.
ERROR_PATTERNS: tuple[tuple[re.Pattern[str], type[ProtocolError], str], ...] = tuple(
    (re.compile(p), cls, what)
    for p, cls, what in (
        (r"no matching subjectAltName|has no subjectAltName", BadCertificate, "name mismatch"),
        (r"not valid at validation time", CertificateExpired, "expired or not yet valid"),
        (r"required EKU not found", UnsupportedCertificate, "wrong extended key usage"),
        (
            r"Forbidden (public key|signature) algorithm|X509v3|key too (weak|small)|modulus",
            UnsupportedCertificate,
            "unsupported certificate",
        ),
        (r"signature does not match|signature", BadCertificate, "bad certificate signature"),
        (
            r"extension|MUST|must|critical|basicConstraints|keyUsage|name constraint",
            BadCertificate,
            "certificate violates the verification profile",
        ),
        (r"candidates exhausted", UnknownCA, "no path to a trusted certificate authority"),
    )
)


def _reason(exc: VerificationError) -> str:
    msg = str(exc)
    msg = re.sub(r"^validation failed: ", "", msg)
    return re.sub(r" \(encountered processing <Certificate\(.*\)>\)$", "", msg)


def _map_error(
    exc: VerificationError,
    leaf: x509.Certificate,
    server_name: str | None,
    profile: Profile,
    now: datetime.datetime,
) -> ProtocolError:
    reason = _reason(exc)
    subject = leaf.subject.rfc4514_string() or "<empty subject>"
    for pattern, cls, what in ERROR_PATTERNS:
        if pattern.search(reason):
            break
    else:
        cls, what = CertificateUnknown, "certificate rejected"
    if cls is BadCertificate and what == "name mismatch":
        mismatch = cls(f"certificate is not valid for {server_name!r}: {reason} (subject {subject})")
        if isinstance(_subject_or_none(server_name), x509.IPAddress):  # as ssl reports them
            mismatch.verify_code = 64  # X509_V_ERR_IP_ADDRESS_MISMATCH
            mismatch.verify_message = f"IP address mismatch, certificate is not valid for {server_name!r}."
        else:
            mismatch.verify_code = 62  # X509_V_ERR_HOSTNAME_MISMATCH
            mismatch.verify_message = f"Hostname mismatch, certificate is not valid for {server_name!r}."
        return mismatch
    if cls is CertificateExpired:
        what = _validity_detail(leaf, now)
    err = cls(f"{what}: {reason} (subject {subject}, profile {profile})")
    if isinstance(err, CertificateExpired) and now < leaf.not_valid_before_utc:
        err.verify_code, err.verify_message = 9, "certificate is not yet valid"
    elif isinstance(err, BadCertificate) and what != "bad certificate signature":
        err.verify_code, err.verify_message = 1, "unspecified certificate verification error"
    return err


def _subject_or_none(server_name: str | None) -> Subject | None:
    try:
        return None if server_name is None else parse_server_name(server_name)
    except UsageError:
        return None


def _validity_detail(leaf: x509.Certificate, now: datetime.datetime) -> str:
    if now > leaf.not_valid_after_utc:
        return f"certificate expired at {leaf.not_valid_after_utc.isoformat()}"
    if now < leaf.not_valid_before_utc:
        return f"certificate is not valid before {leaf.not_valid_before_utc.isoformat()}"
    return "a CA certificate in the chain is expired or not yet valid"


# --------------------------------------------------------------------------- compatible profile validators
#
# Exceptions raised here reach us as VerificationError("... Python extension validator
# failed: ValueError: <message>"); the messages reuse cryptography's wording so that
# ERROR_PATTERNS maps both profiles alike.


_EKU_NAMES = {
    x509.oid.ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
}


def _ee_eku(policy: Policy, cert: x509.Certificate, ext: x509.ExtendedKeyUsage | None) -> None:
    if ext is not None and policy.extended_key_usage not in ext:
        raise ValueError(
            f"required EKU not found: leaf extendedKeyUsage lacks {_EKU_NAMES.get(policy.extended_key_usage, policy.extended_key_usage.dotted_string)}"
        )


def _ee_key_usage(policy: Policy, cert: x509.Certificate, ext: x509.KeyUsage | None) -> None:
    if ext is not None and ext.key_cert_sign:
        raise ValueError("EE keyUsage must not assert keyCertSign")


def _ee_basic_constraints(
    policy: Policy, cert: x509.Certificate, ext: x509.BasicConstraints | None
) -> None:
    if ext is not None and ext.ca:
        raise ValueError("basicConstraints.cA must not be asserted in an EE certificate")


def _ca_key_usage(policy: Policy, cert: x509.Certificate, ext: x509.KeyUsage | None) -> None:
    if ext is not None and not ext.key_cert_sign:
        raise ValueError("keyUsage.keyCertSign must be asserted in a CA certificate")


def _ca_basic_constraints(
    policy: Policy, cert: x509.Certificate, ext: x509.BasicConstraints
) -> None:
    if not ext.ca:
        raise ValueError("basicConstraints.cA must be asserted in a CA certificate")


_AGNOSTIC = Criticality.AGNOSTIC


def _compatible_policies(role: Role) -> tuple[ExtensionPolicy, ExtensionPolicy]:
    ca = (
        ExtensionPolicy.webpki_defaults_ca()
        .may_be_present(x509.KeyUsage, _AGNOSTIC, _ca_key_usage)
        .require_present(x509.BasicConstraints, _AGNOSTIC, _ca_basic_constraints)
    )
    ee = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.KeyUsage, _AGNOSTIC, _ee_key_usage)
        .may_be_present(x509.ExtendedKeyUsage, _AGNOSTIC, _ee_eku)
        .may_be_present(x509.BasicConstraints, _AGNOSTIC, _ee_basic_constraints)
    )
    # Servers: SAN required (any criticality); cryptography matches the name separately.
    # Clients: many mTLS client certificates have no SAN.
    ee = (
        ee.require_present(x509.SubjectAlternativeName, _AGNOSTIC, None)
        if role == "server"
        else ee.may_be_present(x509.SubjectAlternativeName, _AGNOSTIC, None)
    )
    return ca, ee


#: profile -> role -> (ca_policy, ee_policy), or None for cryptography's own defaults.
_EXTENSION_POLICIES: dict[Profile, dict[Role, tuple[ExtensionPolicy, ExtensionPolicy] | None]] = {
    "webpki": {"server": None, "client": None},
    "compatible": {
        "server": _compatible_policies("server"),
        "client": _compatible_policies("client"),
    },
}


# --------------------------------------------------------------------------- inputs


def parse_server_name(server_name: str) -> Subject:
    """A server name -> cryptography Subject: IPv4/IPv6 literal (brackets allowed) -> IPAddress,
    else DNSName (one trailing dot dropped).  UsageError if it is neither (call it when the
    configuration is built, so a bad name fails early)."""
    name = server_name.strip()
    literal = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        return x509.IPAddress(ipaddress.ip_address(literal))
    except ValueError:
        pass
    dns = name.removesuffix(".")
    if not dns or not dns.isascii() or any(c.isspace() or c in "/@:[]" for c in dns):
        raise UsageError(
            f"invalid server name {server_name!r} (use an A-label / IDNA-encoded name)"
        )
    return x509.DNSName(dns.lower())


def parse_chain(chain: Sequence[bytes]) -> list[x509.Certificate]:
    """DER certificates -> Certificates; BadCertificate (with the index) if one does not parse."""
    out = []
    for i, der in enumerate(chain):
        try:
            out.append(x509.load_der_x509_certificate(bytes(der)))
        except ValueError as exc:
            raise BadCertificate(
                f"certificate {i} in the chain is not valid DER X.509: {exc}"
            ) from None
    return out


def _check_tls13_leaf(leaf: x509.Certificate) -> None:
    """RFC 8446 section 4.4.2.2: the key must be allowed to sign."""
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not ku.digital_signature:
        raise UnsupportedCertificate(
            "certificate keyUsage does not allow digitalSignature, so it cannot sign a TLS 1.3 "
            f"CertificateVerify (subject {leaf.subject.rfc4514_string()})"
        )


# --------------------------------------------------------------------------- trust


def _pem_blocks(data: bytes) -> list[bytes]:
    return re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.DOTALL)


def load_bundle(data: bytes, where: str, *, strict: bool) -> list[x509.Certificate]:
    """Every PEM certificate in ``data``; a block that does not parse is an error when
    ``strict`` (the user's own file) and skipped otherwise (system bundles)."""
    out = []
    with warnings.catch_warnings():
        # system bundles (and certifi, which requests and httpx load by hand) hold a few
        # legacy roots with non-positive serials; ssl loads them without a word
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in _pem_blocks(data):
            try:
                out.append(x509.load_pem_x509_certificate(block))
            except ValueError as exc:
                if strict:
                    raise UsageError(f"cannot parse a certificate in {where}: {exc}") from None
    return out


def _certifi_where() -> str | None:
    try:
        import certifi  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    where: str = certifi.where()
    return where


@dataclass(frozen=True)
class TrustStore:
    """Trust anchors plus the profile that suits where they came from."""

    certificates: tuple[x509.Certificate, ...]
    origin: Literal["system", "user"]
    source: str = ""

    def __post_init__(self) -> None:
        if not self.certificates:
            raise UsageError(f"no trust anchors found ({self.source or self.origin})")
        object.__setattr__(self, "_store", Store(list(self.certificates)))

    @property
    def store(self) -> Store:
        store: Store = self.__dict__["_store"]
        return store

    @property
    def default_profile(self) -> Profile:
        return "webpki" if self.origin == "system" else "compatible"

    @classmethod
    def system(cls) -> TrustStore:
        """The OpenSSL default CA file/directory (``ssl.get_default_verify_paths()``); if the
        system has none, certifi's bundle when certifi is installed; else UsageError."""
        paths = ssl.get_default_verify_paths()
        certs: list[x509.Certificate] = []
        sources = []
        for cafile in dict.fromkeys(
            os.path.realpath(p) for p in (paths.cafile, paths.openssl_cafile) if p
        ):
            if os.path.isfile(cafile):
                certs += load_bundle(Path(cafile).read_bytes(), cafile, strict=False)
                sources.append(cafile)
        for capath in dict.fromkeys(
            os.path.realpath(p) for p in (paths.capath, paths.openssl_capath) if p
        ):
            if os.path.isdir(capath):
                certs += load_dir(Path(capath), strict=False)
                sources.append(capath)
        if not certs:
            where = _certifi_where()
            if where:
                certs = load_bundle(Path(where).read_bytes(), where, strict=False)
                sources.append(where)
        return cls(
            dedupe(certs), "system", ", ".join(sources) or "no system CA bundle, certifi absent"
        )

    @classmethod
    def from_pem(
        cls,
        cafile: str | os.PathLike[str] | None = None,
        capath: str | os.PathLike[str] | None = None,
        cadata: str | bytes | None = None,
    ) -> TrustStore:
        """Like ``SSLContext.load_verify_locations``: a PEM bundle file, a directory of PEM
        files, and/or PEM text / PEM bytes / one DER certificate."""
        if cafile is None and capath is None and cadata is None:
            raise UsageError("from_pem() needs cafile, capath or cadata")
        certs: list[x509.Certificate] = []
        if cafile is not None:
            try:
                data = Path(cafile).read_bytes()
            except OSError as exc:
                raise UsageError(f"cannot read cafile {cafile}: {exc}") from None
            certs += load_bundle(data, str(cafile), strict=True)
        if capath is not None:
            certs += load_dir(Path(capath), strict=True)
        if cadata is not None:
            raw = cadata.encode("ascii") if isinstance(cadata, str) else bytes(cadata)
            if b"-----BEGIN" in raw:
                certs += load_bundle(raw, "cadata", strict=True)
            else:
                try:
                    certs.append(x509.load_der_x509_certificate(raw))
                except ValueError as exc:
                    raise UsageError(
                        f"cadata is neither PEM nor one DER certificate: {exc}"
                    ) from None
        source = ", ".join(str(p) for p in (cafile, capath) if p is not None) or "cadata"
        return cls(dedupe(certs), "user", source)

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate | bytes]) -> TrustStore:
        """Certificate objects, or DER/PEM bytes each holding one certificate."""
        certs = [
            c
            if isinstance(c, x509.Certificate)
            else (
                x509.load_pem_x509_certificate(c)
                if b"-----BEGIN" in c
                else x509.load_der_x509_certificate(c)
            )
            for c in certificates
        ]
        return cls(dedupe(certs), "user", "certificates")


def load_dir(path: Path, *, strict: bool) -> list[x509.Certificate]:
    """Every certificate in the PEM/DER files of directory ``path`` (an OpenSSL capath)."""
    if not path.is_dir():
        raise UsageError(f"capath {path} is not a directory")
    certs: list[x509.Certificate] = []
    for entry in sorted(path.iterdir()):
        try:
            data = entry.read_bytes() if entry.is_file() else None
        except OSError:
            continue
        if data is not None:
            certs += load_bundle(data, str(entry), strict=strict)
    return certs


def dedupe(certs: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """``certs`` without repeats (by SHA-256 fingerprint), first occurrence kept."""
    return tuple({c.fingerprint(hashes.SHA256()): c for c in certs}.values())


# --------------------------------------------------------------------------- verifiers


class VerificationCache:
    """Successful chain verifications of one verifier, so a client that connects to the
    same server again (or a server seeing the same client certificate) does not verify
    the same chain again.

    Keyed by the chain's DER bytes, the role and the server name checked; an entry
    holds only while ``now`` is inside the validity of every certificate of the
    verified path (so it expires no later than the earliest notAfter), and at most
    ``max_entries`` are kept (least recently used goes first; 0 turns the cache off).
    Failures are never cached.  The trust anchors and policy are the verifier's own,
    so they are part of every key implicitly.  Thread-safe.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[datetime.datetime, datetime.datetime, VerifiedChain]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[Any, ...], now: datetime.datetime) -> VerifiedChain | None:
        if not self.max_entries:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            not_before, not_after, verified = entry
            if not not_before <= now <= not_after:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return verified

    def add(self, key: tuple[Any, ...], verified: VerifiedChain) -> None:
        if not self.max_entries:
            return
        path = verified.path or (verified.leaf,)
        not_before = max(c.not_valid_before_utc for c in path)
        not_after = min(c.not_valid_after_utc for c in path)
        with self._lock:
            self._entries[key] = (not_before, not_after, verified)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class DefaultVerifier:
    """Verify peer chains against ``trust`` with cryptography.x509.verification.

    ``profile``: ``"webpki"`` or ``"compatible"`` (default: ``trust.default_profile``).
    ``cache_size``: successful verifications kept (:class:`VerificationCache`; 0: none).
    ``server_name=None`` or ``check_hostname=False``: the chain is still verified, the
    name is not (ClientConnection refuses to start without a server name when its
    config's ``check_hostname`` is on, as ``ssl`` does).
    """

    def __init__(
        self,
        trust: TrustStore,
        *,
        profile: Profile | None = None,
        check_hostname: bool = True,
        max_chain_depth: int | None = None,
        cache_size: int = 256,
    ) -> None:
        if profile is not None and profile not in _EXTENSION_POLICIES:
            raise UsageError(f"unknown verification profile {profile!r}; choose one of {PROFILES}")
        self.trust = trust
        self.profile: Profile = profile or trust.default_profile
        self.check_hostname = check_hostname
        self.max_chain_depth = max_chain_depth
        self._binding: tuple[tuple[str, int | None], bytes] | None = None
        self._cache = VerificationCache(cache_size)

    def binding(self) -> bytes:
        """SHA-256 over the anchors' fingerprints (sorted), the profile and the depth
        limit: equal for two verifiers that accept the same chains."""
        key = (self.profile, self.max_chain_depth)
        cached = self._binding
        if cached is not None and cached[0] == key:
            return cached[1]
        h = hashlib.sha256(b"ferrotls DefaultVerifier v1\0")
        h.update(f"{self.profile}\0{self.max_chain_depth}\0".encode())
        for fingerprint in sorted(c.fingerprint(hashes.SHA256()) for c in self.trust.certificates):
            h.update(fingerprint)
        self._binding = (key, h.digest())
        return self._binding[1]

    def _builder(self, role: Role, now: datetime.datetime) -> PolicyBuilder:
        b = PolicyBuilder().store(self.trust.store).time(now)
        if self.max_chain_depth is not None:
            b = b.max_chain_depth(self.max_chain_depth)
        policies = _EXTENSION_POLICIES[self.profile][role]
        if policies is not None:
            b = b.extension_policies(ca_policy=policies[0], ee_policy=policies[1])
        return b

    def verify_server_chain(
        self, chain: Sequence[bytes], server_name: str | None, now: datetime.datetime
    ) -> VerifiedChain:
        if not chain:
            raise DecodeError("server sent an empty Certificate message")
        key = ("server", server_name if self.check_hostname else None, tuple(chain))
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        verified = self._verify_server_chain(chain, server_name, now)
        self._cache.add(key, verified)
        return verified

    def _verify_server_chain(
        self, chain: Sequence[bytes], server_name: str | None, now: datetime.datetime
    ) -> VerifiedChain:
        certs = parse_chain(chain)
        leaf = certs[0]
        # check_hostname=False (like ssl): the path, validity and serverAuth EKU are still
        # verified, the name is not.  cryptography has no "server, any name" mode, so the
        # leaf is matched against its own first DNS/IP subjectAltName.
        if server_name is not None and self.check_hostname:
            subject = parse_server_name(server_name)
        else:
            subject = _any_subject_of(leaf)
        verifier = self._builder("server", now).build_server_verifier(subject)
        try:
            path = verifier.verify(leaf, certs[1:])
        except VerificationError as exc:
            raise _map_error(exc, leaf, server_name, self.profile, now) from None
        # A wildcard can match over a single-label suffix only for a two-label host
        # (*.com for example.com): longer hosts leave at least two labels after "*.".
        if (
            isinstance(subject, x509.DNSName) and server_name is not None and self.check_hostname
            and subject.value.count(".") == 1
        ):
            _refuse_broad_wildcards(leaf, subject.value, server_name)
        _check_tls13_leaf(leaf)
        return VerifiedChain(leaf, tuple(path), True, server_name)

    def verify_client_chain(self, chain: Sequence[bytes], now: datetime.datetime) -> VerifiedChain:
        if not chain:
            raise CertificateRequired("client did not send a certificate")
        key = ("client", None, tuple(chain))
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        verified = self._verify_client_chain(chain, now)
        self._cache.add(key, verified)
        return verified

    def _verify_client_chain(self, chain: Sequence[bytes], now: datetime.datetime) -> VerifiedChain:
        certs = parse_chain(chain)
        leaf = certs[0]
        verifier = self._builder("client", now).build_client_verifier()
        try:
            verified = verifier.verify(leaf, certs[1:])
        except VerificationError as exc:
            raise _map_error(exc, leaf, None, self.profile, now) from None
        _check_tls13_leaf(leaf)
        return VerifiedChain(leaf, tuple(verified.chain), True, None)


def wildcard_covers(pattern: str, host: str) -> bool:
    """Whether the DNS pattern ``pattern`` (lower case) names ``host`` (lower case):
    equal, or ``*.`` followed by at least two labels that equal the host's all but
    its first label.  A wildcard never spans a single-label suffix (``*.com`` does
    not name example.com), as OpenSSL and the CA/Browser Forum Baseline
    Requirements (section 3.2.2.6) have it."""
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[2:]
    first, dot, rest = host.partition(".")
    return bool(first and dot) and "." in suffix and rest == suffix


def _refuse_broad_wildcards(leaf: x509.Certificate, host: str, server_name: str) -> None:
    """After cryptography accepted ``leaf`` for ``host``: refuse it when only a
    wildcard over a single-label suffix matched (cryptography's matcher allows it)."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return
    patterns = [p.lower().removesuffix(".") for p in san.get_values_for_type(x509.DNSName)]
    if any(wildcard_covers(p, host) for p in patterns):
        return
    broad = [p for p in patterns if p.startswith("*.") and "." not in p[2:]]
    if broad:
        subject = leaf.subject.rfc4514_string() or "<empty subject>"
        raise BadCertificate(
            f"certificate is not valid for {server_name!r}: wildcard {broad[0]!r} spans a "
            f"single-label suffix (subject {subject})"
        )


def verifier_binding(verifier: object | None) -> bytes:
    """A digest naming the trust anchors and policy of a client-certificate verifier.

    A ticket whose client was authenticated carries the binding of the verifier
    that accepted the certificate; a server resumes it only when its own
    verifier has the same binding (same anchors, same profile), so a session
    cannot carry an identity into a server that would not have accepted it.
    Verifiers define ``binding()``; for others the class name stands in (a
    custom verifier should define ``binding()`` to bind its trust anchors).
    """
    if verifier is None:
        return b""
    binding = getattr(verifier, "binding", None)
    if callable(binding):
        value = binding()
        if isinstance(value, bytes) and value:
            return value
    cls = type(verifier)
    return hashlib.sha256(f"class {cls.__module__}.{cls.__qualname__}".encode()).digest()


def _any_subject_of(leaf: x509.Certificate) -> Subject:
    """The first DNS/IP SAN of ``leaf`` (for check_hostname=False); BadCertificate if none."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = x509.SubjectAlternativeName([])
    except ValueError as exc:
        raise BadCertificate(f"cannot parse subjectAltName: {exc}") from None
    for g in san:
        if isinstance(g, x509.IPAddress) and isinstance(
            g.value, ipaddress.IPv4Address | ipaddress.IPv6Address
        ):
            return g
        if isinstance(g, x509.DNSName):
            try:
                return parse_server_name(g.value.replace("*.", "wildcard.", 1))
            except UsageError:
                continue
    raise BadCertificate(
        f"server certificate has no DNS or IP subjectAltName (subject {leaf.subject.rfc4514_string()})"
    )


class InsecureNoVerification:
    """DANGER: accepts ANY certificate chain from ANYONE.  Use only in tests.

    It checks no signature, validity, name or trust anchor, so a connection using it
    is open to a man-in-the-middle.  It still parses the leaf (BadCertificate if the
    DER is corrupt) so that the handshake can check the CertificateVerify signature
    with the leaf's key, and it still rejects an empty chain.
    """

    def binding(self) -> bytes:
        return hashlib.sha256(b"ferrotls InsecureNoVerification").digest()

    def __init__(self) -> None:
        warnings.warn(
            "InsecureNoVerification disables certificate verification; "
            "connections are open to man-in-the-middle attacks",
            stacklevel=2,
        )

    def verify_server_chain(
        self, chain: Sequence[bytes], server_name: str | None, now: datetime.datetime
    ) -> VerifiedChain:
        if not chain:
            raise DecodeError("server sent an empty Certificate message")
        certs = parse_chain(chain)
        return VerifiedChain(certs[0], tuple(certs), False, server_name)

    def verify_client_chain(self, chain: Sequence[bytes], now: datetime.datetime) -> VerifiedChain:
        if not chain:
            raise CertificateRequired("client did not send a certificate")
        certs = parse_chain(chain)
        return VerifiedChain(certs[0], tuple(certs), False, None)
