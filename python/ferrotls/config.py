"""Connection configuration: ``ClientConfig`` and ``ServerConfig``.

Frozen dataclasses with secure defaults.  ``create_client_config`` and
``create_server_config`` are the ``ssl.create_default_context()``-style
constructors that load PEM files.

Sans-I/O hooks: ``rng`` (random bytes), ``clock`` (seconds since the epoch) and
``key_share_private_keys`` (fixed X25519 keys) make a handshake fully
deterministic, so tests can replay published traces byte for byte;
``client_hello_hook`` lets a test tool edit the ClientHello before it is sent.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .backend.interface import Backend
from .certcompress import AVAILABLE as DEFAULT_CERTIFICATE_COMPRESSION
from .limits import Limits
from .replay import InMemoryReplayStore, ReplayStore
from .suites import CipherSuite, NamedGroup, SignatureScheme, Tls12CipherSuite
from .tickets import SessionCache, SessionIdCache, TicketKeyManager, TicketKeys

if TYPE_CHECKING:
    from .psk import ExternalPsk
    from .x509 import CertificateVerifier

PSK_KE, PSK_DHE_KE = 0, 1

__all__ = [
    "ClientAuth",
    "CertifiedKey",
    "ClientConfig",
    "ServerConfig",
    "create_client_config",
    "create_server_config",
    "DEFAULT_CIPHER_SUITES",
    "DEFAULT_TLS12_CIPHER_SUITES",
    "TLS12",
    "TLS13",
    "DEFAULT_GROUPS",
    "DEFAULT_CLIENT_GROUPS",
    "DEFAULT_KEY_SHARE_GROUPS",
    "DEFAULT_SIGNATURE_SCHEMES",
    "DEFAULT_CERTIFICATE_COMPRESSION",
    "KeyLogWriter",
    "Limits",
]

DEFAULT_CIPHER_SUITES: tuple[int, ...] = (
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
TLS12, TLS13 = 0x0303, 0x0304
"""Protocol versions for ``minimum_version`` / ``maximum_version``."""

_T12 = Tls12CipherSuite
DEFAULT_TLS12_CIPHER_SUITES: tuple[int, ...] = (
    _T12.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    _T12.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    _T12.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    _T12.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    _T12.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    _T12.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
)
"""TLS 1.2 suites on by default: ECDHE with AEAD only (no CBC, RC4, 3DES, static
RSA or FFDHE); the CCM and PSK suites are off, on in the IoT profile."""
del _T12

DEFAULT_GROUPS: tuple[int, ...] = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.X25519,
    NamedGroup.SECP256R1,
    NamedGroup.SECP384R1,
    NamedGroup.SECP521R1,
    NamedGroup.X448,
)
DEFAULT_CLIENT_GROUPS: tuple[int, ...] = DEFAULT_GROUPS[:4]
"""What a client offers in supported_groups by default: P-521 and X448 are accepted
by servers (DEFAULT_GROUPS) but not offered, as rustls does, to keep every
ClientHello four bytes shorter; add them to ``groups`` to offer them."""
DEFAULT_KEY_SHARE_GROUPS: tuple[int, ...] = (NamedGroup.X25519MLKEM768, NamedGroup.X25519)
DEFAULT_SIGNATURE_SCHEMES: tuple[int, ...] = (
    SignatureScheme.ECDSA_SECP256R1_SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384,
    SignatureScheme.ED25519,
    SignatureScheme.RSA_PSS_RSAE_SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA512,
    SignatureScheme.RSA_PSS_PSS_SHA256,
    SignatureScheme.RSA_PSS_PSS_SHA384,
    SignatureScheme.RSA_PSS_PSS_SHA512,
    SignatureScheme.ECDSA_SECP521R1_SHA512,
    SignatureScheme.ED448,
    # Accepted in certificates only, never in CertificateVerify (RFC 8446 4.2.3):
    SignatureScheme.RSA_PKCS1_SHA256,
    SignatureScheme.RSA_PKCS1_SHA384,
    SignatureScheme.RSA_PKCS1_SHA512,
)


class ClientAuth(enum.Enum):
    """Whether a server asks for, and insists on, a client certificate."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class CertifiedKey:
    """A certificate chain (leaf first) and its private key.

    ``sign(scheme, message)`` produces CertificateVerify signatures; subclass it
    to use a key held elsewhere (an HSM, a TPM, a recorded trace).
    """

    __slots__ = ("chain", "private_key", "chain_der", "names", "_schemes", "_schemes12", "_name_hits")

    def __init__(self, chain: Sequence[Any], private_key: Any) -> None:
        from cryptography import x509 as cx509
        from cryptography.hazmat.primitives.serialization import Encoding

        if not chain:
            raise ValueError("a certificate chain needs at least the leaf certificate")
        self.chain = tuple(chain)
        self.private_key = private_key
        self.chain_der = tuple(c.public_bytes(Encoding.DER) for c in self.chain)
        names: set[str] = set()
        try:
            san = self.chain[0].extensions.get_extension_for_class(cx509.SubjectAlternativeName)
            names.update(n.lower() for n in san.value.get_values_for_type(cx509.DNSName))
        except cx509.ExtensionNotFound:
            pass
        self.names = frozenset(names)
        self._schemes: list[SignatureScheme] | None = None
        self._schemes12: list[SignatureScheme] | None = None
        self._name_hits: dict[str, bool] = {}

    def __repr__(self) -> str:
        return f"CertifiedKey(subject={self.chain[0].subject.rfc4514_string()!r})"

    @classmethod
    def load(
        cls, certfile: str | os.PathLike[str] | bytes, keyfile: str | os.PathLike[str] | bytes | None = None,
        password: bytes | None = None,
    ) -> CertifiedKey:
        """Load a PEM chain and key (``keyfile`` defaults to ``certfile``, as in ``ssl``)."""
        from .sign import load_certificate_chain, load_private_key

        chain = load_certificate_chain(certfile)
        key = load_private_key(keyfile if keyfile is not None else certfile, password)
        return cls(chain, key)

    def schemes(self, *, tls12: bool = False) -> list[SignatureScheme]:
        """Signature schemes this key can produce, most preferred first (computed once
        per version: TLS 1.2 adds PKCS#1 v1.5 and frees ECDSA from the curve)."""
        from .sign import schemes_for_key

        if tls12:
            if self._schemes12 is None:
                self._schemes12 = schemes_for_key(self.private_key, certificate=self.chain[0], tls12=True)
            return self._schemes12
        if self._schemes is None:
            self._schemes = schemes_for_key(self.private_key, certificate=self.chain[0])
        return self._schemes

    def choose_scheme(self, peer_offered: Sequence[int], *, tls12: bool = False) -> SignatureScheme:
        """Our most preferred scheme the peer offered; HandshakeFailure if none."""
        from .sign import pick_scheme

        return pick_scheme(self.schemes(tls12=tls12), peer_offered)

    def sign(self, scheme: int, message: bytes, *, tls12: bool = False) -> bytes:
        """Sign with ``scheme`` (a TLS 1.3 CertificateVerify scheme, or with
        ``tls12`` a TLS 1.2 one)."""
        from .sign import sign, sign_with_fitting_scheme

        if scheme in self.schemes(tls12=tls12):  # checked against the key once, when listed
            return sign_with_fitting_scheme(self.private_key, scheme, message)
        return sign(self.private_key, SignatureScheme(scheme), message, certificate=self.chain[0], tls12=tls12)

    def matches_name(self, server_name: str | None) -> bool:
        """Whether the leaf's DNS SANs cover ``server_name`` (see :func:`ferrotls.x509.wildcard_covers`)."""
        if server_name is None:
            return True
        from .x509 import wildcard_covers

        hit = self._name_hits.get(server_name)
        if hit is None:
            name = server_name.lower().rstrip(".")
            hit = any(wildcard_covers(pattern, name) for pattern in self.names)
            if len(self._name_hits) >= _NAME_CACHE_SIZE:  # bounded: names come from peers
                self._name_hits.clear()
            self._name_hits[server_name] = hit
        return hit


