"""I/O around the sans-I/O connection: blocking sockets and asyncio.

* :mod:`ferrotls.transports.blocking` -- :class:`TLSSocket` (``ssl.SSLSocket``-like)
  and :func:`connect`.
* :mod:`ferrotls.transports.aio` -- asyncio streams (``open_connection``,
  ``start_server``), also importable as :mod:`ferrotls.asyncio`.
* :mod:`ferrotls.transports.dtls_aio` -- DTLS over asyncio datagram endpoints
  (``create_dtls_endpoint``); :mod:`ferrotls.transports.dtls_blocking` -- the
  blocking DTLS client (:func:`~ferrotls.transports.dtls_blocking.dtls_connect`).

:class:`ConnectionInfo` is the part both share: the ``ssl``-style questions
(``getpeercert``, ``cipher``, ``version``, ``selected_alpn_protocol``) answered
from a connection's HandshakeComplete event.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ..errors import UnsupportedFeature, UsageError
from ..suites import SUITES, TLS12_SUITES, CipherSuite

if TYPE_CHECKING:
    from ..connection import ClientConnection, ServerConnection
    from ..context import Context
    from ..tickets import ClientSession

__all__ = ["ConnectionInfo", "TLSInfo", "Session", "CHANNEL_BINDING_TYPES", "newest_session"]

CHANNEL_BINDING_TYPES = ("tls-exporter",)
"""Channel bindings ferrotls computes: RFC 9266 ``tls-exporter`` (``tls-unique`` is
not defined for TLS 1.3)."""
_EXPORTER_LABEL = b"EXPORTER-Channel-Binding"


class Session:
    """A session a client can resume, shaped like ``ssl.SSLSession``.

    Read it from ``TLSSocket.session`` / ``TLSObject.session`` -- TLS 1.3: once the
    server's NewSessionTicket has arrived (after some data was read); TLS 1.2 (a
    ticket or the server's session id): once the handshake is done -- and pass it
    as ``wrap_socket(..., session=...)`` or ``wrap_bio(..., session=...)``.
    ``client_session`` is the underlying :class:`ferrotls.tickets.ClientSession`.
    """

    __slots__ = ("client_session",)

    def __init__(self, client_session: ClientSession) -> None:
        self.client_session = client_session

    def __repr__(self) -> str:
        return f"<ferrotls.Session server_name={self.client_session.server_name!r} timeout={self.timeout}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Session) and other.client_session is self.client_session

    __hash__ = None  # type: ignore[assignment]

    @property
    def id(self) -> bytes:
        """The TLS 1.2 session id the server gave, else an identifier for the ticket
        (its SHA-256; TLS 1.3 has no session id)."""
        session = self.client_session
        if session.session_id and not session.ticket:
            return session.session_id
        return hashlib.sha256(session.ticket).digest()

    @property
    def time(self) -> int:
        """When the ticket was received, seconds since the epoch."""
        return int(self.client_session.received_at)

    @property
    def timeout(self) -> int:
        """The ticket lifetime in seconds."""
        return int(self.client_session.lifetime)

    @property
    def ticket_lifetime_hint(self) -> int:
        return int(self.client_session.lifetime)

    @property
    def has_ticket(self) -> bool:
        """False for a TLS 1.2 session resumed by its session id."""
        return bool(self.client_session.ticket)


def newest_session(held: Session | None, conn: ClientConnection | ServerConnection | None) -> Session | None:
    """What ``TLSSocket.session`` / ``TLSObject.session`` return: the connection's
    newest resumable session (``ClientConnection.session``), else ``held`` (the
    session passed in); the same object while the session does not change."""
    newest = getattr(conn, "session", None) if conn is not None and conn.is_client else None
    if newest is None or (held is not None and held.client_session is newest):
        return held
    return Session(newest)


class TLSInfo:
    """The ``ssl``-style questions about a connection (``getpeercert``, ``cipher``,
    ``version``, ``get_channel_binding`` ...), for any class that has
    ``connection``, ``context``, ``server_side`` and ``server_hostname``."""

    __slots__ = ()
    connection: ClientConnection | ServerConnection
    context: Context
    server_side: bool
    server_hostname: str | None

    def _info(self) -> Any:
        conn = self.connection
        return None if conn is None else conn.info

    def getpeercert(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """The peer's certificate: an ``ssl``-style dict, or DER with ``binary_form``.

        None if the peer sent none.  As in ``ssl``, the dict is empty when the
        certificate was not verified (verify_mode CERT_NONE).  ValueError before
        the handshake completes.
        """
        info = self._info()
        if info is None:
            raise ValueError("handshake not done yet")
        if not info.peer_certificates:
            return None
        der: bytes = info.peer_certificates[0]
        if binary_form:
            return der
        if self.context.verify_mode == 0:
            return {}
        from cryptography import x509

        from ..x509 import peercert_dict

        return peercert_dict(x509.load_der_x509_certificate(der))

    def cipher(self) -> tuple[str, str, int] | None:
        """(suite name, version, secret bits), or None before the handshake; TLS 1.2
        suites have OpenSSL's names (as ``ssl`` reports them)."""
        info = self._info()
        if info is None:
            return None
        suite = info.cipher_suite
        if info.version == "TLSv1.2":
            s12 = TLS12_SUITES[suite]
            return s12.openssl_name, "TLSv1.2", s12.key_len * 8
        return CipherSuite(suite).name, "TLSv1.3", SUITES[suite].key_len * 8

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        c = self.cipher()
        return None if c is None else [c]

    def version(self) -> str | None:
        """"TLSv1.3" once the handshake is done, else None."""
        info = self._info()
        return None if info is None else str(info.version)

    def selected_alpn_protocol(self) -> str | None:
        info = self._info()
        if info is None:
            return None
        alpn: str | None = info.alpn_protocol
        return alpn

    def compression(self) -> None:
        return None

    def export_keying_material(self, label: bytes | str, context: bytes | None, length: int) -> bytes:
        """TLS-Exporter (RFC 8446 section 7.5)."""
        if self._info() is None:
            raise UsageError("keying material can be exported only after the handshake")
        return self.connection.export_keying_material(label, context, length)

    def get_channel_binding(self, cb_type: str = "tls-exporter") -> bytes | None:
        """RFC 9266 ``tls-exporter`` channel binding: 32 bytes exported with the label
        "EXPORTER-Channel-Binding" and no context.  None before the handshake, as
        ``ssl``; ``tls-unique`` (``ssl``'s default) is not defined for TLS 1.3 and
        raises ValueError, as ``ssl`` does for a type it does not know."""
        if cb_type not in CHANNEL_BINDING_TYPES:
            raise ValueError(
                f"{cb_type!r} channel binding type not implemented"
                + ("; TLS 1.3 uses 'tls-exporter' (RFC 9266)" if cb_type == "tls-unique" else "")
            )
        if self._info() is None:
            return None
        return self.connection.export_keying_material(_EXPORTER_LABEL, b"", 32)

    @property
    def session_reused(self) -> bool:
        """True if the handshake resumed a session (a ticket or a PSK)."""
        info = self._info()
        return bool(info is not None and info.resumed)

    def selected_npn_protocol(self) -> None:
        """Always None: NPN does not exist in TLS 1.3."""
        return None

    def get_unverified_chain(self) -> list[bytes] | None:
        """The peer's certificates as sent (DER, leaf first); None before the handshake."""
        info = self._info()
        return None if info is None else list(info.peer_certificates)

    def get_verified_chain(self) -> list[bytes]:
        """Not available: ferrotls does not keep the path it built."""
        raise UnsupportedFeature(
            "get_verified_chain: ferrotls does not keep the verified path; use get_unverified_chain"
        )

    def verify_client_post_handshake(self) -> None:
        """Post-handshake client authentication is not supported (UnsupportedFeature)."""
        raise UnsupportedFeature(
            "verify_client_post_handshake: ferrotls does not support TLS 1.3 post-handshake "
            "client authentication"
        )


class ConnectionInfo(TLSInfo):
    """``ssl.SSLObject``-style read-only view of a connection and its context.

    This is what ``get_extra_info("ssl_object")`` returns on the asyncio transport.
    """

    __slots__ = ("connection", "context", "server_hostname", "server_side")

    def __init__(
        self,
        connection: ClientConnection | ServerConnection,
        context: Context,
        server_side: bool,
        server_hostname: str | None,
    ) -> None:
        self.connection = connection
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname
