"""``Context``: an ``ssl.SSLContext``-shaped front end over the frozen configs.

A context is mutable (``verify_mode``, ``load_cert_chain``, ``set_alpn_protocols``
...), as ``ssl`` users expect; underneath it builds one frozen
:class:`~ferrotls.config.ClientConfig` or :class:`~ferrotls.config.ServerConfig`
and caches it until a setter changes something, so a connection costs no more
than with a hand-built config.

Differences from ``ssl`` worth knowing:

* TLS 1.3 only: there is no protocol argument, only a :class:`Purpose`.
* With no CA certificates loaded, a client context verifies against the system
  trust store (``ssl`` would fail every handshake).
* Turning verification off needs ``check_hostname = False`` *and*
  ``verify_mode = CERT_NONE`` (the same order ``ssl`` insists on) and emits an
  :class:`InsecureVerificationWarning`.
* ``sni_callback(server_name, context)`` receives the name first and may return
  another :class:`Context` (its certificates are used), a
  :class:`~ferrotls.config.CertifiedKey`, or None (keep this context's).
"""

from __future__ import annotations

import enum
import os
import socket
import ssl
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .backend.interface import Backend
from .config import (
    DEFAULT_CIPHER_SUITES,
    DEFAULT_GROUPS,
    DEFAULT_KEY_SHARE_GROUPS,
    CertifiedKey,
    ClientAuth,
    ClientConfig,
    KeyLogWriter,
    ServerConfig,
    system_verifier,
)
from .connection import ClientConnection, ServerConnection
from .suites import SUITES, CipherSuite, NamedGroup

if TYPE_CHECKING:
    from .transports.blocking import TLSSocket
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


class Purpose(enum.Enum):
    """What the context authenticates, as ``ssl.Purpose``.

    ``SERVER_AUTH``: a client context (it authenticates servers).
    ``CLIENT_AUTH``: a server context (it may authenticate clients).
    """

    SERVER_AUTH = "server_auth"
    CLIENT_AUTH = "client_auth"


class VerifyMode(enum.IntEnum):
    """Peer certificate checking; the values equal ``ssl.CERT_*`` so either may be used."""

    CERT_NONE = 0
    CERT_OPTIONAL = 1
    CERT_REQUIRED = 2


CERT_NONE = VerifyMode.CERT_NONE
CERT_OPTIONAL = VerifyMode.CERT_OPTIONAL
CERT_REQUIRED = VerifyMode.CERT_REQUIRED


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
    if password is None:
        return None
    if isinstance(password, str):
        return password.encode("utf-8")
    if isinstance(password, (bytes, bytearray)):
        return bytes(password)
    raise TypeError("password should be a string, bytes or a callable returning one")


class Context:
    """TLS 1.3 settings shared by many connections, like ``ssl.SSLContext``.

    ``Context(Purpose.SERVER_AUTH)`` makes a client context (verify_mode
    CERT_REQUIRED, check_hostname True); ``Context(Purpose.CLIENT_AUTH)`` a server
    context (verify_mode CERT_NONE: no client certificates).  Prefer
    :func:`create_default_context`.
    """

    def __init__(self, purpose: Purpose | Any = Purpose.SERVER_AUTH) -> None:
        self.purpose = _purpose_of(purpose)
        self._server = self.purpose is Purpose.CLIENT_AUTH
        self._verify_mode = CERT_NONE if self._server else CERT_REQUIRED
        self._check_hostname = not self._server
        self._certificates: list[CertifiedKey] = []
        self._ca_certs: list[Any] = []  # cryptography x509.Certificate objects
        self._default_certs = False
        self._alpn: tuple[str, ...] = ()
        self._suites: tuple[int, ...] = DEFAULT_CIPHER_SUITES
        self._groups: tuple[int, ...] = DEFAULT_GROUPS
        self._sni_callback: Callable[[str | None, Context], Any] | None = None
        self._keylog_filename: str | None = None
        self._backend: str | Backend | None = None
        self._verify_profile: str | None = None
        self._options: dict[str, Any] = {}
        self._config: ClientConfig | ServerConfig | None = None

    def __repr__(self) -> str:
        side = "server" if self._server else "client"
        return (
            f"<ferrotls.Context {side} verify_mode={self._verify_mode.name} "
            f"check_hostname={self._check_hostname} certificates={len(self._certificates)}>"
        )

    def _changed(self) -> None:
        self._config = None

    # -- properties ----------------------------------------------------------------

    @property
    def server_side(self) -> bool:
        """True for a server context (``Purpose.CLIENT_AUTH``)."""
        return self._server

    @property
    def protocol(self) -> str:
        return "TLSv1.3"

    @property
    def minimum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion.TLSv1_3

    @property
    def maximum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion.TLSv1_3

    @property
    def verify_mode(self) -> VerifyMode:
        """CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED (``ssl.CERT_*`` values work too).

        Client: CERT_OPTIONAL means CERT_REQUIRED (as in ``ssl``); CERT_NONE needs
        ``check_hostname = False`` first and warns.  Server: whether to ask for
        (OPTIONAL) or insist on (REQUIRED) a client certificate.
        """
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value: int) -> None:
        mode = VerifyMode(int(value))
        if mode is CERT_NONE and self._check_hostname:
            raise ValueError(
                "Cannot set verify_mode to CERT_NONE when check_hostname is enabled."
            )
        if mode is CERT_NONE and not self._server and self._verify_mode is not CERT_NONE:
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
    def sni_callback(self) -> Callable[[str | None, Context], Any] | None:
        """Server only: ``callback(server_name, context)`` -> Context | CertifiedKey | None.

        Called during the handshake with the client's SNI (None if absent).  A
        returned Context's certificates (the one matching the name, else its first)
        or a CertifiedKey is served; None keeps this context's choice.
        """
        return self._sni_callback

    @sni_callback.setter
    def sni_callback(self, callback: Callable[[str | None, Context], Any] | None) -> None:
        if callback is not None and not self._server:
            raise ValueError("sni_callback is only for server contexts")
        if callback is not None and not callable(callback):
            raise TypeError("not a callable object")
        self._sni_callback = callback
        self._changed()

    @property
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
        once CA certificates were loaded by hand (see ferrotls.x509)."""
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
        certfile: str | os.PathLike[str],
        keyfile: str | os.PathLike[str] | None = None,
        password: Any = None,
    ) -> None:
        """Load a PEM chain (leaf first) and its key.

        Server contexts keep every chain loaded (e.g. an ECDSA and an RSA one) and
        pick per connection by SNI and the client's signature algorithms.  A client
        context keeps the last one, sent when the server asks for a certificate.
        ``password``: str, bytes, or a callable returning one (for encrypted keys).
        """
        certified = CertifiedKey.load(certfile, keyfile, _password_bytes(password))
        if self._server:
            self._certificates.append(certified)
        else:
            self._certificates = [certified]
        self._changed()

    def add_certified_key(self, certified: CertifiedKey) -> None:
        """Add an already-built CertifiedKey (e.g. one whose key lives in an HSM)."""
        if self._server:
            self._certificates.append(certified)
        else:
            self._certificates = [certified]
        self._changed()

    def load_verify_locations(
        self,
        cafile: str | os.PathLike[str] | None = None,
        capath: str | os.PathLike[str] | None = None,
        cadata: str | bytes | None = None,
    ) -> None:
        """Add trust anchors: a PEM bundle file, a directory of PEM files, PEM text or DER."""
        from .x509 import TrustStore

        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        store = TrustStore.from_pem(cafile=cafile, capath=capath, cadata=cadata)
        self._ca_certs.extend(store.certificates)
        self._changed()

    def load_default_certs(self, purpose: Purpose | Any = Purpose.SERVER_AUTH) -> None:
        """Trust the system store (OpenSSL's default paths, else certifi)."""
        _purpose_of(purpose)
        self._default_certs = True
        self._changed()

    def get_ca_certs(self, binary_form: bool = False) -> list[Any]:
        """The CA certificates loaded by hand (ssl-style dicts, or DER)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        from .x509 import peercert_dict

        if binary_form:
            return [c.public_bytes(Encoding.DER) for c in self._ca_certs]
        return [peercert_dict(c) for c in self._ca_certs]

    def set_alpn_protocols(self, protocols: Iterable[str]) -> None:
        """Offer (client) or accept (server) these ALPN protocols, most preferred first."""
        alpn = tuple(protocols)
        for p in alpn:
            if not isinstance(p, str) or not 0 < len(p.encode("ascii")) < 256:
                raise ValueError(f"ALPN protocol {p!r} must be 1..255 ASCII characters")
        self._alpn = alpn
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

    def get_ciphers(self) -> list[dict[str, Any]]:
        """The enabled cipher suites, in the shape of ``ssl.SSLContext.get_ciphers()``."""
        return [
            {
                "id": 0x03000000 | s,
                "name": CipherSuite(s).name,
                "protocol": "TLSv1.3",
                "strength_bits": _KEY_BITS[SUITES[s].key_len],
                "alg_bits": _KEY_BITS[SUITES[s].key_len],
            }
            for s in self._suites
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

    def set_options(self, **options: Any) -> None:
        """Other ClientConfig/ServerConfig fields by name (e.g. ``record_padding=...``)."""
        self._options.update(options)
        self._changed()

    # -- building ------------------------------------------------------------------

    def _verifier(self) -> CertificateVerifier | None:
        from .x509 import DefaultVerifier, TrustStore

        if not self._ca_certs:
            if self._server:
                return None
            return system_verifier()
        certs = list(self._ca_certs)
        if self._default_certs:
            certs.extend(TrustStore.system().certificates)
        store = TrustStore.from_certificates(certs)
        return DefaultVerifier(store, profile=self._verify_profile)  # type: ignore[arg-type]

    def _common(self) -> dict[str, Any]:
        common: dict[str, Any] = {
            "backend": self._backend,
            "cipher_suites": self._suites,
            "groups": self._groups,
            "alpn_protocols": self._alpn,
        }
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
        elif self._ca_certs or self._verify_profile is None:
            verifier = self._verifier()
        else:
            from .x509 import DefaultVerifier, TrustStore

            verifier = DefaultVerifier(TrustStore.system(), profile=self._verify_profile)  # type: ignore[arg-type]
        key_shares = tuple(g for g in DEFAULT_KEY_SHARE_GROUPS if g in self._groups) or self._groups[:1]
        return ClientConfig(
            verifier=verifier,
            check_hostname=self._check_hostname,
            certificate=self._certificates[0] if self._certificates else None,
            key_share_groups=key_shares,
            **self._common(),
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
        sni: Callable[[str | None], CertifiedKey | None] | None = None
        if self._sni_callback is not None:
            sni = _SNIAdapter(self, self._sni_callback)
        if not self._certificates and sni is None:
            raise ValueError("a server context needs load_cert_chain() (or an sni_callback)")
        return ServerConfig(
            certificates=tuple(self._certificates),
            sni_callback=sni,
            client_auth=mode,
            client_verifier=client_verifier,
            **self._common(),
        )

    @property
    def config(self) -> ClientConfig | ServerConfig:
        """The frozen config for the current settings (built once, cached until a setter runs)."""
        config = self._config
        if config is None:
            config = self._config = self._build_server() if self._server else self._build_client()
        return config

    def new_connection(self, server_hostname: str | None = None) -> ClientConnection | ServerConnection:
        """A sans-I/O connection with this context's settings (for custom transports)."""
        config = self.config
        if isinstance(config, ServerConfig):
            return ServerConnection(config)
        return ClientConnection(config, server_hostname)

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = False,
        server_hostname: str | None = None,
    ) -> TLSSocket:
        """Wrap a connected socket in a :class:`~ferrotls.TLSSocket` (see ``ssl.SSLContext.wrap_socket``).

        ``suppress_ragged_eofs`` defaults to False here (``ssl``: True): a TCP EOF
        without close_notify raises TruncationError unless you opt in.
        """
        from .transports.blocking import TLSSocket

        return TLSSocket(
            sock,
            self,
            server_side=server_side,
            server_hostname=server_hostname,
            do_handshake_on_connect=do_handshake_on_connect,
            suppress_ragged_eofs=suppress_ragged_eofs,
        )

    def check_side(self, server_side: bool) -> None:
        """ValueError unless ``server_side`` matches the context's purpose (as ``ssl``)."""
        if server_side and not self._server:
            raise ValueError("Cannot create a server socket with a client context (Purpose.SERVER_AUTH)")
        if not server_side and self._server:
            raise ValueError("Cannot create a client socket with a server context (Purpose.CLIENT_AUTH)")