_NAME_CACHE_SIZE = 256
"""Server names whose match against a CertifiedKey's names is remembered."""


class KeyLogWriter:
    """A ``key_log`` callback appending SSLKEYLOGFILE lines to a file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)

    def __call__(self, line: str) -> None:
        with open(self.path, "a", encoding="ascii") as f:
            f.write(line + "\n")

    def __repr__(self) -> str:
        return f"KeyLogWriter({self.path!r})"


@dataclass(frozen=True, kw_only=True)
class _CommonConfig:
    backend: str | Backend | None = None
    """Crypto backend: None (FERROTLS_BACKEND's choice), "native", "python" or an object."""
    cipher_suites: tuple[int, ...] = DEFAULT_CIPHER_SUITES
    groups: tuple[int, ...] = DEFAULT_GROUPS
    signature_schemes: tuple[int, ...] = DEFAULT_SIGNATURE_SCHEMES
    alpn_protocols: tuple[str, ...] = ()
    middlebox_compat: bool = True
    """Send a legacy session id and dummy change_cipher_spec (RFC 8446 appendix D.4)."""
    rng: Callable[[int], bytes] = os.urandom
    clock: Callable[[], float] = time.time
    key_log: Callable[[str], None] | None = None
    """Receives SSLKEYLOGFILE-format lines (secrets!) when set; see KeyLogWriter."""
    key_share_private_keys: Mapping[int, bytes] = field(default_factory=dict, repr=False)
    """Fixed private keys per group (X25519 only), for replaying traces in tests."""
    limits: Limits = Limits()
    """Limits on what the peer may send (message and chain sizes, extension counts,
    empty records, KeyUpdates); see ferrotls.limits and docs/robustness.md."""
    record_padding: int = 0
    """Zero bytes added to every protected record (RFC 8446 section 5.4)."""
    record_size_limit: int | None = None
    """RFC 8449: the largest record plaintext we accept, content type included (64 ..
    2**14 + 1), sent in the ClientHello / EncryptedExtensions; larger records from the
    peer are record_overflow.  None: don't send it.  The peer's limit is honoured either way."""
    certificate_compression: tuple[int, ...] = ()
    """RFC 8879 algorithms (1 zlib, 2 brotli, 3 zstd) we offer and accept, most preferred
    first; DEFAULT_CERTIFICATE_COMPRESSION holds those this process can run
    (ferrotls.certcompress.AVAILABLE).  () (the default) sends and accepts only
    uncompressed Certificate messages."""
    cpu_clock: Callable[[], float] = time.process_time
    """Measures the CPU time of the handshake (HandshakeStats.cpu_time)."""
    minimum_version: int = TLS12
    """The oldest protocol version to speak (TLS12 or TLS13; default TLS 1.2, as
    ``ssl``).  ``minimum_version=TLS13`` makes a TLS 1.3-only endpoint."""
    maximum_version: int = TLS13
    tls12_cipher_suites: tuple[int, ...] = DEFAULT_TLS12_CIPHER_SUITES
    """TLS 1.2 suites, most preferred first (suites.TLS12_SUITES has all of them)."""
    require_extended_master_secret: bool = True
    """TLS 1.2: refuse a peer without extended_master_secret (RFC 7627) with
    handshake_failure.  False allows it, with an InsecureProtocolWarning."""
    fatal_on_renegotiation: bool = False
    """TLS 1.2: ferrotls never renegotiates; a peer's HelloRequest or renegotiating
    ClientHello gets a no_renegotiation warning (False) or a fatal alert (True)."""

    def __post_init__(self) -> None:
        if self.minimum_version not in (TLS12, TLS13) or self.maximum_version not in (TLS12, TLS13):
            raise ValueError("minimum_version and maximum_version must be TLS12 (0x0303) or TLS13 (0x0304)")
        if self.minimum_version > self.maximum_version:
            raise ValueError("minimum_version is above maximum_version")
        from .suites import TLS12_SUITES

        for suite in self.tls12_cipher_suites:
            if suite not in TLS12_SUITES:
                raise ValueError(f"unsupported TLS 1.2 cipher suite 0x{suite:04x}")

    @property
    def tls12(self) -> bool:
        """Whether TLS 1.2 may be negotiated."""
        return self.minimum_version <= TLS12

    @property
    def tls13(self) -> bool:
        """Whether TLS 1.3 may be negotiated."""
        return self.maximum_version >= TLS13


@dataclass(frozen=True, kw_only=True)
class ClientConfig(_CommonConfig):
    """How a client connects.  The default verifies the server against the system roots."""

    groups: tuple[int, ...] = DEFAULT_CLIENT_GROUPS
    key_share_groups: tuple[int, ...] = DEFAULT_KEY_SHARE_GROUPS
    verifier: CertificateVerifier | None = None
    """None: the system trust store with the WebPKI profile."""
    check_hostname: bool = True
    certificate: CertifiedKey | None = None
    """Client certificate, sent when the server asks for one."""
    client_hello_hook: Callable[[Any], Any] | None = None
    """Called with the ClientHello before it is sent; returns the one to send."""
    server_name_indication: bool = True
    session_cache: SessionCache | None = None
    """Where NewSessionTickets go, and where ClientConnection looks for a session to
    resume when none is given (None: no caching)."""
    external_psks: tuple[ExternalPsk, ...] = ()
    """External PSKs to offer (after a resumption ticket, if any)."""
    psk_modes: tuple[int, ...] = (PSK_DHE_KE,)
    """psk_key_exchange_modes to offer: PSK_DHE_KE (1) and/or PSK_KE (0).  With only
    PSK_KE and a PSK to offer, the ClientHello carries no key_share."""

    def get_verifier(self) -> CertificateVerifier:
        if self.verifier is not None:
            return self.verifier
        return system_verifier()


@dataclass(frozen=True, kw_only=True)
class ServerConfig(_CommonConfig):
    """How a server accepts connections."""

    certificates: tuple[CertifiedKey, ...] = ()
    """Certificates to choose from by SNI and the client's signature_algorithms."""
    sni_callback: Callable[[str | None], CertifiedKey | None] | None = None
    """Picks a certificate for a server name (None: fall back to ``certificates``)."""
    client_auth: ClientAuth = ClientAuth.NONE
    client_verifier: CertificateVerifier | None = None
    require_server_name: bool = False
    """Abort with unrecognized_name when no certificate matches the client's SNI."""
    encrypted_extensions_hook: Callable[[Any], Any] | None = None
    """Called with the EncryptedExtensions before it is sent; returns the one to send."""
    # -- resumption and PSKs -------------------------------------------------------
    ticket_count: int = 2
    """NewSessionTickets sent after a full handshake (OpenSSL's default); one after a
    resumed handshake (never more than this); 0 disables tickets."""
    ticket_lifetime: int = 7200
    ticket_keys: TicketKeys = field(default_factory=TicketKeyManager)
    """Seals tickets; share one manager (or its exported keys) between servers, or
    a ``ferrotls.shared.RedisTicketKeyRing`` between instances."""
    session_resumption: bool = True
    """Accept tickets offered by clients."""
    psk_modes: tuple[int, ...] = (PSK_DHE_KE, PSK_KE)
    """psk_key_exchange_modes we accept, most preferred first."""
    psk_callback: Callable[[bytes], ExternalPsk | bytes | None] | None = None
    """External PSK lookup: identity -> ExternalPsk (or key bytes, SHA-256), None if unknown."""
    unknown_psk_fallback: bool = True
    """An unknown external PSK identity: fall back to a certificate handshake (True)
    or abort with unknown_psk_identity (False)."""
    early_data: bool = False
    """Accept 0-RTT data (and say so in tickets)."""
    max_early_data_size: int = 16384
    """Advertised in tickets; also the most rejected 0-RTT data we skip."""
    replay_store: ReplayStore = field(default_factory=InMemoryReplayStore)
    """Strike register: early data under a ticket is accepted at most once."""
    ticket_age_tolerance: float = 10.0
    """Freshness window (seconds) between the client's ticket age and ours for 0-RTT."""
    session_id_cache: SessionIdCache | None = field(default_factory=SessionIdCache)
    """TLS 1.2 sessions by session id, for clients that take no tickets (None: off)."""


_SYSTEM_VERIFIER: list[Any] = []


def system_verifier() -> CertificateVerifier:
    """The verifier of the system trust store (WebPKI profile), made once per process."""
    if not _SYSTEM_VERIFIER:
        from .x509 import DefaultVerifier, TrustStore

        _SYSTEM_VERIFIER.append(DefaultVerifier(TrustStore.system()))
    verifier: CertificateVerifier = _SYSTEM_VERIFIER[0]
    return verifier


def _verifier_from(
    cafile: str | os.PathLike[str] | None,
    capath: str | os.PathLike[str] | None,
    cadata: bytes | str | None,
    profile: str | None,
) -> CertificateVerifier | None:
    from .x509 import DefaultVerifier, TrustStore

    if cafile is None and capath is None and cadata is None:
        return None
    store = TrustStore.from_pem(cafile=cafile, capath=capath, cadata=cadata)
    if profile is None:
        return DefaultVerifier(store)
    if profile not in ("webpki", "compatible"):
        raise ValueError(f"unknown verification profile {profile!r}: 'webpki' or 'compatible'")
    return DefaultVerifier(store, profile=profile)  # type: ignore[arg-type]


def create_client_config(
    *,
    cafile: str | os.PathLike[str] | None = None,
    capath: str | os.PathLike[str] | None = None,
    cadata: bytes | str | None = None,
    certfile: str | os.PathLike[str] | None = None,
    keyfile: str | os.PathLike[str] | None = None,
    password: bytes | None = None,
    check_hostname: bool = True,
    dangerously_disable_verification: bool = False,
    profile: str | None = None,
    **options: Any,
) -> ClientConfig:
    """A client config like ``ssl.create_default_context(Purpose.SERVER_AUTH)``.

    Without ``cafile``/``capath``/``cadata`` the system trust store is used.
    ``dangerously_disable_verification=True`` accepts any server certificate
    (the CertificateVerify signature is still checked against it).
    """
    verifier: Any
    if dangerously_disable_verification:
        from .x509 import InsecureNoVerification

        verifier = InsecureNoVerification()
        check_hostname = False
    else:
        verifier = _verifier_from(cafile, capath, cadata, profile)
    certificate = CertifiedKey.load(certfile, keyfile, password) if certfile else None
    return ClientConfig(
        verifier=verifier, check_hostname=check_hostname, certificate=certificate, **options
    )


def create_server_config(
    *,
    certfile: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    keyfile: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    password: bytes | None = None,
    cafile: str | os.PathLike[str] | None = None,
    capath: str | os.PathLike[str] | None = None,
    cadata: bytes | str | None = None,
    client_auth: ClientAuth | str = ClientAuth.NONE,
    profile: str | None = None,
    **options: Any,
) -> ServerConfig:
    """A server config like ``ssl.create_default_context(Purpose.CLIENT_AUTH)``.

    ``certfile``/``keyfile`` may be lists to serve several certificates (e.g. an
    RSA and an ECDSA one); the server picks by SNI and signature_algorithms.
    """
    certs: list[CertifiedKey] = list(options.pop("certificates", ()))
    if certfile is not None:
        certfiles = [certfile] if isinstance(certfile, (str, os.PathLike)) else list(certfile)
        if keyfile is None:
            keyfiles: list[Any] = [None] * len(certfiles)
        elif isinstance(keyfile, (str, os.PathLike)):
            keyfiles = [keyfile]
        else:
            keyfiles = list(keyfile)
        if len(keyfiles) != len(certfiles):
            raise ValueError("give one keyfile per certfile")
        certs.extend(CertifiedKey.load(c, k, password) for c, k in zip(certfiles, keyfiles))
    verifier = _verifier_from(cafile, capath, cadata, profile)
    mode = ClientAuth(client_auth) if isinstance(client_auth, str) else client_auth
    if mode is not ClientAuth.NONE and verifier is None:
        raise ValueError("client authentication needs cafile/capath/cadata to verify clients")
    return ServerConfig(
        certificates=tuple(certs), client_auth=mode, client_verifier=verifier, **options
    )
