"""``Context``: an :class:`ssl.SSLContext` whose connections run on ferrotls.

``Context`` *is* an ``ssl.SSLContext`` (a subclass, as ``truststore.SSLContext``
is), so every ``isinstance`` check and type annotation in the ecosystem accepts
it: ``http.client``, ``urllib``, ``urllib3``/``requests``, ``httpx``,
``aiohttp``, ``websockets`` and asyncio's own ``ssl=`` / ``start_tls`` take it
unchanged.  Its methods run on ferrotls, never on OpenSSL:

* :meth:`Context.wrap_socket` returns a :class:`~ferrotls.TLSSocket` (the
  ``ssl.SSLSocket`` API, including a listening socket whose ``accept()``
  returns TLS sockets);
* :meth:`Context.wrap_bio` returns a :class:`~ferrotls.sslobject.TLSObject`
  (the ``ssl.SSLObject`` API over two ``ssl.MemoryBIO``), which is what
  asyncio, uvloop and anyio drive.

A context is mutable (``verify_mode``, ``load_cert_chain``, ...), as ``ssl``
users expect; underneath it builds one frozen
:class:`~ferrotls.config.ClientConfig` / :class:`~ferrotls.config.ServerConfig`
per side and caches it until a setter changes something, so a connection costs
no more than with a hand-built config.

Construction accepts what ``ssl.SSLContext`` accepts -- ``ssl.PROTOCOL_TLS_CLIENT``,
``ssl.PROTOCOL_TLS_SERVER``, ``ssl.PROTOCOL_TLS`` (either side, unverified
defaults, like ``ssl``) -- and also :class:`Purpose` (ferrotls's or ``ssl``'s).
``Context()`` with no argument is a client context.

Differences from ``ssl`` worth knowing:

* TLS 1.2 and 1.3: ``minimum_version`` / ``maximum_version`` may be set to any
  range that meets them (default TLS 1.2 to TLS 1.3, as ``ssl``); older versions
  are never spoken, and a range below TLS 1.2 raises
  :class:`~ferrotls.errors.UnsupportedFeature`.  ``set_ciphers`` takes an
  OpenSSL cipher string for the TLS 1.2 suites (OpenSSL itself reads it; the
  AEAD ECDHE/PSK suites ferrotls implements are kept from what it selects);
  TLS 1.3 suites are chosen with :meth:`Context.set_ciphersuites`.
* With no CA certificates loaded, a client context verifies against the system
  trust store (``ssl`` would fail every handshake).
* Turning verification off needs ``check_hostname = False`` *and*
  ``verify_mode = CERT_NONE`` (the same order ``ssl`` insists on) and emits an
  :class:`InsecureVerificationWarning`.
* ``post_handshake_auth`` reads None (ferrotls has no post-handshake client
  authentication; urllib3 then leaves it alone); setting it True raises.
* CRL checking (``VERIFY_CRL_CHECK_*``), NPN and ``hostname_checks_common_name``
  raise :class:`~ferrotls.errors.UnsupportedFeature`, naming what is missing.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import os
import socket
import ssl
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from .backend.interface import Backend
from .config import (
    DEFAULT_CIPHER_SUITES,
    DEFAULT_CLIENT_GROUPS,
    DEFAULT_GROUPS,
    DEFAULT_KEY_SHARE_GROUPS,
    DEFAULT_TLS12_CIPHER_SUITES,
    TLS12,
    TLS13,
    PSK_DHE_KE,
    CertifiedKey,
    ClientAuth,
    ClientConfig,
    KeyLogWriter,
    ServerConfig,
    system_verifier,
)
from .connection import ClientConnection, ServerConnection
from .errors import UnsupportedFeature, UsageError, error_for_alert
from .sslobject import TLSObject
from .suites import SUITES, TLS12_SUITES, CipherSuite, NamedGroup
from .transports import Session
from .transports.blocking import TLSSocket

if TYPE_CHECKING:
    from cryptography import x509

    from .x509 import CertificateVerifier

__all__ = [
    "CERT_NONE",
    "CERT_OPTIONAL",
    "CERT_REQUIRED",
    "Context",
    "InsecureVerificationWarning",
    "Purpose",
    "VerifyMode",
    "create_default_context",
]

STDLIB_SSLCONTEXT = ssl.SSLContext
"""The stdlib class, captured before anyone can replace ``ssl.SSLContext``."""
OPENSSL_CONTEXT_BASE: Any = STDLIB_SSLCONTEXT.__mro__[1]
"""``_ssl.STDLIB_SSLCONTEXT``: its C methods check strings (``set_ciphers``) without
going through ssl.py's properties, which look ``ssl.SSLContext`` up at call time."""


class Purpose(enum.Enum):
    """What the context authenticates, as ``ssl.Purpose``.

    ``SERVER_AUTH``: a client context (it authenticates servers).
    ``CLIENT_AUTH``: a server context (it may authenticate clients).
    """

    SERVER_AUTH = "server_auth"
    CLIENT_AUTH = "client_auth"


VerifyMode = ssl.VerifyMode
"""Peer certificate checking: ``ssl.VerifyMode`` itself."""

CERT_NONE = ssl.CERT_NONE
CERT_OPTIONAL = ssl.CERT_OPTIONAL
CERT_REQUIRED = ssl.CERT_REQUIRED


class InsecureVerificationWarning(UserWarning):
    """A client context accepts any server certificate (verify_mode=CERT_NONE)."""


#: Group names accepted by :meth:`Context.set_groups` (lower case), OpenSSL spellings included.
GROUP_NAMES: dict[str, int] = {
    "x25519": NamedGroup.X25519,
    "secp256r1": NamedGroup.SECP256R1,
    "prime256v1": NamedGroup.SECP256R1,
    "p-256": NamedGroup.SECP256R1,
    "secp384r1": NamedGroup.SECP384R1,
    "p-384": NamedGroup.SECP384R1,
    "secp521r1": NamedGroup.SECP521R1,
    "p-521": NamedGroup.SECP521R1,
    "x448": NamedGroup.X448,
    "x25519mlkem768": NamedGroup.X25519MLKEM768,
}

#: Cipher suite names accepted by :meth:`Context.set_ciphersuites` (the RFC names).
SUITE_NAMES: dict[str, int] = {CipherSuite(s).name: s for s in SUITES}

_KEY_BITS = {16: 128, 32: 256}
_TLS13 = ssl.TLSVersion.TLSv1_3
_TLS12 = ssl.TLSVersion.TLSv1_2

#: verify_flags ferrotls cannot honour; anything else is accepted (its checks are
#: always strict, any CA in the store is an anchor, proxy certificates are refused).
_UNSUPPORTED_FLAGS: dict[int, str] = {
    ssl.VERIFY_CRL_CHECK_LEAF: "VERIFY_CRL_CHECK_LEAF (CRL checking)",
    ssl.VERIFY_CRL_CHECK_CHAIN: "VERIFY_CRL_CHECK_CHAIN (CRL checking)",
}

_Side = Literal["client", "server", "any"]


def _side_of(protocol: Any) -> _Side:
    """ssl protocol constant or Purpose -> which side the context serves."""
    if protocol is None:
        return "client"
    if isinstance(protocol, Purpose):
        return "client" if protocol is Purpose.SERVER_AUTH else "server"
    if protocol is ssl.Purpose.SERVER_AUTH:
        return "client"
    if protocol is ssl.Purpose.CLIENT_AUTH:
        return "server"
    if isinstance(protocol, int) and not isinstance(protocol, bool):
        if protocol == ssl.PROTOCOL_TLS_CLIENT:
            return "client"
        if protocol == ssl.PROTOCOL_TLS_SERVER:
            return "server"
        if protocol == ssl.PROTOCOL_TLS:
            return "any"
        try:
            name = ssl._SSLMethod(protocol).name
        except ValueError:
            name = str(protocol)
        raise UnsupportedFeature(
            f"{name}: ferrotls speaks TLS 1.3 only; use PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER"
        )
    raise TypeError(
        f"protocol must be an ssl.PROTOCOL_* constant or a Purpose, not {protocol!r}"
    )


def _purpose_of(purpose: Any) -> Purpose:
    if isinstance(purpose, Purpose):
        return purpose
    if purpose is ssl.Purpose.SERVER_AUTH:
        return Purpose.SERVER_AUTH
    if purpose is ssl.Purpose.CLIENT_AUTH:
        return Purpose.CLIENT_AUTH
    raise TypeError(f"purpose must be ferrotls.Purpose (or ssl.Purpose), not {purpose!r}")


def _split_names(names: str | Iterable[str]) -> list[str]:
    if isinstance(names, str):
        return [n.strip() for n in names.replace(",", ":").split(":") if n.strip()]
    return [str(n).strip() for n in names]


def _password_bytes(password: Any) -> bytes | None:
    if callable(password):
        password = password()
        if not isinstance(password, (str, bytes, bytearray)):
            raise TypeError("password callback must return a string")
    if password is None:
        return None
    if isinstance(password, str):
        return password.encode("utf-8")
    if isinstance(password, (bytes, bytearray)):
        return bytes(password)
    raise TypeError("password should be a string or callable")


def _read_file(path: Any) -> bytes:
    """The file's bytes; a missing or unreadable file raises the OSError ``ssl`` raises."""
    with open(os.fsdecode(path) if isinstance(path, bytes) else path, "rb") as f:
        return f.read()