class _SNIAdapter:
    """Turns the Context-level sni_callback into the config-level one."""

    __slots__ = ("callback", "context")

    def __init__(self, context: Context, callback: Callable[[str | None, Context], Any]) -> None:
        self.context = context
        self.callback = callback

    def __call__(self, server_name: str | None) -> CertifiedKey | None:
        chosen = self.callback(server_name, self.context)
        if chosen is None or isinstance(chosen, CertifiedKey):
            return chosen
        if isinstance(chosen, Context):
            certs = chosen._certificates
            for certified in certs:
                if certified.matches_name(server_name):
                    return certified
            return certs[0] if certs else None
        raise TypeError(f"sni_callback must return a Context, a CertifiedKey or None, not {chosen!r}")


def create_default_context(
    purpose: Purpose | Any = Purpose.SERVER_AUTH,
    *,
    cafile: str | os.PathLike[str] | None = None,
    capath: str | os.PathLike[str] | None = None,
    cadata: str | bytes | None = None,
) -> Context:
    """A context with secure defaults, like ``ssl.create_default_context``.

    For ``Purpose.SERVER_AUTH`` (a client): verify the server's chain and host
    name against ``cafile``/``capath``/``cadata``, or the system store if none is
    given.  For ``Purpose.CLIENT_AUTH`` (a server): load a certificate with
    ``load_cert_chain``; CA arguments are for verifying client certificates once
    you set ``verify_mode``.  ``SSLKEYLOGFILE`` in the environment sets
    ``keylog_filename``, as in ``ssl``.
    """
    context = Context(purpose)
    if cafile is not None or capath is not None or cadata is not None:
        context.load_verify_locations(cafile, capath, cadata)
    elif not context.server_side:
        context.load_default_certs(purpose)
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context
