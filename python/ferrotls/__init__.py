"""ferrotls: TLS 1.3 for Python with a Rust record-protection core.

The handshake is Python; AEAD sealing/opening, HKDF and X25519 run in the
native module ``ferrotls._native`` when it is built, or in a pure-Python
fallback (``FERROTLS_BACKEND=python``) that gives identical bytes.

Three ways in, from the top:

* ``ssl``-style: :func:`create_default_context` / :class:`Context` (an
  ``ssl.SSLContext``) with ``wrap_socket`` (a :class:`TLSSocket`) and
  ``wrap_bio`` (a :class:`TLSObject`), :func:`connect`, and
  :mod:`ferrotls.asyncio` (``open_connection`` / ``start_server`` streams).
  DTLS over UDP: :func:`dtls_connect` (a blocking :class:`DTLSSocket`),
  ``ferrotls.asyncio.create_dtls_endpoint`` and the sans-I/O :mod:`ferrotls.dtls`.
  Pass the context wherever ``ssl`` takes one, or call
  :func:`inject_into_ssl` once to make ``ssl.SSLContext`` and
  ``ssl.create_default_context`` ferrotls's everywhere.
* Frozen configs: :class:`ClientConfig` / :class:`ServerConfig`.
* Sans-I/O: :class:`ClientConnection` / :class:`ServerConnection` (bytes in,
  events and bytes out) for your own transport.
"""

from __future__ import annotations

from . import errors
from ._version import __version__
from .backend import available_backends, get_backend, load_backend
from .errors import (
    AlertDescription,
    AlertReceived,
    InsecureBackendWarning,
    ProtocolError,
    TLSError,
    TruncationError,
    UnsupportedFeature,
    UsageError,
)
from .config import (
    CertifiedKey,
    ClientAuth,
    ClientConfig,
    KeyLogWriter,
    ServerConfig,
    create_client_config,
    create_server_config,
)
from .connection import ClientConnection, ConnectionState, ServerConnection
from .events import (
    NEED_DATA,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    KeyUpdated,
    SessionTicket,
)
from .limits import Limits
from .suites import CipherSuite, NamedGroup, SignatureScheme
from .context import (
    CERT_NONE,
    CERT_OPTIONAL,
    CERT_REQUIRED,
    Context,
    InsecureVerificationWarning,
    Purpose,
    VerifyMode,
    create_default_context,
)
from .sslobject import TLSObject
from .transports import Session
from .transports.blocking import TLSSocket, connect
from .transports.dtls_blocking import DTLSSocket, dtls_connect
from .inject import extract_from_ssl, inject_into_ssl, injected

__all__ = [
    "__version__",
    "errors",
    "get_backend",
    "load_backend",
    "available_backends",
    "TLSError",
    "ProtocolError",
    "AlertReceived",
    "AlertDescription",
    "UsageError",
    "UnsupportedFeature",
    "TruncationError",
    "ClientConnection",
    "ServerConnection",
    "ConnectionState",
    "ClientConfig",
    "ServerConfig",
    "ClientAuth",
    "CertifiedKey",
    "KeyLogWriter",
    "Limits",
    "create_client_config",
    "create_server_config",
    "Event",
    "NEED_DATA",
    "HandshakeComplete",
    "ApplicationData",
    "KeyUpdated",
    "SessionTicket",
    "ConnectionClosed",
    "CipherSuite",
    "NamedGroup",
    "SignatureScheme",
    "Context",
    "create_default_context",
    "Purpose",
    "VerifyMode",
    "CERT_NONE",
    "CERT_OPTIONAL",
    "CERT_REQUIRED",
    "InsecureVerificationWarning",
    "InsecureBackendWarning",
    "TLSSocket",
    "TLSObject",
    "Session",
    "connect",
    "DTLSSocket",
    "dtls_connect",
    "inject_into_ssl",
    "extract_from_ssl",
    "injected",
]