def _fingerprint(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()


# --------------------------------------------------------------------------- the default store

_DEFAULT_STORES: dict[tuple[str | None, str | None], tuple[x509.Certificate, ...]] = {}
_DEFAULT_LOCK = threading.Lock()


def default_verify_paths() -> tuple[str | None, str | None, bool]:
    """(cafile, capath, from_environment): where ``set_default_verify_paths`` loads from.

    Exactly ``ssl.get_default_verify_paths()``: ``SSL_CERT_FILE`` replaces
    OpenSSL's default file and ``SSL_CERT_DIR`` its default directory (each only
    when it exists).  ``from_environment`` says whether either variable is set.
    """
    paths = ssl.get_default_verify_paths()
    from_env = bool(
        os.environ.get(paths.openssl_cafile_env) or os.environ.get(paths.openssl_capath_env)
    )
    return paths.cafile, paths.capath, from_env


def _default_certificates() -> tuple[tuple[x509.Certificate, ...], bool]:
    """The certificates of the default verify paths (cached per path pair), and
    whether the paths came from the environment."""
    from .x509 import TrustStore, dedupe, load_bundle, load_dir

    cafile, capath, from_env = default_verify_paths()
    key = (cafile, capath)
    with _DEFAULT_LOCK:
        certs = _DEFAULT_STORES.get(key)
        if certs is None:
            found: list[x509.Certificate] = []
            if cafile:
                try:
                    found += load_bundle(_read_file(cafile), cafile, strict=False)
                except OSError:
                    pass
            if capath:
                from pathlib import Path

                found += load_dir(Path(capath), strict=False)
            if not found and not from_env:  # no system bundle at all: certifi, if installed
                try:
                    found += TrustStore.system().certificates
                except UsageError:
                    pass
            certs = _DEFAULT_STORES[key] = dedupe(found)
    return certs, from_env


# --------------------------------------------------------------------------- the context


class Context(ssl.SSLContext):
    """TLS 1.3 settings shared by many connections: an ``ssl.SSLContext`` run by ferrotls.

    ``Context(ssl.PROTOCOL_TLS_CLIENT)`` or ``Context(Purpose.SERVER_AUTH)`` makes
    a client context (verify_mode CERT_REQUIRED, check_hostname True);
    ``Context(ssl.PROTOCOL_TLS_SERVER)`` / ``Context(Purpose.CLIENT_AUTH)`` a
    server context (verify_mode CERT_NONE: no client certificates).  The
    ``purpose=`` keyword of earlier ferrotls versions still works.  Prefer
    :func:`create_default_context`.
    """

    sslobject_class = TLSObject
    sslsocket_class = TLSSocket

    def __new__(cls, protocol: Any = None, *args: Any, purpose: Any = None, **kwargs: Any) -> Context:
        side = _side_of(purpose if protocol is None else protocol)
        method = ssl.PROTOCOL_TLS_SERVER if side == "server" else ssl.PROTOCOL_TLS_CLIENT
        self: Context = OPENSSL_CONTEXT_BASE.__new__(cls, method)
        return self

    def __init__(self, protocol: Any = None, *args: Any, purpose: Any = None, **kwargs: Any) -> None:
        side = _side_of(purpose if protocol is None else protocol)
        self._side: _Side = side
        self._server = side == "server"
        self.purpose = Purpose.CLIENT_AUTH if self._server else Purpose.SERVER_AUTH
        self._protocol = (
            ssl.PROTOCOL_TLS_SERVER if side == "server"
            else ssl.PROTOCOL_TLS if side == "any" else ssl.PROTOCOL_TLS_CLIENT
        )
        verified = side == "client"
        self._verify_mode = CERT_REQUIRED if verified else CERT_NONE
        self._check_hostname = verified
        self._certificates: list[CertifiedKey] = []
        self._ca_certs: dict[bytes, x509.Certificate] = {}
        self._default_certs = False
        self._alpn: tuple[str, ...] = ()
        self._suites: tuple[int, ...] = DEFAULT_CIPHER_SUITES
        self._groups: tuple[int, ...] | None = None
        """None: DEFAULT_GROUPS for a server, DEFAULT_CLIENT_GROUPS for a client."""
        self._tls12_suites: tuple[int, ...] = DEFAULT_TLS12_CIPHER_SUITES
        self._sni_callback: Callable[[Any, str | None, Context], Any] | None = None
        self._keylog_filename: str | None = None
        self._backend: str | Backend | None = None
        self._verify_profile: str | None = None
        self._options: dict[str, Any] = {}
        self._ssl_options = ssl.Options(OPENSSL_CONTEXT_BASE.options.__get__(self))
        self._verify_flags = ssl.VerifyFlags(OPENSSL_CONTEXT_BASE.verify_flags.__get__(self))
        self._minimum_version = ssl.TLSVersion.TLSv1_2
        self._maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
        self._num_tickets = 2
        self._ciphers: str | None = None
        self._psk_client_callback: Callable[[str | None], tuple[str | None, bytes]] | None = None
        self._psk_server_callback: Callable[[str | None], bytes] | None = None
        self._stats = dict.fromkeys(
            ("number", "connect", "connect_good", "connect_renegotiate", "accept", "accept_good",
             "accept_renegotiate", "hits", "misses", "timeouts", "cache_full"), 0)
        self._configs: dict[bool, ClientConfig | ServerConfig] = {}

    def __repr__(self) -> str:
        side = {"client": "client", "server": "server", "any": "client+server"}[self._side]
        return (
            f"<ferrotls.Context {side} verify_mode={self._verify_mode.name} "
            f"check_hostname={self._check_hostname} certificates={len(self._certificates)}>"
        )

    def _changed(self) -> None:
        self._configs = {}

    # -- properties ----------------------------------------------------------------

    @property
    def server_side(self) -> bool:
        """True for a server context (``PROTOCOL_TLS_SERVER`` / ``Purpose.CLIENT_AUTH``)."""
        return self._server

    @property
    def protocol(self) -> ssl._SSLMethod:  # type: ignore[override]
        """``ssl.PROTOCOL_TLS_CLIENT``, ``PROTOCOL_TLS_SERVER`` or ``PROTOCOL_TLS`` (either side)."""
        return self._protocol

    @property  # type: ignore[override]
    def minimum_version(self) -> ssl.TLSVersion:
        """The lowest version allowed (default TLSv1_2; lower values mean TLS 1.2,
        the oldest ferrotls speaks)."""
        return self._minimum_version

    @minimum_version.setter
    def minimum_version(self, value: ssl.TLSVersion) -> None:
        version = ssl.TLSVersion(value)
        if version > _TLS13:  # no such version yet; MAXIMUM_SUPPORTED (-1) means TLS 1.3
            raise UnsupportedFeature(f"minimum_version {version.name}: ferrotls speaks TLS 1.3 at most")
        self._minimum_version = version
        self._changed()

    @property  # type: ignore[override]
    def maximum_version(self) -> ssl.TLSVersion:
        """The highest version allowed (default MAXIMUM_SUPPORTED: TLS 1.3); below
        TLS 1.2 raises."""
        return self._maximum_version

    @maximum_version.setter
    def maximum_version(self, value: ssl.TLSVersion) -> None:
        version = ssl.TLSVersion(value)
        if version not in (ssl.TLSVersion.MAXIMUM_SUPPORTED, ssl.TLSVersion.MINIMUM_SUPPORTED) and version < _TLS12:
            raise UnsupportedFeature(
                f"maximum_version {version.name}: ferrotls speaks TLS 1.2 and TLS 1.3 only"
            )
        self._maximum_version = version
        self._changed()

    def _versions(self) -> tuple[int, int]:
        """(minimum, maximum) as protocol version numbers for the configs."""
        low, high = self._minimum_version, self._maximum_version
        minimum = TLS13 if low in (_TLS13, ssl.TLSVersion.MAXIMUM_SUPPORTED) else TLS12
        maximum = TLS12 if high in (_TLS12, ssl.TLSVersion.MINIMUM_SUPPORTED) else TLS13
        options = self._ssl_options
        if options & ssl.OP_NO_TLSv1_3:
            maximum = TLS12
        if options & ssl.OP_NO_TLSv1_2:
            minimum = max(minimum, TLS13)
        if minimum > maximum:
            raise UnsupportedFeature(
                f"no protocol version left: minimum {low.name}, maximum {high.name}, options {options!r}"
            )
        return minimum, maximum

    @property
    def options(self) -> ssl.Options:
        """``ssl.OP_*`` flags.  Honoured: OP_NO_TICKET (a server sends no tickets),
        OP_ENABLE_MIDDLEBOX_COMPAT, OP_IGNORE_UNEXPECTED_EOF (a close without
        close_notify reads as a clean end of stream), OP_NO_TLSv1_2 and
        OP_NO_TLSv1_3 (raises when nothing is left).  The others concern
        versions ferrotls never speaks, or OpenSSL internals, and change nothing."""
        return self._ssl_options

    @options.setter
    def options(self, value: int) -> None:
        value = ssl.Options(int(value))
        if value & ssl.OP_NO_TLSv1_3 and value & ssl.OP_NO_TLSv1_2:
            raise UnsupportedFeature("OP_NO_TLSv1_2 with OP_NO_TLSv1_3: ferrotls speaks TLS 1.2 and 1.3 only")
        self._ssl_options = value
        self._changed()

    @property
    def verify_flags(self) -> ssl.VerifyFlags:
        """``ssl.VERIFY_*`` flags.  The checks are always X509-strict and accept a CA
        anywhere in the store as an anchor (PARTIAL_CHAIN); CRL checking raises."""
        return self._verify_flags

    @verify_flags.setter
    def verify_flags(self, value: int) -> None:
        value = ssl.VerifyFlags(int(value))
        for flag, what in _UNSUPPORTED_FLAGS.items():
            if value & flag:
                raise UnsupportedFeature(f"verify_flags {what} is not supported by ferrotls")
        self._verify_flags = value

    @property
    def verify_mode(self) -> ssl.VerifyMode:
        """CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED.

        Client: CERT_OPTIONAL means CERT_REQUIRED (as in ``ssl``); CERT_NONE needs
        ``check_hostname = False`` first and warns.  Server: whether to ask for
        (OPTIONAL) or insist on (REQUIRED) a client certificate.
        """
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value: int) -> None:
        mode = ssl.VerifyMode(int(value))
        if mode is CERT_NONE and self._check_hostname:
            raise ValueError(
                "Cannot set verify_mode to CERT_NONE when check_hostname is enabled."
            )
        if mode is CERT_NONE and self._side != "server" and self._verify_mode is not CERT_NONE:
            warnings.warn(
                "verify_mode=CERT_NONE: this context accepts any server certificate; "
                "connections are open to man-in-the-middle attacks",
                InsecureVerificationWarning,
                stacklevel=2,
            )
        self._verify_mode = mode
        self._changed()

    @property
    def check_hostname(self) -> bool:
        """Match the server certificate against ``server_hostname`` (client only).

        Turning it on while verify_mode is CERT_NONE sets CERT_REQUIRED, as ``ssl`` does.
        """
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value: bool) -> None:
        value = bool(value)
        if value and self._verify_mode is CERT_NONE:
            self._verify_mode = CERT_REQUIRED
        self._check_hostname = value
        self._changed()

    @property
    def hostname_checks_common_name(self) -> bool:
        """Always False: names are matched against subjectAltName only (RFC 6125)."""
        return False

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value: bool) -> None:
        if value:
            raise UnsupportedFeature(
                "hostname_checks_common_name: ferrotls matches host names against "
                "subjectAltName only, never the subject's commonName"
            )

    @property
    def security_level(self) -> int:  # type: ignore[override]
        """2, OpenSSL's level for what ferrotls enforces (RSA >= 2048, 112-bit security)."""
        return 2

    @property  # type: ignore[override]
    def sni_callback(self) -> Callable[[Any, str | None, Context], Any] | None:
        """Server only: ``callback(tls_object, server_name, context)``, as in ``ssl``.

        Called during the handshake with the TLSSocket / TLSObject, the client's
        SNI (None if absent) and this context.  To serve other certificates, set
        ``tls_object.context`` to another Context (its certificate for the name,
        else its first is used).  Return None to go on, or an
        ``ssl.ALERT_DESCRIPTION_*`` value to abort the handshake with that alert.
        """
        return self._sni_callback

    @sni_callback.setter
    def sni_callback(self, callback: Callable[[Any, str | None, Context], Any] | None) -> None:
        if callback is not None and self._side == "client":
            raise ValueError("sni_callback cannot be set on TLS_CLIENT context")
        if callback is not None and not callable(callback):
            raise TypeError("not a callable object")
        self._sni_callback = callback
        self._changed()

    def set_servername_callback(self, server_name_callback: Any) -> None:
        """The older spelling of ``sni_callback = ...`` (same signature)."""
        self.sni_callback = server_name_callback

    @property  # type: ignore[override]
    def keylog_filename(self) -> str | None:
        """Append SSLKEYLOGFILE lines (traffic secrets!) to this file; None disables."""
        return self._keylog_filename

    @keylog_filename.setter
    def keylog_filename(self, path: str | os.PathLike[str] | None) -> None:
        if path is not None:
            path = os.fspath(path)
            with open(path, "a", encoding="ascii"):  # fail now, as ssl does, not mid-handshake
                pass
        self._keylog_filename = path
        self._changed()

    @property
    def num_tickets(self) -> int:
        """Server: NewSessionTickets sent after a handshake (default 2, as OpenSSL)."""
        return self._num_tickets

    @num_tickets.setter
    def num_tickets(self, value: int) -> None:
        value = int(value)
        if value < 0:
            raise ValueError("value must be non-negative")
        if self._side == "client":
            raise ValueError("SSLContext is not a server context.")
        self._num_tickets = value
        self._changed()

    @property
    def post_handshake_auth(self) -> bool:
        """None: ferrotls has no post-handshake client authentication (``ssl`` reads
        None too when its OpenSSL lacks it).  Setting False is fine; True raises."""
        return None  # type: ignore[return-value]

    @post_handshake_auth.setter
    def post_handshake_auth(self, value: bool) -> None:
        if value:
            raise UnsupportedFeature(
                "post_handshake_auth: ferrotls does not support TLS 1.3 post-handshake "
                "client authentication"
            )

    @property
    def _msg_callback(self) -> None:
        return None

    @_msg_callback.setter
    def _msg_callback(self, callback: Any) -> None:
        if callback is not None:
            raise UnsupportedFeature("_msg_callback (OpenSSL message tracing) is not supported by ferrotls")

    @property
    def backend(self) -> str | Backend | None:
        """Crypto backend: None (FERROTLS_BACKEND's choice), "native", "python" or an object."""
        return self._backend

    @backend.setter
    def backend(self, value: str | Backend | None) -> None:
        self._backend = value
        self._changed()

    @property
    def verify_profile(self) -> str | None:
        """"webpki", "compatible", or None: webpki for the system store, compatible
        once CA certificates were loaded by hand or from SSL_CERT_FILE / SSL_CERT_DIR
        (see ferrotls.x509)."""
        return self._verify_profile

    @verify_profile.setter
    def verify_profile(self, value: str | None) -> None:
        if value not in (None, "webpki", "compatible"):
            raise ValueError("verify_profile is 'webpki', 'compatible' or None")
        self._verify_profile = value
        self._changed()

    # -- loading -------------------------------------------------------------------

    def load_cert_chain(
        self,
        certfile: Any,
        keyfile: Any = None,
        password: Any = None,
    ) -> None:
        """Load a PEM chain (leaf first) and its key; a key that does not match the
        certificate is refused here (``ssl.SSLError`` KEY_VALUES_MISMATCH), as in ``ssl``.

        Server contexts keep every chain loaded (e.g. an ECDSA and an RSA one) and
        pick per connection by SNI and the client's signature algorithms.  A client
        context keeps the last one, sent when the server asks for a certificate.
        ``password``: str, bytes, or a callable returning one (for encrypted keys).
        """
        from .sign import key_matches_certificate

        cert_data = _read_file(certfile)
        key_data = _read_file(keyfile) if keyfile is not None else cert_data
        certified = CertifiedKey.load(cert_data, key_data, _password_bytes(password))
        if not key_matches_certificate(certified.private_key, certified.chain[0]):
            err = UsageError(
                f"the private key in {os.fsdecode(keyfile if keyfile is not None else certfile)} "
                "does not match the certificate in " + os.fsdecode(certfile)
            )
            err.reason, err.library = "KEY_VALUES_MISMATCH", "X509"
            raise err
        self.add_certified_key(certified)

    def add_certified_key(self, certified: CertifiedKey) -> None:
        """Add an already-built CertifiedKey (e.g. one whose key lives in an HSM)."""
        if self._server:
            self._certificates.append(certified)
        else:
            self._certificates = [certified]
        self._changed()

    def load_verify_locations(
        self,
        cafile: Any = None,
        capath: Any = None,
        cadata: Any = None,
    ) -> None:
        """Add trust anchors: a PEM bundle file, a directory of PEM files, PEM text or DER.

        Certificates already in the store are not added again, however often the
        same file is loaded (requests and httpx load certifi's on every connection).
        """
        from .x509 import TrustStore

        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        if cafile is not None:
            cafile = os.fsdecode(cafile)
            _read_file(cafile)  # FileNotFoundError / PermissionError, as ssl raises them
        if capath is not None:
            capath = os.fsdecode(capath)
        if cadata is not None and not isinstance(cadata, str):
            cadata = bytes(memoryview(cadata))
        store = TrustStore.from_pem(cafile=cafile, capath=capath, cadata=cadata)
        before = len(self._ca_certs)
        for cert in store.certificates:
            self._ca_certs.setdefault(_fingerprint(cert), cert)
        if len(self._ca_certs) != before:
            self._changed()

    def load_default_certs(self, purpose: Any = ssl.Purpose.SERVER_AUTH) -> None:
        """Trust the default verify paths (see :meth:`set_default_verify_paths`)."""
        _purpose_of(purpose)
        self.set_default_verify_paths()

    def set_default_verify_paths(self) -> None:
        """Trust OpenSSL's default CA file and directory, exactly as ``ssl`` does:
        ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` *replace* them when set, they are not
        added to them.  CAs loaded from those variables are checked with the same
        profile as CAs passed to :meth:`load_verify_locations`; the system's own
        with the WebPKI profile."""
        if not self._default_certs:
            self._default_certs = True
            self._changed()

    def _store_certificates(self) -> list[x509.Certificate]:
        """Every trust anchor: those loaded by hand, then the default paths' (if loaded)."""
        certs = list(self._ca_certs.values())
        if self._default_certs:
            seen = set(self._ca_certs)
            for cert in _default_certificates()[0]:
                fp = _fingerprint(cert)
                if fp not in seen:
                    seen.add(fp)
                    certs.append(cert)
        return certs

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        """The CA certificates in the store (ssl-style dicts, or DER with ``binary_form``)."""
        from cryptography import x509 as cx509
        from cryptography.hazmat.primitives.serialization import Encoding

        from .x509 import peercert_dict

        out: list[Any] = []
        for cert in self._store_certificates():
            try:
                is_ca = cert.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca
            except (cx509.ExtensionNotFound, ValueError):
                is_ca = False
            if is_ca:
                out.append(cert.public_bytes(Encoding.DER) if binary_form else peercert_dict(cert))
        return out

    def cert_store_stats(self) -> dict[str, int]:
        """``{"x509": n, "crl": 0, "x509_ca": m}``: certificates in the store, CAs among them."""
        total = len(self._store_certificates())
        return {"x509": total, "crl": 0, "x509_ca": len(self.get_ca_certs(True))}

    def session_stats(self) -> dict[str, int]:
        """Handshake counters in ``ssl``'s keys: connect/accept started, *_good completed,
        hits = resumed handshakes.  Renegotiation and OpenSSL's session cache do not exist
        in ferrotls, so those counters stay 0."""
        return dict(self._stats)

    def record_stat(self, key: str) -> None:
        self._stats[key] += 1

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        """Offer (client) or accept (server) these ALPN protocols, most preferred first."""
        alpn = tuple(alpn_protocols)
        for p in alpn:
            if not isinstance(p, str) or not 0 < len(p.encode("ascii")) < 256:
                raise ValueError(f"ALPN protocol {p!r} must be 1..255 ASCII characters")
        self._alpn = alpn
        self._changed()

    def set_npn_protocols(self, npn_protocols: Iterable[str]) -> None:
        """NPN does not exist in TLS 1.3: raises UnsupportedFeature (use set_alpn_protocols)."""
        raise UnsupportedFeature("NPN (set_npn_protocols) does not exist in TLS 1.3; use set_alpn_protocols")

    def set_ciphers(self, cipherlist: str, /) -> None:
        """An OpenSSL cipher string, checked and kept as ``ssl`` does (``ssl.SSLError``
        "No cipher can be selected." if it selects nothing).  As in ``ssl`` it governs
        TLS 1.2 and below only, so it changes nothing here; TLS 1.3 suites are chosen
        with :meth:`set_ciphersuites`."""
        OPENSSL_CONTEXT_BASE.set_ciphers(self, cipherlist)
        enabled = [c["id"] & 0xFFFF for c in OPENSSL_CONTEXT_BASE.get_ciphers(self) if c.get("protocol") != "TLSv1.3"]
        suites = tuple(s for s in enabled if s in TLS12_SUITES)
        if not suites:
            raise UnsupportedFeature(
                f"set_ciphers({cipherlist!r}) selects no TLS 1.2 suite ferrotls implements "
                "(ECDHE or PSK with AES-GCM, AES-CCM or ChaCha20-Poly1305)"
            )
        self._tls12_suites = suites
        self._ciphers = cipherlist
        self._changed()

    def set_ciphersuites(self, names: str | Iterable[str]) -> None:
        """Restrict the TLS 1.3 cipher suites, e.g. "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"."""
        suites: list[int] = []
        for name in _split_names(names):
            suite = SUITE_NAMES.get(name.upper())
            if suite is None:
                raise ValueError(
                    f"unknown or unsupported cipher suite {name!r}; choose from {sorted(SUITE_NAMES)}"
                )
            if suite not in suites:
                suites.append(suite)
        if not suites:
            raise ValueError("no cipher suite selected")
        self._suites = tuple(suites)
        self._changed()

    def get_ciphers(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The enabled cipher suites, in the shape of ``ssl.SSLContext.get_ciphers()``."""
        return [
            {
                "id": 0x03000000 | s,
                "name": CipherSuite(s).name,
                "protocol": "TLSv1.3",
                "description": f"{CipherSuite(s).name} TLSv1.3 Kx=any Au=any",
                "strength_bits": _KEY_BITS[SUITES[s].key_len],
                "alg_bits": _KEY_BITS[SUITES[s].key_len],
                "aead": True,
                "symmetric": CipherSuite(s).name.lower().removeprefix("tls_").rsplit("_", 1)[0],
                "digest": None,
                "kea": "kx-any",
                "auth": "auth-any",
            }
            for s in self._suites
        ] + [
            {
                "id": 0x03000000 | s,
                "name": TLS12_SUITES[s].openssl_name,
                "protocol": "TLSv1.2",
                "description": f"{TLS12_SUITES[s].openssl_name} TLSv1.2 Kx={TLS12_SUITES[s].kx} "
                               f"Au={TLS12_SUITES[s].auth}",
                "strength_bits": _KEY_BITS[TLS12_SUITES[s].key_len],
                "alg_bits": _KEY_BITS[TLS12_SUITES[s].key_len],
                "aead": True,
                "symmetric": TLS12_SUITES[s].aead.lower(),
                "digest": None,
                "kea": "kx-" + TLS12_SUITES[s].kx.lower(),
                "auth": "auth-" + TLS12_SUITES[s].auth.lower(),
            }
            for s in self._tls12_suites
        ]

    def set_groups(self, names: str | Iterable[str]) -> None:
        """Restrict the key-exchange groups, e.g. ["X25519MLKEM768", "X25519", "secp256r1"]."""
        groups: list[int] = []
        for name in _split_names(names):
            group = GROUP_NAMES.get(name.lower())
            if group is None:
                raise ValueError(f"unknown group {name!r}; choose from {sorted(GROUP_NAMES)}")
            if group not in groups:
                groups.append(group)
        if not groups:
            raise ValueError("no group selected")
        self._groups = tuple(groups)
        self._changed()

    def set_ecdh_curve(self, name: str, /) -> None:
        """Use only this curve for key exchange (as ``ssl``, which in TLS 1.3 limits the groups)."""
        if not isinstance(name, str) or name.lower() not in GROUP_NAMES:
            raise ValueError(f"unknown elliptic curve name {name!r}")
        self.set_groups([name])

    def load_dh_params(self, path: str, /) -> None:
        """Checked as ``ssl`` checks it, without effect: TLS 1.3 negotiates named groups
        (so does ``ssl`` in TLS 1.3)."""
        OPENSSL_CONTEXT_BASE.load_dh_params(self, path)

    def set_options(self, **options: Any) -> None:
        """Other ClientConfig/ServerConfig fields by name (e.g. ``record_padding=...``)."""
        self._options.update(options)
        self._changed()

    if sys.version_info >= (3, 13):

        def set_psk_client_callback(
            self, callback: Callable[[str | None], tuple[str | None, bytes]] | None
        ) -> None:
            """``callback(None) -> (identity, psk)``: offer this external PSK (SHA-256), as ``ssl``."""
            if self._side == "server":
                raise ValueError("Cannot add PSK client callback to a PROTOCOL_TLS_SERVER context")
            if callback is not None and not callable(callback):
                raise TypeError("callback must be callable")
            self._psk_client_callback = callback
            self._changed()

        def set_psk_server_callback(
            self, callback: Callable[[str | None], bytes] | None, identity_hint: str | None = None
        ) -> None:
            """``callback(identity) -> psk`` (b"" for unknown): accept external PSKs, as ``ssl``."""
            if self._side == "client":
                raise ValueError("Cannot add PSK server callback to a PROTOCOL_TLS_CLIENT context")
            if callback is not None and not callable(callback):
                raise TypeError("callback must be callable")
            self._psk_server_callback = callback
            self._changed()

    # -- building ------------------------------------------------------------------

    def _verifier(self) -> CertificateVerifier | None:
        from .x509 import DefaultVerifier, TrustStore

        certs = self._store_certificates()
        if not certs:
            if self._server:
                return None
            if self._verify_profile is None:
                return system_verifier()
            profile: Any = self._verify_profile
            return DefaultVerifier(TrustStore.system(), profile=profile)
        profile = self._verify_profile
        if profile is None:
            only_system = not self._ca_certs and not _default_certificates()[1]
            profile = "webpki" if only_system else "compatible"
        store = TrustStore.from_certificates(certs)
        return DefaultVerifier(store, profile=profile)

    def _group_list(self) -> tuple[int, ...]:
        if self._groups is not None:
            return self._groups
        return DEFAULT_GROUPS if self._server else DEFAULT_CLIENT_GROUPS

    def _common(self) -> dict[str, Any]:
        minimum, maximum = self._versions()
        common: dict[str, Any] = {
            "backend": self._backend,
            "cipher_suites": self._suites,
            "tls12_cipher_suites": self._tls12_suites,
            "groups": self._group_list(),
            "alpn_protocols": self._alpn,
            "minimum_version": minimum,
            "maximum_version": maximum,
        }
        if not self._ssl_options & ssl.OP_ENABLE_MIDDLEBOX_COMPAT:
            common["middlebox_compat"] = False
        if self._keylog_filename is not None:
            common["key_log"] = KeyLogWriter(self._keylog_filename)
        common.update(self._options)
        return common

    def _build_client(self) -> ClientConfig:
        if self._verify_mode is CERT_NONE:
            from .x509 import InsecureNoVerification

            with warnings.catch_warnings():  # warned once already, when verify_mode was set
                warnings.simplefilter("ignore")
                verifier: Any = InsecureNoVerification()
        else:
            verifier = self._verifier()
        groups = self._group_list()
        key_shares = tuple(g for g in DEFAULT_KEY_SHARE_GROUPS if g in groups) or groups[:1]
        extra: dict[str, Any] = {}
        if self._psk_client_callback is not None:
            from .psk import ExternalPsk

            identity, key = self._psk_client_callback(None)
            if identity is not None and key:
                extra["external_psks"] = (ExternalPsk(identity.encode("utf-8"), bytes(key)),)
                extra["psk_modes"] = (PSK_DHE_KE,)
                # the PSK is a SHA-256 one (as ssl's callbacks define it): offer only the
                # SHA-256 suites, or a server that picks AES-256 first skips the PSK
                sha256 = tuple(s for s in self._suites if SUITES[s].hash_name == "sha256")
                if sha256:
                    extra["cipher_suites"] = sha256
        common = self._common()
        if "cipher_suites" in extra:
            common["cipher_suites"] = extra.pop("cipher_suites")
        extra.update(common)  # set_options() has the last word
        return ClientConfig(
            verifier=verifier,
            check_hostname=self._check_hostname,
            certificate=self._certificates[0] if self._certificates else None,
            key_share_groups=key_shares,
            **extra,
        )

    def _build_server(self) -> ServerConfig:
        mode = {
            CERT_NONE: ClientAuth.NONE,
            CERT_OPTIONAL: ClientAuth.OPTIONAL,
            CERT_REQUIRED: ClientAuth.REQUIRED,
        }[self._verify_mode]
        client_verifier = self._verifier() if mode is not ClientAuth.NONE else None
        if mode is not ClientAuth.NONE and client_verifier is None:
            raise ValueError(
                "verify_mode CERT_OPTIONAL/CERT_REQUIRED on a server needs CA certificates "
                "(load_verify_locations) to verify clients"
            )
        extra: dict[str, Any] = {}
        if self._psk_server_callback is not None:
            extra["psk_callback"] = _PskServerAdapter(self._psk_server_callback)
        if not self._certificates and self._sni_callback is None and not extra:
            raise ValueError("a server context needs load_cert_chain() (or an sni_callback)")
        extra["ticket_count"] = 0 if self._ssl_options & ssl.OP_NO_TICKET else self._num_tickets
        extra.update(self._common())  # set_options() has the last word
        return ServerConfig(
            certificates=tuple(self._certificates),
            client_auth=mode,
            client_verifier=client_verifier,
            **extra,
        )

    def _config_for(self, server_side: bool) -> ClientConfig | ServerConfig:
        config = self._configs.get(server_side)
        if config is None:
            config = self._build_server() if server_side else self._build_client()
            self._configs[server_side] = config
        return config

    @property
    def config(self) -> ClientConfig | ServerConfig:
        """The frozen config for the current settings (built once, cached until a setter runs)."""
        return self._config_for(self._server)

    def new_connection(self, server_hostname: str | None = None) -> ClientConnection | ServerConnection:
        """A sans-I/O connection with this context's settings (for custom transports)."""
        config = self.config
        if isinstance(config, ServerConfig):
            return ServerConnection(config)
        return ClientConnection(config, server_hostname)

    def connection_for(
        self,
        owner: Any,
        server_side: bool,
        server_hostname: str | None,
        session: Session | None,
    ) -> ClientConnection | ServerConnection:
        """The connection behind a TLSSocket / TLSObject (``owner``, handed to sni_callback)."""
        config = self._config_for(server_side)
        if isinstance(config, ServerConfig):
            self.record_stat("accept")
            if self._sni_callback is not None:
                config = dataclasses.replace(config, sni_callback=_SNIAdapter(self, owner))
            return ServerConnection(config)
        self.record_stat("connect")
        return ClientConnection(
            config, server_hostname, session=None if session is None else session.client_session
        )

    def _check_wrap(
        self, server_side: bool, server_hostname: str | bytes | None, session: Any
    ) -> str | None:
        """ssl's argument checks for wrap_socket / wrap_bio; returns the host name as str."""
        self.check_side(server_side)
        if server_side and server_hostname:
            raise ValueError("server_hostname can only be specified in client mode")
        if server_side and session is not None:
            raise ValueError("session can only be specified in client mode")
        if session is not None:
            if not isinstance(session, Session):
                raise TypeError(
                    "session must be a session from a ferrotls socket or object, "
                    f"not {type(session).__name__}"
                )
        if isinstance(server_hostname, bytes):
            server_hostname = server_hostname.decode("ascii")
        if server_hostname is not None:
            if not server_hostname or server_hostname.startswith("."):
                raise ValueError("server_hostname cannot be an empty string or start with a leading dot.")
            try:
                server_hostname = server_hostname.encode("idna").decode("ascii")
            except UnicodeError as exc:
                raise ValueError(f"invalid server_hostname {server_hostname!r}: {exc}") from None
        if not server_side and self._check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        return server_hostname

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: Any = None,
    ) -> TLSSocket:
        """Wrap a socket in a :class:`~ferrotls.TLSSocket` (see ``ssl.SSLContext.wrap_socket``).

        A connected socket handshakes at once (``do_handshake_on_connect``); an
        unconnected one on ``connect()``; a listening one (``server_side=True``)
        returns TLS sockets from ``accept()``.  ``suppress_ragged_eofs`` (True, as
        in ``ssl``): a TCP EOF without close_notify reads as ``b""``; False makes it
        ``ssl.SSLEOFError`` (:class:`~ferrotls.errors.TruncationError`).
        """
        host = self._check_wrap(server_side, server_hostname, session)
        return TLSSocket(
            sock,
            self,
            server_side=server_side,
            server_hostname=host,
            do_handshake_on_connect=do_handshake_on_connect,
            suppress_ragged_eofs=suppress_ragged_eofs,
            session=session,
        )

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: Any = None,
    ) -> TLSObject:
        """A :class:`~ferrotls.sslobject.TLSObject` (``ssl.SSLObject``) over two memory BIOs.

        It reads the peer's bytes from ``incoming`` and writes its own to
        ``outgoing``, raising ``ssl.SSLWantReadError`` when it needs more, as
        ``ssl`` does: asyncio's and uvloop's ``ssl=``, anyio and everything on them
        drive it unchanged.
        """
        host = self._check_wrap(server_side, server_hostname, session)
        return TLSObject(self, incoming, outgoing, server_side, host, session)

    def _wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedFeature(
            "_wrap_socket (OpenSSL's socket) is not available on a ferrotls Context; use wrap_socket"
        )

    def _wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedFeature(
            "_wrap_bio (OpenSSL's SSLObject) is not available on a ferrotls Context; use wrap_bio"
        )

    def check_side(self, server_side: bool) -> None:
        """``ssl.SSLError`` (also a ValueError) unless ``server_side`` matches the
        context's side, with ``ssl``'s message."""
        if server_side and self._side == "client":
            raise _WrongSide("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context")
        if not server_side and self._side == "server":
            raise _WrongSide("Cannot create a client socket with a PROTOCOL_TLS_SERVER context")


class _WrongSide(UsageError, ValueError):
    """A client context used for a server socket or the reverse: ssl.SSLError, as in
    ``ssl``, and ValueError, as ferrotls raised before."""


class _PskServerAdapter:
    """``ssl``'s ``callback(identity) -> psk`` as a ServerConfig.psk_callback."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[str | None], bytes]) -> None:
        self.callback = callback

    def __call__(self, identity: bytes) -> bytes | None:
        try:
            name = identity.decode("utf-8")
        except UnicodeDecodeError:
            return None
        key = self.callback(name)
        return bytes(key) if key else None


class _SNIAdapter:
    """Runs ssl's ``sni_callback(tls_object, server_name, context)`` for one connection
    and turns the outcome into the config-level choice of certificate."""

    __slots__ = ("context", "owner")

    def __init__(self, context: Context, owner: Any) -> None:
        self.context = context
        self.owner = owner

    def __call__(self, server_name: str | None) -> CertifiedKey | None:
        callback = self.context._sni_callback
        if callback is None:
            return None
        alert = callback(self.owner, server_name, self.context)
        if alert is not None:
            code = int(alert)
            raise error_for_alert(code)(f"sni_callback aborted the handshake with alert {code}")
        chosen = getattr(self.owner, "context", self.context)
        if chosen is self.context or not isinstance(chosen, Context):
            return None
        certs = chosen._certificates
        for certified in certs:
            if certified.matches_name(server_name):
                return certified
        return certs[0] if certs else None


def create_default_context(
    purpose: Purpose | Any = Purpose.SERVER_AUTH,
    *,
    cafile: Any = None,
    capath: Any = None,
    cadata: Any = None,
) -> Context:
    """A context with secure defaults, like ``ssl.create_default_context``.

    For ``Purpose.SERVER_AUTH`` (a client): verify the server's chain and host
    name against ``cafile``/``capath``/``cadata``, or the default verify paths
    (the system store, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) if none is
    given.  For ``Purpose.CLIENT_AUTH`` (a server): load a certificate with
    ``load_cert_chain``; CA arguments are for verifying client certificates once
    you set ``verify_mode``.  ``SSLKEYLOGFILE`` in the environment sets
    ``keylog_filename``, as in ``ssl``.
    """
    context = Context(_purpose_of(purpose))
    if cafile is not None or capath is not None or cadata is not None:
        context.load_verify_locations(cafile, capath, cadata)
    elif context.verify_mode != CERT_NONE:
        context.load_default_certs(purpose)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context
